"""the workers table: host, pid, version, heartbeat (issue 13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Nothing to undo yet."""
