"""The store's one access rule: which instances a user may use (connected accounts, grants)."""

from __future__ import annotations

import sqlalchemy as sa

from amc_manager.store import schema as t


def usable_instances(user_id: str) -> sa.CompoundSelect[tuple[str]]:
    """Pks of the instances the user may use: of the accounts they connected, and granted ones."""
    i, cn, g = t.amc_instances.c, t.connections.c, t.grants.c
    connected = (
        sa.select(i.id)
        .join(t.connections, cn.account_id == i.account_id)
        .where(cn.user_id == user_id)
    )
    granted = sa.select(g.instance_id).where(g.user_id == user_id)
    return sa.union(connected, granted)
