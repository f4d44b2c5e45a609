"""Who acts, which AMC instances they may use, and whose token each AMC call uses; the
instances themselves (discovery, manual registration, the embedded bootstrap) and grants.

The rules (contracts.md, "Users, access and the service"), enforced here for every front end:
- a user may use the instances of the accounts they connected (their own Amazon token reached
  them: `accounts sync`, `instances add`) and the instances an admin granted them;
- admins see every instance, execution and audit row, but run work only where they connected
  or were granted, like anyone;
- everything else does not exist for that user (`NotFound`, REST's 404);
- a call to AMC for an instance uses the acting user's own token when they connected its
  account, else the token of the earliest connection still valid (`client_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amc_manager.client import AccountRef, AmcClient, InstanceRef, Region, Secret
from amc_manager.config import DEFAULT_USER
from amc_manager.errors import UsageError
from amc_manager.service.errors import NotFound, NotPermitted
from amc_manager.service.runtime import Runtime
from amc_manager.store.rows import Access, InstanceRow, Role, UserRow

NO_TOKEN_HINT = "run `amc auth login` or `amc auth add-token` first"
UNKNOWN_INSTANCE_HINT = "run `amc accounts sync` or `amc instances add`, then `amc instances list`"


@dataclass(frozen=True)
class Actor:
    """The user a request acts for (CLI `--as`, an API token, a web session)."""

    id: str
    email: str
    role: Role
    session_epoch: int

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @classmethod
    def of(cls, row: UserRow) -> Actor:
        return cls(id=row.id, email=row.email, role=row.role, session_epoch=row.session_epoch)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "role": self.role.value}


@dataclass(frozen=True)
class InstanceView:
    """An instance as front ends show it (contracts.md, REST objects), with why the user sees
    it: `connected`, `granted` or `admin`."""

    id: str
    instance_id: str
    name: str | None
    account_id: str
    marketplace_id: str
    region: str
    access: Access

    @classmethod
    def of(cls, row: InstanceRow, access: Access) -> InstanceView:
        return cls(
            id=row.id,
            instance_id=row.instance_id,
            name=row.name,
            account_id=row.entity_id,
            marketplace_id=row.marketplace_id,
            region=row.region,
            access=access,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instance_id": self.instance_id,
            "name": self.name,
            "account_id": self.account_id,
            "marketplace_id": self.marketplace_id,
            "region": self.region,
            "access": self.access.value,
        }


# --- who acts ---------------------------------------------------------------------------------


async def actor(runtime: Runtime, email: str, *, create: bool = True) -> Actor:
    """The user `email` acts as. The CLI is the operator's tool, so a new e-mail becomes a
    member (`create`); sandbox mode's local default user is an admin; a disabled user may not
    act at all."""
    store = runtime.store
    row = await store.get_user(email=email)
    if row is None:
        if not create:
            raise NotFound(f"unknown user {email}", hint="see `amc users list`")
        await store.ensure_user(email)
        row = await store.get_user(email=email)
        assert row is not None
    if runtime.sandbox_mode and email == DEFAULT_USER and row.role != Role.ADMIN:
        await store.update_user(row.id, role=Role.ADMIN)
        row = await store.get_user(user_id=row.id)
        assert row is not None
    if row.disabled:
        raise NotPermitted(
            f"user {email} is disabled", hint="an admin can enable them: `amc users enable`"
        )
    return Actor.of(row)


async def user_by_ref(runtime: Runtime, ref: str) -> UserRow:
    """A user by internal id or e-mail (whatever their state)."""
    row = await runtime.store.get_user(user_id=ref) or await runtime.store.get_user(email=ref)
    if row is None:
        raise NotFound(f"unknown user {ref}", hint="see `amc users list`")
    return row


async def require_admin(runtime: Runtime, by: str | None) -> Actor | None:
    """Admin-only tasks: `by` None is the operator at the CLI (trusted with the store);
    anyone else must be an admin."""
    if by is None:
        return None
    me = await actor(runtime, by, create=False)
    if not me.is_admin:
        raise NotPermitted(f"{by} is not an admin", hint="ask an admin")
    return me


# --- instances ------------------------------------------------------------------------------


async def list_instances(runtime: Runtime, email: str) -> list[InstanceView]:
    """The instances the user may use; for an admin every instance (`access` says why)."""
    me = await actor(runtime, email)
    access = await runtime.store.instance_access(me.id)
    rows = await runtime.store.list_instances(None if me.is_admin else me.id)
    return [InstanceView.of(r, access.get(r.id, Access.ADMIN)) for r in rows]


async def show_instance(runtime: Runtime, email: str, ref: str) -> InstanceView:
    """One instance the user sees, by AMC instance id or internal id."""
    me = await actor(runtime, email)
    row = await _find(runtime, me, ref)
    access = (await runtime.store.instance_access(me.id)).get(row.id, Access.ADMIN)
    return InstanceView.of(row, access)


async def _find(runtime: Runtime, me: Actor, ref: str) -> InstanceRow:
    found = await runtime.store.find_instance(None if me.is_admin else me.id, ref)
    if found is None:
        raise NotFound(f"unknown instance {ref!r} for {me.email}", hint=UNKNOWN_INSTANCE_HINT)
    return found


async def resolve_instance(
    runtime: Runtime, email: str, ref: str, *, to_run: bool = True
) -> InstanceRow:
    """`--instance` takes the AMC instance id or our internal id. `to_run`: the user will
    call AMC for it (connected or granted); else seeing it is enough (admins see all)."""
    me = await actor(runtime, email)
    row = await _find(runtime, me, ref)
    if to_run and me.is_admin and not await runtime.store.may_use(me.id, row.id):
        raise NotPermitted(
            f"{email} sees instance {row.instance_id} as an admin but may not run work on it",
            hint=f"connect its account, or grant it: `amc instances grant {row.instance_id} "
            f"{email}`",
        )
    return row


async def instance_or_first(runtime: Runtime, email: str, ref: str | None) -> InstanceRow:
    """The named instance, or the first one the user may use when none is named."""
    if ref:
        return await resolve_instance(runtime, email, ref)
    rows = await runtime.store.list_instances((await actor(runtime, email)).id)
    if not rows:
        raise NotFound(f"no instances for {email}", hint="run `amc accounts sync`")
    return rows[0]


# --- whose token ----------------------------------------------------------------------------


async def client_for(runtime: Runtime, email: str, instance: InstanceRow) -> AmcClient:
    """The client for `email`'s calls about `instance`: with their own token when they
    connected its account, else with the earliest connection still valid; both users are
    audited."""
    owner = await runtime.store.token_owner(instance.account_pk, prefer=email)
    if owner is None:
        raise UsageError(
            f"no stored token reaches instance {instance.instance_id} (for {email})",
            hint=NO_TOKEN_HINT,
        )
    return await runtime.client(owner, email)


async def require_token(runtime: Runtime, email: str) -> None:
    """Discovery needs the user's own stored Login with Amazon token."""
    if await runtime.store.token_row(email) is None:
        raise UsageError(f"no stored token for {email}", hint=NO_TOKEN_HINT)


