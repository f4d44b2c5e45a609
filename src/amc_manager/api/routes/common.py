"""What route modules share: the API prefix and the problems each kind of route documents."""

from __future__ import annotations

from amc_manager.api.problems import documented

__all__ = ["AMC_READ", "LIST", "PREFIX", "READ", "READ_ONE", "WRITE", "documented"]

PREFIX = "/api/v1"

READ = documented(401, 422, 500)
READ_ONE = documented(401, 404, 422, 500)
LIST = documented(400, 401, 404, 422, 500)
WRITE = documented(400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503)
AMC_READ = documented(400, 401, 404, 409, 422, 500, 502, 503)
