"""`amc users` and `amc tokens`: parse, call, render (the CLI is the operator's tool: it
needs no password, contracts.md)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

from amc_manager.cli.common import (
    AsOption,
    JsonOption,
    emit,
    print_json,
    run_async,
    runtime_for,
    say,
    settings_for,
    table,
)

users_app = typer.Typer(
    help="Users: create, list, set a password, disable.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
tokens_app = typer.Typer(
    help="API tokens for programs (REST API).", no_args_is_help=True, rich_markup_mode=None
)
EmailArgument = Annotated[str, typer.Argument(metavar="EMAIL", help="The user's e-mail.")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")


def _read_password(*, prompt: bool) -> str:
    """A password from stdin (one line), or a hidden prompt asked twice at a terminal."""
    from amc_manager.errors import UsageError

    if not prompt or not sys.stdin.isatty():
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != value:
            raise UsageError("the passwords differ", hint="type the same password twice")
    if not value:
        raise UsageError("no password given", hint="pipe it in, e.g. `... --password - < FILE`")
    return value


@users_app.command("create")
def users_create(
    email: EmailArgument,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an admin.")] = False,
    password: Annotated[
        str | None,
        typer.Option(metavar="-", help="Read a password from stdin (none: no password)."),
    ] = None,
) -> None:
    """Create a user (a member unless --admin). Without --password the user has no password
    and nothing is asked."""
    from amc_manager.errors import UsageError

    if password not in (None, "-"):
        raise UsageError(
            "--password takes only - (the password is read from stdin)",
            hint="a password on the command line would show in the process list",
        )
    secret = _read_password(prompt=False) if password == "-" else None
    settings = settings_for(None)

    async def body() -> dict[str, Any]:
        from amc_manager.service.users import create_user

        async with runtime_for(settings, calls_amc=False) as runtime:
            return (await create_user(runtime, email, admin=admin, password=secret)).to_json()

    user = run_async(body)
    emit(f"{user['id']}  {user['email']}  {user['role']}")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """Every user: role, disabled, whether they have a password."""
    settings = settings_for(None)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.users import list_users

        async with runtime_for(settings, calls_amc=False) as runtime:
            return [u.to_json() for u in await list_users(runtime)]

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["email", "role", "disabled", "password", "created", "id"],
        [
            [
                u["email"],
                u["role"],
                "yes" if u["disabled"] else "",
                "yes" if u["has_password"] else "",
                (u["created_at"] or "")[:10],
                u["id"],
            ]
            for u in items
        ],
    )


@users_app.command("set-password")
def users_set_password(email: EmailArgument) -> None:
    """Set a user's password (stdin, or a hidden prompt); their web sessions end."""
    secret = _read_password(prompt=True)
    settings = settings_for(None)

    async def body() -> None:
        from amc_manager.service.users import set_password

        async with runtime_for(settings, calls_amc=False) as runtime:
            await set_password(runtime, email, secret)

    run_async(body)
    say(f"password set for {email}; their sessions ended")


@users_app.command("disable")
def users_disable(email: EmailArgument) -> None:
    """Disable a user: their tokens and sessions stop at once, their queued work is not
    submitted."""
    settings = settings_for(None)

    async def body() -> None:
        from amc_manager.service.users import disable_user

        async with runtime_for(settings, calls_amc=False) as runtime:
            await disable_user(runtime, email)

    run_async(body)
    say(f"{email} disabled")


@users_app.command("enable")
def users_enable(email: EmailArgument) -> None:
    """Enable a disabled user again."""
    settings = settings_for(None)

    async def body() -> None:
        from amc_manager.service.users import enable_user

        async with runtime_for(settings, calls_amc=False) as runtime:
            await enable_user(runtime, email)

    run_async(body)
    say(f"{email} enabled")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str | None, typer.Option(metavar="NAME", help="A name to recognise it.")] = (
        None
    ),
    expires_in: Annotated[
        float | None, typer.Option(metavar="DAYS", help="Valid for this many days.")
    ] = None,
    as_user: AsOption = None,
) -> None:
    """Create an API token; it is printed once, alone on the first line of stdout."""
    settings = settings_for(as_user)

    async def body() -> tuple[str, dict[str, Any]]:
        from amc_manager.service.tokens import create_token

        async with runtime_for(settings, calls_amc=False) as runtime:
            created = await create_token(
                runtime, settings.user, name=name, expires_in_days=expires_in
            )
        return created.secret, created.view.to_json()

    secret, view = run_async(body)
    emit(secret)
    until = f", expires {view['expires_at']}" if view["expires_at"] else ""
    say(f"token {view['id']} for {settings.user}{until}; it is not shown again")


@tokens_app.command("list")
def tokens_list(as_json: JsonOption = False, as_user: AsOption = None) -> None:
    """Your API tokens (never the tokens themselves)."""
    settings = settings_for(as_user)

    async def body() -> list[dict[str, Any]]:
        from amc_manager.service.tokens import list_tokens

        async with runtime_for(settings, calls_amc=False) as runtime:
            return [t.to_json() for t in await list_tokens(runtime, settings.user)]

    items = run_async(body)
    if as_json:
        print_json(items)
        return
    table(
        ["id", "name", "created", "expires", "last_used"],
        [[t["id"], t["name"], t["created_at"], t["expires_at"], t["last_used_at"]] for t in items],
    )


@tokens_app.command("revoke")
def tokens_revoke(
    id_: Annotated[str, typer.Argument(metavar="ID", help="Token id (or 6+ characters of it).")],
    as_user: AsOption = None,
) -> None:
    """Revoke one of your API tokens: it is refused at once."""
    settings = settings_for(as_user)

    async def body() -> str:
        from amc_manager.service.tokens import revoke_token

        async with runtime_for(settings, calls_amc=False) as runtime:
            return (await revoke_token(runtime, settings.user, id_)).id

    emit(f"token {run_async(body)} revoked")
