"""schedules, their slots and runs (issue 11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Nothing to undo yet."""
