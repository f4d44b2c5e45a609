"""The durable execution engine: each execution is a state machine stored in the database.

Every step is recorded before and after its AMC call and is safe to repeat, so a process may
die anywhere and whichever process next holds the execution's lease carries on:

    queued -> submitting -> pending/running -> downloading -> succeeded
                     \\-> failed | rejected | cancelled

The allowed moves are written once, in `amc_manager.store.rows.TRANSITIONS`; the store
refuses any other and records each move in the execution's timeline.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amc_manager.client import (
    AmcClient,
    AmcError,
    AmcTransportError,
    AuthenticationError,
    Execution,
    ExecutionRequest,
    InstanceRef,
    PermissionDeniedError,
    QuotaExceededError,
    ReauthenticationRequired,
    ValidationError,
)
from amc_manager.engine.collections import (
    collection_slots,
    fair_order,
    hold_for_lost_access,
    lane,
)
from amc_manager.engine.jobs import amc_request
from amc_manager.engine.results import collect_results
from amc_manager.engine.slots import StepSlots
from amc_manager.engine.tracking import LAG_BUDGET, Key, PollPolicy, RunTimes, next_poll
from amc_manager.logs import bound
from amc_manager.storage import Results, StorageError, open_results
from amc_manager.store import (
    ACTIVE_STATES,
    OPEN_STATES,
    TRACKED_STATES,
    ExecutionRow,
    ExecutionState,
    FailureKind,
    InstanceRow,
    InvalidTransition,
    Store,
    StoreError,
)
from amc_manager.store.store import user_email
from amc_manager.store.tracking import next_due, recent_run_times, release_aligned, wake_queued

logger = logging.getLogger("amc_manager.engine")
S = ExecutionState
AMC_TO_STATE = {
    "PENDING": S.PENDING,
    "RUNNING": S.RUNNING,
    "PUBLISHING": S.RUNNING,
    "SUCCEEDED": S.DOWNLOADING,
    "FAILED": S.FAILED,
    "CANCELLED": S.CANCELLED,
    "REJECTED": S.REJECTED,
}
# Kept for the human message only; what happened is `FailureKind.REFUSED` in `failure_kind`.
REFUSED_TEXT = "AMC refused the request: "
REJECTED_ADVICE = (
    "AMC rejected the run (privacy overlap): change the query or the time "
    "window instead of re-running the same one."
)
LOST_ACCESS = (ReauthenticationRequired, AuthenticationError, PermissionDeniedError)
TRACKED = frozenset(TRACKED_STATES)
ENDED_KEPT = 1000  # succeeded runs whose final status is kept for their download
# The notes of a run put off after a failure, one per kind: a run put off again for the same
# kind waits twice as long as the last time (`Engine._retry_wait`).
UNREACHABLE = "AMC unreachable, will retry: "
STATUS_FAILED = "status check failed, will retry: "
STORAGE_FAILED = "result storage failed, will retry: "
INTERNAL_ERROR = "internal error, will retry: "


@dataclass(frozen=True)
class EngineConfig:
    """Limits and intervals (seconds, divided by `time_scale`, AMC_TIME_SCALE)."""

    max_active_per_instance: int = 10
    max_active_per_account: int = 200
    daily_adhoc_quota: int = 0
    poll_interval: float = 6.0
    # Queued runs refused a slot wait for the next multiple of this; a run leaving AMC brings
    # the oldest of each lane forward at once (`Engine._slot_freed`), so this paces the other
    # refusals (account, daily quota) and a wake lost (two workers waking the same run).
    queue_interval: float = 60.0
    lease_seconds: float = 60.0
    time_scale: float = 1.0
    claim_batch: int = 100
    # Longest pause between looks at a tracked run; how often run times are re-read from the
    # store (every worker's history, not only this process's).
    poll_ceiling: float = 300.0
    poll_blind: float = 60.0  # ... when nothing is known of a run's likely end
    # Longest pause between tries of a step that keeps failing the same way (AMC unreachable,
    # a status check or an upload refused, an internal error): no run waits longer between
    # looks than `poll_ceiling` either.
    retry_ceiling: float = 300.0
    run_times_refresh: float = 600.0
    # Of an instance's active slots, the share collections may hold together (the rest stays
    # for other work: engine/collections.py `collection_slots`).
    collection_share: float = 0.8

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale


def new_owner() -> str:
    return f"{socket.gethostname()[:20]}-{os.getpid()}-{secrets.token_hex(3)}"


async def _gather_all(*steps: Coroutine[Any, Any, Any]) -> None:
    """Run the steps together; every one ends before the first error (if any) is raised, so no
    step is left running behind a failed pass."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


