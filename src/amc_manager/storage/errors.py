"""Result storage's errors: a location that cannot be read, written or reached.

AmcManagerError
└── StorageError              result storage failed (amc_manager/storage)
    └── ResultMissing         a stored result's file is not where the store says
"""

from __future__ import annotations

from amc_manager.errors import AmcManagerError


class StorageError(AmcManagerError):
    """Result storage could not be reached or refused an operation (exit 1)."""

    hint = "check AMC_RESULTS_URL, AMC_S3_ENDPOINT_URL and the AWS_* credentials"


class ResultMissing(StorageError):
    """A result file the store points at is gone (deleted by hand, or by retention)."""

    hint = "run the query again; AMC_RESULTS_RETENTION_DAYS deletes old result files"
