"""Synthetic AMC sandbox basics: data config, stable hashing, geography and the user pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]
Bools = npt.NDArray[np.bool_]

_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class DataConfig:
    """Size and behaviour of the synthetic data; the same config always gives the same rows."""

    seed: int = 20240601
    users: int = 60_000
    advertisers: int = 4
    campaigns: int = 20
    asins: int = 200
    postal_codes: int = 1_500
    dsp_impressions_per_day: int = 40_000
    sponsored_ads_events_per_day: int = 30_000
    organic_conversions_per_day: int = 1_500
    # Share of the pool that DSP can reach and share that shops (sees sponsored ads); drawn
    # independently, so about `dsp_reach * sponsored_ads_share` of users are on both sides.
    dsp_reach: float = 0.5
    sponsored_ads_share: float = 0.5
    dsp_click_rate: float = 0.008
    sponsored_ads_click_rate: float = 0.03
    dsp_view_conversion_rate: float = 0.003
    dsp_click_conversion_rate: float = 0.05
    sponsored_ads_view_conversion_rate: float = 0.001
    sponsored_ads_click_conversion_rate: float = 0.1
    # Generated days kept per instance (per kind family); bounds memory, not correctness.
    cache_days: int = 64

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError("seed must be >= 0")
        if min(self.users, self.advertisers, self.asins, self.postal_codes) < 1:
            raise ValueError("users, advertisers, asins and postal_codes must be >= 1")
        if self.campaigns < 2 * self.advertisers:
            raise ValueError("campaigns must be >= 2 * advertisers (one DSP, one sponsored each)")
        if self.postal_codes > 100 * len(CITIES):
            raise ValueError(f"postal_codes must be <= {100 * len(CITIES)}")
        if self.cache_days < 1:
            raise ValueError("cache_days must be >= 1")


class Salt(IntEnum):
    """Independent hash streams, one per generated attribute (values are part of the data)."""

    USER_ID_A = 1
    USER_ID_B = 2
    POSTAL = 3
    DEVICE = 4
    OS = 5
    LIKES = 6
    DSP = 7
    SHOPPER = 8
    ACTIVITY = 9
    DEVICE_ID = 10
    ROW_ID_A = 11
    ROW_ID_B = 12
    ENTITY = 13


def _mix(x: U64) -> U64:
    """splitmix64 finaliser: a well-spread bijection on 64-bit words (arrays wrap silently)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hash64(seed: int, salt: int, keys: npt.ArrayLike) -> U64:
    """A stable 64-bit hash of (seed, salt, key) per key; unlike hash(), equal in every process."""
    stream = np.array([(seed * 0x100000001B3 + salt * 0x9E3779B97F4A7C15) & _MASK64], np.uint64)
    k = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    return _mix(_mix(k * np.uint64(0x9E3779B97F4A7C15) + _mix(stream)))


def unit(h: U64) -> F64:
    """Uniform floats in [0, 1) from hashes (the top 53 bits)."""
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def hex_strings(parts: Sequence[U64]) -> pa.StringArray:
    """Opaque fixed-width hex ids, built straight into an Arrow buffer (no per-row Python)."""
    n = len(parts[0])
    width = 16 * len(parts)
    text = np.stack(parts, axis=1).astype(">u8").tobytes().hex().encode("ascii")
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(text)]
    array = pa.Array.from_buffers(pa.string(), n, buffers)
    assert isinstance(array, pa.StringArray)
    return array


@dataclass(frozen=True)
class Ragged:
    """Groups of item ids (e.g. the ASINs of each advertiser), picked from vectorised."""

    start: I64
    count: I64
    items: I64

    @classmethod
    def of(cls, group_of_item: npt.ArrayLike, groups: int) -> Ragged:
        owner = np.asarray(group_of_item, dtype=np.int64)
        count = np.bincount(owner, minlength=groups).astype(np.int64)
        items = np.argsort(owner, kind="stable").astype(np.int64)
        return cls(np.cumsum(count) - count, count, items)

    def pick(self, group: I64, u: F64) -> I64:
        """The item at fraction u of each group's list (u**k skews towards the first items)."""
        count = self.count[group]
        offset = np.minimum((u * count).astype(np.int64), count - 1)
        return self.items[self.start[group] + offset]


