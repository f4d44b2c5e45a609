"""`amc auth`, `accounts`, `instances`, `datasources`, `workflows` and `db`: parse, call, render."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from amc_manager.cli.common import (
    AsOption,
    InstanceOption,
    JsonOption,
    emit,
    print_json,
    run_async,
    runtime_for,
    say,
    settings_for,
    table,
)


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


auth_app = _group("Login with Amazon tokens.")
accounts_app = _group("AMC accounts.")
instances_app = _group("AMC instances.")
datasources_app = _group("AMC tables and columns.")
workflows_app = _group("Saved workflows.")
db_app = _group("The store.")
RequiredInstance = Annotated[
    str, typer.Option(metavar="ID", help="AMC instance id or internal id.")
]


def register(app: typer.Typer) -> None:
    for sub, name in (
        (auth_app, "auth"),
        (accounts_app, "accounts"),
        (instances_app, "instances"),
        (datasources_app, "datasources"),
        (workflows_app, "workflows"),
        (db_app, "db"),
    ):
        app.add_typer(sub, name=name)


@auth_app.command("add-token")
def add_token(
    refresh_token: Annotated[
        str | None, typer.Option(metavar="TOKEN", help="The token, or - for stdin.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Store a Login with Amazon refresh token, encrypted (stdin or a hidden prompt
    when no value is given)."""
    value = refresh_token
    if value in (None, "-"):
        value = (
            sys.stdin.readline()
            if not sys.stdin.isatty() or value == "-"
            else getpass.getpass("Refresh token: ")
        )
    settings = settings_for(as_user)

    async def body() -> None:
        from amc_manager.service.auth import add_token

        async with runtime_for(settings, calls_amc=False) as runtime:
            await add_token(runtime, settings.user, value or "")

    run_async(body)
    say(f"refresh token stored (encrypted) for {settings.user}")


@auth_app.command("login")
def login(
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Loopback port for the redirect (0: any).")
    ] = 0,
    as_user: AsOption = None,
) -> None:
    """Consent flow: prints the consent URL, receives the code on a loopback callback."""
    settings = settings_for(as_user)

    def announce(url: str) -> None:
        emit(url)
        say("open the URL above and consent; waiting for the redirect...")

    async def body() -> None:
        from amc_manager.service.auth import login_on_loopback

        async with runtime_for(settings, calls_amc=False) as runtime:
            await login_on_loopback(runtime, settings.user, port=port, announce=announce)

    run_async(body)
    say(f"logged in: refresh token stored (encrypted) for {settings.user}")


@auth_app.command("remove")
def auth_remove(as_user: AsOption = None) -> None:
    """Delete the user's Login with Amazon token and their account connections."""
    settings = settings_for(as_user)

    async def body() -> int:
        from amc_manager.service.access import disconnect

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await disconnect(runtime, settings.user)

    count = run_async(body)
    say(f"token removed for {settings.user}; {count} account connection(s) removed")


@accounts_app.command("sync")
def accounts_sync(as_user: AsOption = None) -> None:
    """Discover AMC accounts and instances with the user's token and store them."""
    settings = settings_for(as_user)

    async def body() -> int:
        from amc_manager.service.access import sync_accounts

        async with runtime_for(settings, calls_amc=False) as runtime:
            return len(await sync_accounts(runtime, settings.user))

    say(f"{run_async(body)} instance(s) stored for {settings.user}")


@instances_app.command("list")
def instances_list(as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """The AMC instances you may use (an admin sees all); `access` says why: connected,
    granted or admin."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.access import list_instances

        async with runtime_for(settings) as runtime:
            return [i.to_json() for i in await list_instances(runtime, settings.user)]

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["instance_id", "name", "access", "region", "account_id", "marketplace", "id"],
        [
            [
                i["instance_id"],
                i["name"],
                i["access"],
                i["region"],
                i["account_id"],
                i["marketplace_id"],
                i["id"],
            ]
            for i in items
        ],
    )


GrantInstance = Annotated[str, typer.Argument(metavar="ID", help="AMC instance id or internal id.")]
GrantUser = Annotated[str, typer.Argument(metavar="EMAIL", help="The user.")]


@instances_app.command("grant")
def instances_grant(instance: GrantInstance, email: GrantUser) -> None:
    """Let a user use an instance of an account they did not connect."""
    settings = settings_for(None)

    async def body() -> bool:
        from amc_manager.service.access import grant

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await grant(runtime, instance, email)

    done = run_async(body)
    say(f"{email} may use {instance}" + ("" if done else " (granted already)"))


@instances_app.command("revoke")
def instances_revoke(instance: GrantInstance, email: GrantUser) -> None:
    """Take a grant back, at once (their queued work there is not submitted)."""
    settings = settings_for(None)

    async def body() -> bool:
        from amc_manager.service.access import revoke

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await revoke(runtime, instance, email)

    done = run_async(body)
    say(f"grant of {instance} to {email} " + ("revoked" if done else "did not exist"))


@instances_app.command("add")
def instances_add(
    instance_id: Annotated[str, typer.Option(metavar="ID", help="AMC instance id (amc...).")],
    account_id: Annotated[
        str, typer.Option(metavar="ENTITY_ID", help="The AMC account's ENTITY id.")
    ],
    marketplace_id: Annotated[
        str, typer.Option(metavar="MARKETPLACE", help="Marketplace id, e.g. ATVPDKIKX0DER.")
    ],
    region: Annotated[str, typer.Option(metavar="REGION", help="NA, EU or FE.")] = "NA",
    name: Annotated[str | None, typer.Option(metavar="NAME", help="A name to show.")] = None,
    as_user: AsOption = None,
) -> None:
    """Register an instance by hand (the account id is never a profile id)."""
    settings = settings_for(as_user)

    async def body() -> tuple[str, str]:
        from amc_manager.service.access import add_instance

        async with runtime_for(settings, calls_amc=False) as runtime:
            view = await add_instance(
                runtime,
                settings.user,
                instance_id=instance_id,
                account_id=account_id,
                marketplace_id=marketplace_id,
                region=region,
                name=name,
            )
        return view.instance_id, view.id

    amc_id, internal = run_async(body)
    emit(f"{amc_id} stored (id {internal})")


@datasources_app.command("list")
def datasources_list(
    instance: InstanceOption = None, as_json: JsonOption = False, as_user: AsOption = None
) -> None:
    """AMC's tables for an instance (your first one when none is named)."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.datasources import list_sources

        async with runtime_for(settings) as runtime:
            return await list_sources(runtime, settings.user, instance)

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["name", "columns", "description"],
        [[i["name"], i["columns"], i["description"]] for i in items],
    )


