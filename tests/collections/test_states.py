"""Cell and collection states as contracts.md lists them, derived from executions; the fair
order of queued work and the share of an instance's slots collections may hold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from amc_manager.engine.collections import (
    CellState,
    CollectionState,
    cell_state,
    cell_totals,
    collection_slots,
    derive_state,
    fair_order,
)
from amc_manager.store import ExecutionRow, ExecutionState

S = ExecutionState


def test_cell_states_from_execution_states() -> None:
    assert cell_state(S.QUEUED) == CellState.QUEUED
    for state in (S.SUBMITTING, S.PENDING, S.RUNNING, S.DOWNLOADING):
        assert cell_state(state) == CellState.RUNNING
    for state in (S.SUCCEEDED, S.FAILED, S.CANCELLED, S.REJECTED):
        assert cell_state(state).value == state.value
    assert cell_totals({"submitting": 2, "downloading": 1, "queued": 3, "failed": 1}) == {
        "queued": 3,
        "running": 3,
        "succeeded": 0,
        "failed": 1,
        "cancelled": 0,
        "rejected": 0,
    }


def totals(**given: int) -> dict[str, int]:
    return {**dict.fromkeys((c.value for c in CellState), 0), **given}


@pytest.mark.parametrize(
    ("intent", "given", "expected"),
    [
        ("running", totals(queued=3), CollectionState.RUNNING),
        ("running", totals(succeeded=11, running=1), CollectionState.RUNNING),
        # Submitted is not finished: complete only once every cell succeeded.
        ("running", totals(succeeded=12), CollectionState.COMPLETE),
        ("running", totals(succeeded=11, failed=1), CollectionState.FAILED),
        ("running", totals(succeeded=11, rejected=1), CollectionState.FAILED),
        ("running", totals(succeeded=10, cancelled=2), CollectionState.FAILED),
        ("running", totals(failed=1, queued=1), CollectionState.RUNNING),
        ("paused", totals(queued=2, succeeded=1), CollectionState.PAUSED),
        ("paused", totals(running=1), CollectionState.PAUSED),
        # Paused with nothing open: the cells decide.
        ("paused", totals(succeeded=4), CollectionState.COMPLETE),
        ("paused", totals(succeeded=3, failed=1), CollectionState.FAILED),
        ("cancelled", totals(cancelled=3, succeeded=1), CollectionState.CANCELLED),
        ("cancelled", totals(running=1), CollectionState.CANCELLED),
    ],
)
def test_collection_state(intent: str, given: dict[str, int], expected: CollectionState) -> None:
    assert derive_state(intent, given) == expected


def test_final_states() -> None:
    final = {s for s in CollectionState if s.final}
    assert final == {CollectionState.COMPLETE, CollectionState.FAILED, CollectionState.CANCELLED}


def row(n: int, collection: str | None) -> ExecutionRow:
    return replace(BASE, id=f"e{n:03d}", created_at=float(n), collection_id=collection)


BASE = ExecutionRow(
    id="",
    user_id="u",
    instance_id="i",
    state=S.QUEUED,
    amc_status=None,
    amc_execution_id=None,
    workflow_id="w",
    adhoc=False,
    sql=None,
    sql_hash=None,
    input_parameters=[],
    parameter_values={},
    time_window_type="EXPLICIT",
    time_window_start=None,
    time_window_end=None,
    time_zone="UTC",
    options={},
    nonce="n",
    submit_started_at=None,
    submitted_at=None,
    lease_owner=None,
    lease_expires_at=None,
    next_check_at=0.0,
    attempts=0,
    error=None,
    advice=None,
    row_count=None,
    result_path=None,
    result_columns=None,
    result_checksum=None,
    created_at=0.0,
    updated_at=0.0,
    finished_at=None,
    failure_kind=None,
)


def test_fair_order_takes_lanes_in_turns() -> None:
    backfill = [row(n, "c1") for n in range(1, 53)]
    other = [row(100, None), row(101, None)]
    second = [row(n, "c2") for n in range(60, 63)]
    ordered = [r.id for r in fair_order([*other, *second, *backfill])]
    # The backfill queued first has one turn before the later `amc run`, not 52.
    assert ordered[:6] == ["e001", "e060", "e100", "e002", "e061", "e101"]
    assert ordered.index("e101") < ordered.index("e005")
    assert sorted(ordered) == sorted(r.id for r in [*backfill, *other, *second])
    lane = [i for i in ordered if i.startswith("e0") and int(i[1:]) < 53]
    assert lane == [f"e{n:03d}" for n in range(1, 53)]  # oldest first within a lane


def test_collection_slots_leave_room_for_other_work() -> None:
    assert collection_slots(10, 0.8) == 8
    assert collection_slots(10, 1.0) == 9
    assert collection_slots(4, 0.8) == 3
    assert collection_slots(2, 0.8) == 1
    assert collection_slots(1, 0.8) == 1
    assert collection_slots(3, 0.1) == 1
