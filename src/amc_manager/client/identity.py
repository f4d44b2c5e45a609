"""The one typed value that builds AMC URLs and headers: instance, account, marketplace, region.

An internal id (a UUID from our store) cannot become an `InstanceRef`, so it can never reach a
URL: AMC would answer 403 (lessons.md, defect 1). The region picks the hosts (amc-api.md 1):
an account's region follows from its marketplace, and an instance's `apiEndpoint`, when AMC
gives one, names its host.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

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
    """A region's hosts: the Ads API base URL, the LwA token endpoint, the LwA consent page."""

    api: str
    lwa_token: str
    lwa_auth: str


RegionMap = Mapping[Region, RegionHosts]

REGION_HOSTS: RegionMap = {
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


# Amazon's marketplaces by Ads API region (amc-api.md 1; the Ads and SP-API marketplace tables).
MARKETPLACE_REGIONS: Mapping[str, Region] = {
    **dict.fromkeys(
        ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1AM78C64UM0Y8", "A2Q3Y263D00KWC"), Region.NA
    ),
    **dict.fromkeys(
        (
            "A1F83G8C2ARO7P",  # UK
            "A1PA6795UKMFR9",  # DE
            "A13V1IB3VIYZZH",  # FR
            "APJ6JRA9NG5V4",  # IT
            "A1RKKUPIHCS9HS",  # ES
            "A1805IZSGTT6HS",  # NL
            "A2NODRKZP88ZB9",  # SE
            "A1C3SOZRARQ6R3",  # PL
            "AMEN7PMS3EDWL",  # BE
            "A28R8C7NBKEWEA",  # IE
            "A33AVAJ2PDY3EV",  # TR
            "A2VIGQ35RCS4UG",  # AE
            "A17E79C6D8DWNP",  # SA
            "ARBP9OOSHTCHU",  # EG
            "AE08WJ6YKNBMC",  # ZA
            "A21TJRUUN4KGV",  # IN
        ),
        Region.EU,
    ),
    **dict.fromkeys(("A1VC38T7YXB528", "A39IBJ37TRP1C6", "A19VAU5U5O7RUS"), Region.FE),
}


def region_for_marketplace(marketplace_id: str) -> Region | None:
    """The Ads API region serving a marketplace; None for a marketplace this table lacks."""
    return MARKETPLACE_REGIONS.get(marketplace_id)


def region_for_endpoint(url: str | None, hosts: RegionMap = REGION_HOSTS) -> Region | None:
    """The region whose API host `url` is (an instance's `apiEndpoint`); None if no region's."""
    if not url:
        return None
    netloc = urlsplit(url).netloc.lower()
    for region, known in hosts.items():
        if urlsplit(known.api).netloc.lower() == netloc:
            return region
    return None


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
                hint="Use the AMC account's ENTITY… id from `GET /amc/accounts`, never a "
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
                hint="Resolve it to the AMC instance id (amc + letters/digits) first, e.g. "
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


def api_base(
    instance: InstanceRef | None,
    region: Region,
    override: str | None,
    hosts: RegionMap = REGION_HOSTS,
) -> str:
    """`AMC_API_BASE_URL` if set, else the instance's apiEndpoint, else its region's host."""
    if override:
        return override.rstrip("/")
    if instance is not None and instance.api_endpoint:
        return instance.api_endpoint.rstrip("/")
    return hosts[region].api.rstrip("/")


def lwa_token_url(region: Region, override: str | None, hosts: RegionMap = REGION_HOSTS) -> str:
    """`AMC_LWA_TOKEN_URL` if set, else the region's Login with Amazon token endpoint."""
    return override or hosts[region].lwa_token


def lwa_auth_url(region: Region, override: str | None, hosts: RegionMap = REGION_HOSTS) -> str:
    """`AMC_LWA_AUTH_URL` if set, else the region's Login with Amazon consent page."""
    return override or hosts[region].lwa_auth
