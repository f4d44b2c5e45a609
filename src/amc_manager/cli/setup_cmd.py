"""`amc auth`, `amc accounts`, `amc instances`, `amc datasources`, `amc workflows`, `amc db`."""

from __future__ import annotations

import asyncio
import getpass
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import typer

from amc_manager.cli.common import err, out, print_json, run_async, runtime_for, settings_for, table
from amc_manager.cli.run_cmd import AsOption, _read_sql
from amc_manager.client import AmcClient, AuditEvent, Secret
from amc_manager.client.identity import Region, lwa_auth_url
from amc_manager.engine.accounts import add_instance, resolve_instance, sync_accounts
from amc_manager.engine.jobs import sql_hash
from amc_manager.engine.runtime import Runtime
from amc_manager.errors import UsageError
from amc_manager.sandbox.embedded import EMBEDDED_BASE_URL
from amc_manager.sql import scan_template
from amc_manager.sql.params import input_parameters
from amc_manager.store.rows import InstanceRow

T = TypeVar("T")

auth_app = typer.Typer(help="Login with Amazon tokens.", no_args_is_help=True)
accounts_app = typer.Typer(help="AMC accounts.", no_args_is_help=True)
instances_app = typer.Typer(help="AMC instances.", no_args_is_help=True)
datasources_app = typer.Typer(help="AMC tables and columns.", no_args_is_help=True)
workflows_app = typer.Typer(help="Saved workflows.", no_args_is_help=True)
db_app = typer.Typer(help="The store.", no_args_is_help=True)


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
    refresh_token: Annotated[str | None, typer.Option(help="The token, or - for stdin.")] = None,
    as_user: AsOption = None,
) -> None:
    """Store a Login with Amazon refresh token, encrypted."""
    value = refresh_token
    if value in (None, "-"):
        value = (
            sys.stdin.readline()
            if not sys.stdin.isatty() or value == "-"
            else getpass.getpass("Refresh token: ")
        ).strip()
    if not value:
        raise UsageError("no refresh token given", hint="pass --refresh-token TOKEN or pipe it in")
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings, bootstrap=False) as runtime:
            await runtime.token_store().save_refresh_token(settings.user, Secret(value))
        err.print(f"refresh token stored (encrypted) for {settings.user}")

    run_async(body)


@auth_app.command("login")
def login(
    port: Annotated[int, typer.Option(help="Loopback port for the redirect (0: any).")] = 0,
    as_user: AsOption = None,
) -> None:
    """Consent flow: prints the consent URL, receives the code on a loopback callback."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings, bootstrap=False) as runtime:
            code, redirect = await _receive_code(runtime, port)
            await _exchange(runtime, settings.user, code, redirect)
        err.print(f"logged in: refresh token stored (encrypted) for {settings.user}")

    run_async(body)


async def _receive_code(runtime: Runtime, port: int) -> tuple[str, str]:
    state = secrets.token_urlsafe(16)
    received: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode(errors="replace")
        query = parse_qs(urlsplit(line.split(" ")[1] if " " in line else "/").query)
        ok = query.get("state") == [state] and "code" in query
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
            + (b"amc-manager: you may close this page." if ok else b"bad callback")
        )
        await writer.drain()
        writer.close()
        if ok and not received.done():
            received.set_result(query["code"][0])

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    redirect = f"http://127.0.0.1:{bound}/callback"
    base = (
        f"{EMBEDDED_BASE_URL}/ap/oa"
        if runtime.embedded is not None
        else lwa_auth_url(Region.NA, runtime.settings.lwa_auth_url)
    )
    query = urlencode(
        {
            "client_id": runtime.credentials().client_id,
            "response_type": "code",
            "scope": "advertising::campaign_management",
            "redirect_uri": redirect,
            "state": state,
        }
    )
    sys.stdout.write(f"{base}?{query}\n")
    sys.stdout.flush()
    err.print("open the URL above and consent; waiting for the redirect...")
    async with server:
        if runtime.embedded is not None:  # the embedded consent page answers at once
            consent = await runtime.embedded.client.get(f"{base}?{query}")
            async with httpx.AsyncClient() as plain:
                await plain.get(consent.headers["location"])
        return await asyncio.wait_for(received, 600), redirect


async def _exchange(runtime: Runtime, email: str, code: str, redirect: str) -> None:
    assert runtime.http is not None
    credentials = runtime.credentials()
    url = runtime.endpoints()["lwa_token_url"] or "https://api.amazon.com/auth/o2/token"
    started = time.perf_counter()
    try:
        response = await runtime.http.post(
            url,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret.reveal(),
            },
        )
    except httpx.TransportError as exc:
        _audit_exchange(runtime, email, url, started, None, type(exc).__name__)
        raise
    _audit_exchange(runtime, email, url, started, response.status_code, None)
    if response.status_code != 200:
        raise UsageError(
            f"Login with Amazon refused the code: "
            f"{response.json().get('error', response.status_code)}"
        )
    await runtime.token_store().save_refresh_token(email, Secret(response.json()["refresh_token"]))


def _audit_exchange(
    runtime: Runtime, email: str, url: str, started: float, status: int | None, error: str | None
) -> None:
    """The code exchange is a token grant like the client's refreshes: it is audited too."""
    runtime.audit.record(
        AuditEvent(
            user=email,
            instance_id=None,
            operation="lwa.authorization_code",
            kind="token",
            method="POST",
            path=urlsplit(url).path,
            status=status,
            attempt=1,
            duration=time.perf_counter() - started,
            error=error,
        )
    )


