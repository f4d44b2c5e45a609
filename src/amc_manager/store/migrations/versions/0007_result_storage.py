"""where each result lives (folder or S3) and pending uploads (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Filled in by the change that adds these tables."""


def downgrade() -> None:
    """Nothing to undo yet."""
