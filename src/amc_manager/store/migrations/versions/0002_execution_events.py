"""execution events and failure kind

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "execution_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amc_status", sa.String(length=16), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_execution_events_execution_id_workflow_executions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_events")),
    )
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.create_index("ix_execution_events_timeline", ["execution_id", "at"], unique=False)
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_kind", sa.String(length=16), nullable=True))
    # Executions made before the timeline existed get what is known: queued, and where they are.
    op.execute(
        "INSERT INTO execution_events (execution_id, state, amc_status, at, note) "
        "SELECT id, 'queued', NULL, created_at, NULL FROM workflow_executions"
    )
    op.execute(
        "INSERT INTO execution_events (execution_id, state, amc_status, at, note) "
        "SELECT id, state, amc_status, updated_at, NULL FROM workflow_executions "
        "WHERE state <> 'queued'"
    )


def downgrade() -> None:
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_column("failure_kind")
    with op.batch_alter_table("execution_events", schema=None) as batch_op:
        batch_op.drop_index("ix_execution_events_timeline")
    op.drop_table("execution_events")