# --- connecting accounts --------------------------------------------------------------------


async def sync_accounts(runtime: Runtime, email: str) -> list[InstanceRow]:
    """`GET /amc/accounts` and `GET /amc/instances` (all pages) with the user's own token into
    the store; the user is connected to every account found."""
    await require_token(runtime, email)
    me = await actor(runtime, email)
    client = await runtime.client(email)
    client.invalidate_discovery()
    for account in await client.list_accounts():
        ref = account.ref(client.region)
        account_pk = await runtime.store.upsert_account(
            me.id, ref.account_id, ref.marketplace_id, ref.region.value, account.account_name
        )
        for instance in await client.list_instances(ref):
            endpoint = None if runtime.sandbox_mode else instance.api_endpoint
            await runtime.store.upsert_instance(
                account_pk, instance.instance_id, instance.instance_name, endpoint
            )
    return await runtime.store.list_instances(me.id)


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
    """Register an instance by hand, reached with the user's own token (which connects them to
    its account); the identity is validated before anything is stored."""
    ref = InstanceRef(instance_id, AccountRef(account_id, marketplace_id, Region(region.upper())))
    await require_token(runtime, email)
    me = await actor(runtime, email)
    account_pk = await runtime.store.upsert_account(
        me.id, ref.account.account_id, ref.account.marketplace_id, ref.region.value, None
    )
    pk = await runtime.store.upsert_instance(account_pk, ref.instance_id, name, None)
    return InstanceView.of(await runtime.store.instance_by_pk(pk), Access.CONNECTED)


async def disconnect(runtime: Runtime, email: str) -> int:
    """`amc auth remove`: delete the user's Amazon token and their connections (how many);
    their queued work on instances they no longer reach ends `lost_access` at admission."""
    me = await actor(runtime, email)
    return await runtime.store.disconnect(me.id)


async def bootstrap_embedded(runtime: Runtime) -> None:
    """First use of the embedded sandbox: its refresh token, account and instances for the
    local default user, an admin (other users bring their own tokens)."""
    config = runtime.sandbox_config
    if config is None:
        return
    me = await actor(runtime, DEFAULT_USER)
    if await runtime.store.token_row(DEFAULT_USER) is None:
        await runtime.token_store().save_refresh_token(DEFAULT_USER, Secret(config.refresh_token))
    if not await runtime.store.list_instances(me.id):
        await sync_accounts(runtime, DEFAULT_USER)


# --- grants ---------------------------------------------------------------------------------


async def grant(runtime: Runtime, ref: str, user: str, *, by: str | None = None) -> bool:
    """Let `user` (e-mail or id) use instance `ref`; False: they had the grant already. `by`:
    the admin granting (None: the operator at the CLI)."""
    admin = await require_admin(runtime, by)
    instance = await _any_instance(runtime, ref)
    target = await user_by_ref(runtime, user)
    return await runtime.store.grant(target.id, instance.id, by=admin.id if admin else None)


async def revoke(runtime: Runtime, ref: str, user: str, *, by: str | None = None) -> bool:
    """Take the grant back, at once; False: there was none. Connections are not grants: a
    user who connected the account keeps it."""
    await require_admin(runtime, by)
    instance = await _any_instance(runtime, ref)
    target = await user_by_ref(runtime, user)
    return await runtime.store.revoke_grant(target.id, instance.id)


async def _any_instance(runtime: Runtime, ref: str) -> InstanceRow:
    found = await runtime.store.find_instance(None, ref)
    if found is None:
        raise NotFound(f"unknown instance {ref!r}", hint=UNKNOWN_INSTANCE_HINT)
    return found
