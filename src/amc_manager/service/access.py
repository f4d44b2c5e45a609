"""Users' AMC accounts and instances: discovery, manual registration, the embedded bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amc_manager.client import AccountRef, InstanceRef, Region, Secret
from amc_manager.config import DEFAULT_USER
from amc_manager.errors import UsageError
from amc_manager.service.runtime import Runtime
from amc_manager.store.rows import InstanceRow

NO_TOKEN_HINT = "run `amc auth login` or `amc auth add-token` first"


@dataclass(frozen=True)
class InstanceView:
    """An instance as front ends show it (contracts.md, REST objects)."""

    id: str
    instance_id: str
    name: str | None
    account_id: str
    marketplace_id: str
    region: str

    @classmethod
    def of(cls, row: InstanceRow) -> InstanceView:
        return cls(
            id=row.id,
            instance_id=row.instance_id,
            name=row.name,
            account_id=row.entity_id,
            marketplace_id=row.marketplace_id,
            region=row.region,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instance_id": self.instance_id,
            "name": self.name,
            "account_id": self.account_id,
            "marketplace_id": self.marketplace_id,
            "region": self.region,
        }


async def require_token(runtime: Runtime, email: str) -> None:
    """Calls to AMC need the user's stored Login with Amazon token."""
    if await runtime.store.token_row(email) is None:
        raise UsageError(f"no stored token for {email}", hint=NO_TOKEN_HINT)


async def sync_accounts(runtime: Runtime, email: str) -> list[InstanceRow]:
    """`GET /amc/accounts` and `GET /amc/instances` (all pages) into the store."""
    await require_token(runtime, email)
    client = await runtime.client(email)
    user_id = await runtime.store.ensure_user(email)
    client.invalidate_discovery()
    for account in await client.list_accounts():
        ref = account.ref(client.region)
        account_pk = await runtime.store.upsert_account(
            user_id, ref.account_id, ref.marketplace_id, ref.region.value, account.account_name
        )
        for instance in await client.list_instances(ref):
            endpoint = None if runtime.sandbox_mode else instance.api_endpoint
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
) -> InstanceView:
    """Register an instance by hand; the identity is validated before anything is stored."""
    ref = InstanceRef(instance_id, AccountRef(account_id, marketplace_id, Region(region.upper())))
    user_id = await runtime.store.ensure_user(email)
    account_pk = await runtime.store.upsert_account(
        user_id, ref.account.account_id, ref.account.marketplace_id, ref.region.value, None
    )
    pk = await runtime.store.upsert_instance(account_pk, ref.instance_id, name, None)
    return InstanceView.of(await runtime.store.instance_by_pk(pk))


async def bootstrap_embedded(runtime: Runtime) -> None:
    """First use of the embedded sandbox: its refresh token, account and instances for the
    local default user (other users bring their own tokens)."""
    config = runtime.sandbox_config
    if config is None:
        return
    user_id = await runtime.store.ensure_user(DEFAULT_USER)
    if await runtime.store.token_row(DEFAULT_USER) is None:
        await runtime.token_store().save_refresh_token(DEFAULT_USER, Secret(config.refresh_token))
    if not await runtime.store.list_instances(user_id):
        await sync_accounts(runtime, DEFAULT_USER)


async def list_instances(runtime: Runtime, email: str) -> list[InstanceView]:
    user_id = await runtime.store.ensure_user(email)
    return [InstanceView.of(r) for r in await runtime.store.list_instances(user_id)]


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


async def instance_or_first(runtime: Runtime, email: str, ref: str | None) -> InstanceRow:
    """The named instance, or the user's first one when none is named."""
    if ref:
        return await resolve_instance(runtime, email, ref)
    rows = await runtime.store.list_instances(await runtime.store.ensure_user(email))
    if not rows:
        raise UsageError(f"no instances for {email}", hint="run `amc accounts sync`")
    return rows[0]
