"""Synthetic AMC sandbox entities: advertisers, campaigns, line items, ASINs, segments, ..."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pyarrow as pa

from amc_manager.sandbox.population import (
    F64,
    I64,
    Bools,
    DataConfig,
    Ragged,
    Salt,
    hash64,
    unit,
)


class Kind(IntEnum):
    """Campaign kinds: one DSP kind and the sponsored-ads products."""

    DSP = 0
    SP = 1
    SB = 2
    SD = 3


AD_PRODUCT_TYPES = (None, "sponsored_products", "sponsored_brands", "sponsored_display")
_SUFFIX = ("DSP", "SP", "SB", "SD")
# Kind of the n-th campaign of an advertiser: every advertiser gets DSP and sponsored ads.
_KIND_CYCLE = (Kind.DSP, Kind.SP, Kind.DSP, Kind.SB, Kind.SD, Kind.SP, Kind.DSP, Kind.SB)

# (name, time zone, product nouns); advertisers past the list get generic names.
_ADVERTISERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Acme", "America/New_York", ("blender", "toaster", "kettle", "coffee grinder", "air fryer")),
    ("Borealis Home", "America/Chicago", ("throw blanket", "pillow", "duvet", "area rug", "lamp")),
    ("Cascade Outdoors", "America/Denver", ("tent", "backpack", "sleeping bag", "hiking boots")),
    ("Dynamo Electronics", "America/Los_Angeles", ("headphones", "charger", "speaker", "webcam")),
    ("Evergreen Pet", "America/New_York", ("dog food", "cat litter", "chew toy", "pet bed")),
    ("Fjord Apparel", "America/Los_Angeles", ("rain jacket", "wool socks", "fleece", "beanie")),
)
_THEMES = (
    "Spring Sale",
    "Always On",
    "Holiday Push",
    "Brand Awareness",
    "Prime Day",
    "New Arrivals",
    "Back to School",
    "Summer Clearance",
)
_AUDIENCES = ("In-market", "Lifestyle", "Remarketing")
_FORMATS = (
    ("300x250", "Display"),
    ("728x90", "Display"),
    ("15s", "Video"),
    ("30s", "Streaming TV"),
)
_SD_GROUPS = (
    ("Views remarketing", "views=(exact-product lookback=30)"),
    ("Similar products", "purchases=(similar-product lookback=60)"),
)
_ASIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

SUPPLY_SOURCES = (
    "Amazon O&O",
    "Amazon Publisher Services",
    "Third-party exchange",
    "Fire TV",
    "Twitch",
    "IMDb",
)
# Supply sources per device type (indices into SUPPLY_SOURCES): TV inventory is streaming.
SUPPLY_BY_DEVICE = Ragged(
    start=np.array([0, 5, 9, 12, 15], np.int64),
    count=np.array([5, 4, 3, 3, 1], np.int64),
    items=np.array([0, 1, 2, 4, 5, 0, 1, 2, 5, 0, 2, 1, 3, 2, 4, 2], np.int64),
)
PLACEMENTS = ("Top of Search on-Amazon", "Detail Page on-Amazon", "Other on-Amazon", "Off Amazon")
# Placements per campaign kind (indices into PLACEMENTS); the DSP entry is never used.
PLACEMENT_BY_KIND = Ragged(
    start=np.array([0, 0, 3, 5], np.int64),
    count=np.array([1, 3, 2, 2], np.int64),
    items=np.array([0, 1, 2, 0, 2, 1, 3], np.int64),
)

# A sponsored-ads target: (ad group index, targeting text, match type, three search terms).
_Target = tuple[int, str, str | None, tuple[str | None, ...]]


def strings(values: Sequence[str | None]) -> pa.StringArray:
    array = pa.array(values, pa.string())
    assert isinstance(array, pa.StringArray)
    return array


def _ids(seed: int, family: int, count: int, digits: int) -> I64:
    """Stable numeric ids with `digits` digits for entity family `family`."""
    h = hash64(seed, Salt.ENTITY, family * 1_000_000 + np.arange(count))
    low = 10 ** (digits - 1)
    ids: I64 = (h % np.uint64(9 * low)).astype(np.int64) + low
    return ids


def _uniform(seed: int, family: int, count: int) -> F64:
    return unit(hash64(seed, Salt.ENTITY, family * 1_000_000 + np.arange(count)))


def _subset(group: I64, keep: Bools, groups: int) -> Ragged:
    """Ragged over the kept items only (the others go to a phantom group past the end)."""
    return Ragged.of(np.where(keep, group, groups), groups + 1)


@dataclass(frozen=True)
class Advertisers:
    names: tuple[str, ...]
    name: pa.StringArray
    id: I64
    timezone: pa.StringArray
    nouns: tuple[tuple[str, ...], ...]

    @classmethod
    def build(cls, config: DataConfig) -> Advertisers:
        rows = [
            _ADVERTISERS[a] if a < len(_ADVERTISERS) else (f"Brand {a + 1}", "UTC", ("gadget",))
            for a in range(config.advertisers)
        ]
        names = tuple(r[0] for r in rows)
        return cls(
            names=names,
            name=strings(names),
            id=_ids(config.seed, 1, len(rows), 10),
            timezone=strings([r[1] for r in rows]),
            nouns=tuple(r[2] for r in rows),
        )


@dataclass(frozen=True)
class Campaigns:
    names: tuple[str, ...]
    advertiser: I64
    kind: I64
    name: pa.StringArray
    id: I64
    id_string: pa.StringArray
    ad_product_type: pa.StringArray
    dsp_by_advertiser: Ragged
    sponsored_by_advertiser: Ragged

    @classmethod
    def build(cls, config: DataConfig, advertisers: Advertisers) -> Campaigns:
        c = np.arange(config.campaigns, dtype=np.int64)
        adv, nth = c % config.advertisers, c // config.advertisers
        kind = np.array([_KIND_CYCLE[n % len(_KIND_CYCLE)] for n in nth], np.int64)
        names = tuple(
            _campaign_name(advertisers.names[a], int(n), Kind(k))
            for a, n, k in zip(adv, nth, kind, strict=True)
        )
        # DSP and sponsored-ads ids look different in AMC (13 vs 15 digits).
        ids = np.where(
            kind == Kind.DSP, _ids(config.seed, 2, len(c), 13), _ids(config.seed, 3, len(c), 15)
        )
        return cls(
            names=names,
            advertiser=adv,
            kind=kind,
            name=strings(names),
            id=ids,
            id_string=strings([str(i) for i in ids]),
            ad_product_type=strings([AD_PRODUCT_TYPES[k] for k in kind]),
            dsp_by_advertiser=_subset(adv, kind == Kind.DSP, config.advertisers),
            sponsored_by_advertiser=_subset(adv, kind != Kind.DSP, config.advertisers),
        )


def _campaign_name(advertiser: str, nth: int, kind: Kind) -> str:
    """E.g. "Acme Spring Sale DSP"; themes repeat with a number once an advertiser runs out."""
    theme = _THEMES[nth % len(_THEMES)]
    round_ = nth // len(_THEMES)
    return f"{advertiser} {theme}{f' {round_ + 1}' if round_ else ''} {_SUFFIX[kind]}"


@dataclass(frozen=True)
class LineItems:
    """DSP line items (three audiences per DSP campaign) and their creatives (two each)."""

    name: pa.StringArray
    id: I64
    bid: F64  # millicents per impression
    fee: F64  # DSP and agency fees as a share of the media cost
    by_campaign: Ragged
    creative_name: pa.StringArray
    creative_id: I64
    creative_type: pa.StringArray
    creatives: Ragged  # by line item

    @classmethod
    def build(cls, config: DataConfig, campaigns: Campaigns) -> LineItems:
        dsp = [int(c) for c in np.flatnonzero(campaigns.kind == Kind.DSP)]
        names = [f"{campaigns.names[c]} | {a}" for c in dsp for a in _AUDIENCES]
        n, s = len(names), config.seed
        fmts = [_FORMATS[(li + k) % len(_FORMATS)] for li in range(n) for k in range(2)]
        return cls(
            name=strings(names),
            id=_ids(s, 4, n, 13),
            bid=300.0 + 900.0 * _uniform(s, 5, n),
            fee=0.08 + 0.12 * _uniform(s, 6, n),
            by_campaign=Ragged.of([c for c in dsp for _ in _AUDIENCES], config.campaigns),
            creative_name=strings([f"{names[i // 2]} | {f[0]} {f[1]}" for i, f in enumerate(fmts)]),
            creative_id=_ids(s, 7, 2 * n, 13),
            creative_type=strings([f[1] for f in fmts]),
            creatives=Ragged.of(np.arange(2 * n) // 2, n),
        )


@dataclass(frozen=True)
class Targeting:
    """Sponsored-ads ad groups (two per campaign), their targets and shoppers' search terms."""

    ad_group_name: pa.StringArray
    ad_groups: Ragged  # by campaign
    text: pa.StringArray
    match_type: pa.StringArray  # NULL for sponsored display audience targets
    cpc: F64  # cents per click
    by_ad_group: Ragged
    search_terms: pa.StringArray  # three per target, NULL where no search is involved

    @classmethod
    def build(cls, config: DataConfig, advertisers: Advertisers, campaigns: Campaigns) -> Targeting:
        groups: list[tuple[int, str]] = []
        targets: list[_Target] = []
        for c in (int(c) for c in np.flatnonzero(campaigns.kind != Kind.DSP)):
            a = int(campaigns.advertiser[c])
            for g in range(2):
                name, group_targets = _ad_group(
                    len(groups), Kind(campaigns.kind[c]), g, advertisers.names[a],
                    advertisers.nouns[a][(c + g) % len(advertisers.nouns[a])],
                )  # fmt: skip
                groups.append((c, name))
                targets.extend(group_targets)
        n = len(targets)
        return cls(
            ad_group_name=strings([name for _, name in groups]),
            ad_groups=Ragged.of([c for c, _ in groups], config.campaigns),
            text=strings([t[1] for t in targets]),
            match_type=strings([t[2] for t in targets]),
            cpc=40.0 + 260.0 * _uniform(config.seed, 8, n),
            by_ad_group=Ragged.of([t[0] for t in targets], len(groups)),
            search_terms=strings([term for t in targets for term in t[3]]),
        )


