"""The tables this sandbox serves: AMC's free catalogue, the paid tables enabled, extra tables.

AMC's facts live in the neutral `amc_manager.catalogue`; what is the sandbox's own is the
hidden user key every generated table carries, and which paid tables an instance has.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from amc_manager.catalogue import CATALOGUE, Catalogue, Table

# Hidden column every generated table carries: an integer user key (NULL where no user is
# involved). The privacy engine counts distinct users with it; user SQL cannot name it because
# it is not in the catalogue.
USER_KEY_COLUMN = "__user_key"


@functools.cache
def _free(paid: frozenset[str]) -> Catalogue:
    """AMC's catalogue without the paid-feature tables not in `paid`, in catalogue order."""
    return Catalogue(t for t in CATALOGUE if t.paid_feature is None or t.name in paid)


def served_tables(extra: Iterable[Table] = (), paid: Iterable[Table] = ()) -> Catalogue:
    """AMC's catalogued tables an instance without paid features has, plus the `paid` tables
    it subscribes to (in catalogue order), then `extra` (tables the sandbox's config lists)."""
    base = _free(frozenset(t.name for t in paid))
    extra = tuple(extra)
    return base.with_tables(extra) if extra else base
