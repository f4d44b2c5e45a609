"""The store on SQLite and PostgreSQL: migrations, tokens, leases, budgets, states, timeline."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from amc_manager.client import Secret, TokenCipher
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.engine.tokens import DatabaseTokenStore
from amc_manager.errors import AmcManagerError
from amc_manager.store import (
    TERMINAL_STATES,
    TRANSITIONS,
    ExecutionRow,
    ExecutionState,
    FailureKind,
    InvalidTransition,
    Store,
    StoredResult,
    StoreError,
    database_url_for,
)
from amc_manager.store import schema as t
from amc_manager.store.rows import InstanceRow
from amc_manager.store.store import head_revision, require_sqlite
from amc_manager.store.tracking import next_due, release_aligned, wake_queued
from tests.engine.conftest import POSTGRES_URL
from tests.engine.live import fresh_postgres

S = ExecutionState


async def _instance(store: Store, email: str = "a@example.com") -> tuple[str, InstanceRow]:
    user_id = await store.ensure_user(email)
    account = await store.upsert_account(
        user_id, "ENTITYABC123456789", "ATVPDKIKX0DER", "NA", "Acct"
    )
    pk = await store.upsert_instance(account, "amcabcd1234", "One", None)
    return user_id, await store.instance_by_pk(pk)


async def _admit(
    store: Store,
    row: InstanceRow,
    execution_id: str,
    *,
    max_instance: int = 10,
    daily_quota: int = 0,
    day_start: float = 0.0,
    now: float,
) -> bool:
    return await store.start_submission(
        execution_id,
        "w",
        instance_pk=row.id,
        account_pk=row.account_pk,
        max_instance=max_instance,
        max_account=200,
        daily_quota=daily_quota,
        day_start=day_start,
        now=now,
    )


async def test_migrations_reach_head(store: Store) -> None:
    assert await store.schema_revision() == head_revision()
    await store.upgrade()  # idempotent
    assert await store.schema_revision() == head_revision()


async def test_tokens_are_ciphertext_only(store: Store) -> None:
    cipher = TokenCipher(TokenCipher.generate_key())
    tokens = DatabaseTokenStore(store, cipher, "client")
    await tokens.save_refresh_token("a@example.com", Secret("Atzr|very-secret"))
    assert await tokens.refresh_token("a@example.com") == Secret("Atzr|very-secret")
    async with store.begin() as conn:
        raw = (await conn.execute(sa.text("SELECT refresh_token FROM oauth_tokens"))).scalar_one()
    assert b"very-secret" not in bytes(raw)


async def test_instances_by_amc_id_or_internal_id(store: Store) -> None:
    user_id, row = await _instance(store)
    assert row.instance_id == "amcabcd1234"
    by_amc = await store.find_instance(user_id, "amcabcd1234")
    by_pk = await store.find_instance(user_id, row.id)
    assert by_amc == by_pk and by_amc is not None
    assert by_amc.ref().instance_id == "amcabcd1234"
    other = await store.ensure_user("b@example.com")
    assert await store.find_instance(other, "amcabcd1234") is None


async def test_leases_are_exclusive_and_expire(store: Store) -> None:
    user_id, row = await _instance(store)
    ids = [
        await enqueue(
            store,
            user_id,
            RunSpec(
                instance=row,
                sql="SELECT 1",
                start="2026-01-01T00:00:00",
                end="2026-01-02T00:00:00",
            ),
        )
        for _ in range(3)
    ]
    now = time.time()
    first = await store.claim("w1", now, 30, 10)
    second = await store.claim("w2", now, 30, 10)
    assert {r.id for r in first} == set(ids) and second == []
    assert not await store.finish(ids[0], "w2", ExecutionState.FAILED, error="not w2's")
    assert not await store.release(ids[0], "w2")
    later = await store.claim("w2", now + 31, 30, 10)
    assert {r.id for r in later} == set(ids)


async def test_admission_respects_limits_and_order(store: Store) -> None:
    user_id, row = await _instance(store)
    spec = RunSpec(
        instance=row,
        sql="SELECT 1",
        start="2026-01-01T00:00:00",
        end="2026-01-02T00:00:00",
    )
    ids = [await enqueue(store, user_id, spec) for _ in range(4)]
    now = time.time()
    await store.claim("w", now, 30, 10)
    admitted = []
    for execution_id in reversed(ids):  # try newest first: order must still win
        ok = await _admit(store, row, execution_id, max_instance=2, now=now)
        admitted.append(ok)
    assert admitted == [False, False, False, True]
    assert await _admit(store, row, ids[1], max_instance=2, now=now)
    assert not await _admit(store, row, ids[2], max_instance=2, now=now)


async def test_daily_quota_counts_adhoc_submissions(store: Store) -> None:
    user_id, row = await _instance(store)
    spec = RunSpec(
        instance=row,
        sql="SELECT 1",
        start="2026-01-01T00:00:00",
        end="2026-01-02T00:00:00",
    )
    ids = [await enqueue(store, user_id, spec) for _ in range(3)]
    now = time.time()
    await store.claim("w", now, 30, 10)
    results = []
    for execution_id in ids:
        ok = await _admit(store, row, execution_id, daily_quota=2, day_start=now - 10, now=now)
        results.append(ok)
    assert results == [True, True, False]


def test_states_are_the_contract_and_final_states_are_final() -> None:
    assert [s.value for s in ExecutionState] == [
        "queued",
        "submitting",
        "pending",
        "running",
        "downloading",
        "succeeded",
        "failed",
        "cancelled",
        "rejected",
    ]
    assert set(TRANSITIONS) == set(ExecutionState)
    assert all(not TRANSITIONS[s] for s in TERMINAL_STATES)
    assert issubclass(InvalidTransition, StoreError) and issubclass(StoreError, AmcManagerError)


async def _queued(store: Store) -> tuple[InstanceRow, str]:
    user_id, row = await _instance(store)
    spec = RunSpec(
        instance=row, sql="SELECT 1", start="2026-01-01T00:00:00", end="2026-01-02T00:00:00"
    )
    return row, await enqueue(store, user_id, spec)


async def _get(store: Store, execution_id: str) -> ExecutionRow:
    row = await store.get_execution(execution_id)
    assert row is not None
    return row


async def test_disallowed_transition_raises_and_writes_nothing(store: Store) -> None:
    _, execution_id = await _queued(store)
    await store.claim("w", time.time(), 30, 10)
    before = await _get(store, execution_id)
    with pytest.raises(InvalidTransition, match="from queued to succeeded"):
        await store.finish(execution_id, "w", S.SUCCEEDED, result=StoredResult(row_count=3))
    with pytest.raises(InvalidTransition, match="from queued to downloading"):
        await store.record_status(
            execution_id, "w", S.DOWNLOADING, amc_status="SUCCEEDED", next_check_at=0.0
        )
    assert await _get(store, execution_id) == before  # not a field changed, lease kept
    assert [e.state for e in await store.execution_events(execution_id)] == [S.QUEUED]

    assert await store.cancel(execution_id, amc_status=None)
    with pytest.raises(InvalidTransition, match="from cancelled to cancelled"):
        await store.cancel(execution_id, amc_status=None)
    cancelled = await _get(store, execution_id)
    assert cancelled.state == S.CANCELLED and cancelled.lease_owner is None
    assert [e.state for e in await store.execution_events(execution_id)] == [
        S.QUEUED,
        S.CANCELLED,
    ]


async def test_timeline_from_queued_to_succeeded(store: Store) -> None:
    now = [1_000.0]
    store.clock = lambda: now[0]
    instance, execution_id = await _queued(store)

    async def step(at: float) -> None:
        now[0] = at
        assert await store.claim("w", at, 30, 10, ids=[execution_id])

    await step(1_001.0)
    assert await store.start_submission(
        execution_id,
        "w",
        instance_pk=instance.id,
        account_pk=instance.account_pk,
        max_instance=10,
        max_account=200,
        daily_quota=0,
        day_start=0.0,
        now=now[0],
    )
    assert await store.record_attempt(execution_id, "w")
    now[0] = 1_002.0
    await store.record_status(
        execution_id,
        "w",
        S.PENDING,
        amc_status="PENDING",
        amc_execution_id="amc-1",
        submitted_at=now[0],
        next_check_at=0.0,
    )
    for at, state, status in (
        (1_003.0, S.RUNNING, "RUNNING"),
        (1_004.0, S.RUNNING, "PUBLISHING"),
        (1_005.0, S.RUNNING, "PUBLISHING"),  # nothing changed: no event
        (1_006.0, S.DOWNLOADING, "SUCCEEDED"),
    ):
        await step(at)
        assert await store.record_status(
            execution_id, "w", state, amc_status=status, next_check_at=0.0
        )
    await step(1_007.0)
    assert await store.finish(
        execution_id,
        "w",
        S.SUCCEEDED,
        amc_status="SUCCEEDED",
        result=StoredResult(row_count=3, path="/r.parquet", checksum="c"),
    )

    events = await store.execution_events(execution_id)
    assert [(e.state, e.amc_status, e.at) for e in events] == [
        (S.QUEUED, None, 1_000.0),
        (S.SUBMITTING, None, 1_001.0),
        (S.PENDING, "PENDING", 1_002.0),
        (S.RUNNING, "RUNNING", 1_003.0),
        (S.RUNNING, "PUBLISHING", 1_004.0),
        (S.DOWNLOADING, "SUCCEEDED", 1_006.0),
        (S.SUCCEEDED, "SUCCEEDED", 1_007.0),
    ]
    row = await _get(store, execution_id)
    assert row.state == S.SUCCEEDED and row.terminal
    assert (row.created_at, row.submitted_at, row.finished_at) == (1_000.0, 1_002.0, 1_007.0)
    assert (row.row_count, row.result_path, row.attempts) == (3, "/r.parquet", 1)
    assert row.amc_execution_id == "amc-1" and row.lease_owner is None


async def test_requeue_and_refusal_are_recorded(store: Store) -> None:
    instance, execution_id = await _queued(store)

    async def admit() -> None:
        await store.claim("w", time.time() + 100, 30, 10, ids=[execution_id])
        assert await store.start_submission(
            execution_id,
            "w",
            instance_pk=instance.id,
            account_pk=instance.account_pk,
            max_instance=10,
            max_account=200,
            daily_quota=0,
            day_start=0.0,
            now=time.time(),
        )

    await admit()
    assert await store.requeue(execution_id, "w", next_check_at=0.0, note="re-queued: quota")
    requeued = await _get(store, execution_id)
    assert requeued.state == S.QUEUED and requeued.submit_started_at is None
    await admit()
    refusal = "AMC refused the request: no such table"
    assert await store.finish(
        execution_id, "w", S.FAILED, error=refusal, failure_kind=FailureKind.REFUSED
    )
    row = await _get(store, execution_id)
    assert row.failure_kind == FailureKind.REFUSED and row.error == refusal
    events = await store.execution_events(execution_id)
    assert [(e.state, e.note) for e in events] == [
        (S.QUEUED, None),
        (S.SUBMITTING, None),
        (S.QUEUED, "re-queued: quota"),
        (S.SUBMITTING, None),
        (S.FAILED, refusal),
    ]


async def test_release_hands_the_run_over(store: Store) -> None:
    _, execution_id = await _queued(store)
    now = time.time()
    assert await store.claim("w1", now, 30, 10)
    assert await store.claim("w2", now, 30, 10) == []
    assert await store.release(execution_id, "w1", note="detached")
    assert not await store.release(execution_id, "w1")
    assert [r.id for r in await store.claim("w2", now, 30, 10)] == [execution_id]
    assert await store.release_owned("w2") == 1
    row = await _get(store, execution_id)
    assert row.lease_owner is None and row.error == "detached"
    assert await store.execution_ids(prefix=execution_id[:6]) == [execution_id]


def test_an_sqlite_too_old_for_returning_is_refused_in_one_line() -> None:
    with pytest.raises(StoreError, match=r"needs SQLite 3\.35 or newer; this Python has 3\.31\.1"):
        require_sqlite((3, 31, 1), "3.31.1", (3, 35))
    require_sqlite((3, 40, 1), "3.40.1", (3, 35))  # new enough: nothing to say


B = time.time() + 10_000.0  # the tracking tests' time origin


async def _tracked(store: Store, count: int) -> tuple[InstanceRow, list[str]]:
    """`count` runs of one instance submitted to AMC (pending), nobody holding them; times
    from `B`, later than the queue's own."""
    user_id, instance = await _instance(store)
    spec = RunSpec(
        instance=instance, sql="SELECT 1", start="2026-01-01T00:00:00", end="2026-01-02T00:00:00"
    )
    ids = [await enqueue(store, user_id, spec) for _ in range(count)]
    for n, execution_id in enumerate(ids):
        assert await store.claim("w", B + 100, 30, 10, ids=[execution_id])
        assert await _admit(store, instance, execution_id, now=B + 100)
        assert await store.record_status(
            execution_id,
            "w",
            S.PENDING,
            amc_status="PENDING",
            amc_execution_id=f"amc-{n}",
            submitted_at=B + 100,
            next_check_at=B + 200 + n,
        )
    return instance, ids