def _ad_group(group: int, kind: Kind, g: int, brand: str, noun: str) -> tuple[str, list[_Target]]:
    """Name and targets of ad group `g` of a campaign: keywords, or audiences for display."""
    if kind == Kind.SD:
        name, audience = _SD_GROUPS[g]
        return name, [(group, audience, None, (None, None, None))]
    keywords = ((noun, "EXACT"), (f"best {noun}", "PHRASE"), (f"{brand.lower()} {noun}", "BROAD"))
    targets: list[_Target] = [(group, k, m, (k, f"{k} sale", f"cheap {noun}")) for k, m in keywords]
    return f"{noun.title()} - {'Generic' if g == 0 else 'Brand'}", targets


@dataclass(frozen=True)
class Asins:
    """Products: each ASIN belongs to one advertiser (its brand) and has a price."""

    advertiser: I64
    code: pa.StringArray
    item: pa.StringArray
    price: I64  # cents
    by_advertiser: Ragged

    @classmethod
    def build(cls, config: DataConfig, advertisers: Advertisers) -> Asins:
        i = np.arange(config.asins, dtype=np.int64)
        adv = i % config.advertisers
        items = []
        for k, a in zip(i, adv, strict=True):
            nouns = advertisers.nouns[a]
            series = k // config.advertisers
            noun = nouns[series % len(nouns)]
            items.append(f"{advertisers.names[a]} {noun.title()} Model {series + 1}")
        return cls(
            advertiser=adv,
            code=strings(_asin_codes(config.seed, len(i))),
            item=strings(items),
            # Prices end in .99, from $9.99 to $149.99.
            price=(10 + (_uniform(config.seed, 9, len(i)) * 140).astype(np.int64)) * 100 - 1,
            by_advertiser=Ragged.of(adv, config.advertisers),
        )