def weighted_pick(cdf: F64, u: F64) -> I64:
    """Indices drawn from a normalised cumulative weight array by inverse transform."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int64)


def cdf_of(weights: npt.ArrayLike) -> F64:
    w = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf: F64 = w / w[-1]
    return cdf


# (city, state, DMA code, 3-digit ZIP prefix): postal codes are made from the prefix so that
# city, state and DMA always agree with the postal code.
CITIES: tuple[tuple[str, str, str, str], ...] = (
    ("New York", "NY", "501", "100"),
    ("Los Angeles", "CA", "803", "900"),
    ("Chicago", "IL", "602", "606"),
    ("Philadelphia", "PA", "504", "191"),
    ("Dallas", "TX", "623", "752"),
    ("San Francisco", "CA", "807", "941"),
    ("Washington", "DC", "511", "200"),
    ("Houston", "TX", "618", "770"),
    ("Boston", "MA", "506", "021"),
    ("Atlanta", "GA", "524", "303"),
    ("Phoenix", "AZ", "753", "850"),
    ("Seattle", "WA", "819", "981"),
    ("Detroit", "MI", "505", "482"),
    ("Tampa", "FL", "539", "336"),
    ("Minneapolis", "MN", "613", "554"),
    ("Denver", "CO", "751", "802"),
    ("Miami", "FL", "528", "331"),
    ("Orlando", "FL", "534", "328"),
    ("Cleveland", "OH", "510", "441"),
    ("Sacramento", "CA", "862", "958"),
    ("Charlotte", "NC", "517", "282"),
    ("Portland", "OR", "820", "972"),
    ("St. Louis", "MO", "609", "631"),
    ("Pittsburgh", "PA", "508", "152"),
    ("Raleigh", "NC", "560", "276"),
    ("Baltimore", "MD", "512", "212"),
    ("Nashville", "TN", "659", "372"),
    ("San Diego", "CA", "825", "921"),
    ("Salt Lake City", "UT", "770", "841"),
    ("Kansas City", "MO", "616", "641"),
    ("Columbus", "OH", "535", "432"),
    ("Milwaukee", "WI", "617", "532"),
    ("Cincinnati", "OH", "515", "452"),
    ("San Antonio", "TX", "641", "782"),
    ("Austin", "TX", "635", "787"),
    ("Las Vegas", "NV", "839", "891"),
    ("Indianapolis", "IN", "527", "462"),
)

# Zipf-like popularity 1/(rank + offset): the head postal codes hold hundreds of daily users,
# the long tail only a handful, which is what makes HIGH-threshold postal queries interesting.
_ZIPF_OFFSET = 6.0


@dataclass(frozen=True)
class Geography:
    """Postal codes with their city, state and DMA, and how popular each is."""

    postal_code: pa.StringArray
    city_name: pa.StringArray
    state: pa.StringArray
    dma_code: pa.StringArray
    cdf: F64

    @classmethod
    def build(cls, count: int) -> Geography:
        k = np.arange(count)
        city = k % len(CITIES)
        # 37 is coprime to 100, so the two-digit suffixes of one city never repeat.
        suffix = (k // len(CITIES) * 37 + 11) % 100
        rows = [CITIES[c] for c in city]
        codes = [f"{r[3]}{s:02d}" for r, s in zip(rows, suffix, strict=True)]
        return cls(
            postal_code=pa.array(codes, pa.string()),
            city_name=pa.array([r[0] for r in rows], pa.string()),
            state=pa.array([f"US-{r[1]}" for r in rows], pa.string()),  # ISO 3166-2
            dma_code=pa.array([r[2] for r in rows], pa.string()),
            cdf=cdf_of(1.0 / (k + _ZIPF_OFFSET)),
        )


DEVICE_TYPES = ("Desktop", "Phone", "Tablet", "TV", "Other")
DEVICE_CDF = cdf_of([0.30, 0.45, 0.10, 0.10, 0.05])
OPERATING_SYSTEMS = (
    "Windows",
    "macOS",
    "Linux",
    "iOS",
    "Android",
    "iPadOS",
    "Fire OS",
    "Fire TV OS",
    "Roku OS",
    "tvOS",
    "Tizen",
    "Other",
)
# The operating systems each device type runs (indices into OPERATING_SYSTEMS).
OS_BY_DEVICE = Ragged(
    start=np.array([0, 3, 5, 8, 12], np.int64),
    count=np.array([3, 2, 3, 4, 1], np.int64),
    items=np.array([0, 1, 2, 3, 4, 5, 4, 6, 7, 8, 9, 10, 11], np.int64),
)


@dataclass(frozen=True)
class Users:
    """The stable user pool; every attribute of user i is a pure function of (seed, i)."""

    seed: int
    postal: I64
    device: I64
    os: I64
    likes: Bools  # (users, advertisers): advertisers the user is drawn to
    dsp: Bools
    shopper: Bools
    activity: F64  # relative event rate; heavy users make daily distinct users < events

    @classmethod
    def build(cls, config: DataConfig, geography: Geography) -> Users:
        s, i = config.seed, np.arange(config.users, dtype=np.int64)
        device = weighted_pick(DEVICE_CDF, unit(hash64(s, Salt.DEVICE, i)))
        return cls(
            seed=s,
            postal=weighted_pick(geography.cdf, unit(hash64(s, Salt.POSTAL, i))),
            device=device,
            os=OS_BY_DEVICE.pick(device, unit(hash64(s, Salt.OS, i))),
            likes=_likes(s, i, config.advertisers),
            dsp=unit(hash64(s, Salt.DSP, i)) < config.dsp_reach,
            shopper=unit(hash64(s, Salt.SHOPPER, i)) < config.sponsored_ads_share,
            activity=-np.log1p(-unit(hash64(s, Salt.ACTIVITY, i))) + 0.02,
        )

    def sampler(self, among: Bools) -> UserSampler:
        members = np.flatnonzero(among).astype(np.int64)
        return UserSampler(members, cdf_of(self.activity[members]))

    def user_ids(self) -> pa.StringArray:
        """Opaque 32-hex-digit user ids, one per user index."""
        i = np.arange(len(self.postal), dtype=np.int64)
        return hex_strings(
            [hash64(self.seed, Salt.USER_ID_A, i), hash64(self.seed, Salt.USER_ID_B, i)]
        )


def _likes(seed: int, users: I64, advertisers: int) -> Bools:
    """Each user likes each advertiser with probability 0.35, and at least one of them."""
    keys = users[:, None] * advertisers + np.arange(advertisers)[None, :]
    likes = unit(hash64(seed, Salt.LIKES, keys)) < 0.35
    fallback = (hash64(seed, Salt.LIKES, -1 - users) % np.uint64(advertisers)).astype(np.int64)
    likes[np.arange(len(users)), fallback] |= ~likes.any(axis=1)
    return likes


@dataclass(frozen=True)
class UserSampler:
    """Draws users of one audience in proportion to their activity."""

    members: I64
    cdf: F64

    def draw(self, u: F64) -> I64:
        return self.members[weighted_pick(self.cdf, u)]
