"""Every library query lints clean against the sandbox's schema (paid tables enabled) and
returns rows in the sandbox over four weeks on the default seed.

All the queries run at once against one shared embedded sandbox, in-process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from amc_manager.catalogue import CATALOGUE
from amc_manager.sandbox.embedded import EmbeddedSandbox
from amc_manager.service.library import LibraryEntry, list_entries
from amc_manager.sql import lint, prepare, render_text, schema_for_sandbox
from tests.sandbox.conftest import make_config
from tests.sandbox.helpers import Api, Outcome, run_adhoc
from tests.windows import amc_window

ENTRIES = list_entries()
WINDOW_DAYS = 28
WAIT_SECONDS = 240.0
CONFIG = {"paid_features": True, "duration": "0", "max_running_per_instance": 100}


async def run_entry(api: Api, entry: LibraryEntry, start: str, end: str) -> Outcome:
    """An ad-hoc execution of the entry as the client sends it (defaults for every value)."""
    workflow = prepare(entry.sql, {}).workflow()
    return await run_adhoc(api, workflow, start, end, timeout=WAIT_SECONDS)


async def run_all(state_dir: Path) -> dict[str, Outcome | BaseException]:
    start, end = amc_window(WINDOW_DAYS)
    async with EmbeddedSandbox(make_config(**CONFIG), state_dir) as embedded:
        api = await Api(embedded.client, embedded.sandbox).login()
        results = await asyncio.gather(
            *(run_entry(api, entry, start, end) for entry in ENTRIES), return_exceptions=True
        )
    return {entry.name: result for entry, result in zip(ENTRIES, results, strict=True)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome | BaseException]:
    return asyncio.run(run_all(tmp_path_factory.mktemp("library") / "state"))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_lints_clean(entry: LibraryEntry) -> None:
    schema = schema_for_sandbox(make_config(**CONFIG).extra_data_sources())
    problems = lint(entry.sql, file=entry.source, schema=schema, values={})
    assert not problems, render_text(problems)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_entry_returns_rows(
    outcomes: dict[str, Outcome | BaseException], entry: LibraryEntry
) -> None:
    outcome = outcomes[entry.name]
    if isinstance(outcome, BaseException):
        raise outcome
    assert outcome.status_code == 200, f"refused ({outcome.status_code}): {outcome.details}"
    assert outcome.execution["status"] == "SUCCEEDED", outcome.execution.get("statusReason")
    header, *data = outcome.rows
    hidden = [
        c.name
        for t in map(CATALOGUE.table, entry.tables)
        if t
        for c in t.columns
        if not c.threshold.outputtable
    ]
    assert not set(header) & set(hidden), header
    assert data, f"header only {header}: the thresholds removed every row, or no data"
