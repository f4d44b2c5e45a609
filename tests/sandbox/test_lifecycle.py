"""The execution timeline: slots, queueing order, results gating completion, cancellation."""

from __future__ import annotations

from typing import Any

from amc_manager.sandbox.lifecycle import advance, cancel


def _doc(name: str, created: float, run: float, outcome: str = "SUCCEEDED") -> dict[str, Any]:
    return {
        "execution_id": name,
        "status": "PENDING",
        "created_at": created,
        "ready_at": created,
        "run_seconds": run,
        "outcome": outcome,
        "outcome_reason": None,
        "result": {"state": "done", "at": 0.0},
    }


def test_slots_are_handed_over_in_creation_order() -> None:
    docs = [_doc("a", 0, 10), _doc("b", 1, 10), _doc("c", 2, 10)]
    advance(docs, 5, 2, 0.0)
    assert [d["status"] for d in docs] == ["RUNNING", "RUNNING", "PENDING"]
    advance([d for d in docs if d["status"] != "SUCCEEDED"], 12, 2, 1.0)
    assert docs[0]["status"] == "SUCCEEDED" and docs[0]["finished_at"] == 10
    assert docs[2]["status"] == "RUNNING" and docs[2]["started_at"] == 10


def test_success_waits_for_its_result_files() -> None:
    doc = _doc("a", 0, 1)
    doc["result"] = None
    advance([doc], 5, 10, 0.0)
    assert doc["status"] == "RUNNING"
    doc["result"] = {"state": "done", "at": 7.0}
    advance([doc], 8, 10, 0.0)
    assert doc["status"] == "SUCCEEDED" and doc["finished_at"] == 7.0


def test_rejected_never_takes_a_slot() -> None:
    docs = [_doc("a", 0, 10, "REJECTED"), _doc("b", 0, 10)]
    advance(docs, 1, 1, 0.0)
    assert [d["status"] for d in docs] == ["REJECTED", "RUNNING"]


def test_cancel_frees_the_slot_from_the_cancel_time() -> None:
    docs = [_doc("a", 0, 100), _doc("b", 1, 100)]
    advance(docs, 2, 1, 0.0)
    cancel(docs[0], 50)
    advance([docs[1]], 60, 1, 50.0)
    assert docs[1]["started_at"] == 50


def test_failed_outcome_reports_its_reason() -> None:
    doc = _doc("a", 0, 1, "FAILED")
    doc["outcome_reason"] = "boom"
    advance([doc], 2, 1, 0.0)
    assert doc["status"] == "FAILED" and doc["status_reason"] == "boom"
