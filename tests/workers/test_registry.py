"""The workers table on SQLite and PostgreSQL, on an injected clock: registration, heartbeats,
lost and stopped workers, and a lost worker's leases released at once."""

from __future__ import annotations

from pathlib import Path

from amc_manager.engine.heartbeat import Heartbeat
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.store import Store
from amc_manager.store.workers import LOST_AFTER_BEATS, list_workers
from tests.engine.conftest import SQL, opened
from tests.windows import amc_window


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def states(store: Store, now: float) -> dict[str, tuple[str, int]]:
    return {w.id: (w.state, w.leases) for w in await list_workers(store, now=now)}


async def test_register_beat_lost_and_stopped(store: Store) -> None:
    clock = Clock()
    a = Heartbeat(store, "host-a-1-aaaaaa", every=5.0, clock=clock, host="host-a", pid=11)
    b = Heartbeat(store, "host-b-2-bbbbbb", every=5.0, clock=clock, host="host-b", pid=22)
    await a.register()
    assert await b.step() == 5.0  # the first beat registers
    rows = {w.id: w for w in await list_workers(store, now=clock())}
    assert rows[a.worker_id].host == "host-a" and rows[a.worker_id].pid == 11
    assert rows[b.worker_id].started_at == clock.now
    assert {w.state for w in rows.values()} == {"alive"}

    clock.now += 5.0 * LOST_AFTER_BEATS - 1  # a silent, b beats: both still alive
    await b.step()
    assert await states(store, clock()) == {a.worker_id: ("alive", 0), b.worker_id: ("alive", 0)}

    clock.now += 2  # a is silent for longer than three beats: lost, even before anyone reaps
    assert (await states(store, clock()))[a.worker_id] == ("lost", 0)
    await b.step()  # b's beat reaps it
    row = {w.id: w for w in await list_workers(store, now=clock())}[a.worker_id]
    assert row.state == "lost" and row.last_heartbeat == 1_000_000.0

    await a.step()  # merely slow, not dead: its next beat makes it alive again
    assert (await states(store, clock()))[a.worker_id] == ("alive", 0)

    clock.now += 60  # both silent: a worker never reaps itself, only the others
    await a.step()
    assert await states(store, clock()) == {a.worker_id: ("alive", 0), b.worker_id: ("lost", 0)}
    await b.step()

    await b.stopped()
    clock.now += 3600  # a stopped worker is never lost, however long ago it beat
    assert (await states(store, clock()))[b.worker_id] == ("stopped", 0)


async def test_lost_workers_leases_are_released_for_others(
    tmp_path: Path, database_url: str
) -> None:
    async with opened(tmp_path, database_url) as (runtime, instance, user_id):
        store = runtime.store
        start, end = amc_window()
        for _ in range(3):
            await enqueue(store, user_id, RunSpec(instance=instance, sql=SQL, start=start, end=end))
        clock = Clock(runtime.clock())
        dead = Heartbeat(store, "dead-1-000000", every=1.0, clock=clock)
        live = Heartbeat(store, "live-2-111111", every=1.0, clock=clock)
        await dead.register()
        await live.register()
        held = await store.claim(dead.worker_id, clock(), 600.0, 10)
        assert len(held) == 3
        assert (await states(store, clock()))[dead.worker_id] == ("alive", 3)
        # Nobody else may take them while the lease lasts (10 minutes).
        assert await store.claim(live.worker_id, clock(), 600.0, 10) == []

        clock.now += 10  # dead is silent; live beats and reaps it
        await live.step()
        assert await states(store, clock()) == {
            dead.worker_id: ("lost", 0),
            live.worker_id: ("alive", 0),
        }
        # Taken over at once, long before the 10-minute leases would have lapsed.
        taken = await store.claim(live.worker_id, clock(), 600.0, 10)
        assert sorted(r.id for r in taken) == sorted(r.id for r in held)
        assert (await states(store, clock()))[live.worker_id] == ("alive", 3)
