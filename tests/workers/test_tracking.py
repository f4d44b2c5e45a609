"""Adaptive tracking: the pure schedule, and a run against the embedded sandbox where learned
run times make the engine poll less than on a fixed grid."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from amc_manager.client import AuditEvent
from amc_manager.engine.engine import Engine
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.engine.tracking import PollPolicy, RunTimes, check_due, next_poll
from amc_manager.store import TERMINAL_STATES, InstanceRow
from tests.engine.conftest import SQL, opened, window

POLICY = PollPolicy(floor=6.0, ceiling=300.0, blind_ceiling=60.0)
STATUS_CALLS = ("executions.list", "executions.get")


def test_nothing_learned_backs_off_with_age() -> None:
    assert check_due(100.0, 100.0, None, POLICY) == 106.0  # young: the floor
    assert check_due(300.0, 100.0, None, POLICY) == 300.0 + 40.0  # 20 % of its age
    assert check_due(10_100.0, 100.0, None, POLICY) == 10_100.0 + 60.0  # the blind ceiling


def test_before_the_window_one_look_when_it_opens() -> None:
    runs = (900.0, 3600.0)  # AMC took 15 to 60 minutes before
    assert check_due(0.0, 0.0, runs, POLICY) == 300.0  # never longer than the ceiling
    assert check_due(600.0, 0.0, runs, POLICY) == 810.0  # the window opens at 90 % of 900 s


def test_inside_the_window_the_step_follows_its_width() -> None:
    assert check_due(1000.0, 0.0, (900.0, 3600.0), POLICY) == pytest.approx(1021.6)
    assert check_due(1000.0, 0.0, (900.0, 1000.0), POLICY) == 1006.0  # narrow: the floor
    # Longer than any run seen: the step grows slowly with the overrun, up to the blind ceiling.
    assert check_due(4600.0, 0.0, (900.0, 3600.0), POLICY) == pytest.approx(4600 + 21.6 + 20)
    assert check_due(9600.0, 0.0, (900.0, 3600.0), POLICY) == 9600 + 60.0


def test_an_instance_is_polled_for_its_most_pressing_run() -> None:
    runs = [(0.0, (900.0, 3600.0)), (950.0, (900.0, 3600.0)), (990.0, None)]
    assert next_poll(1000.0, runs, POLICY) == 1006.0  # the new unknown run: the floor
    assert next_poll(1000.0, runs[:2], POLICY) == pytest.approx(1021.6)
    assert next_poll(1000.0, [], POLICY) == 1300.0


def test_run_times_need_a_few_samples_per_workflow() -> None:
    times = RunTimes(keep=3)
    key = ("instance", "sha")
    for seconds in (10.0, 12.0):
        times.observe(key, seconds)
    assert times.window(key) is None
    times.observe(key, 11.0)
    assert times.window(key) == (10.0, 12.0)
    times.observe(key, 20.0)  # only the latest `keep` count
    assert times.window(key) == (11.0, 20.0)
    assert times.window(("instance", "other")) is None
    # Another instance running the same query borrows its times until it has its own.
    assert times.window(("elsewhere", "sha")) == (11.0, 20.0)


async def _batch(engine: Engine, instance: InstanceRow, user_id: str, count: int) -> None:
    start, end = window()
    spec = RunSpec(instance=instance, sql=SQL, start=start, end=end)
    ids = {await enqueue(engine.store, user_id, spec) for _ in range(count)}
    while True:
        rows = [await engine.store.get_execution(i) for i in ids]
        if all(r is not None and r.state in TERMINAL_STATES for r in rows):
            assert {r.state.value for r in rows if r is not None} == {"succeeded"}
            return
        await engine.run_once()
        await asyncio.sleep(0.01)


async def test_learned_run_times_poll_less_than_a_fixed_grid(tmp_path: Path) -> None:
    """Runs of 6 to 6.5 s (long beside the learned window, so the test holds on a loaded
    machine); the floor (the old grid's step) is 0.1 s. Once three runs were
    seen, the next batch is first looked at shortly before the shortest of them would end
    (AMC's times are whole seconds: learned a little short), so it costs far fewer status
    calls than the same batch polled every 0.1 s."""
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    async with opened(
        tmp_path, database_url, AMC_POLL_INTERVAL=0.1, sandbox={"duration": "6-6.5"}
    ) as (runtime, instance, user_id):
        calls: Counter[str] = Counter()

        def count(event: AuditEvent) -> None:
            calls[event.operation] += 1

        runtime.audit.observer = count
        engine = runtime.engine()
        await _batch(engine, instance, user_id, 3)  # learns how long this SQL takes
        assert engine.run_times.window((instance.id, _sql_hash(engine))) is not None

        calls.clear()
        await _batch(engine, instance, user_id, 3)
        adaptive = sum(calls[op] for op in STATUS_CALLS)

        engine.policy = PollPolicy(floor=0.1, ceiling=0.1)  # the fixed 0.1 s grid
        calls.clear()
        await _batch(engine, instance, user_id, 3)
        fixed = sum(calls[op] for op in STATUS_CALLS)
    print(f"status calls for 3 runs: adaptive {adaptive}, fixed grid {fixed}")  # noqa: T201
    assert adaptive * 2 <= fixed


def _sql_hash(engine: Engine) -> str:
    return next(iter(k for _, k in engine.run_times._by_key))
