"""The one typed value that builds AMC URLs and headers: instance, account, marketplace, region.

An internal id (a UUID from our store) cannot become an `InstanceRef`, so it can never reach a
URL: AMC would answer 403 (lessons.md, defect 1).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from amc_manager.client.errors import InvalidIdentity

INSTANCE_ID = re.compile(r"^amc[a-z0-9]{6,16}$")
ACCOUNT_ID = re.compile(r"^[A-Za-z0-9]{8,40}$")
MARKETPLACE_ID = re.compile(r"^[A-Z0-9]{8,20}$")


class Region(StrEnum):
    NA = "NA"
    EU = "EU"
    FE = "FE"


@dataclass(frozen=True)
class RegionHosts:
    api: str
    lwa_token: str
    lwa_auth: str


REGION_HOSTS = {
    Region.NA: RegionHosts(
        "https://advertising-api.amazon.com",
        "https://api.amazon.com/auth/o2/token",
        "https://www.amazon.com/ap/oa",
    ),
    Region.EU: RegionHosts(
        "https://advertising-api-eu.amazon.com",
        "https://api.amazon.co.uk/auth/o2/token",
        "https://eu.account.amazon.com/ap/oa",
    ),
    Region.FE: RegionHosts(
        "https://advertising-api-fe.amazon.com",
        "https://api.amazon.co.jp/auth/o2/token",
        "https://apac.account.amazon.com/ap/oa",
    ),
}


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _region(value: str | Region) -> Region:
    try:
        return Region(str(value).upper())
    except ValueError:
        raise InvalidIdentity(f"unknown region {value!r}: use NA, EU or FE") from None


@dataclass(frozen=True)
class AccountRef:
    """An AMC account: its entity id (sent as AdvertiserId), marketplace and region."""

    account_id: str
    marketplace_id: str
    region: Region = Region.NA

    def __post_init__(self) -> None:
        if _looks_like_uuid(self.account_id) or not ACCOUNT_ID.match(self.account_id):
            raise InvalidIdentity(
                f"{self.account_id!r} is not an AMC account (entity) id",
                remedy="Use the AMC account's ENTITY… id from `GET /amc/accounts`, never a "
                "profile id or an internal id.",
            )
        if not MARKETPLACE_ID.match(self.marketplace_id):
            raise InvalidIdentity(f"{self.marketplace_id!r} is not a marketplace id")
        object.__setattr__(self, "region", _region(self.region))

    def headers(self) -> dict[str, str]:
        return {
            "Amazon-Advertising-API-AdvertiserId": self.account_id,
            "Amazon-Advertising-API-MarketplaceId": self.marketplace_id,
        }


@dataclass(frozen=True)
class InstanceRef:
    """An AMC instance as AMC knows it; the only way the client builds reporting URLs."""

    instance_id: str
    account: AccountRef
    api_endpoint: str | None = None

    def __post_init__(self) -> None:
        if _looks_like_uuid(self.instance_id):
            raise InvalidIdentity(
                f"{self.instance_id!r} is an internal id, not an AMC instance id",
                remedy="Resolve it to the AMC instance id (amc + letters/digits) first, e.g. "
                "with `amc instances list`.",
            )
        if not INSTANCE_ID.match(self.instance_id):
            raise InvalidIdentity(f"{self.instance_id!r} is not an AMC instance id")

    @property
    def region(self) -> Region:
        return self.account.region

    def reporting_path(self, *parts: str) -> str:
        tail = "/".join(quote(p, safe="") for p in parts)
        base = f"/amc/reporting/{self.instance_id}"
        return f"{base}/{tail}" if tail else base

    def headers(self) -> dict[str, str]:
        return self.account.headers()


def api_base(instance: InstanceRef | None, region: Region, override: str | None) -> str:
    """`AMC_API_BASE_URL` if set, else the instance's apiEndpoint, else its region's host."""
    if override:
        return override.rstrip("/")
    if instance is not None and instance.api_endpoint:
        return instance.api_endpoint.rstrip("/")
    return REGION_HOSTS[region].api


def lwa_token_url(region: Region, override: str | None) -> str:
    return override or REGION_HOSTS[region].lwa_token


def lwa_auth_url(region: Region, override: str | None) -> str:
    return override or REGION_HOSTS[region].lwa_auth