# Amazon audience segments: (taxonomy level 2, segment) for in-market and lifestyle ones. Each
# goes with one advertiser (index modulo advertisers), whose fans are its likely members.
_IN_MARKET = (
    ("Home & Kitchen", "Kitchen Appliances"),
    ("Home & Kitchen", "Bedding"),
    ("Sports & Outdoors", "Camping Gear"),
    ("Electronics", "Headphones"),
    ("Pet Supplies", "Dog Food"),
    ("Clothing", "Outerwear"),
    ("Home & Kitchen", "Coffee Makers"),
    ("Home & Kitchen", "Home Decor"),
    ("Sports & Outdoors", "Hiking Footwear"),
    ("Electronics", "Smart Speakers"),
    ("Pet Supplies", "Cat Supplies"),
    ("Clothing", "Socks & Hosiery"),
)
_LIFESTYLE = (
    ("Food & Cooking", "Home Chefs"),
    ("Home & Garden", "Home Improvers"),
    ("Outdoors", "Outdoor Enthusiasts"),
    ("Technology", "Tech Enthusiasts"),
    ("Pets", "Pet Owners"),
    ("Fashion", "Fashionistas"),
    ("Food & Cooking", "Coffee Lovers"),
    ("Family", "Parents"),
    ("Outdoors", "Travelers"),
    ("Technology", "Gamers"),
    ("Pets", "Dog Lovers"),
    ("Fitness", "Fitness Fans"),
)
SEGMENT_KINDS = ("In-market", "Lifestyle")
US_MARKETPLACE_ID = 1  # AMC's numeric marketplace id of amazon.com


