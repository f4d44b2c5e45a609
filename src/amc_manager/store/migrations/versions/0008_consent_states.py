"""Amazon consent states and one-time sign-in links shared by processes (issue 10)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Nothing to undo yet."""
