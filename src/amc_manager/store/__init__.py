"""The store: SQLAlchemy 2 over SQLite (embedded default) or PostgreSQL, Alembic migrations."""

from __future__ import annotations

from amc_manager.store.store import Store, StoreError, database_url_for

__all__ = ["Store", "StoreError", "database_url_for"]
