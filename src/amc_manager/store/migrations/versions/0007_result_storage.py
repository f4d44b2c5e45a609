"""where each result lives (folder or S3) and pending uploads (issue 13)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 07:10:00.000000

`workflow_executions.result_path` keeps each result's full location: an absolute path, as
before, or `s3://BUCKET/KEY`; results kept before a switch of AMC_RESULTS_URL stay where they
are. New: `result_uploads`, the temporaries of uploads under way (cleaned by a successor of a
worker that died mid-upload and by `amc db prune`), and an index on `finished_at` for
retention.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_uploads",
        sa.Column("location", sa.String(length=1024), nullable=False),
        sa.Column("execution_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("location", name=op.f("pk_result_uploads")),
    )
    op.create_index("ix_result_uploads_execution", "result_uploads", ["execution_id"], unique=False)
    op.create_index("ix_result_uploads_started", "result_uploads", ["started_at"], unique=False)
    op.create_index("ix_executions_finished", "workflow_executions", ["finished_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_executions_finished", table_name="workflow_executions")
    op.drop_index("ix_result_uploads_started", table_name="result_uploads")
    op.drop_index("ix_result_uploads_execution", table_name="result_uploads")
    op.drop_table("result_uploads")
