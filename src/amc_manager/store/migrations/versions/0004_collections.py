"""collections and their cells (issue 11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Nothing to undo yet."""
