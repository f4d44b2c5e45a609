"""`amc worker`'s engine loops (submission and downloads, tracking, token refresh), supervised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from amc_manager.engine.engine import Engine
from amc_manager.errors import AmcManagerError
from amc_manager.store import OPEN_STATES, TRACKED_STATES, ExecutionState

logger = logging.getLogger("amc_manager.worker")
# Admission and submission, downloads, and status tracking each in a loop of its own: a long
# pass over queued runs never delays a download, nor a download noticing another run's end.
DOWNLOAD_STATES: tuple[ExecutionState, ...] = (ExecutionState.DOWNLOADING,)
SUBMIT_STATES: tuple[ExecutionState, ...] = tuple(
    s for s in OPEN_STATES if s not in TRACKED_STATES and s not in DOWNLOAD_STATES
)
Step = Callable[[], Awaitable[float]]
# Longest idle pause, in real seconds whatever the time scale: how soon work that another
# process adds is noticed. What this process schedules itself wakes its loops on time.
MAX_IDLE = 0.5
# Least pause of the other loops (scheduler, collections, ...), in real seconds whatever the
# time scale: time-scaled, they would look at the store every few milliseconds, and a pass
# costs more CPU than it finds work.
LOOP_FLOOR = 0.5
# Added to a sleep until a run falls due: the event loop may wake a little early, and a claim
# a moment before the run is due finds nothing.
CLOCK_SLACK = 0.001


def _raise_failed(passes: set[asyncio.Task[None]]) -> None:
    """Forget the passes that ended; raise the first failure among them."""
    ended = [p for p in passes if p.done()]
    passes.difference_update(ended)
    errors = [p.exception() for p in ended if not p.cancelled()]  # every one retrieved
    for error in errors:
        if error is not None:
            raise error


class WorkerFailed(AmcManagerError):
    """A loop of the worker failed too many times in a row; the worker stopped (exit 1)."""


class Worker:
    """Runs the engine's loops until `stop()`, then drains: no new claims, in-flight steps
    finish or give up their leases within `shutdown_timeout`, and `run()` returns.

    A loop that raises is logged with its traceback and run again after a back-off (doubling
    from `backoff`, at most `max_backoff`); after `max_failures` failures in a row the worker
    stops and `run()` raises `WorkerFailed`. The engine's intervals (`idle`, `refresh_every`,
    the back-off) are divided by its time scale, like the engine's own.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        flush: Callable[[], Awaitable[None]] | None = None,
        refresh_tokens: Callable[[], Awaitable[None]] | None = None,
        idle: float = 0.5,
        refresh_every: float = 60.0,
        shutdown_timeout: float = 30.0,
        max_failures: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        loops: Mapping[str, Step] | None = None,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.on_stop = on_stop  # the last word of a graceful stop (e.g. the registry's)
        # More supervised loops (the scheduler, collections, the heartbeat): each step returns
        # the seconds to pause before it runs again, and is restarted like the engine's own.
        self.extra_loops: dict[str, Step] = dict(loops or {})
        self.flush = flush
        self.refresh_tokens = refresh_tokens
        self.idle = engine.config.scaled(idle)
        self.refresh_every = engine.config.scaled(refresh_every)
        self.shutdown_timeout = shutdown_timeout
        self.max_failures = max_failures
        self.backoff = engine.config.scaled(backoff)
        self.max_backoff = engine.config.scaled(max_backoff)
        self._sleep = sleep
        self.stop_event = asyncio.Event()

    def stop(self) -> None:
        """Begin a graceful stop (safe to call from a signal handler, and more than once)."""
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    async def run(self) -> None:
        """Until stopped (returns) or a loop keeps failing (raises `WorkerFailed`)."""
        loops: dict[str, Step] = {
            "submission": self._engine_step(SUBMIT_STATES, wake=self.engine.slot_ready),
            "downloads": self._overlapping_step(
                DOWNLOAD_STATES, wake=self.engine.download_ready, per_run=True
            ),
            # A look puts its runs on their next look, which may come before the loop's wake.
            "tracking": self._overlapping_step(TRACKED_STATES, recheck=self.engine.looked),
        }
        if self.refresh_tokens is not None:
            loops["token refresh"] = self._refresh_step(self.refresh_tokens)
        loops.update({name: self._floored(step) for name, step in self.extra_loops.items()})
        tasks = [
            asyncio.create_task(self._supervise(name, step), name=f"worker {name}")
            for name, step in loops.items()
        ]
        stopped = asyncio.create_task(self.stop_event.wait())
        try:  # a loop ends only by failing for good, or once stopped
            await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.stop()
            await self._drain(tasks)
            stopped.cancel()
        for task in tasks:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error

    # --- the loops ------------------------------------------------------------------------

    def _engine_step(
        self, states: Sequence[ExecutionState], *, wake: asyncio.Event | None = None
    ) -> Step:
        """A pass over `states`; unless it took a full batch, an idle wait until the next run
        falls due, cut short by `wake` (this process found a result to download, or freed a
        slot for queued runs).
        (A pass that claimed fewer than a batch took everything due: claiming again at once
        would cost a statement to find nothing.)"""

        async def step() -> float:
            if wake is not None:
                wake.clear()
            # The audit sink writes its rows in short batches of its own; `flush` is for the
            # drain (a flush per pass cost a transaction per AMC call).
            done = await self.engine.run_once(states=states)
            if done < self.engine.config.claim_batch:  # nothing more is due this instant
                await self._idle(states, wake)
            return 0.0

        return step

    def _overlapping_step(
        self,
        states: Sequence[ExecutionState],
        *,
        wake: asyncio.Event | None = None,
        recheck: asyncio.Event | None = None,
        per_run: bool = False,
    ) -> Step:
        """Passes over `states` that do not wait for one another: a pass runs on its own while
        the loop sleeps until the next run not in flight falls due, so one instance's slow
        answer (AMC may take seconds to list) or one large download never holds back the
        runs that fall due meanwhile. A pass's failure is raised by the loop's next step (and
        counts as the loop's); a stopping worker waits for its passes. `recheck`: set when a
        step put its runs on a next look, which may come before the loop's wake (`_idle`).

        Under `--concurrency` the loop claims only while a step slot is free, and `per_run`
        (each run is a step of its own: downloads) no more runs than there are free slots: a
        worker never leases runs it cannot step soon, so other workers step them."""
        passes: set[asyncio.Task[None]] = set()
        slots = self.engine.slots

        async def claim() -> None:
            if wake is not None:
                wake.clear()
            limit = slots.free if per_run else None
            claimed, steps = await self.engine.claim_pass(states, limit=limit)
            if not claimed:
                steps.close()  # nothing to step
                return
            passes.add(asyncio.create_task(steps))

        async def step() -> float:
            _raise_failed(passes)
            try:
                if slots.free == 0:
                    await self._until(slots.wait_free())
                if not self.stopping:
                    await claim()
                await self._idle(states, wake, recheck)
                if self.stopping and passes:  # a stopping worker lets its passes end
                    await asyncio.wait(passes)
            except asyncio.CancelledError:  # the drain cuts the loop short: its passes too
                for running in passes:
                    running.cancel()
                await asyncio.gather(*passes, return_exceptions=True)
                raise
            _raise_failed(passes)  # a pass that failed meanwhile is this step's failure
            return 0.0

        return step

    async def _idle(
        self,
        states: Sequence[ExecutionState],
        wake: asyncio.Event | None,
        recheck: asyncio.Event | None = None,
    ) -> None:
        """Sleep until a run in `states` falls due, looking at the store at most every
        `MAX_IDLE` real seconds, whatever the time scale, for work that other processes add;
        one cheap query per look rather than a claim. A run due already (one a pass of this
        process still steps) waits `idle`, so the loop never spins; any other wakes the loop
        when it falls due, not later (every millisecond is a tenth of a simulated second at
        60x).

        `recheck` (tracking): set when a look ended; its runs' next look may come before the
        wake, so the loop looks at the store again, unless the run it waited for is due by
        then: with many instances, looks end every few hundred milliseconds, and a loop that
        went back to the store on each would claim its due run late (or, under a steady
        stream of looks, never)."""
        while not self.stopping:
            if recheck is not None:
                recheck.clear()
            due = await self.engine.next_due(states)
            wait = MAX_IDLE if due is None else due - self.engine.clock()
            pause = wait + CLOCK_SLACK if wait > 0 else self.idle
            await self._pause(min(pause, max(MAX_IDLE, self.idle)), wake, recheck)
            if wake is not None and wake.is_set():
                return
            if due is not None and self.engine.clock() >= due:
                return  # its time came (whatever ended meanwhile): claim it
            # Otherwise look again: a look ended (its runs have their next look, maybe
            # sooner), or nothing was due and another process may have added work.

    @staticmethod
    def _floored(step: Step) -> Step:
        async def floored() -> float:
            return max(await step(), LOOP_FLOOR)

        return floored

    def _refresh_step(self, refresh: Callable[[], Awaitable[None]]) -> Step:
        async def step() -> float:
            await refresh()
            return self.refresh_every

        return step

    async def _supervise(self, name: str, step: Step) -> None:
        failures = 0
        while not self.stopping:
            try:
                pause = await step()
                failures = 0
            except Exception as exc:
                failures += 1
                if failures >= self.max_failures:
                    logger.error("worker %s loop failed %d times in a row", name, failures)
                    raise WorkerFailed(
                        f"the worker's {name} loop failed {failures} times in a row, last "
                        f"with {type(exc).__name__}: {exc}",
                        hint="see the tracebacks logged above; mend the cause (often the "
                        "database) and start `amc worker` again",
                    ) from exc
                pause = min(self.backoff * 2 ** (failures - 1), self.max_backoff)
                logger.exception(
                    "worker %s loop failed (%d in a row); restarting in %.1f s",
                    name,
                    failures,
                    pause,
                )
            await self._pause(pause)

    async def _pause(self, seconds: float, *wakes: asyncio.Event | None) -> None:
        """Sleep, cut short by `stop()` (or by any of `wakes`)."""
        if self.stopping or seconds <= 0:
            return
        await self._until(self._sleep(seconds), *(w.wait() for w in wakes if w is not None))

    async def _until(self, *waits: Awaitable[Any]) -> None:
        """Wait for the first of `waits`, cut short by `stop()`; the others are cancelled."""
        waiting = {asyncio.ensure_future(w) for w in waits}
        waiting.add(asyncio.ensure_future(self.stop_event.wait()))
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when the wait itself is cancelled (the drain)
            pending = [task for task in waiting if not task.done()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    # --- stopping -------------------------------------------------------------------------

    async def _drain(self, tasks: list[asyncio.Task[None]]) -> None:
        """Let in-flight steps end for `shutdown_timeout`, cancel what is left, then give up
        every lease this process still holds, so another worker carries the runs on at once
        (a step cut short mid-call is safe to repeat: that is the engine's design)."""
        running = [t for t in tasks if not t.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=self.shutdown_timeout)
            if late:
                logger.warning(
                    "%d worker loops still busy after %g s; cutting them short",
                    len(late),
                    self.shutdown_timeout,
                )
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
        try:
            released = await self.engine.release_all()
            if released:
                logger.info("released %d leases for other workers", released)
        except Exception:  # their leases lapse instead
            logger.exception("could not release this worker's leases")
        if self.flush is not None:
            try:
                await self.flush()
            except Exception:
                logger.exception("could not write the last audit rows")
        if self.on_stop is not None:
            try:
                await self.on_stop()
            except Exception:
                logger.exception("could not record this worker's stop")