@accounts_app.command("sync")
def accounts_sync(as_user: AsOption = None) -> None:
    """Discover AMC accounts and instances with the user's token and store them."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings, bootstrap=False) as runtime:
            if await runtime.store.token_row(settings.user) is None:
                raise UsageError(
                    f"no stored token for {settings.user}",
                    hint="run `amc auth login` or `amc auth add-token` first",
                )
            rows = await sync_accounts(runtime, settings.user)
        err.print(f"{len(rows)} instance(s) stored for {settings.user}")

    run_async(body)


@instances_app.command("list")
def instances_list(
    as_json: Annotated[bool, typer.Option("--json")] = False, as_user: AsOption = None
) -> None:
    """The user's AMC instances (AMC id beside the internal id)."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        async with runtime_for(settings) as runtime:
            user_id = await runtime.store.ensure_user(settings.user)
            rows = await runtime.store.list_instances(user_id)
        return [
            {
                "id": r.id,
                "instance_id": r.instance_id,
                "name": r.name,
                "account_id": r.entity_id,
                "marketplace_id": r.marketplace_id,
                "region": r.region,
            }
            for r in rows
        ]

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        None,
        ["instance_id", "name", "account_id", "marketplace", "region", "id"],
        [
            [
                i["instance_id"],
                i["name"],
                i["account_id"],
                i["marketplace_id"],
                i["region"],
                i["id"],
            ]
            for i in items
        ],
    )


@instances_app.command("add")
def instances_add(
    instance_id: Annotated[str, typer.Option(help="AMC instance id (amc...).")],
    account_id: Annotated[str, typer.Option(help="The AMC account's ENTITY id.")],
    marketplace_id: Annotated[str, typer.Option(help="Marketplace id, e.g. ATVPDKIKX0DER.")],
    region: Annotated[str, typer.Option(help="NA, EU or FE.")] = "NA",
    name: Annotated[str | None, typer.Option(help="A name to show.")] = None,
    as_user: AsOption = None,
) -> None:
    """Register an instance by hand (the account id is never a profile id)."""
    settings = settings_for(as_user)

    async def body() -> None:
        async with runtime_for(settings, bootstrap=False) as runtime:
            row = await add_instance(
                runtime,
                settings.user,
                instance_id=instance_id,
                account_id=account_id,
                marketplace_id=marketplace_id,
                region=region.upper(),
                name=name,
            )
        out.print(f"{row.instance_id} stored (id {row.id})")

    run_async(body)


@datasources_app.command("list")
def datasources_list(
    instance: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_user: AsOption = None,
) -> None:
    """AMC's tables for an instance."""

    async def action(client: AmcClient, target: InstanceRow, _rt: Runtime) -> list[dict[str, Any]]:
        sources = await client.list_data_sources(target.ref())
        return [
            {"name": s.data_source_id, "description": s.description, "columns": len(s.columns)}
            for s in sources
        ]

    items = _on_instance(as_user, instance, action)
    if as_json:
        print_json(items)
        return
    table(
        None,
        ["name", "columns", "description"],
        [[i["name"], i["columns"], i["description"]] for i in items],
    )


@datasources_app.command("show")
def datasources_show(
    name: str,
    instance: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_user: AsOption = None,
) -> None:
    """One table's columns."""

    async def action(client: AmcClient, target: InstanceRow, _rt: Runtime) -> list[dict[str, Any]]:
        source = await client.get_data_source(target.ref(), name)
        return [dict(c) for c in source.columns]

    columns = _on_instance(as_user, instance, action)
    if as_json:
        print_json(columns)
        return
    table(
        name,
        ["name", "columnType", "description"],
        [[c.get("name"), c.get("columnType"), c.get("description")] for c in columns],
    )


