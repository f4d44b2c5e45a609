"""Plain values the store hands out: instances, workflows and executions as read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amc_manager.client.identity import AccountRef, InstanceRef, Region

ACTIVE_STATES = ("submitting", "pending", "running")
OPEN_STATES = ("queued", "submitting", "pending", "running", "downloading")
TERMINAL_STATES = ("succeeded", "failed", "cancelled", "rejected")


@dataclass(frozen=True)
class InstanceRow:
    """An AMC instance as stored: internal id beside AMC's, with its account."""

    id: str
    instance_id: str
    name: str | None
    api_endpoint: str | None
    account_pk: str
    entity_id: str
    marketplace_id: str
    region: str
    user_id: str

    def ref(self) -> InstanceRef:
        account = AccountRef(self.entity_id, self.marketplace_id, Region(self.region))
        return InstanceRef(self.instance_id, account, self.api_endpoint)

    @classmethod
    def from_row(cls, row: Any) -> InstanceRow:
        m = row._mapping
        return cls(
            id=m["id"],
            instance_id=m["instance_id"],
            name=m["name"],
            api_endpoint=m["api_endpoint"],
            account_pk=m["account_id"],
            entity_id=m["entity_id"],
            marketplace_id=m["marketplace_id"],
            region=m["region"],
            user_id=m["user_id"],
        )


@dataclass(frozen=True)
class ExecutionRow:
    """One row of `workflow_executions` (see schema.py for the meaning of each field)."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @classmethod
    def from_row(cls, row: Any) -> ExecutionRow:
        return cls(dict(row._mapping))

    @property
    def terminal(self) -> bool:
        return self.values["state"] in TERMINAL_STATES