async def test_a_worker_keeps_what_it_tracks_between_looks(store: Store) -> None:
    """After a look, `keep` leaves the instance's runs leased to the worker that looked (the
    ones nobody held too) until `keep` after its next look: it alone wakes for them and
    claims them then; another worker takes them only once that lease lapses."""
    tracked = [s.value for s in (S.PENDING, S.RUNNING)]
    instance, ids = await _tracked(store, 3)
    looked = await store.claim("w1", B + 201, 30, 10, held=True)
    assert sorted(r.id for r in looked) == sorted(ids[:2])  # the third is due at 202
    assert (
        await release_aligned(
            store, ids[:2], "w1", instance_pk=instance.id, next_check_at=B + 260, keep=30.0
        )
        == 3
    )
    rows = [await _get(store, i) for i in ids]
    assert {(r.lease_owner, r.lease_expires_at, r.next_check_at) for r in rows[:2]} == {
        ("w1", B + 290, B + 260)
    }
    assert (rows[2].lease_owner, rows[2].next_check_at) == ("w1", B + 202)  # never later
    assert await next_due(store, tracked, B + 201, owner="w2") is None
    assert await next_due(store, tracked, B + 201, owner="w1") == B + 202
    assert await store.claim("w2", B + 265, 30, 10, held=True) == []
    assert await store.claim("w1", B + 201.5, 30, 10, held=True) == []  # not due yet
    again = await store.claim("w1", B + 265, 30, 10, held=True)
    assert sorted(r.id for r in again) == sorted(ids)
    # Without `held`, a kept lease is not taken, even by its owner (a one-off follower).
    assert (
        await release_aligned(
            store, ids, "w1", instance_pk=instance.id, next_check_at=B + 300, keep=30.0
        )
        == 3
    )
    assert await store.claim("w1", B + 310, 30, 10) == []
    # w1 died: its leases lapse 30 s after the look it planned, and w2 carries on.
    assert await store.claim("w2", B + 329, 30, 10, held=True) == []
    assert sorted(r.id for r in await store.claim("w2", B + 331, 30, 10, held=True)) == sorted(ids)


