"""The REST API (`amc serve`): a FastAPI app over the application layer (amc_manager.service).

Routes parse, call one use case and shape the answer; they hold no SQL and call no AMC.
"""

from __future__ import annotations

from amc_manager.api.app import create_app

__all__ = ["create_app"]
