"""Instance access in the application layer (what CLI `--as`, REST and the web share): who
sees which executions, who may cancel, whose token AMC calls use, and queued work of a
creator who lost access."""

from __future__ import annotations

import pytest

from amc_manager.service import runs
from amc_manager.service.access import (
    bootstrap_embedded,
    disconnect,
    grant,
    list_instances,
    revoke,
    sync_accounts,
)
from amc_manager.service.auth import add_token
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.executions import (
    find_execution,
    list_executions,
    show_execution,
    visible_ids,
)
from amc_manager.service.users import create_user, disable_user
from amc_manager.store import Access, ExecutionState, FailureKind
from tests.access.conftest import A, B, Site, queue

C = "c@example.com"


async def test_b_cannot_see_show_cancel_or_read_a_s_executions_until_granted(site: Site) -> None:
    rt, instance = site.runtime, site.instance
    done = await queue(rt, A, instance.instance_id)
    assert (await runs.follow_run(rt, done)).state == ExecutionState.SUCCEEDED
    still_open = await queue(rt, A, instance.instance_id)

    assert await list_executions(rt, B) == [] and await visible_ids(rt, B) == []
    assert await list_instances(rt, B) == []
    for ref in (done, done[:8], still_open, still_open[:6]):
        for attempt in (show_execution, find_execution, runs.cancel, runs.wait):
            with pytest.raises(NotFound, match="unknown execution"):
                await attempt(rt, B, ref)
    with pytest.raises(NotFound, match="unknown instance"):
        await list_executions(rt, B, instance=instance.instance_id)
    with pytest.raises(NotFound, match="unknown instance"):
        await queue(rt, B, instance.id)

    assert await grant(rt, instance.instance_id, B)
    assert not await grant(rt, instance.id, B)  # granted already
    assert {v.id for v in await list_executions(rt, B)} == {done, still_open}
    assert (await show_execution(rt, B, done[:8])).id == done
    assert (await find_execution(rt, B, done)).result_path is not None  # `amc results`
    [view] = [v for v in await list_instances(rt, B) if v.id == instance.id]
    assert view.access == Access.GRANTED
    with pytest.raises(NotPermitted, match="may cancel"):
        await runs.cancel(rt, B, still_open)

    assert await revoke(rt, instance.instance_id, B)
    assert not await revoke(rt, instance.instance_id, B)
    assert await list_executions(rt, B) == []
    with pytest.raises(NotFound):
        await show_execution(rt, B, done)
    assert (await runs.cancel(rt, A, still_open)).state == ExecutionState.CANCELLED


async def test_admins_see_everything_but_run_only_where_connected_or_granted(site: Site) -> None:
    rt, instance = site.runtime, site.instance
    await grant(rt, instance.instance_id, B)
    mine = await queue(rt, B, instance.instance_id)
    await create_user(rt, C, admin=True)
    seen = await list_instances(rt, C)
    assert seen and {v.access for v in seen} == {Access.ADMIN}
    assert [v.id for v in await list_executions(rt, C)] == [mine]
    assert (await show_execution(rt, C, mine[:7])).id == mine
    with pytest.raises(NotPermitted, match="may not run work"):
        await queue(rt, C, instance.instance_id)
    with pytest.raises(NotPermitted, match="not an admin"):
        await grant(rt, instance.instance_id, B, by=B)
    assert (await runs.cancel(rt, C, mine)).state == ExecutionState.CANCELLED  # admins may
    assert {v.access for v in await list_instances(rt, A)} == {Access.CONNECTED}


async def test_calls_use_the_actor_s_own_token_else_the_earliest_connection(site: Site) -> None:
    rt, instance = site.runtime, site.instance
    config = rt.sandbox_config
    assert config is not None
    await grant(rt, instance.instance_id, B)

    async def run_and_owners(email: str) -> set[str | None]:
        await rt.audit.flush()
        before = max((r["id"] for r in await rt.store.list_audit(limit=1)), default=0)
        execution = await queue(rt, email, instance.instance_id)
        assert (await runs.follow_run(rt, execution)).state == ExecutionState.SUCCEEDED
        await rt.audit.flush()
        rows = [r for r in await rt.store.list_audit(user=email, limit=500) if r["id"] > before]
        assert rows and {r["instance_id"] for r in rows} == {instance.instance_id}
        return {r["token_owner"] for r in rows}

    assert await run_and_owners(B) == {A}  # B has no token: A connected the account first
    await add_token(rt, C, config.refresh_token)  # C connects the same account with their own
    await sync_accounts(rt, C)
    assert await run_and_owners(C) == {C}
    assert await run_and_owners(B) == {A}  # A's connection is still the earliest
    assert await disconnect(rt, A) == 1  # `amc auth remove`
    assert await run_and_owners(B) == {C}
    await disable_user(rt, C)
    with pytest.raises(Exception, match="no stored token"):
        await queue(rt, B, instance.instance_id)
    involving = await rt.store.list_audit(involving=C, limit=500)
    assert {r["user_email"] for r in involving} == {B, C}


async def test_queued_work_of_a_creator_who_lost_access_ends_lost_access(site: Site) -> None:
    rt, instance = site.runtime, site.instance
    await grant(rt, instance.instance_id, B)
    revoked = await queue(rt, B, instance.instance_id)
    await create_user(rt, C)
    await grant(rt, instance.instance_id, C)
    disabled = await queue(rt, C, instance.instance_id)
    younger = await queue(rt, A, instance.instance_id)
    await revoke(rt, instance.instance_id, B)
    await disable_user(rt, C)

    await rt.engine().run_once()
    for execution_id, who in ((revoked, B), (disabled, C)):
        row = await rt.store.get_execution(execution_id)
        assert row is not None and row.state == ExecutionState.FAILED
        assert row.failure_kind == FailureKind.LOST_ACCESS
        assert row.error is not None and f"{who} lost access" in row.error
        assert row.amc_execution_id is None and row.attempts == 0
    admitted = await rt.store.get_execution(younger)
    assert admitted is not None and admitted.state != ExecutionState.QUEUED  # not held up
    view = await show_execution(rt, A, revoked)
    assert view.to_json()["failure_kind"] == "lost_access"


async def test_bootstrap_makes_the_local_user_an_admin_once(site: Site) -> None:
    rt = site.runtime
    await bootstrap_embedded(rt)
    row = await rt.store.get_user(email=A)
    assert row is not None and row.role == "admin"
    assert len(await rt.store.list_instances(None)) == len(await rt.store.list_instances(row.id))