async def test_runs_in_flight_are_neither_claimed_nor_due_for_their_worker(store: Store) -> None:
    """A worker running passes side by side leaves its runs in flight (`skip`, `busy`) out of
    its claims and of when it wakes next, though it keeps them leased."""
    tracked = [s.value for s in (S.PENDING, S.RUNNING)]
    instance, ids = await _tracked(store, 3)
    assert len(await store.claim("w1", B + 203, 30, 10, held=True)) == 3
    in_flight = set(ids[:2])
    assert await next_due(store, tracked, B + 203, owner="w1") == B + 200
    assert await next_due(store, tracked, B + 203, owner="w1", busy=in_flight) == B + 202
    again = await store.claim("w1", B + 203, 30, 10, held=True, skip=in_flight)
    assert [r.id for r in again] == [ids[2]]
    assert await next_due(store, tracked, B + 203, owner="w1", busy=set(ids)) is None


async def test_each_freed_slot_wakes_the_next_queued_run_of_each_lane(store: Store) -> None:
    """Five queued runs wait for a slot: three outside collections (the oldest held by a
    worker), two of a collection. A slot freed makes the oldest waiting run of each lane that
    nobody holds due, and no other; a second slot freed before those are claimed wakes the
    next of each lane (two slots, two runs), and then there is none left to wake."""
    user_id, instance = await _instance(store)
    spec = RunSpec(
        instance=instance, sql="SELECT 1", start="2026-01-01T00:00:00", end="2026-01-02T00:00:00"
    )
    ids = [await enqueue(store, user_id, spec) for _ in range(5)]
    c = t.workflow_executions.c
    async with store.begin() as conn:
        for n, execution_id in enumerate(ids):  # created in order, all put off to B + 500
            lane = "col-1" if n >= 3 else None
            values = {"created_at": B + n, "next_check_at": B + 500, "collection_id": lane}
            await conn.execute(
                t.workflow_executions.update().where(c.id == execution_id).values(**values)
            )
    assert [r.id for r in await store.claim("w", B + 600, 30, 1)] == [ids[0]]  # the oldest
    await store.release(ids[0], "w", next_check_at=B + 500)
    assert await store.claim("w", B + 600, 30, 1, ids=[ids[0]])  # held again, not due

    async def due() -> list[float]:
        return [(await _get(store, i)).next_check_at for i in ids]

    assert await wake_queued(store, instance.id, B + 10) == 2
    assert await due() == [B + 500, B + 10, B + 500, B + 10, B + 500]
    assert await wake_queued(store, instance.id, B + 11) == 2
    assert await due() == [B + 500, B + 10, B + 11, B + 10, B + 11]
    assert await wake_queued(store, instance.id, B + 12) == 0


