"""Migration 0003 on SQLite and PostgreSQL: a store at 0002 where two users registered the
same AMC account and instance becomes one account and one instance row, with executions and
saved workflows re-pointed and both users connected."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from amc_manager.store import Access, Store, database_url_for
from amc_manager.store.store import MIGRATIONS, head_revision

ENTITY, MARKET = "ENTITYDUPLICATE01", "ATVPDKIKX0DER"


def _upgrade_to(connection: sa.Connection, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _old_shape(connection: sa.Connection) -> None:
    """Users u1 (older) and u2 each with their own copy of one account and its instance
    `amcdup00001`; u2 also has `amcsolo0001`; executions and workflows on both copies."""
    run = connection.execute
    for user, at in (("u1", 100.0), ("u2", 200.0)):
        run(
            sa.text(
                f"INSERT INTO users (id, email, created_at) VALUES ('{user}', '{user}@x', {at})"
            )
        )
    for account, user in (("a2", "u2"), ("a1", "u1")):
        run(
            sa.text(
                "INSERT INTO amc_accounts (id, user_id, entity_id, marketplace_id, region, name) "
                f"VALUES ('{account}', '{user}', '{ENTITY}', '{MARKET}', 'NA', 'Brand')"
            )
        )
    for pk, account, amc_id in (
        ("i2", "a2", "amcdup00001"),
        ("i1", "a1", "amcdup00001"),
        ("i3", "a2", "amcsolo0001"),
    ):
        run(
            sa.text(
                "INSERT INTO amc_instances (id, account_id, instance_id, name) "
                f"VALUES ('{pk}', '{account}', '{amc_id}', 'n')"
            )
        )
    empty = json.dumps([])
    for execution, user, instance in (("e1", "u1", "i1"), ("e2", "u2", "i2"), ("e3", "u2", "i3")):
        run(
            sa.text(
                "INSERT INTO workflow_executions (id, user_id, instance_id, state, adhoc, "
                "input_parameters, parameter_values, time_window_type, time_zone, options, "
                "nonce, next_check_at, attempts, created_at, updated_at) VALUES "
                f"('{execution}', '{user}', '{instance}', 'succeeded', true, '{empty}', '{{}}', "
                "'EXPLICIT', 'UTC', '{}', 'n', 0, 0, 1, 1)"
            )
        )
    for workflow, instance, sql, at in (
        ("w1", "i1", "SELECT 'older'", 1.0),
        ("w2", "i2", "SELECT 'newer'", 2.0),
        ("w3", "i1", "SELECT 'only'", 1.0),
    ):
        name = "only" if workflow == "w3" else "shared"
        run(
            sa.text(
                "INSERT INTO workflows (id, instance_id, workflow_id, sql, sql_hash, "
                "input_parameters, created_at, updated_at) VALUES "
                f"('{workflow}', '{instance}', '{name}', :sql, 'h', '{empty}', {at}, {at})"
            ),
            {"sql": sql},
        )
    run(
        sa.text(
            "INSERT INTO audit_log (at, user_email, instance_id, operation, kind, method, path, "
            "attempt, duration) VALUES (1, 'u1@x', 'amcdup00001', 'op', 'api', 'GET', '/', 1, 0)"
        )
    )


async def test_duplicates_merge_into_one_row_per_amc_id(database_url: str, tmp_path: Path) -> None:
    url = database_url_for(database_url, tmp_path)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_to, "0002")
        await conn.run_sync(_old_shape)
    await engine.dispose()

    async with Store(url) as store:
        assert await store.schema_revision() == head_revision()
        async with store.begin() as conn:
            accounts = (await conn.execute(sa.text("SELECT id FROM amc_accounts"))).all()
            instances: dict[str, str] = dict(
                (await conn.execute(sa.text("SELECT instance_id, id FROM amc_instances"))).all()
            )
            pointed: dict[str, str] = dict(
                (
                    await conn.execute(sa.text("SELECT id, instance_id FROM workflow_executions"))
                ).all()
            )
            kept = (
                await conn.execute(
                    sa.text("SELECT instance_id, workflow_id, sql FROM workflows ORDER BY 2")
                )
            ).all()
            owner = (await conn.execute(sa.text("SELECT token_owner FROM audit_log"))).scalar()
        assert [a[0] for a in accounts] == ["a1"]  # the smallest id of the group stays
        assert instances == {"amcdup00001": "i1", "amcsolo0001": "i3"}
        assert pointed == {"e1": "i1", "e2": "i1", "e3": "i3"}
        assert [tuple(r) for r in kept] == [
            ("i1", "only", "SELECT 'only'"),
            ("i1", "shared", "SELECT 'newer'"),
        ]
        assert owner == "u1@x"
        for user in ("u1", "u2"):
            assert {r.instance_id for r in await store.list_instances(user)} == set(instances)
            assert set((await store.instance_access(user)).values()) == {Access.CONNECTED}
        # the earliest connection is the user who came first; nobody has a token yet
        assert await store.token_owner("a1") is None
        async with store.begin() as conn:
            order = (
                await conn.execute(sa.text("SELECT user_id FROM connections ORDER BY created_at"))
            ).all()
        assert [r[0] for r in order] == ["u1", "u2"]
        again = await store.upsert_account(None, ENTITY, MARKET, "NA", None)
        assert again == "a1"
