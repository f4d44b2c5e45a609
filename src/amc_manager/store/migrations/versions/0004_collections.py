"""collections and their cells (issue 11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 07:10:00.000000

A collection runs one saved workflow over windows x instances; each cell points at the
execution that stands for it, and executions carry the collection they belong to (admission
shares an instance's slots fairly by it). Workers stamp `collection_sweeps` each pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("collection_id", sa.String(length=36), nullable=True))
        batch_op.create_index("ix_executions_collection", ["collection_id"], unique=False)
    _collections()
    _cells()


def _collections() -> None:
    op.create_table(
        "collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("sql_hash", sa.String(length=64), nullable=True),
        sa.Column("every", sa.String(length=16), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.String(length=19), nullable=False),
        sa.Column("window_end", sa.String(length=19), nullable=False),
        sa.Column("parameter_values", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("notify_url", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("ended_state", sa.String(length=16), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("notify_claimed_until", sa.Float(), nullable=True),
        sa.Column("notified_at", sa.Float(), nullable=True),
        sa.Column("notify_delivered", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_collections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
    )
    op.create_index("ix_collections_created", "collections", ["created_at", "id"], unique=False)
    op.create_index("ix_collections_unsettled", "collections", ["ended_state"], unique=False)


def _cells() -> None:
    op.create_table(
        "collection_cells",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("window_index", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("window_start", sa.String(length=19), nullable=False),
        sa.Column("window_end", sa.String(length=19), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_cells_collection_id_collections"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["amc_instances.id"],
            name=op.f("fk_collection_cells_instance_id_amc_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["workflow_executions.id"],
            name=op.f("fk_collection_cells_execution_id_workflow_executions"),
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "window_index", "instance_id", name=op.f("pk_collection_cells")
        ),
    )
    op.create_index(
        "ix_collection_cells_execution", "collection_cells", ["execution_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_collection_cells_execution", table_name="collection_cells")
    op.drop_table("collection_cells")
    op.drop_index("ix_collections_unsettled", table_name="collections")
    op.drop_index("ix_collections_created", table_name="collections")
    op.drop_table("collections")
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.drop_index("ix_executions_collection")
        batch_op.drop_column("collection_id")
