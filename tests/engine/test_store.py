"""The store on SQLite and PostgreSQL: migrations, tokens, instances, leases, budgets."""

from __future__ import annotations

import time

import sqlalchemy as sa

from amc_manager.client import Secret, TokenCipher
from amc_manager.engine.jobs import RunSpec, enqueue
from amc_manager.engine.tokens import DatabaseTokenStore
from amc_manager.store import Store
from amc_manager.store.rows import InstanceRow
from amc_manager.store.store import start_submission


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
    return await start_submission(
        store,
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
    assert await store.schema_revision() == "0001"
    await store.upgrade()  # idempotent
    assert await store.schema_revision() == "0001"


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
    assert not await store.update_execution(ids[0], "w2", state="failed")
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
