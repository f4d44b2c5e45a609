"""The shipped example queries run on the sandbox as AMC receives them (raw SQL, `-- @param`
lines as inputParameters), and the invalid ones fail as AMC would.

Every valid example also runs, prepared by the client, in tests/library/test_sandbox.py (the
library includes the examples); here only those that declare parameters run again, because
only they take a different path (the sandbox's inputParameters) than the prepared SQL."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

import amc_manager
from amc_manager.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api, Outcome, run_adhoc
from tests.windows import amc_window

EXAMPLES = Path(amc_manager.__file__).parent / "examples"
VALID = sorted(EXAMPLES.glob("*.sql"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.sql"))
WINDOW_DAYS = 28
WAIT_SECONDS = 120.0
COMPILE_PREFIX = "Was unable to compile workflow"
# `-- @param NAME TYPE [DEFAULT]`, DEFAULT being JSON (e.g. "Acme Spring Sale DSP", 5, ["a"]).
PARAM = re.compile(r"^--\s*@param\s+(?P<name>\w+)\s+(?P<type>\S+)(?:\s+(?P<default>.+?))?\s*$")
EXPECT = re.compile(r"^--\s*expect:\s*(?P<fragment>.+?)\s*$")
ARRAY_TYPE = re.compile(r"^ARRAY<(?P<element>\w+)>$", re.IGNORECASE)


def leading_comments(sql: str) -> list[str]:
    """The `--` comment lines before the first line of SQL."""
    comments: list[str] = []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        comments.append(stripped)
    return comments


def input_parameters(sql: str) -> list[dict[str, Any]]:
    """The workflow's inputParameters, from the query's `-- @param` lines."""
    parameters: list[dict[str, Any]] = []
    for line in leading_comments(sql):
        match = PARAM.match(line)
        if match is None:
            continue
        data_type: object = match["type"].upper()
        array = ARRAY_TYPE.match(match["type"])
        if array is not None:
            data_type = {"type": "ARRAY", "elementDataType": array["element"].upper()}
        parameter: dict[str, Any] = {"name": match["name"], "dataType": data_type}
        if match["default"] is not None:
            parameter["defaultValue"] = json.loads(match["default"])
        parameters.append(parameter)
    return parameters


def expected_fragment(sql: str) -> str:
    """The `-- expect:` fragment of an invalid example's AMC error message."""
    for line in leading_comments(sql):
        match = EXPECT.match(line)
        if match is not None:
            return match["fragment"]
    raise AssertionError("no '-- expect: <fragment>' comment before the SQL")


PARAMETRISED = [p for p in VALID if input_parameters(p.read_text(encoding="utf-8"))]


def test_some_examples_declare_parameters() -> None:
    assert PARAMETRISED, "no example declares a -- @param: the inputParameters path is untested"


def key(path: Path) -> str:
    return path.relative_to(EXAMPLES).as_posix()


async def run_example(api: Api, path: Path, start: str, end: str) -> Outcome:
    """Create an ad-hoc execution of the example and, once accepted, wait for its rows."""
    sql = path.read_text(encoding="utf-8")
    workflow: dict[str, Any] = {"sqlQuery": sql}
    parameters = input_parameters(sql)
    if parameters:
        workflow["inputParameters"] = parameters
    return await run_adhoc(api, workflow, start, end, timeout=WAIT_SECONDS)


async def run_all(state_dir: Path) -> dict[str, Outcome | BaseException]:
    """Every example against one sandbox, all executions in flight at once."""
    start, end = amc_window(WINDOW_DAYS)
    paths = PARAMETRISED + INVALID
    async with EmbeddedSandbox(make_config(), state_dir) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        results = await asyncio.gather(
            *(run_example(api, path, start, end) for path in paths), return_exceptions=True
        )
    return {key(path): result for path, result in zip(paths, results, strict=True)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome | BaseException]:
    return asyncio.run(run_all(tmp_path_factory.mktemp("examples") / "state"))


def outcome_of(outcomes: dict[str, Outcome | BaseException], path: Path) -> Outcome:
    result = outcomes[key(path)]
    if isinstance(result, BaseException):
        raise result
    return result


def test_there_are_enough_examples() -> None:
    assert len(VALID) >= 15, [p.name for p in VALID]
    assert len(INVALID) >= 10, [p.name for p in INVALID]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in VALID])
def test_example_says_what_it_answers(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("-- ") and not PARAM.match(first), first
    assert len(first) > len("-- ") + 10, first


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in PARAMETRISED])
def test_example_returns_rows(outcomes: dict[str, Outcome | BaseException], path: Path) -> None:
    outcome = outcome_of(outcomes, path)
    assert outcome.status_code == 200, f"refused ({outcome.status_code}): {outcome.details}"
    assert outcome.execution["status"] == "SUCCEEDED", outcome.execution
    assert outcome.rows, "no result file content, not even a header"
    header, *data = outcome.rows
    assert "user_id" not in header
    assert data, f"header only {header}: privacy thresholds removed every row, or no data"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in INVALID])
def test_invalid_example_is_refused(
    outcomes: dict[str, Outcome | BaseException], path: Path
) -> None:
    fragment = expected_fragment(path.read_text(encoding="utf-8"))
    outcome = outcome_of(outcomes, path)
    assert outcome.status_code == 400, outcome
    assert outcome.details.startswith(COMPILE_PREFIX), outcome.details
    assert fragment in outcome.details, outcome.details


def test_param_comments_become_input_parameters() -> None:
    sql = (
        "-- Daily delivery of one campaign.\n"
        '-- @param campaign_filter STRING "Acme Spring Sale DSP"\n'
        "-- @param min_impressions LONG 5\n"
        "-- @param asins ARRAY<STRING> []\n"
        "-- @param day DATE\n"
        "SELECT 1\n"
        '-- @param ignored STRING "after the SQL"\n'
    )
    assert input_parameters(sql) == [
        {"name": "campaign_filter", "dataType": "STRING", "defaultValue": "Acme Spring Sale DSP"},
        {"name": "min_impressions", "dataType": "LONG", "defaultValue": 5},
        {
            "name": "asins",
            "dataType": {"type": "ARRAY", "elementDataType": "STRING"},
            "defaultValue": [],
        },
        {"name": "day", "dataType": "DATE"},
    ]