class Engine:
    """Drives executions; `run_once` does every step that is due, for this process's leases."""

    def __init__(
        self,
        store: Store,
        clients: Callable[[str, str], Awaitable[AmcClient]],
        results_dir: Path,
        config: EngineConfig | None = None,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
        results: Results | None = None,
    ) -> None:
        self.store = store
        self._clients = clients  # (token owner's e-mail, acting user's e-mail) -> client
        self.results_dir = results_dir  # local scratch (and the default result folder)
        # Where result files are kept (AMC_RESULTS_URL); by default the folder results_dir.
        self.results = results or open_results(str(results_dir))
        self.config = config or EngineConfig()
        self.owner = owner or new_owner()
        self.clock = clock
        # Told (AMC's own finish time, when we noticed) once a run's final status is read.
        self.on_amc_final: Callable[[float, float], None] | None = None
        self._emails: dict[str, str] = {}
        self._instances: dict[str, InstanceRow] = {}
        # In-flight steps, bounded by `limit_steps` (`amc worker --concurrency`).
        self.slots = StepSlots()
        self.run_times = RunTimes()
        # Each instance's next status listing as this process planned it (`_track`): a run
        # submitted meanwhile joins it rather than asking for a look of its own.
        self._planned: dict[str, float] = {}
        self._run_times_read: dict[str, float] = {}  # instance pk -> when read from the store
        # Runs this process saw succeed, as AMC described them then: their download reads the
        # result's columns from it instead of asking AMC again (bounded: another process may
        # download some of them).
        self._ended: OrderedDict[str, Execution] = OrderedDict()
        # A worker keeps the runs it tracks leased between looks (`release_aligned`'s `keep`),
        # so N workers do not all wake, and N-1 claim nothing, whenever a run falls due.
        self.keep_leases = False
        # Runs a pass of this process is stepping now -> that pass (a run handed to another
        # loop, found ended by a look and due for its download, leaves its pass at once).
        self._busy: dict[str, object] = {}
        self.policy = PollPolicy(
            floor=self.config.scaled(self.config.poll_interval),
            ceiling=self.config.scaled(max(self.config.poll_ceiling, self.config.poll_interval)),
            blind_ceiling=self.config.scaled(
                max(self.config.poll_blind, self.config.poll_interval)
            ),
            budget=self.config.scaled(LAG_BUDGET),
        )
        # Set when this process found a result to download, and when a run ended and freed a
        # slot for queued runs: a worker wakes that loop at once instead of at its next look.
        self.download_ready = asyncio.Event()
        self.slot_ready = asyncio.Event()
        # Set when a status look ended: its runs have their next look, which may come before
        # the tracking loop's wake.
        self.looked = asyncio.Event()

    def limit_steps(self, concurrency: int | None) -> None:
        """At most `concurrency` steps (a submission, a download, one instance's status
        check) in flight at once in this process; None: no bound."""
        self.slots = StepSlots(concurrency or None)

    # --- entry points ---------------------------------------------------------------------

    async def run_once(
        self, only: set[str] | None = None, states: Sequence[ExecutionState] = OPEN_STATES
    ) -> int:
        """Claim what is due (optionally only `only`, only in `states`) and step it.

        A step's own failure is handled in the step (the run is retried later); what escapes
        (the store failing, a bug in tracking) is raised once every step of the pass ended.
        """
        claimed, steps = await self.claim_pass(states, only)
        await steps
        return claimed

    async def claim_pass(
        self,
        states: Sequence[ExecutionState] = OPEN_STATES,
        only: set[str] | None = None,
        *,
        limit: int | None = None,
    ) -> tuple[int, Coroutine[Any, Any, None]]:
        """`run_once` in two: claim now (at most `limit` runs, else a batch); returns how many
        runs were claimed and the pass that steps them, for a caller that runs passes side by
        side (`amc worker`). The pass must be awaited (or made a task) at once: until it ends
        its runs count as in flight."""
        claimed = await self.store.claim(
            self.owner,
            self.clock(),
            self.config.lease_seconds,
            self.config.claim_batch if limit is None else min(limit, self.config.claim_batch),
            states=states,
            ids=sorted(only) if only is not None else None,
            held=self.keep_leases,
            skip=self._in_flight(),
        )
        # Only a step that outlived its lease (another claim of this process then finds the
        # run unleased) is left out here rather than by `skip`.
        rows = [r for r in claimed if r.id not in self._busy]
        token = object()
        self._busy.update((r.id, token) for r in rows)
        return len(claimed), self._pass(rows, token)

    async def _pass(self, rows: list[ExecutionRow], token: object) -> None:
        tracking = [r for r in rows if r.state in TRACKED_STATES]
        queued = [r for r in rows if r.state == S.QUEUED]
        others = [r for r in rows if r.state not in TRACKED_STATES and r.state != S.QUEUED]
        try:
            await _gather_all(
                *(self._guarded(self._step, r) for r in others),
                self._track(tracking, token),
                self._admit_queued(queued),
            )
        finally:
            self._settle(rows, token)

    def _settle(self, rows: Sequence[ExecutionRow], token: object) -> None:
        """`rows` of the pass `token` are no longer in flight (unless handed on meanwhile to
        another pass, which then holds them)."""
        for row in rows:
            if self._busy.get(row.id) is token:
                del self._busy[row.id]

    def _hand_over(self, execution_id: str, ready: asyncio.Event) -> None:
        """A step gives one of its runs to another loop before the step ends (a look found
        the run ended: its download may start while the look records the instance's other
        runs), and wakes that loop."""
        self._busy.pop(execution_id, None)
        ready.set()

    async def next_due(self, states: Sequence[ExecutionState] = OPEN_STATES) -> float | None:
        """When the next run in `states` that nobody holds (or this process keeps) falls due,
        apart from those a pass of this process is stepping (None: there is none)."""
        owner = self.owner if self.keep_leases else None
        values = [s.value for s in states]
        return await next_due(self.store, values, self.clock(), owner=owner, busy=self._in_flight())

    def _in_flight(self) -> Collection[str]:
        """The runs this process's passes step now, that its own claims and its wait for the
        next due run must leave out: only when it keeps leases between looks, since otherwise
        the leases of runs in flight leave them out already."""
        return frozenset(self._busy) if self.keep_leases else ()

    async def detach(self, execution_id: str) -> bool:
        """Give up this process's lease at once, so another process (a worker, a later
        `amc executions wait`) carries the run on. False: this process did not hold it."""
        return await self.store.release(execution_id, self.owner)

    async def release_all(self) -> int:
        """Give up every lease this process holds (a stopping worker hands its runs over)."""
        return await self.store.release_owned(self.owner)

    async def refresh_tokens(self) -> None:
        """Refresh the tokens open work will use, so no call meets an expired one.

        The client's refresh is coalesced, so this never races an on-demand refresh.
        """
        rows = await self.store.list_executions(states=OPEN_STATES)
        owners: set[str] = set()
        for user_id, instance_pk in sorted({(r.user_id, r.instance_id) for r in rows}):
            instance = await self._instance(instance_pk)
            owner = await self.store.token_owner(
                instance.account_pk, prefer=await self._email(user_id)
            )
            if owner is not None:
                owners.add(owner)
        for email in sorted(owners):
            try:
                await (await self._clients(email, email)).tokens.current()
            except AmcError as exc:  # that user's calls will say so; the others go on
                logger.warning("token refresh for %s failed: %s", email, exc)

    async def _guarded(
        self, step: Callable[[ExecutionRow], Awaitable[None]], row: ExecutionRow
    ) -> None:
        """A step's unexpected error never kills the loop: the lease is dropped, it is retried."""
        with bound(execution_id=row.id, instance=row.instance_id, user=row.user_id):
            async with self.slots.step():
                await self._guarded_step(step, row)

    async def _guarded_step(
        self, step: Callable[[ExecutionRow], Awaitable[None]], row: ExecutionRow
    ) -> None:
        try:
            await step(row)
        except AmcTransportError as exc:
            await self._retry(row, UNREACHABLE, exc.message)
        except LOST_ACCESS as exc:
            await self._finish(row, S.FAILED, error=str(exc), failure_kind=FailureKind.LOST_ACCESS)
        except StorageError as exc:  # the bucket is down or refuses: AMC keeps the files
            await self._retry(row, STORAGE_FAILED, str(exc))
        except Exception as exc:  # a bug or a store hiccup: retried later, never lost
            logger.exception("step of %s failed; will retry", row.id)
            await self._retry(row, INTERNAL_ERROR, type(exc).__name__)

    async def _retry(self, row: ExecutionRow, kind: str, detail: str) -> None:
        """Put `row` off after a failure of `kind` (one of the notes above), saying why."""
        wait = self._retry_wait(row, kind)
        note = f"{kind}{detail}"
        await self.store.release(row.id, self.owner, next_check_at=self.clock() + wait, note=note)

    def _retry_wait(self, row: ExecutionRow, kind: str) -> float:
        """The poll interval, doubled at each failure of `kind` in a row up to `retry_ceiling`,
        so a run whose step keeps failing (AMC or the bucket down for an hour) is not tried
        every few seconds all that while. The last wait is read from the row, so whichever
        worker tries next goes on from there; a failure of another kind, or none, starts
        again from the poll interval."""
        first = self.config.scaled(self.config.poll_interval)
        if not (row.error or "").startswith(kind):
            return first
        ceiling = max(self.config.scaled(self.config.retry_ceiling), first)
        return min(max(2 * row.last_wait, first), ceiling)

    async def _finish(
        self,
        row: ExecutionRow,
        state: ExecutionState,
        *,
        error: str | None = None,
        failure_kind: FailureKind | None = None,
    ) -> None:
        await self.store.finish(row.id, self.owner, state, error=error, failure_kind=failure_kind)
        await self._slot_freed(row)

    async def _slot_freed(self, row: ExecutionRow) -> None:
        """`row` (as it was) left the instance's active runs: the oldest queued run of each
        lane waiting for a slot is due now (they wait with a long `queue_interval`, not in a
        busy loop), and this process's admission loop wakes. Every engine does this, so a
        slot freed by any process is seen at once. A run that was not active (queued, or
        downloading: its slot freed when AMC ended it) frees nothing."""
        if row.state not in ACTIVE_STATES:
            return
        try:
            woken = await wake_queued(self.store, row.instance_id, self.clock())
        except Exception:  # they fall due at the next `queue_interval` tick anyway
            logger.warning("could not wake the queued runs of %s", row.instance_id, exc_info=True)
            woken = 1
        if woken:
            self.slot_ready.set()

    async def _email(self, user_id: str) -> str:
        if user_id not in self._emails:
            self._emails[user_id] = await user_email(self.store, user_id)
        return self._emails[user_id]

    async def _instance(self, pk: str) -> InstanceRow:
        if pk not in self._instances:
            self._instances[pk] = await self.store.instance_by_pk(pk)
        return self._instances[pk]

    async def _context(
        self, row: ExecutionRow, acting: str | None = None
    ) -> tuple[AmcClient, InstanceRow]:
        """The client for calls about `row`, acting for `acting` (default: its creator): with
        the acting user's own token when they connected the instance's account, else the
        earliest connection still valid (contracts.md); the audit records both users."""
        instance = await self._instance(row.instance_id)
        email = acting or await self._email(row.user_id)
        owner = await self.store.token_owner(instance.account_pk, prefer=email)
        if owner is None:
            raise ReauthenticationRequired(
                f"no connected user's Amazon token reaches instance {instance.instance_id}"
            )
        return await self._clients(owner, email), instance

    async def _admissible(self, row: ExecutionRow) -> bool:
        """Nothing is submitted for a creator who lost access to the instance (revoked,
        disconnected, disabled): the run ends `failed` (`lost_access`) with that reason."""
        if await self.store.may_use(row.user_id, row.instance_id):
            return True
        instance = await self._instance(row.instance_id)
        email = await self._email(row.user_id)
        if row.collection_id is not None:  # its collection pauses with the reason instead
            reason = f"{email} lost access to instance {instance.instance_id}"
            await hold_for_lost_access(self.store, row, reason)
            return False
        await self._finish(
            row,
            S.FAILED,
            error=f"{email} lost access to instance {instance.instance_id}; nothing was submitted",
            failure_kind=FailureKind.LOST_ACCESS,
        )
        return False

    # --- steps ----------------------------------------------------------------------------

    async def _step(self, row: ExecutionRow) -> None:
        if row.state == S.QUEUED:
            await self._admit(row)
        elif row.state == S.SUBMITTING:
            await self._submit(row)
        elif row.state == S.DOWNLOADING:
            await self._download(row)

    async def _admit_queued(self, rows: list[ExecutionRow]) -> None:
        """Admit queued runs one decision at a time per instance, in fair order: oldest first
        within a lane (a collection, or work outside collections), the lanes in turns.

        Decided concurrently, only the oldest queued run of a lane could pass each round
        (the others see it still queued), so a long queue would drain one run per
        `queue_interval`. In order, one pass fills every free slot; a refusal defers the
        younger ones of its lane too (they would wait behind it anyway), and the admitted runs
        are submitted concurrently.
        """
        by_instance: dict[str, list[ExecutionRow]] = defaultdict(list)
        for row in rows:
            by_instance[row.instance_id].append(row)
        await _gather_all(
            *(self._admit_in_order(fair_order(group)) for group in by_instance.values())
        )

    async def _admit_in_order(self, rows: list[ExecutionRow]) -> None:
        submissions: list[asyncio.Future[None]] = []
        admitted: set[str] = set()
        ended: set[str] = set()
        blocked: set[str | None] = set()
        waiting: list[ExecutionRow] = []

        async def reserve(row: ExecutionRow) -> None:
            if not await self._admissible(row):
                ended.add(row.id)  # it waits for nothing: the younger ones go on
            elif await self._reserve_slot(row):
                admitted.add(row.id)

        for row in rows:
            if lane(row) in blocked:
                waiting.append(row)
                continue
            await self._guarded(reserve, row)
            if row.id in ended:
                continue
            if row.id not in admitted:
                blocked.add(lane(row))
                continue
            submissions.append(asyncio.ensure_future(self._guarded(self._submit_admitted, row)))
        await self._defer_all(waiting)
        await asyncio.gather(*submissions)

    def _queue_tick(self) -> float:
        """The next multiple of `queue_interval` (scaled): every refused run waits for one, so
        an instance's queue falls due at one instant whichever worker refused it when, and a
        pass refuses its oldest run and puts the rest back together. Deferred by a fixed wait
        instead, runs refused apart by a few milliseconds stay apart, and each is claimed and
        refused on its own (three statements each, every `queue_interval`)."""
        interval = self.config.scaled(self.config.queue_interval)
        return (math.floor(self.clock() / interval) + 1) * interval

    async def _defer(self, row: ExecutionRow) -> None:
        await self.store.release(row.id, self.owner, next_check_at=self._queue_tick(), note="")

    async def _defer_all(self, rows: list[ExecutionRow]) -> None:
        """`_defer` for many queued runs in one statement (they wait behind an older one)."""
        try:
            await self.store.release_many(
                [r.id for r in rows], self.owner, next_check_at=self._queue_tick(), note=""
            )
        except Exception:  # the leases lapse and the runs are looked at again
            logger.exception("could not put %d queued runs back; will retry", len(rows))

    async def _admit(self, row: ExecutionRow) -> None:
        """queued -> submitting when the instance, account and daily budgets allow it."""
        if await self._admissible(row) and await self._reserve_slot(row):
            await self._submit_admitted(row)

    async def _reserve_slot(self, row: ExecutionRow) -> bool:
        """queued -> submitting if every budget allows it; else back to the queue for a while."""
        instance = await self._instance(row.instance_id)
        now = self.clock()
        day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        admitted = await self.store.start_submission(
            row.id,
            self.owner,
            instance_pk=instance.id,
            account_pk=instance.account_pk,
            max_instance=self.config.max_active_per_instance,
            max_account=self.config.max_active_per_account,
            daily_quota=self.config.daily_adhoc_quota,
            day_start=day.timestamp(),
            now=now,
            collection_id=row.collection_id,
            max_collection=collection_slots(
                self.config.max_active_per_instance, self.config.collection_share
            ),
        )
        if not admitted:
            await self._defer(row)
        return admitted

    async def _submit_admitted(self, row: ExecutionRow) -> None:
        fresh = await self.store.get_execution(row.id)
        if fresh is not None and fresh.state == S.SUBMITTING:
            await self._submit(fresh)

    async def _submit(self, row: ExecutionRow) -> None:
        """Record the attempt, then create (adopting a previous attempt's execution)."""
        client, instance = await self._context(row)
        resume = row.attempts > 0
        if not await self.store.record_attempt(row.id, self.owner):
            return  # the lease was lost (a cancel, or this process was too slow): not ours
        try:
            execution = await client.create_execution(
                instance.ref(),
                _request(row),
                nonce=row.nonce,
                since=row.submit_started_at,
                resume=resume,
            )
        except QuotaExceededError as exc:
            await self.store.requeue(
                row.id,
                self.owner,
                next_check_at=self.clock() + self.config.scaled(60.0 * min(row.attempts + 1, 10)),
                note=f"re-queued: {exc.message}",
            )
            return
        except ValidationError as exc:
            await self._finish(
                row,
                S.FAILED,
                error=f"{REFUSED_TEXT}{exc.details}",
                failure_kind=FailureKind.REFUSED,
            )
            return
        await self._record_status(row, execution, submitted=True)

    def _next_poll(self, rows: Sequence[ExecutionRow]) -> float:
        """When the instance of `rows` (tracked runs) should be listed next: when the expected
        lag of the ends that listing would catch reaches the budget (engine/tracking.py); all
        of them go on it."""
        now = self.clock()
        runs = [(r.submitted_at or now, self.run_times.window(_key(r))) for r in rows]
        return next_poll(now, runs, self.policy)

    def _first_look(self, row: ExecutionRow) -> float:
        """A run just submitted is first looked at with its instance's next listing when one
        is planned within the blind ceiling (a listing covers every run of the instance), else
        when it may have ended."""
        now = self.clock()
        planned = self._planned.get(row.instance_id)
        if planned is not None and now < planned <= now + self.policy.blind:
            return planned
        return self._next_poll([row])

    async def _learn(self, instance_pk: str) -> None:
        """Read the instance's recent run times from the store now and then: every worker's
        finished runs count, not only those this process saw end."""
        now = self.clock()
        refresh = self.config.scaled(self.config.run_times_refresh)
        if now - self._run_times_read.get(instance_pk, -math.inf) < refresh:
            return
        self._run_times_read[instance_pk] = now
        samples: dict[Key, list[float]] = defaultdict(list)
        for past in reversed(await recent_run_times(self.store, [instance_pk])):
            key = (past.instance_pk, _run_key(past.adhoc, past.workflow_id, past.sql_hash))
            samples[key].append(past.seconds)
        self.run_times.replace(samples)

    async def _record_status(
        self,
        row: ExecutionRow,
        execution: Execution,
        *,
        submitted: bool = False,
        next_check_at: float | None = None,
    ) -> None:
        """Record AMC's status; a run still open is looked at again at `next_check_at`
        (default: when it is likely to have ended)."""
        state = AMC_TO_STATE.get(execution.status, S.RUNNING)
        if state == S.PENDING and row.state == S.RUNNING:
            state = S.RUNNING  # a status read out of order never moves a run back
        error = advice = None
        kind = None
        if state.terminal:
            outcome = execution.outcome_error()
            error = str(outcome) if outcome else None
            if state == S.FAILED:
                kind = FailureKind.FAILED
            elif state == S.REJECTED:
                advice = REJECTED_ADVICE
        if submitted:
            row = replace(row, submitted_at=self.clock())
        if state == S.DOWNLOADING:
            next_check_at = self.clock()
        elif next_check_at is None:
            next_check_at = self._first_look(row) if submitted else self._next_poll([row])
        recorded = await self.store.record_status(
            row.id,
            self.owner,
            state,
            amc_status=execution.status,
            amc_execution_id=execution.execution_id,
            submitted_at=row.submitted_at if submitted else None,
            next_check_at=next_check_at,
            error=error,
            advice=advice,
            failure_kind=kind,
        )
        if not recorded:
            return
        if execution.status != row.amc_status:
            logger.info("execution %s: AMC status %s, now %s", row.id, execution.status, state)
        if state == S.DOWNLOADING:
            self._ended[row.id] = execution
            while len(self._ended) > ENDED_KEPT:
                self._ended.popitem(last=False)
            self._hand_over(row.id, self.download_ready)
        finished = state == S.DOWNLOADING or state.terminal
        if finished:
            await self._slot_freed(row)
        if finished and execution.last_updated_time:
            ended = execution.last_updated_time.timestamp()
            if row.submitted_at is not None:
                self.run_times.observe(_key(row), ended - row.submitted_at)
            if self.on_amc_final:
                self.on_amc_final(ended, self.clock())

    async def _track(self, rows: list[ExecutionRow], token: object) -> None:
        """Read status per instance: one list call covers many executions, else one GET.
        Each instance's runs leave the pass `token` when their look ends, not when the slowest
        instance of the pass answers.

        An error that escapes (the store failing) drops this pass's leases before it is raised,
        so the runs are tracked again at once rather than after their leases lapse.
        """
        by_instance: dict[str, list[ExecutionRow]] = defaultdict(list)
        for row in rows:
            by_instance[row.instance_id].append(row)
        try:
            await _gather_all(
                *(self._track_instance(group, token) for group in by_instance.values())
            )
        except Exception:
            try:
                await self.store.release_many([r.id for r in rows], self.owner)
            except Exception:  # the leases lapse instead
                logger.warning("could not release %d tracked runs", len(rows), exc_info=True)
            raise

    async def _track_instance(self, rows: list[ExecutionRow], token: object) -> None:
        """One status look at an instance's due runs (one step: bounded by `limit_steps`)."""
        try:
            with bound(instance=rows[0].instance_id):
                async with self.slots.step():
                    await self._track_instance_step(rows)
        finally:
            self._settle(rows, token)
            self.looked.set()

    async def _track_instance_step(self, rows: list[ExecutionRow]) -> None:
        try:
            await self._learn(rows[0].instance_id)
            client, instance = await self._context(rows[0])
            if len(rows) == 1:
                seen = {
                    rows[0].amc_execution_id: await client.get_execution(
                        instance.ref(), _amc_id(rows[0])
                    )
                }
            else:
                seen = await self._list_since(client, instance.ref(), rows)
        except AmcError as exc:
            for row in rows:
                await self._retry(row, STATUS_FAILED, exc.message)
            return
        found: list[tuple[ExecutionRow, Execution]] = []
        for row in rows:
            execution = seen.get(row.amc_execution_id)
            if execution is None:  # older than the listing covered: ask for it directly
                try:
                    execution = await client.get_execution(instance.ref(), _amc_id(row))
                except AmcError as exc:
                    await self._retry(row, STATUS_FAILED, exc.message)
                    continue
            found.append((row, execution))
        # The instance's next poll: when the first of its runs still open may have ended.
        open_rows = [r for r, e in found if AMC_TO_STATE.get(e.status, S.RUNNING) in TRACKED]
        poll_at = self._next_poll(open_rows)
        self._planned[rows[0].instance_id] = poll_at
        unchanged: list[str] = []
        for row, execution in found:
            if execution.status == row.amc_status:
                unchanged.append(row.id)
            else:
                with bound(execution_id=row.id, user=row.user_id):
                    await self._record_status(row, execution, next_check_at=poll_at)
        # Runs still where they were, and the instance's other tracked runs due later: one
        # statement puts them all on the instance's next poll, covered by one listing.
        await release_aligned(
            self.store,
            unchanged,
            self.owner,
            instance_pk=rows[0].instance_id,
            next_check_at=poll_at,
            keep=self.config.lease_seconds if self.keep_leases else None,
            now=self.clock(),
        )

    async def _list_since(
        self, client: AmcClient, instance: InstanceRef, rows: list[ExecutionRow]
    ) -> dict[str | None, Execution]:
        oldest = min(r.submit_started_at or r.created_at for r in rows) - 600
        start = datetime.fromtimestamp(oldest, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        wanted = {r.amc_execution_id for r in rows}
        seen: dict[str | None, Execution] = {}
        async for page in client.iter_executions(
            instance, min_creation_time=start, include_cancelled=True
        ):
            seen.update({e.execution_id: e for e in page if e.execution_id in wanted})
            if wanted <= seen.keys():
                break
        return seen

    async def _download(self, row: ExecutionRow) -> None:
        """Fetch every result file, stream them into one Parquet file, record the lineage."""
        client, instance = await self._context(row)
        result = await collect_results(
            client,
            instance.ref(),
            row,
            self.results_dir,
            self.results,
            self.store,
            self.owner,
            ended=self._ended.pop(row.id, None),
        )
        await self.store.finish(
            row.id, self.owner, S.SUCCEEDED, amc_status="SUCCEEDED", result=result
        )
        await self._slot_freed(row)

    # --- requests from users --------------------------------------------------------------

    async def cancel(self, execution_id: str, *, by: str | None = None) -> ExecutionRow:
        """Cancel at AMC when submitted, locally when still queued; a run that already
        finished (or is downloading its result) is returned as it is. `by`: the acting user's
        e-mail (default: the creator), for the token choice and the audit."""
        row = await self.store.get_execution(execution_id)
        if row is None:
            raise KeyError(execution_id)
        if row.terminal or row.state == S.DOWNLOADING:
            return row
        if row.amc_execution_id:
            client, instance = await self._context(row, by)
            await client.cancel_execution(instance.ref(), row.amc_execution_id)
        try:
            await self.store.cancel(
                row.id, amc_status="CANCELLED" if row.amc_execution_id else None
            )
        except InvalidTransition:  # it finished meanwhile: its own outcome stands
            pass
        else:
            await self._slot_freed(row)
        fresh = await self.store.get_execution(execution_id)
        assert fresh is not None
        return fresh


def _run_key(adhoc: bool, workflow_id: str | None, sql_hash: str | None) -> str:
    """What makes runs comparable in time: the saved workflow, else the ad-hoc SQL."""
    return (workflow_id if not adhoc else sql_hash) or ""


def _key(row: ExecutionRow) -> Key:
    return (row.instance_id, _run_key(row.adhoc, row.workflow_id, row.sql_hash))


def _amc_id(row: ExecutionRow) -> str:
    """Tracked runs were submitted, so AMC's id is known (the store wrote it with the state)."""
    if row.amc_execution_id is None:
        raise StoreError(f"execution {row.id} is {row.state} without AMC's execution id")
    return row.amc_execution_id


def _request(row: ExecutionRow) -> ExecutionRequest:
    """The stored run as AMC's request (the one step, `jobs.amc_request`)."""
    return amc_request(
        sql=row.sql if row.adhoc else None,
        workflow_id=row.workflow_id,
        start=row.time_window_start,
        end=row.time_window_end,
        window_type=row.time_window_type,
        time_zone=row.time_zone,
        parameter_values=row.parameter_values,
        input_parameters=row.input_parameters,
        options=row.options,
    )
