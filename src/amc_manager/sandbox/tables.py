"""The tables this sandbox serves: AMC's catalogue plus its configured extra tables.

AMC's facts live in the neutral `amc_manager.catalogue`; what is the sandbox's own is the
hidden user key every generated table carries.
"""

from __future__ import annotations

from collections.abc import Iterable

from amc_manager.catalogue import CATALOGUE, Catalogue, Table

# Hidden column every generated table carries: an integer user key (NULL where no user is
# involved). The privacy engine counts distinct users with it; user SQL cannot name it because
# it is not in the catalogue.
USER_KEY_COLUMN = "__user_key"


def served_tables(extra: Iterable[Table] = ()) -> Catalogue:
    """AMC's catalogued tables, then `extra` (tables the sandbox's config lists)."""
    extra = tuple(extra)
    return CATALOGUE.with_tables(extra) if extra else CATALOGUE