def _on_instance(
    as_user: str | None,
    ref: str | None,
    action: Callable[[AmcClient, InstanceRow, Runtime], Awaitable[T]],
) -> T:
    """Open the runtime, resolve `--instance` (or the user's first), run `action`."""
    settings = settings_for(as_user)

    async def body() -> T:
        async with runtime_for(settings) as runtime:
            target = await _instance_or_first(runtime, settings.user, ref)
            return await action(await runtime.client(settings.user), target, runtime)

    return run_async(body)


async def _instance_or_first(runtime: Runtime, email: str, ref: str | None) -> Any:
    if ref:
        return await resolve_instance(runtime, email, ref)
    rows = await runtime.store.list_instances(await runtime.store.ensure_user(email))
    if not rows:
        raise UsageError(f"no instances for {email}", hint="run `amc accounts sync`")
    return rows[0]


@workflows_app.command("push")
def workflows_push(
    file: Path,
    workflow_id: Annotated[str, typer.Option("--id", help="The workflow id to save as.")],
    instance: Annotated[str, typer.Option(help="AMC instance id or internal id.")],
    as_user: AsOption = None,
) -> None:
    """Save a workflow at AMC (CUSTOM_PARAMETERs only; `{{name}}` placeholders are refused)."""
    sql = _read_sql(file)
    template = scan_template(sql, str(file))
    if template.placeholders:
        raise UsageError(
            f"{file} has {{{{name}}}} placeholders, which a saved workflow cannot take",
            hint="use CUSTOM_PARAMETER('name') with a `-- @param` line",
        )
    params = [dict(p) for p in input_parameters(template)]

    async def action(client: AmcClient, target: InstanceRow, runtime: Runtime) -> None:
        body = {"workflowId": workflow_id, "sqlQuery": sql, "inputParameters": params}
        existing = {w.workflow_id for w in await client.list_workflows(target.ref())}
        if workflow_id in existing:
            await client.update_workflow(target.ref(), body)
        else:
            await client.create_workflow(target.ref(), body)
        await runtime.store.save_workflow(target.id, workflow_id, sql, sql_hash(sql) or "", params)

    _on_instance(as_user, instance, action)
    out.print(f"workflow {workflow_id} saved on {instance}")


@workflows_app.command("list")
def workflows_list(
    instance: Annotated[str, typer.Option()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_user: AsOption = None,
) -> None:
    """Saved workflows of an instance (as AMC lists them)."""

    async def action(client: AmcClient, target: InstanceRow, _rt: Runtime) -> list[dict[str, Any]]:
        return [
            {"workflow_id": w.workflow_id, "parameters": len(w.input_parameters)}
            for w in await client.list_workflows(target.ref())
        ]

    items = _on_instance(as_user, instance, action)
    if as_json:
        print_json(items)
        return
    table(None, ["workflow_id", "parameters"], [[i["workflow_id"], i["parameters"]] for i in items])


@workflows_app.command("show")
def workflows_show(
    workflow_id: str,
    instance: Annotated[str, typer.Option()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    as_user: AsOption = None,
) -> None:
    """One saved workflow's SQL and parameters."""

    async def action(client: AmcClient, target: InstanceRow, _rt: Runtime) -> dict[str, Any]:
        found = await client.get_workflow(target.ref(), workflow_id)
        return {
            "workflow_id": found.workflow_id,
            "sql": found.sql_query,
            "input_parameters": found.input_parameters,
        }

    item = _on_instance(as_user, instance, action)
    if as_json:
        print_json(item)
        return
    out.print(item["sql"] or "")


@workflows_app.command("delete")
def workflows_delete(
    workflow_id: str, instance: Annotated[str, typer.Option()], as_user: AsOption = None
) -> None:
    """Delete a saved workflow at AMC."""

    async def action(client: AmcClient, target: InstanceRow, runtime: Runtime) -> None:
        await client.delete_workflow(target.ref(), workflow_id)
        await runtime.store.delete_workflow(target.id, workflow_id)

    _on_instance(as_user, instance, action)
    out.print(f"workflow {workflow_id} deleted")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations (every command also does it when needed)."""
    settings = settings_for(None)

    async def body() -> str | None:
        from amc_manager.store import Store, database_url_for

        async with Store(database_url_for(settings.database_url, settings.amc_home)) as store:
            return await store.schema_revision()

    out.print(f"database at revision {run_async(body)}")
