"""The sandbox's Login with Amazon identities and the AMC accounts and instances each one sees,
derived from the seed so every process agrees."""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MARKETPLACE_US = "ATVPDKIKX0DER"
DEFAULT_IDENTITY = 0
# The region of the bucket AMC writes results to (Administration spec: `s3BucketRegion`).
S3_BUCKET_REGION = "us-east-1"
_ALNUM_LOWER = string.ascii_lowercase + string.digits
_ALNUM_UPPER = string.ascii_uppercase + string.digits
_NAMES = ("Sandbox Brand Analytics", "Sandbox Agency Reporting", "Sandbox Media Lab")


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
            "s3BucketRegion": S3_BUCKET_REGION,
            "awsAccountId": "000000000000",
            "entities": ["NA"],
            "dataUploadAwsAccountId": "000000000000",
            "apiEndpoint": api_endpoint,
            "optionalDatasets": [],
            "advertiserTypes": ["SPONSORED_ADS", "DISPLAY"],
        }


@dataclass(frozen=True)
class Account:
    """One AMC account the sandbox serves, with its instances."""

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


def _instance_name(index: int, label: str, account_name: str) -> str:
    if label:
        return f"{account_name} Instance {index + 1}"
    return _NAMES[index] if index < len(_NAMES) else f"Sandbox Instance {index + 1}"


def build_account(
    seed: int,
    instances: int,
    *,
    label: str = "",
    account_id: str | None = None,
    name: str = "AMC Sandbox Account",
    marketplace_id: str = MARKETPLACE_US,
) -> Account:
    """The account for `seed`: the same ids in the embedded sandbox and `amc sandbox serve`.

    `label` tells the accounts of several identities apart; the default identity's is empty,
    which keeps the ids the default seed has always had."""
    built = tuple(
        Instance(
            instance_id="amc" + _pick(seed, f"{label}instance-{i}", _ALNUM_LOWER, 8),
            name=_instance_name(i, label, name),
        )
        for i in range(instances)
    )
    return Account(
        account_id=account_id or "ENTITY" + _pick(seed, f"{label}account", _ALNUM_UPPER, 13),
        name=name,
        marketplace_id=marketplace_id,
        instances=built,
    )


@dataclass(frozen=True)
class ExtraIdentity:
    """What the configuration says of one more identity (config.IdentityConfig, flattened)."""

    refresh_token: str
    shares_default: bool = False
    instances: int = 1
    account_id: str | None = None
    name: str | None = None
    marketplace_id: str = MARKETPLACE_US


class Directory:
    """Who sees what: identity 0 is the default refresh token's, 1.. the configured extras.

    An identity sees one account and its instances; another identity's instance answers 403,
    as AMC does for an instance the user has no access to."""

    def __init__(self, accounts: Sequence[Account], tokens: dict[str, int]) -> None:
        self.accounts = tuple(accounts)
        self._tokens = dict(tokens)
        self._owners = {i.instance_id: a for a in self.accounts for i in a.instances}

    @property
    def default(self) -> Account:
        return self.accounts[DEFAULT_IDENTITY]

    def identity_of(self, refresh_token: str) -> int:
        """The identity a refresh token stands for; tokens issued by consent are the default's."""
        return self._tokens.get(refresh_token, DEFAULT_IDENTITY)

    def account_of(self, identity: int) -> Account:
        if 0 <= identity < len(self.accounts):
            return self.accounts[identity]
        return self.default

    def owner(self, instance_id: str) -> Account | None:
        """The account an instance belongs to (None for an id no identity has)."""
        return self._owners.get(instance_id)

    def all_accounts(self) -> list[Account]:
        """Each distinct account once, the default's first."""
        seen: dict[str, Account] = {}
        for account in self.accounts:
            seen.setdefault(account.account_id, account)
        return list(seen.values())


def build_directory(
    seed: int, instances: int, default_token: str, extras: Sequence[ExtraIdentity]
) -> Directory:
    """The default identity's account (unchanged ids) plus one per extra identity."""
    default = build_account(seed, instances)
    accounts = [default]
    tokens = {default_token: DEFAULT_IDENTITY}
    for number, extra in enumerate(extras, start=1):
        tokens[extra.refresh_token] = number
        if extra.shares_default:
            accounts.append(default)
            continue
        accounts.append(
            build_account(
                seed,
                extra.instances,
                label=f"identity-{number}:",
                account_id=extra.account_id,
                name=extra.name or f"AMC Sandbox Account {number + 1}",
                marketplace_id=extra.marketplace_id,
            )
        )
    return Directory(accounts, tokens)