async def test_without_keep_a_look_releases_and_aligns(store: Store) -> None:
    instance, ids = await _tracked(store, 3)
    assert len(await store.claim("w1", B + 201, 30, 10)) == 2
    assert (
        await release_aligned(store, ids[:1], "w1", instance_pk=instance.id, next_check_at=B + 260)
        == 1
    )  # the third (nobody's, due at 202) stays; the second is still w1's step
    rows = [await _get(store, i) for i in ids]
    assert [(r.lease_owner, r.next_check_at) for r in rows] == [
        (None, B + 260),
        ("w1", B + 201),
        (None, B + 202),
    ]
    assert await next_due(store, [S.PENDING.value], B + 205) == B + 202


async def test_token_owner_is_reused_briefly_and_dropped_by_this_store_changes(
    store: Store,
) -> None:
    """The engine asks whose token to use before every AMC call: the answer is kept for
    `owner_ttl` real seconds. Another process's change (a second Store on the same database)
    counts once that lapses; this store's own change counts at once."""
    _, instance = await _instance(store)
    account = instance.account_pk
    await store.save_tokens("a@example.com", "client", refresh_token=b"x")
    assert await store.token_owner(account) == "a@example.com"
    async with Store(store.url) as other:
        await other.disconnect(await store.ensure_user("a@example.com"))
    assert await store.token_owner(account) == "a@example.com"  # kept
    store.owner_ttl = 0.0
    assert await store.token_owner(account) is None  # lapsed: read again
    store.owner_ttl = 60.0
    b_id = await store.ensure_user("b@example.com")
    await store.save_tokens("b@example.com", "client", refresh_token=b"y")
    await store.connect(b_id, account)
    assert await store.token_owner(account) == "b@example.com"  # this store's change
    await store.update_user(b_id, disabled=True)
    assert await store.token_owner(account) is None


