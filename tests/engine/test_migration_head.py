"""The store's fast start-up check knows the same head revision as Alembic."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from amc_manager.store.store import MIGRATIONS, head_revision


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [head_revision()]
