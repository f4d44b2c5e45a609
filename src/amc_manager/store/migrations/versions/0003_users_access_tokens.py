"""one account one row; users' roles, passwords and sessions; connections, grants, API tokens;
key fingerprints; the audit's token owner; idempotency keys

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 09:00:00.000000

Accounts and instances were stored once per user who registered them; they become unique by
AMC's ids. Duplicates are merged into one row (the smallest id of each group), and every
execution, saved workflow and user is re-pointed at it: each user who had a copy of an
account gets a `connections` row (dated when the user was created, the best the old shape
knows). Of two saved workflows with one id on the merged instance, the newer is kept.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _users()
    _new_tables()
    _merge_duplicates(op.get_bind())
    _accounts_and_instances_by_amc_ids()
    _executions()
    _audit()


def _users() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), nullable=False, server_default="member")
        )
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )


def _new_tables() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("last_used_at", sa.Float(), nullable=True),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "connections",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["amc_accounts.id"], name=op.f("fk_connections_account_id_amc_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_connections_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "account_id", name=op.f("pk_connections")),
    )
    op.create_index(
        "ix_connections_account", "connections", ["account_id", "created_at"], unique=False
    )
    op.create_table(
        "grants",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("granted_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["amc_instances.id"], name=op.f("fk_grants_instance_id_amc_instances")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_grants_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "instance_id", name=op.f("pk_grants")),
    )
    op.create_table(
        "key_fingerprints",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("fingerprints", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_key_fingerprints")),
    )


def _merge_duplicates(conn: sa.Connection) -> None:
    """One row per AMC account (entity id + marketplace) and per AMC instance id; users who
    had a copy become connections of the merged account."""
    created = {
        r.id: float(r.created_at) for r in conn.execute(sa.text("SELECT id, created_at FROM users"))
    }
    accounts = conn.execute(
        sa.text("SELECT id, user_id, entity_id, marketplace_id FROM amc_accounts ORDER BY id")
    ).all()
    keep_account: dict[tuple[str, str], str] = {}
    account_of: dict[str, str] = {}
    for row in accounts:
        account_of[row.id] = keep_account.setdefault((row.entity_id, row.marketplace_id), row.id)
    linked: dict[tuple[str, str], float] = {}
    for row in accounts:
        key = (row.user_id, account_of[row.id])
        linked[key] = min(
            linked.get(key, created.get(row.user_id, 0.0)), created.get(row.user_id, 0.0)
        )
    connections = sa.table(
        "connections", sa.column("user_id"), sa.column("account_id"), sa.column("created_at")
    )
    if linked:
        conn.execute(
            connections.insert(),
            [{"user_id": u, "account_id": a, "created_at": at} for (u, a), at in linked.items()],
        )
    instances = conn.execute(
        sa.text("SELECT id, account_id, instance_id FROM amc_instances ORDER BY id")
    ).all()
    keep_instance: dict[str, str] = {}
    instance_of: dict[str, str] = {}
    for row in instances:
        instance_of[row.id] = keep_instance.setdefault(row.instance_id, row.id)
    for row in instances:
        params = {"old": row.id, "new": instance_of[row.id]}
        if params["old"] != params["new"]:
            conn.execute(
                sa.text(
                    "UPDATE workflow_executions SET instance_id = :new WHERE instance_id = :old"
                ),
                params,
            )
    _merge_workflows(conn, instance_of)
    for row in instances:  # first the copies, so no move below meets one
        if instance_of[row.id] != row.id:
            conn.execute(sa.text("DELETE FROM amc_instances WHERE id = :id"), {"id": row.id})
    for row in instances:
        if instance_of[row.id] == row.id and account_of[row.account_id] != row.account_id:
            conn.execute(
                sa.text("UPDATE amc_instances SET account_id = :new WHERE id = :id"),
                {"new": account_of[row.account_id], "id": row.id},
            )
    for row in accounts:
        if account_of[row.id] != row.id:
            conn.execute(sa.text("DELETE FROM amc_accounts WHERE id = :id"), {"id": row.id})


def _merge_workflows(conn: sa.Connection, instance_of: dict[str, str]) -> None:
    """Saved workflows follow their instance; of two with one id, the newer stays."""
    rows = conn.execute(
        sa.text("SELECT id, instance_id, workflow_id, updated_at FROM workflows")
    ).all()
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(instance_of.get(row.instance_id, row.instance_id), row.workflow_id)].append(row)
    for (instance, _), group in groups.items():
        group.sort(key=lambda r: (float(r.updated_at), r.id), reverse=True)
        kept, *older = group
        for row in older:
            conn.execute(sa.text("DELETE FROM workflows WHERE id = :id"), {"id": row.id})
        if kept.instance_id != instance:
            conn.execute(
                sa.text("UPDATE workflows SET instance_id = :new WHERE id = :id"),
                {"new": instance, "id": kept.id},
            )


def _accounts_and_instances_by_amc_ids() -> None:
    with op.batch_alter_table("amc_accounts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_amc_accounts_identity", type_="unique")
        batch_op.drop_constraint("fk_amc_accounts_user_id_users", type_="foreignkey")
        batch_op.drop_column("user_id")
        batch_op.create_unique_constraint(
            "uq_amc_accounts_identity", ["entity_id", "marketplace_id"]
        )
    with op.batch_alter_table("amc_instances", schema=None) as batch_op:
        batch_op.drop_constraint("uq_amc_instances_identity", type_="unique")
        batch_op.create_unique_constraint("uq_amc_instances_identity", ["instance_id"])


def _executions() -> None:
    with op.batch_alter_table("workflow_executions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_executions_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_executions_idempotency", ["user_id", "idempotency_key"], unique=True
        )


def _audit() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_owner", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("target", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_audit_log_at", ["at", "id"], unique=False)
    # Until now every AMC call used the acting user's own token.
    op.execute("UPDATE audit_log SET token_owner = user_email")


def downgrade() -> None:
    raise NotImplementedError(
        "0003 merged duplicated accounts and instances; restore a backup to go back"
    )
