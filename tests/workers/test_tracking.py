"""Adaptive tracking: the pure schedule, and a run against the embedded sandbox where learned
run times make the engine poll less than on a fixed grid."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from amc_manager.client import AmcClient, AuditEvent
from amc_manager.engine.engine import Engine, EngineConfig
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.engine.tracking import PollPolicy, RunTimes, Window, check_due, next_poll
from amc_manager.store import TERMINAL_STATES, InstanceRow, Store
from tests.engine.conftest import SQL, opened
from tests.windows import amc_window

POLICY = PollPolicy(floor=6.0, ceiling=300.0, blind_ceiling=60.0, budget=0.35)
STATUS_CALLS = ("executions.list", "executions.get")
WIDE = Window(900.0, 3600.0, 10)  # AMC took 15 to 60 minutes, 10 runs seen


def test_nothing_learned_backs_off_with_age() -> None:
    assert check_due(100.0, 100.0, None, POLICY) == 106.0  # young: the floor
    assert check_due(200.0, 100.0, None, POLICY) == 200.0 + 35.0  # 35 % of its age
    assert check_due(10_100.0, 100.0, None, POLICY) == 10_100.0 + 60.0  # the blind ceiling


def test_one_run_is_listed_when_its_expected_lag_reaches_the_budget() -> None:
    # Its end is spread over 810 s (90 % of the shortest) to 3600 + 2700 / 10 = 3870 s: a
    # listing at T catches it with an expected lag of (T - from)^2 / (2 * (3870 - from)).
    assert check_due(1000.0, 0.0, WIDE, POLICY) == pytest.approx(1000 + (0.7 * 2870) ** 0.5)
    assert check_due(600.0, 0.0, WIDE, POLICY) == pytest.approx(810 + (0.7 * 3060) ** 0.5)
    assert check_due(0.0, 0.0, WIDE, POLICY) == 300.0  # never longer than the ceiling
    # A narrow window (900 to 1000 + 100 / 10 s): the end is near, the floor is not.
    narrow = Window(900.0, 1000.0, 10)
    assert check_due(950.0, 0.0, narrow, POLICY) == pytest.approx(950 + (0.7 * 60) ** 0.5)


def test_more_runs_that_may_end_list_sooner() -> None:
    ten = [(0.0, WIDE)] * 10  # ten times the rate of ends: sqrt(10) times shorter
    assert next_poll(1000.0, ten, POLICY) == pytest.approx(1000 + (0.7 * 2870 / 10) ** 0.5)
    runs = [(0.0, WIDE), (990.0, None)]
    assert next_poll(1000.0, runs, POLICY) == 1006.0  # the new unknown run: the floor
    assert next_poll(1000.0, [], POLICY) == 1300.0


def test_runs_older_than_every_run_seen_stretch_the_window() -> None:
    seen = Window(900.0, 1000.0, 3)
    # 1200 s old: its end is spread to 1200 + (1200 - 900) / 3 = 1300 s.
    assert check_due(1200.0, 0.0, seen, POLICY) == pytest.approx(1200 + (0.7 * 100) ** 0.5)
    # Three such runs outlived all three seen: each to 1200 + 300 * 3 / 3 = 1500 s; their
    # ends together come no sooner than one's did.
    three = [(0.0, seen)] * 3
    assert next_poll(1200.0, three, POLICY) == pytest.approx(1200 + (0.7 * 100) ** 0.5)
    # Far past every run seen: looks grow further apart, up to the blind ceiling.
    assert check_due(10_000.0, 0.0, seen, POLICY) == pytest.approx(10_000 + (0.7 * 9100 / 3) ** 0.5)
    assert check_due(100_000.0, 0.0, seen, POLICY) == 100_060.0


def test_a_time_scaled_engine_plans_the_same_listings_scaled(tmp_path: Path) -> None:
    """AMC_TIME_SCALE divides every duration of the policy, the lag budget too: a sandbox
    running 60 times faster is listed at the same simulated times."""

    async def no_client(owner: str, acting: str) -> AmcClient:
        raise AssertionError("not called")

    one, sixty = (
        Engine(Store("sqlite:///unused.db"), no_client, tmp_path, EngineConfig(time_scale=s)).policy
        for s in (1.0, 60.0)
    )
    runs = [(0.0, WIDE)] * 3
    scaled = [(0.0, Window(900.0 / 60, 3600.0 / 60, 10))] * 3
    for now in (0.0, 600.0, 1000.0, 4000.0):
        planned = next_poll(now, runs, one)
        assert next_poll(now / 60, scaled, sixty) == pytest.approx(planned / 60)
    assert check_due(200.0 / 60, 100.0 / 60, None, sixty) == pytest.approx(235.0 / 60)


def test_run_times_need_a_few_samples_per_workflow() -> None:
    times = RunTimes(keep=3)
    key = ("instance", "sha")
    for seconds in (10.0, 12.0):
        times.observe(key, seconds)
    assert times.window(key) is None
    times.observe(key, 11.0)
    assert times.window(key) == Window(10.0, 12.0, 3)
    times.observe(key, 20.0)  # only the latest `keep` count
    assert times.window(key) == Window(11.0, 20.0, 3)
    assert times.window(("instance", "other")) is None
    # Another instance running the same query borrows its times until it has its own (none
    # of its own runs seen end yet).
    assert times.window(("elsewhere", "sha")) == Window(11.0, 20.0, 0)


async def _batch(engine: Engine, instance: InstanceRow, user_id: str, count: int) -> None:
    start, end = amc_window()
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
