"""The sandbox's AMC account and instances, derived from the seed so every process agrees."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Any

MARKETPLACE_US = "ATVPDKIKX0DER"
_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM_UPPER = string.ascii_uppercase + string.digits


def _pick(seed: int, label: str, alphabet: str, length: int) -> str:
    digest = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


@dataclass(frozen=True)
class Instance:
    """One AMC instance as `GET /amc/instances` describes it."""

    instance_id: str
    name: str

    def as_json(self, *, creation: str, api_endpoint: str) -> dict[str, Any]:
        return {
            "instanceId": self.instance_id,
            "instanceName": self.name,
            "instanceType": "STANDARD",
            "customerCanonicalName": self.name.lower().replace(" ", "-"),
            "creationStatus": "COMPLETED",
            "creationDatetime": creation,
            "s3BucketName": f"amc-{self.instance_id}-results",
            "awsAccountId": "000000000000",
            "entities": ["NA"],
            "dataUploadAwsAccountId": "000000000000",
            "apiEndpoint": api_endpoint,
            "optionalDatasets": [],
            "advertiserTypes": ["SPONSORED_ADS", "DISPLAY"],
        }


@dataclass(frozen=True)
class Account:
    """The one AMC account the sandbox serves, with its instances."""

    account_id: str
    name: str
    marketplace_id: str
    instances: tuple[Instance, ...]

    def instance(self, instance_id: str) -> Instance | None:
        for inst in self.instances:
            if inst.instance_id == instance_id:
                return inst
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "accountName": self.name,
            "marketplaceId": self.marketplace_id,
        }


def build_account(seed: int, instances: int) -> Account:
    """The account for `seed`: the same ids in the embedded sandbox and `amc sandbox serve`."""
    names = ["Sandbox Brand Analytics", "Sandbox Agency Reporting", "Sandbox Media Lab"]
    built = tuple(
        Instance(
            instance_id="amc" + _pick(seed, f"instance-{i}", _ALNUM_LOWER, 8),
            name=names[i] if i < len(names) else f"Sandbox Instance {i + 1}",
        )
        for i in range(instances)
    )
    return Account(
        account_id="ENTITY" + _pick(seed, "account", _ALNUM_UPPER, 13),
        name="AMC Sandbox Account",
        marketplace_id=MARKETPLACE_US,
        instances=built,
    )