async def test_a_look_takes_over_the_instance_runs_another_worker_keeps_waiting(
    store: Store,
) -> None:
    """Two workers that each hold some runs of one instance would both list it: the one that
    looks takes the other's runs that wait for a later look, never one being stepped (due)."""
    instance, ids = await _tracked(store, 3)
    assert len(await store.claim("w1", B + 201, 30, 10, held=True, ids=ids[:2])) == 2
    assert len(await store.claim("w2", B + 202, 30, 10, held=True, ids=ids[2:])) == 1
    # w2 keeps its run for a look at 250; w1 then looks at its two and plans one at 230.
    await release_aligned(
        store, ids[2:], "w2", instance_pk=instance.id, next_check_at=B + 250, keep=30, now=B + 203
    )
    moved = await release_aligned(
        store, ids[:2], "w1", instance_pk=instance.id, next_check_at=B + 230, keep=30, now=B + 204
    )
    assert moved == 3
    rows = [await _get(store, i) for i in ids]
    assert {(r.lease_owner, r.next_check_at) for r in rows} == {("w1", B + 230)}
    assert await next_due(store, [S.PENDING.value], B + 204, owner="w2") is None
    # A run w2 is stepping (due, claimed) stays w2's.
    assert len(await store.claim("w2", B + 231, 30, 10, held=True)) == 0  # w1's now
    assert len(await store.claim("w1", B + 231, 30, 10, held=True, ids=ids[:1])) == 1
    await release_aligned(
        store, [], "w2", instance_pk=instance.id, next_check_at=B + 240, keep=30, now=B + 232
    )
    row = await _get(store, ids[0])
    assert (row.lease_owner, row.next_check_at) == ("w1", B + 230)  # in w1's step: untouched


