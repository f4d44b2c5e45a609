"""The tables: users, tokens, AMC accounts, instances, access, workflows, executions, events,
audit, key fingerprints, collections and their cells."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("role", String(16), nullable=False, server_default="member"),  # admin | member
    Column("password_hash", String(200)),  # Argon2id; none: the user cannot sign in
    Column("disabled", Boolean, nullable=False, server_default=false()),
    # Bumped on sign-out-everywhere, password change and disable: older sessions end at once.
    Column("session_epoch", Integer, nullable=False, server_default="0"),
)

# API tokens for programs: only the SHA-256 of the token is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("name", String(200)),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("last_used_at", Float),
    Column("revoked_at", Float),
    Index("ix_api_tokens_user", "user_id"),
)

# Single-use secrets shared by every `amc serve` process (issue 10), kept as SHA-256 hashes and
# consumed by a conditional DELETE: Amazon consents under way (`state`) and one-time sign-in
# links.
consent_states = Table(
    "consent_states",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("binding", String(200), nullable=False),  # `session:...` or `token:...`
    Column("redirect_uri", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_consent_states_expires", "expires_at"),
)

signin_links = Table(
    "signin_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Index("ix_signin_links_expires", "expires_at"),
)

# Tokens are Fernet ciphertext; the database never holds one in the clear.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("client_id", String(200), nullable=False),
    Column("refresh_token", LargeBinary, nullable=False),
    Column("access_token", LargeBinary),
    Column("access_expires_at", Float),
    Column("updated_at", Float, nullable=False),
)

amc_accounts = Table(
    "amc_accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("entity_id", String(64), nullable=False),
    Column("marketplace_id", String(32), nullable=False),
    Column("region", String(2), nullable=False),
    Column("name", String(200)),
    # One row per real AMC account, whoever connected it (contracts.md).
    UniqueConstraint("entity_id", "marketplace_id", name="uq_amc_accounts_identity"),
)

amc_instances = Table(
    "amc_instances",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("amc_accounts.id"), nullable=False),
    Column("instance_id", String(32), nullable=False),
    Column("name", String(200)),
    Column("api_endpoint", String(300)),
    UniqueConstraint("instance_id", name="uq_amc_instances_identity"),
)

# A user connected an account: their own Amazon token reaches it (sync, `instances add`).
connections = Table(
    "connections",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("account_id", String(36), ForeignKey("amc_accounts.id"), primary_key=True),
    Column("created_at", Float, nullable=False),
    Index("ix_connections_account", "account_id", "created_at"),
)

# An admin let a user use an instance of an account the user did not connect.
grants = Table(
    "grants",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("instance_id", String(36), ForeignKey("amc_instances.id"), primary_key=True),
    Column("granted_by", String(36)),
    Column("created_at", Float, nullable=False),
)

workflows = Table(
    "workflows",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instance_id", String(36), ForeignKey("amc_instances.id"), nullable=False),
    Column("workflow_id", String(200), nullable=False),
    Column("sql", Text, nullable=False),
    Column("sql_hash", String(64), nullable=False),
    Column("input_parameters", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("instance_id", "workflow_id", name="uq_workflows_identity"),
)

workflow_executions = Table(
    "workflow_executions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("instance_id", String(36), ForeignKey("amc_instances.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("amc_status", String(16)),
    Column("amc_execution_id", String(64)),
    Column("workflow_id", String(200)),
    Column("adhoc", Boolean, nullable=False),
    Column("sql", Text),
    Column("sql_hash", String(64)),
    Column("input_parameters", JSON, nullable=False),
    Column("parameter_values", JSON, nullable=False),
    Column("time_window_type", String(20), nullable=False),
    Column("time_window_start", String(19)),
    Column("time_window_end", String(19)),
    Column("time_zone", String(64), nullable=False),
    Column("options", JSON, nullable=False),
    Column("nonce", String(32), nullable=False),
    Column("submit_started_at", Float),
    Column("submitted_at", Float),
    Column("lease_owner", String(64)),
    Column("lease_expires_at", Float),
    Column("next_check_at", Float, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("advice", Text),
    Column("row_count", Integer),
    Column("result_path", Text),
    Column("result_columns", JSON),
    Column("result_checksum", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("finished_at", Float),
    # Why a `failed` run failed (rows.FailureKind); front ends decide by it, never by `error`.
    Column("failure_kind", String(16)),
    # REST's Idempotency-Key: unique per user, so two concurrent requests cannot both create.
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64)),
    # The collection whose cell this run is (issue 11); admission shares slots fairly by it.
    Column("collection_id", String(36)),
    Index("ix_executions_work", "state", "next_check_at"),
    Index("ix_executions_instance_state", "instance_id", "state"),
    Index("ix_executions_created", "created_at", "id"),
    Index("ix_executions_idempotency", "user_id", "idempotency_key", unique=True),
    Index("ix_executions_collection", "collection_id"),
)

# Every change of an execution's state (or AMC's status), written with the change itself.
execution_events = Table(
    "execution_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("execution_id", String(36), ForeignKey("workflow_executions.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("amc_status", String(16)),
    Column("at", Float, nullable=False),
    Column("note", Text),
    Index("ix_execution_events_timeline", "execution_id", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("user_email", String(320), nullable=False),  # the acting user
    Column("token_owner", String(320)),  # whose Amazon token the AMC call used
    Column("instance_id", String(32)),
    Column("operation", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Integer),
    Column("attempt", Integer, nullable=False),
    Column("duration", Float, nullable=False),
    Column("error", String(200)),
    Column("target", String(200)),  # what a REST call acted on (an execution id, a user, ...)
    Index("ix_audit_log_at", "at", "id"),
)

# Result uploads under way: the temporary location an upload writes before it publishes the
# final file. A successor of a worker that died mid-upload, and `amc db prune`, remove the
# temporary (and abort its unfinished S3 multipart upload) from here. The final location of a
# result is `workflow_executions.result_path` (a path, or `s3://BUCKET/KEY`).
result_uploads = Table(
    "result_uploads",
    metadata,
    Column("location", String(1024), primary_key=True),
    Column("execution_id", String(36), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Index("ix_result_uploads_execution", "execution_id"),
    Index("ix_result_uploads_started", "started_at"),
)

# Retention (`amc db prune`) finds old results by when their execution finished.
Index("ix_executions_finished", workflow_executions.c.finished_at)

# One request budget per AMC instance for every process: reservations on a shared clock.
request_budget = Table(
    "request_budget",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("next_free", Float, nullable=False),
    Column("paused_until", Float, nullable=False),
    Column("rate", Float, nullable=False),
    Column("last_penalty", Float, nullable=False),
)

# Fingerprints (never the keys) of FERNET_KEY and AMC_SECRET_KEY: a process whose key does not
# match refuses to start. FERNET_KEY's are the keys that may have encrypted a stored token.
key_fingerprints = Table(
    "key_fingerprints",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("fingerprints", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Worker processes (migration 0006), keyed by the engine's lease owner id: each beats every
# `heartbeat_seconds`; one silent for several beats is `lost` and its leases are released.
workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", String(64), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_heartbeat", Float, nullable=False),
    Column("heartbeat_seconds", Float, nullable=False),
    Column("state", String(16), nullable=False),  # alive | lost | stopped
    Column("stopped_at", Float),
    Index("ix_workers_state", "state", "last_heartbeat"),
)

# Schedules (migration 0005): a saved workflow run on a cadence over a window relative to each
# slot. `next_at` is the next slot not yet decided (the scheduler's cursor).
schedules = Table(
    "schedules",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),  # the creator
    Column("instance_id", String(36), ForeignKey("amc_instances.id"), nullable=False),
    Column("name", String(200)),
    Column("workflow_id", String(200), nullable=False),
    Column("cron", String(200)),
    Column("every", String(40)),
    Column("at", String(5)),
    Column("time_zone", String(64), nullable=False),
    Column("window", String(40), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("pause_after", Integer),
    Column("notify_url", Text),
    Column("state", String(16), nullable=False),  # active | paused
    Column("paused_reason", Text),
    Column("next_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_schedules_due", "state", "next_at"),
)

# One row per decided slot (and per run-now): the unique (schedule, slot) key is what makes a
# slot fire once, whatever the number of workers and restarts.
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("schedule_id", String(36), ForeignKey("schedules.id"), nullable=False),
    Column("slot_key", String(64), nullable=False),  # slot:<epoch seconds> | now:<uuid>
    Column("fire_at", Float, nullable=False),
    Column("manual", Boolean, nullable=False),
    # firing (claimed) -> fired (execution made) -> succeeded|failed|cancelled|rejected;
    # skipped (missed by more than a day); failed also when no execution could be made.
    Column("status", String(16), nullable=False),
    Column("execution_id", String(36), ForeignKey("workflow_executions.id")),
    Column("window_start", String(19), nullable=False),
    Column("window_end", String(19), nullable=False),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("schedule_id", "slot_key", name="uq_schedule_runs_slot"),
    Index("ix_schedule_runs_history", "schedule_id", "fire_at"),
    Index("ix_schedule_runs_status", "status"),
)

# A collection (backfill or batch): one SQL or saved workflow over windows x instances. `state`
# is the user's intent (running, paused, cancelled); what users see is derived from the cells.
# `ended_state` is that derived state once final, recorded by a worker (notifications once).
collections = Table(
    "collections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("name", String(200)),
    Column("workflow_id", String(200), nullable=False),
    Column("source", String(300)),  # the SQL file it came from (None: --workflow)
    Column("sql_hash", String(64)),
    Column("every", String(16)),  # day | week:MON..SUN | month; None: one window
    Column("time_zone", String(64), nullable=False),
    Column("window_start", String(19), nullable=False),
    Column("window_end", String(19), nullable=False),
    Column("parameter_values", JSON, nullable=False),
    Column("options", JSON, nullable=False),
    Column("notify_url", Text),
    Column("state", String(16), nullable=False),
    Column("reason", Text),  # why it is paused (lost access) or cancelled
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("ended_state", String(16)),
    Column("ended_at", Float),
    Column("notify_claimed_until", Float),
    Column("notified_at", Float),
    Column("notify_delivered", Boolean),
    Index("ix_collections_created", "created_at", "id"),
    Index("ix_collections_unsettled", "ended_state"),
)

# One cell per (window, instance): the execution that currently stands for it (a retry points
# it at a new execution; the earlier ones keep their collection_id, as history).
collection_cells = Table(
    "collection_cells",
    metadata,
    Column("collection_id", String(36), ForeignKey("collections.id"), primary_key=True),
    Column("window_index", Integer, primary_key=True),
    Column("instance_id", String(36), ForeignKey("amc_instances.id"), primary_key=True),
    Column("window_start", String(19), nullable=False),
    Column("window_end", String(19), nullable=False),
    Column("execution_id", String(36), ForeignKey("workflow_executions.id"), nullable=False),
    Column("attempts", Integer, nullable=False),
    Index("ix_collection_cells_execution", "execution_id"),
)
