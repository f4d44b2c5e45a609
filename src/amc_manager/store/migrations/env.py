"""Alembic environment: migrations run on a connection the store hands over."""

from __future__ import annotations

from alembic import context

from amc_manager.store.schema import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `amc db upgrade` (Store.upgrade)")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
