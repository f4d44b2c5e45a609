"""Amazon consent states and one-time sign-in links shared by processes (issue 10)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("binding", sa.String(length=200), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_consent_states")),
    )
    op.create_index("ix_consent_states_expires", "consent_states", ["expires_at"])
    op.create_table(
        "signin_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_signin_links")),
    )
    op.create_index("ix_signin_links_expires", "signin_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_signin_links_expires", table_name="signin_links")
    op.drop_table("signin_links")
    op.drop_index("ix_consent_states_expires", table_name="consent_states")
    op.drop_table("consent_states")
