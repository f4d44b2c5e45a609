"""How executions move PENDING -> RUNNING -> terminal, computed from the wall clock.

Nothing runs in the background: each reader advances an instance's executions to "now" with
the same deterministic rules (slots free in order, at most N running), so every process that
shares the state sees the same history.
"""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")


def _finish(doc: Doc, status: str, at: float, reason: str | None) -> None:
    doc["status"] = status
    doc["finished_at"] = at
    doc["updated_at"] = at
    doc["slot_event_at"] = at
    if reason:
        doc["status_reason"] = reason


def _start(doc: Doc, at: float) -> None:
    if doc["outcome"] == "REJECTED":
        _finish(doc, "REJECTED", at, doc.get("outcome_reason"))
        return
    doc["status"] = "RUNNING"
    doc["started_at"] = at
    doc["updated_at"] = at
    doc["slot_event_at"] = at


def _finish_time(doc: Doc) -> float:
    return float(doc["started_at"]) + float(doc["run_seconds"])


def _ready_to_complete(doc: Doc) -> bool:
    """A successful run completes only once its result files exist (AMC's publishing step)."""
    if doc["outcome"] != "SUCCEEDED":
        return True
    return (doc.get("result") or {}).get("state") in ("done", "failed")


def _completion_time(doc: Doc) -> float:
    result = doc.get("result") or {}
    return max(_finish_time(doc), float(result.get("at", 0.0)))


def _complete(doc: Doc) -> None:
    at = _completion_time(doc)
    result = doc.get("result") or {}
    if doc["outcome"] != "SUCCEEDED":
        _finish(doc, doc["outcome"], at, doc.get("outcome_reason"))
    elif result.get("state") == "failed":
        _finish(doc, "FAILED", at, result.get("reason"))
    else:
        _finish(doc, "SUCCEEDED", at, None)


def advance(active: list[Doc], now: float, max_running: int, clock: float) -> list[Doc]:
    """Advance the instance's non-terminal executions to `now`; returns the docs that changed.

    `clock` is the last moment a slot changed hands, so a start never predates the finish or
    cancel that freed its slot.
    """
    changed: dict[str, Doc] = {}
    running = [d for d in active if d["status"] == "RUNNING"]
    waiting = [d for d in active if d["status"] == "PENDING"]
    while True:
        due = sorted(
            (d for d in running if _ready_to_complete(d) and _completion_time(d) <= now),
            key=_completion_time,
        )
        startable = [d for d in waiting if float(d["ready_at"]) <= now]
        next_start = None
        if len(running) < max_running and startable:
            next_start = min(startable, key=lambda d: (max(d["ready_at"], clock), d["created_at"]))
        start_at = max(float(next_start["ready_at"]), clock) if next_start else None
        if (
            next_start is not None
            and start_at is not None
            and (not due or start_at <= _completion_time(due[0]))
        ):
            waiting.remove(next_start)
            _start(next_start, start_at)
            clock = max(clock, start_at)
            changed[next_start["execution_id"]] = next_start
            if next_start["status"] == "RUNNING":
                running.append(next_start)
            continue
        if not due:
            break
        finished = due[0]
        _complete(finished)
        running.remove(finished)
        clock = max(clock, float(finished["finished_at"]))
        changed[finished["execution_id"]] = finished
    return list(changed.values())


def cancel(doc: Doc, now: float) -> None:
    _finish(doc, "CANCELLED", now, None)


def is_terminal(doc: Doc) -> bool:
    return doc["status"] in TERMINAL
