"""The corpus: every valid query lints clean and runs in the sandbox's SQL engine; every invalid
query gets its expected problem at its line and column, with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from amc_manager.sql import KnownSchema, lint, prepare, render_text
from tests.sql.corpus import INVALID, VALID, load
from tests.sql.helpers import FakeData, run_prepared

SCHEMA = KnownSchema.from_catalogue()


@pytest.fixture(scope="module")
def data() -> FakeData:
    return FakeData.sample()


def test_corpus_is_large_enough() -> None:
    assert len(VALID) >= 30
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_query_lints_clean_and_runs_in_the_sandbox(path: Path, data: FakeData) -> None:
    case = load(path)
    problems = lint(case.text, file=path.name, schema=SCHEMA, values=case.values)
    assert problems == [], render_text(problems)
    prepared = prepare(case.text, case.values)
    assert prepared.sql.count("\n") == case.text.count("\n") + sum(
        str(v.value).count("\n") for v in case.values.values()
    )
    run_prepared(prepared, data)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_query_gets_its_problem_at_its_place(path: Path) -> None:
    case = load(path)
    assert case.expectations, f"{path.name} has no -- expect: line"
    problems = lint(case.text, file=path.name, schema=SCHEMA, values=case.values)
    for expectation in case.expectations:
        assert any(expectation.met_by(p) for p in problems), render_text(problems)
    assert all(p.hint for p in problems if p.is_error), render_text(problems)
