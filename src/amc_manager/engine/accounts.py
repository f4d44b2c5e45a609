"""Users' AMC accounts and instances: discovery, manual registration, embedded bootstrap."""

from __future__ import annotations

from amc_manager.client import AccountRef, InstanceRef, Secret
from amc_manager.client.identity import Region
from amc_manager.engine.runtime import Runtime
from amc_manager.errors import UsageError
from amc_manager.store.rows import InstanceRow


async def sync_accounts(runtime: Runtime, email: str) -> list[InstanceRow]:
    """`GET /amc/accounts` and `GET /amc/instances` (all pages) into the store."""
    client = await runtime.client(email)
    user_id = await runtime.store.ensure_user(email)
    client.invalidate_discovery()
    for account in await client.list_accounts():
        ref = AccountRef(account.account_id, account.marketplace_id, Region.NA)
        account_pk = await runtime.store.upsert_account(
            user_id, ref.account_id, ref.marketplace_id, ref.region.value, account.account_name
        )
        for instance in await client.list_instances(ref):
            endpoint = None if runtime.embedded is not None else instance.api_endpoint
            await runtime.store.upsert_instance(
                account_pk, instance.instance_id, instance.instance_name, endpoint
            )
    return await runtime.store.list_instances(user_id)


async def add_instance(
    runtime: Runtime,
    email: str,
    *,
    instance_id: str,
    account_id: str,
    marketplace_id: str,
    region: str,
    name: str | None,
) -> InstanceRow:
    """Register an instance by hand; the identity is validated before anything is stored."""
    ref = InstanceRef(instance_id, AccountRef(account_id, marketplace_id, Region(region)))
    user_id = await runtime.store.ensure_user(email)
    account_pk = await runtime.store.upsert_account(
        user_id, ref.account.account_id, ref.account.marketplace_id, ref.region.value, None
    )
    pk = await runtime.store.upsert_instance(account_pk, ref.instance_id, name, None)
    return await runtime.store.instance_by_pk(pk)


async def bootstrap_embedded(runtime: Runtime, email: str) -> None:
    """First use of the embedded sandbox: its refresh token, account and instances for `email`."""
    if runtime.embedded is None or runtime.sandbox_config is None:
        return
    user_id = await runtime.store.ensure_user(email)
    if await runtime.store.token_row(email) is None:
        await runtime.token_store().save_refresh_token(
            email, Secret(runtime.sandbox_config.refresh_token)
        )
    if not await runtime.store.list_instances(user_id):
        await sync_accounts(runtime, email)


async def resolve_instance(runtime: Runtime, email: str, ref: str) -> InstanceRow:
    """`--instance` takes the AMC instance id or our internal id."""
    user_id = await runtime.store.ensure_user(email)
    found = await runtime.store.find_instance(user_id, ref)
    if found is None:
        raise UsageError(
            f"unknown instance {ref!r} for {email}",
            hint="run `amc accounts sync` or `amc instances add`, then `amc instances list`",
        )
    return found
