"""The query library: ready analyses with their questions, tables and parameters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from amc_manager.api.deps import caller
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, offset_page
from amc_manager.api.problems import ApiProblem
from amc_manager.api.routes.common import LIST, PREFIX, READ_ONE
from amc_manager.api.schemas import LibraryEntryDetail, LibraryEntryOut, Page

router = APIRouter(prefix=f"{PREFIX}/library", tags=["library"], dependencies=[Depends(caller)])


@collection(
    router,
    "GET",
    "",
    summary="Every library query.",
    response_model=Page[LibraryEntryOut],
    responses=LIST,
)
async def list_library(limit: LimitQuery = 50, cursor: CursorQuery = None) -> Page[LibraryEntryOut]:
    from amc_manager.service.library import list_entries

    items, after = offset_page("library", list_entries(), limit, cursor)
    return Page[LibraryEntryOut](
        items=[LibraryEntryOut(**e.summary()) for e in items], next_cursor=after
    )


@router.get(
    "/{name}",
    summary="One library query with its SQL.",
    response_model=LibraryEntryDetail,
    responses=READ_ONE,
)
async def get_library_entry(name: str = Path(max_length=200)) -> LibraryEntryDetail:
    from amc_manager.service.library import list_entries

    found = {e.name: e for e in list_entries()}.get(name)
    if found is None:
        raise ApiProblem(
            404,
            f"no library query named {name!r}",
            slug="not-found",
            hint="see GET /api/v1/library",
        )
    return LibraryEntryDetail(**found.to_json())
