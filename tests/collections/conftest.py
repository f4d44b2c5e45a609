"""Fixtures: the engine's stores (SQLite, and PostgreSQL when AMC_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

from tests.engine.conftest import clean_env, database_url, store

__all__ = ["clean_env", "database_url", "store"]