@dataclass(frozen=True)
class Segments:
    """Amazon audience segments (in-market and lifestyle), each drawn to one advertiser's fans."""

    id: I64
    kind: I64  # index into SEGMENT_KINDS
    name: pa.StringArray
    level_2: pa.StringArray
    path: pa.StringArray
    description: pa.StringArray
    advertiser: I64
    by_kind: Ragged
    by_advertiser: Ragged

    @classmethod
    def build(cls, config: DataConfig) -> Segments:
        rows = [(0, *r) for r in _IN_MARKET] + [(1, *r) for r in _LIFESTYLE]
        kind = np.array([r[0] for r in rows], np.int64)
        advertiser = np.arange(len(rows), dtype=np.int64) % config.advertisers
        names = [f"{SEGMENT_KINDS[k]} - {leaf}" for k, _, leaf in rows]
        return cls(
            id=_ids(config.seed, 11, len(rows), 6),
            kind=kind,
            name=strings(names),
            level_2=strings([level for _, level, _ in rows]),
            path=strings([f"{SEGMENT_KINDS[k]} > {level} > {leaf}" for k, level, leaf in rows]),
            description=strings(
                [
                    f"Shoppers {'in the market for' if k == 0 else 'who identify as'} "
                    f"{leaf.lower()}"
                    for k, _, leaf in rows
                ]
            ),
            advertiser=advertiser,
            by_kind=Ragged.of(kind, len(SEGMENT_KINDS)),
            by_advertiser=Ragged.of(advertiser, config.advertisers),
        )


def _asin_codes(seed: int, count: int) -> list[str]:
    """ "B0" plus 8 base-36 digits of a stable hash, like real ASINs."""
    h = hash64(seed, Salt.ENTITY, 10_000_000 + np.arange(count))
    digits = []
    for _ in range(8):
        digits.append((h % np.uint64(36)).astype(np.int64))
        h = h // np.uint64(36)
    codes = ["B0" + "".join(_ASIN_ALPHABET[d[r]] for d in digits) for r in range(count)]
    assert len(set(codes)) == count, "ASIN hash collision; choose another seed"
    return codes


@dataclass(frozen=True)
class Entities:
    """Everything advertisers set up; small, built once per data instance."""

    advertisers: Advertisers
    campaigns: Campaigns
    line_items: LineItems
    targeting: Targeting
    asins: Asins
    segments: Segments

    @classmethod
    def build(cls, config: DataConfig) -> Entities:
        advertisers = Advertisers.build(config)
        campaigns = Campaigns.build(config, advertisers)
        return cls(
            advertisers=advertisers,
            campaigns=campaigns,
            line_items=LineItems.build(config, campaigns),
            targeting=Targeting.build(config, advertisers, campaigns),
            asins=Asins.build(config, advertisers),
            segments=Segments.build(config),
        )
