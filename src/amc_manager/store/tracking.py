"""The store's side of adaptive tracking: past run times, and keeping an instance's tracked
runs on one poll time (so one status listing covers them all)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from amc_manager.store import schema as t
from amc_manager.store.collections import HELD
from amc_manager.store.rows import TRACKED_STATES
from amc_manager.store.store import Store, unleased

FINAL_AMC_STATUSES = ("SUCCEEDED", "FAILED", "CANCELLED", "REJECTED")


@dataclass(frozen=True)
class PastRun:
    """A finished run: where, which workflow, and seconds from submission to AMC's final
    status as first recorded (AMC's own finish plus the detection lag)."""

    instance_pk: str
    adhoc: bool
    workflow_id: str | None
    sql_hash: str | None
    seconds: float


async def recent_run_times(
    store: Store, instance_pks: Sequence[str], *, per_instance: int = 50
) -> list[PastRun]:
    """The latest finished runs of each instance, newest first."""
    if not instance_pks:
        return []
    e, ev = t.workflow_executions.c, t.execution_events.c
    ended = (
        sa.select(sa.func.min(ev.at))
        .where(ev.execution_id == e.id, ev.amc_status.in_(FINAL_AMC_STATUSES))
        .scalar_subquery()
    )
    out: list[PastRun] = []
    async with store.begin() as conn:
        for pk in instance_pks:
            query = (
                sa.select(e.adhoc, e.workflow_id, e.sql_hash, e.submitted_at, ended.label("ended"))
                .where(
                    e.instance_id == pk,
                    e.state.in_(["succeeded", "failed"]),
                    e.submitted_at.is_not(None),
                )
                .order_by(e.finished_at.desc())
                .limit(per_instance)
            )
            for r in (await conn.execute(query)).all():
                if r.ended is not None:
                    out.append(
                        PastRun(
                            pk,
                            bool(r.adhoc),
                            r.workflow_id,
                            r.sql_hash,
                            float(r.ended) - float(r.submitted_at),
                        )
                    )
    return out


async def release_aligned(
    store: Store,
    execution_ids: Sequence[str],
    owner: str,
    *,
    instance_pk: str,
    next_check_at: float,
    keep: float | None = None,
    now: float | None = None,
) -> int:
    """Put `owner`'s runs `execution_ids` on `next_check_at` (their look went through:
    their notes are cleared), and bring the instance's other tracked runs that nobody holds
    forward to it when they were due later, so the instance's next listing covers them too
    (looking early is always safe). One statement; returns how many rows it moved.

    `keep` (seconds): rather than dropping the leases, `owner` keeps all these runs leased
    until `keep` after that look, and takes the instance's other tracked runs: those nobody
    holds, and those another worker keeps waiting for a later look (`next_check_at` after
    `now`: not being stepped, which only due runs are). So one worker lists each instance and
    other workers neither wake for its runs nor list it too; if `owner` dies, its leases
    lapse `keep` after the look it planned."""
    c = t.workflow_executions.c
    mine = sa.and_(c.id.in_(list(execution_ids)), c.lease_owner == owner)
    free: list[sa.ColumnElement[bool]] = [c.lease_owner.is_(None)]
    if keep is not None and now is not None:
        free += [c.lease_expires_at < now, c.next_check_at > now]
    others = sa.and_(
        c.instance_id == instance_pk,
        c.state.in_([s.value for s in TRACKED_STATES]),
        sa.or_(*free),
    )
    if keep is None:
        others = sa.and_(others, c.next_check_at > next_check_at)
    where = sa.or_(mine, others) if execution_ids else others
    values: dict[str, object] = {
        "lease_owner": None,
        "lease_expires_at": None,
        # The others never later than they were (a run due sooner stays due then).
        "next_check_at": sa.case(
            (sa.or_(mine, c.next_check_at > next_check_at), next_check_at),
            else_=c.next_check_at,
        ),
        # A look went through: a note of why `owner`'s runs waited (a failed look) is over.
        "error": sa.case((mine, sa.null()), else_=c.error),
        "updated_at": store.clock(),
    }
    if keep is not None:
        values.update(lease_owner=owner, lease_expires_at=next_check_at + keep)
    async with store.begin() as conn:
        done = await conn.execute(t.workflow_executions.update().where(where).values(**values))
    return int(done.rowcount)


async def next_due(
    store: Store,
    states: Sequence[str],
    now: float,
    *,
    owner: str | None = None,
    busy: Collection[str] = (),
) -> float | None:
    """The earliest `next_check_at` among runs in `states` nobody holds, or `owner` keeps
    leased between looks, apart from the `busy` ones (its steps in flight; None: none)."""
    c = t.workflow_executions.c
    query = sa.select(sa.func.min(c.next_check_at)).where(
        c.state.in_(list(states)), unleased(now, owner)
    )
    if busy:
        query = query.where(c.id.not_in(sorted(busy)))
    async with store.begin() as conn:
        found = (await conn.execute(query)).scalar()
    return None if found is None else float(found)


async def wake_queued(store: Store, instance_pk: str, now: float) -> int:
    """A slot of the instance freed: in each lane (a collection, or work outside
    collections), the oldest queued run nobody holds that is not due yet is due now.

    One slot freed wakes one run per lane; `k` freed before their runs are claimed wake the
    lane's `k` oldest, since those already due are passed over. Waking the whole queue had
    every worker claim a share of it and refuse the first run of its share (bench/cost_curve)."""

    def waiting(runs: sa.FromClause) -> sa.ColumnElement[bool]:
        r = runs.c
        return sa.and_(
            r.instance_id == instance_pk,
            r.state == "queued",
            r.next_check_at > now,
            r.next_check_at < HELD,  # a paused collection's cells stay held
            r.lease_owner.is_(None),
        )

    runs, peer = t.workflow_executions, t.workflow_executions.alias("peer")
    oldest_of_lane = (
        sa.select(sa.func.min(peer.c.created_at))
        .where(waiting(peer), peer.c.collection_id.is_not_distinct_from(runs.c.collection_id))
        .scalar_subquery()
    )
    async with store.begin() as conn:
        done = await conn.execute(
            runs.update()
            .where(waiting(runs), runs.c.created_at == oldest_of_lane)
            .values(next_check_at=now)
        )
    return int(done.rowcount)
