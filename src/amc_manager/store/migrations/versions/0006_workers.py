"""the workers table: host, pid, version, heartbeat (issue 13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:10:00.000000

One row per worker process (`amc worker`, or `amc serve`'s own), keyed by the engine's lease
owner id, so `amc workers list` can count each worker's leases from the executions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("last_heartbeat", sa.Float(), nullable=False),
        sa.Column("heartbeat_seconds", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("stopped_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_index("ix_workers_state", "workers", ["state", "last_heartbeat"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_workers_state", table_name="workers")
    op.drop_table("workers")