async def test_a_look_never_puts_the_worker_other_kept_runs_later(store: Store) -> None:
    """A look whose runs all ended plans the instance's next look far off (nothing of its
    own is open): the worker's other kept runs of the instance keep their earlier time."""
    instance, ids = await _tracked(store, 2)
    assert len(await store.claim("w1", B + 201, 30, 10, held=True)) == 2
    for execution_id, at, now in ((ids[0], 220, 202), (ids[1], 260, 203)):
        await release_aligned(
            store,
            [execution_id],
            "w1",
            instance_pk=instance.id,
            next_check_at=B + at,
            keep=30,
            now=B + now,
        )
    assert [(await _get(store, i)).next_check_at for i in ids] == [B + 220, B + 260]
    assert len(await store.claim("w1", B + 221, 30, 10, held=True)) == 1  # ids[0] ends
    await release_aligned(
        store, [], "w1", instance_pk=instance.id, next_check_at=B + 521, keep=30, now=B + 222
    )
    row = await _get(store, ids[1])
    assert (row.lease_owner, row.next_check_at) == ("w1", B + 260)
    assert await next_due(store, [S.PENDING.value], B + 222, owner="w1") == B + 220


@pytest.mark.skipif(not POSTGRES_URL, reason="AMC_TEST_POSTGRES_URL is not set")
async def test_a_pooled_connection_that_died_while_idle_is_replaced_before_use(
    tmp_path: Path,
) -> None:
    """The server ends a pooled connection while it sits idle (a restart, a proxy's idle
    cut): the next transaction pings it on checkout and runs on a new one, without an error."""
    import asyncpg  # type: ignore[import-untyped]

    assert POSTGRES_URL is not None
    async with Store(database_url_for(await fresh_postgres(), tmp_path)) as store:
        store.ping_after_idle = 0.0  # every checkout counts as after a long idle
        async with store.begin() as conn:
            pid = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        admin = await asyncpg.connect(POSTGRES_URL)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        async with store.begin() as conn:
            again = (await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        assert again != pid
