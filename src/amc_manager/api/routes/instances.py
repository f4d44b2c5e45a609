"""Instances the caller may use, their data sources, discovery, and grants (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Path

from amc_manager.api.deps import CallerDep, MutatingCallerDep, RuntimeDep
from amc_manager.api.paging import CursorQuery, LimitQuery, collection, offset_page
from amc_manager.api.routes.common import AMC_READ, LIST, PREFIX, READ_ONE, WRITE
from amc_manager.api.schemas import (
    DataSourceDetail,
    DataSourceOut,
    GrantOut,
    InstanceOut,
    Page,
)
from amc_manager.service.access import InstanceView

router = APIRouter(prefix=f"{PREFIX}/instances", tags=["instances"])
InstanceId = Path(max_length=64, description="AMC's instance id or the internal id.")


def _out(view: InstanceView) -> InstanceOut:
    return InstanceOut(**view.to_json())


@collection(
    router,
    "GET",
    "",
    summary="Instances the caller may use (admins: all).",
    response_model=Page[InstanceOut],
    responses=LIST,
)
async def list_instances(
    who: CallerDep, runtime: RuntimeDep, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Page[InstanceOut]:
    from amc_manager.service.access import list_instances as listed

    views = await listed(runtime, who.email)
    items, after = offset_page("instances", views, limit, cursor)
    return Page[InstanceOut](items=[_out(v) for v in items], next_cursor=after)


@router.post(
    "/sync",
    summary="Discover the accounts and instances the caller's Amazon token reaches.",
    response_model=Page[InstanceOut],
    responses=WRITE,
)
async def sync(who: MutatingCallerDep, runtime: RuntimeDep) -> Page[InstanceOut]:
    from amc_manager.service.access import list_instances as listed
    from amc_manager.service.access import sync_accounts

    await sync_accounts(runtime, who.email)
    return Page[InstanceOut](items=[_out(v) for v in await listed(runtime, who.email)])


@router.get(
    "/{instance_id}", summary="One instance.", response_model=InstanceOut, responses=READ_ONE
)
async def get_instance(
    who: CallerDep, runtime: RuntimeDep, instance_id: str = InstanceId
) -> InstanceOut:
    from amc_manager.service.access import show_instance

    return _out(await show_instance(runtime, who.email, instance_id))


@collection(
    router,
    "GET",
    "/{instance_id}/datasources",
    summary="The instance's tables as AMC lists them.",
    response_model=Page[DataSourceOut],
    responses=AMC_READ,
)
async def list_datasources(
    who: CallerDep,
    runtime: RuntimeDep,
    instance_id: str = InstanceId,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[DataSourceOut]:
    from amc_manager.service.datasources import list_sources

    sources = await list_sources(runtime, who.email, instance_id)
    items, after = offset_page(f"datasources:{instance_id}", sources, limit, cursor)
    return Page[DataSourceOut](items=[DataSourceOut(**s) for s in items], next_cursor=after)


@router.get(
    "/{instance_id}/datasources/{name}",
    summary="One table's columns as AMC describes them.",
    response_model=DataSourceDetail,
    responses=AMC_READ,
)
async def get_datasource(
    who: CallerDep,
    runtime: RuntimeDep,
    instance_id: str = InstanceId,
    name: str = Path(max_length=200),
) -> DataSourceDetail:
    from amc_manager.service.datasources import show_source

    columns = await show_source(runtime, who.email, instance_id, name)
    return DataSourceDetail(name=name, columns=columns)


@router.put(
    "/{instance_id}/grants/{user_id}",
    summary="Let a user use the instance (admins).",
    response_model=GrantOut,
    responses=WRITE,
)
async def grant(
    who: MutatingCallerDep,
    runtime: RuntimeDep,
    instance_id: str = InstanceId,
    user_id: str = Path(max_length=320),
) -> GrantOut:
    from amc_manager.service.access import grant as give

    changed = await give(runtime, instance_id, user_id, by=who.email)
    return GrantOut(instance_id=instance_id, user_id=user_id, granted=changed)


@router.delete(
    "/{instance_id}/grants/{user_id}",
    summary="Take a grant back (admins); it ends at once.",
    response_model=GrantOut,
    responses=WRITE,
)
async def revoke(
    who: MutatingCallerDep,
    runtime: RuntimeDep,
    instance_id: str = InstanceId,
    user_id: str = Path(max_length=320),
) -> GrantOut:
    from amc_manager.service.access import revoke as take

    changed = await take(runtime, instance_id, user_id, by=who.email)
    return GrantOut(instance_id=instance_id, user_id=user_id, granted=changed)
