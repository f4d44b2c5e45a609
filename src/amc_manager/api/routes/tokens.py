"""The caller's API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, offset_page
from amc_manager.api.routes.common import LIST, PREFIX, WRITE
from amc_manager.api.schemas import CreatedToken, Page, TokenIn, TokenOut

router = APIRouter(prefix=f"{PREFIX}/tokens", tags=["tokens"])


@collection(
    router,
    "GET",
    "",
    summary="The caller's tokens (never the tokens themselves).",
    response_model=Page[TokenOut],
    responses=LIST,
)
async def list_tokens(
    who: CallerDep, runtime: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[TokenOut]:
    from amc_manager.service.tokens import list_tokens as listed

    items, after = offset_page("tokens", await listed(runtime, who.email), limit, cursor)
    return Page[TokenOut](items=[TokenOut(**t.to_json()) for t in items], next_cursor=after)


@collection(
    router,
    "POST",
    "",
    summary="A new token for the caller, shown this once.",
    status_code=201,
    response_model=CreatedToken,
    responses=WRITE,
)
async def create_token(
    body: TokenIn, who: MutatingCallerDep, runtime: RuntimeDep, response: Response
) -> CreatedToken:
    from amc_manager.service.tokens import create_token as create

    made = await create(runtime, who.email, name=body.name, expires_in_days=body.expires_in_days)
    response.headers["Cache-Control"] = "no-store"
    return CreatedToken(token=made.secret, **made.view.to_json())


@router.delete(
    "/{token_id}",
    summary="Revoke one of the caller's tokens; refused at once.",
    status_code=204,
    responses=WRITE,
)
async def revoke_token(
    who: MutatingCallerDep, runtime: RuntimeDep, token_id: str = Path(max_length=64)
) -> Response:
    from amc_manager.service.tokens import revoke_token as revoke

    await revoke(runtime, who.email, token_id)
    return Response(status_code=204)