@datasources_app.command("show")
def datasources_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The table.")],
    instance: InstanceOption = None,
    as_json: JsonOption = False,
    as_user: AsOption = None,
) -> None:
    """One table's columns."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.datasources import show_source

        async with runtime_for(settings) as runtime:
            return await show_source(runtime, settings.user, instance, name)

    columns = run_async(body)
    if as_json:
        print_json(columns)
        return
    table(
        ["name", "columnType", "description"],
        [[c.get("name"), c.get("columnType"), c.get("description")] for c in columns],
        keep=2,
    )


@workflows_app.command("push")
def workflows_push(
    file: Annotated[Path, typer.Argument(metavar="FILE.sql", help="The SQL to save.")],
    workflow_id: Annotated[
        str, typer.Option("--id", metavar="WORKFLOW_ID", help="The workflow id to save as.")
    ],
    instance: RequiredInstance,
    as_user: AsOption = None,
) -> None:
    """Save a workflow at AMC (CUSTOM_PARAMETERs only; `{{name}}` placeholders are refused)."""
    from amc_manager.service.checks import read_sql
    from amc_manager.service.workflows import workflow_parameters

    sql = read_sql(file)
    workflow_parameters(sql, str(file))  # refused before anything is opened
    settings = settings_for(as_user)

    async def body() -> None:
        from amc_manager.service.workflows import push

        async with runtime_for(settings) as runtime:
            await push(
                runtime,
                settings.user,
                instance=instance,
                workflow_id=workflow_id,
                sql=sql,
                source=str(file),
            )

    run_async(body)
    emit(f"workflow {workflow_id} saved on {instance}")


@workflows_app.command("list")
def workflows_list(
    instance: RequiredInstance, as_json: JsonOption = False, as_user: AsOption = None
) -> None:
    """Saved workflows of an instance (as AMC lists them)."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.workflows import list_saved

        async with runtime_for(settings) as runtime:
            return [
                {"workflow_id": w.workflow_id, "parameters": len(w.input_parameters)}
                for w in await list_saved(runtime, settings.user, instance)
            ]

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(["workflow_id", "parameters"], [[i["workflow_id"], i["parameters"]] for i in items])


@workflows_app.command("show")
def workflows_show(
    workflow_id: Annotated[str, typer.Argument(metavar="WORKFLOW_ID")],
    instance: RequiredInstance,
    as_json: JsonOption = False,
    as_user: AsOption = None,
) -> None:
    """One saved workflow's SQL and parameters."""
    settings = settings_for(as_user)

    async def body() -> dict[str, Any]:
        from amc_manager.service.workflows import show

        async with runtime_for(settings) as runtime:
            return (await show(runtime, settings.user, instance, workflow_id)).to_json()

    item = run_async(body)
    if as_json:
        print_json(item)
        return
    emit(item["sql"] or "")


@workflows_app.command("delete")
def workflows_delete(
    workflow_id: Annotated[str, typer.Argument(metavar="WORKFLOW_ID")],
    instance: RequiredInstance,
    as_user: AsOption = None,
) -> None:
    """Delete a saved workflow at AMC."""
    settings = settings_for(as_user)

    async def body() -> None:
        from amc_manager.service.workflows import delete

        async with runtime_for(settings) as runtime:
            await delete(runtime, settings.user, instance, workflow_id)

    run_async(body)
    emit(f"workflow {workflow_id} deleted")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations (every command also does it when needed)."""
    settings = settings_for(None)

    async def body() -> str | None:
        from amc_manager.service.runtime import store_revision

        return await store_revision(settings)

    emit(f"database at revision {run_async(body)}")


@db_app.command("prune")
def db_prune(as_json: JsonOption = False) -> None:
    """Delete result files older than AMC_RESULTS_RETENTION_DAYS and audit rows older than
    AMC_AUDIT_RETENTION_DAYS (unset: kept for ever), and what dead uploads left behind. The
    worker does this daily."""
    settings = settings_for(None)

    async def body() -> Any:
        from amc_manager.service.retention import prune

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await prune(runtime)

    report = run_async(body)
    if as_json:
        print_json(vars(report))
        return
    emit(
        f"{report.results_deleted} result file(s) and {report.audit_rows_deleted} audit row(s) "
        f"deleted; {report.uploads_removed} stale upload(s) removed"
    )


@db_app.command("rotate-key")
def db_rotate_key() -> None:
    """Re-encrypt every stored token with the first FERNET_KEY (FERNET_KEY=NEW,OLD), so OLD
    can be dropped afterwards."""
    settings = settings_for(None)

    async def body() -> int:
        from amc_manager.service.keys import rotate_key

        async with runtime_for(settings, calls_amc=False) as runtime:
            return await rotate_key(runtime)

    emit(f"{run_async(body)} token(s) re-encrypted with the first FERNET_KEY")
