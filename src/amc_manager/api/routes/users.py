"""The caller (`/me`), and users for admins."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, offset_page
from amc_manager.api.routes.common import PREFIX, READ, WRITE, documented
from amc_manager.api.schemas import Page, UserIn, UserOut, UserPatch

router = APIRouter(prefix=PREFIX, tags=["users"])
UserId = Path(max_length=320, description="The user's id or e-mail.")


def _out(view: object) -> UserOut:
    return UserOut(**view.to_json())  # type: ignore[attr-defined]


@router.get("/me", summary="The caller.", response_model=UserOut, responses=READ)
async def me(who: CallerDep, runtime: RuntimeDep) -> UserOut:
    from amc_manager.service.users import me as current

    return _out(await current(runtime, who.email))


@collection(
    router,
    "GET",
    "/users",
    summary="Every user (admins).",
    response_model=Page[UserOut],
    responses=documented(400, 401, 403, 422),
)
async def list_users(
    who: CallerDep, runtime: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[UserOut]:
    from amc_manager.service.users import list_users as listed

    users = sorted(await listed(runtime, by=who.email), key=lambda u: -u.created_at)
    items, after = offset_page("users", users, limit, cursor)
    return Page[UserOut](items=[_out(u) for u in items], next_cursor=after)


@collection(
    router,
    "POST",
    "/users",
    summary="Create a user (admins).",
    status_code=201,
    response_model=UserOut,
    responses=WRITE,
)
async def create_user(
    body: UserIn, who: MutatingCallerDep, runtime: RuntimeDep, response: Response
) -> UserOut:
    from amc_manager.service.users import create_user as create

    view = await create(runtime, body.email, admin=body.admin, password=body.password, by=who.email)
    response.headers["Location"] = f"{PREFIX}/users/{view.id}"
    return _out(view)


@router.patch(
    "/users/{user_id}",
    summary="Change a user's role, disabled flag or password (admins); disabling or a new "
    "password ends their sessions at once.",
    response_model=UserOut,
    responses=WRITE,
)
async def update_user(
    body: UserPatch, who: MutatingCallerDep, runtime: RuntimeDep, user_id: str = UserId
) -> UserOut:
    from amc_manager.service.users import update_user as update

    view = await update(
        runtime,
        user_id,
        role=body.role,
        disabled=body.disabled,
        password=body.password,
        by=who.email,
    )
    return _out(view)
