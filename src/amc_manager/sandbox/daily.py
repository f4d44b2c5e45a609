"""Synthetic AMC sandbox daily events: one day of each event kind as a frame of numpy columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from amc_manager.catalogue import ATTRIBUTION_WINDOW
from amc_manager.sandbox.entities import PLACEMENT_BY_KIND, SUPPLY_BY_DEVICE, Entities
from amc_manager.sandbox.population import (
    DEVICE_CDF,
    F64,
    I64,
    OS_BY_DEVICE,
    Bools,
    DataConfig,
    Geography,
    Users,
    UserSampler,
    cdf_of,
    weighted_pick,
)

# A day (or a window) of one event kind: equally long numpy columns, read-only once built.
Frame = dict[str, npt.NDArray[Any]]

DAY_SECONDS = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Clicks come seconds to minutes after their impression (at most this), so a click from the last
# minutes of a day lands on the next day: windows read the day before as well.
MAX_CLICK_DELAY = 1_800
_ATTRIBUTION_SECONDS = int(ATTRIBUTION_WINDOW.total_seconds())
_CONVERSION_DELAY_MEAN = 2 * DAY_SECONDS


class Code(IntEnum):
    """Event kinds; the value seeds each day's RNG and is part of every row key."""

    DSP_IMPRESSIONS = 1
    DSP_CLICKS = 2
    SPONSORED_ADS = 3
    ATTRIBUTED = 4
    ORGANIC = 5


# Share of events per UTC hour: the audience is in the US, so UTC mornings are the night.
_HOUR_CDF = cdf_of(
    [1.3, 1.3, 1.2, 1.1, 0.9, 0.7, 0.5, 0.4, 0.35, 0.35, 0.4, 0.5]
    + [0.7, 0.9, 1.0, 1.1, 1.15, 1.2, 1.2, 1.2, 1.2, 1.25, 1.3, 1.3]
)
# Click propensity per device type (Desktop, Phone, Tablet, TV, Other): nobody clicks a TV.
_CLICK_FACTOR = np.array([1.0, 1.2, 0.9, 0.05, 0.5])
# Conversion categories: purchase (an order), detail page view, add to cart.
CATEGORY_CDF = cdf_of([0.55, 0.30, 0.15])
_FAVOURITE_SHARE = 0.75  # share of events where the advertiser is one the user likes


@dataclass(frozen=True)
class World:
    """The static part of the data: config, ad entities, geography and users."""

    config: DataConfig
    entities: Entities
    geography: Geography
    users: Users
    dsp_users: UserSampler
    shoppers: UserSampler
    everyone: UserSampler
    user_ids: pa.StringArray

    @classmethod
    def build(cls, config: DataConfig) -> World:
        geography = Geography.build(config.postal_codes)
        users = Users.build(config, geography)
        return cls(
            config=config,
            entities=Entities.build(config),
            geography=geography,
            users=users,
            dsp_users=users.sampler(users.dsp),
            shoppers=users.sampler(users.shopper),
            everyone=users.sampler(np.ones(len(users.postal), np.bool_)),
            user_ids=users.user_ids(),
        )


def day_rng(seed: int, day: int, code: Code) -> np.random.Generator:
    """The RNG of one (day, kind): SeedSequence entropy, identical in every process."""
    return np.random.default_rng([seed, day, int(code)])


def day_start(day: int) -> int:
    """Epoch seconds of the midnight starting a date ordinal."""
    return (day - EPOCH_ORDINAL) * DAY_SECONDS


def row_keys(day: int, code: Code, n: int) -> I64:
    """Keys unique across days and kinds; opaque ids (request_tag, event_id...) hash them."""
    return ((day * 16 + int(code)) << 26) + np.arange(n, dtype=np.int64)


def freeze(frame: Frame) -> Frame:
    """Make cached frames read-only so no caller can change data another caller sees."""
    for column in frame.values():
        column.flags.writeable = False
    return frame


def _diurnal(rng: np.random.Generator, day: int, n: int) -> I64:
    hour = weighted_pick(_HOUR_CDF, rng.random(n))
    return np.sort(day_start(day) + hour * 3600 + rng.integers(0, 3600, n))


def _advertisers(likes: Bools, user: I64, rng: np.random.Generator) -> I64:
    """Mostly one of the advertisers the user likes (uniformly among them), else any."""
    liked = likes[user]
    n, count = liked.shape
    nth = (rng.random(n) * liked.sum(axis=1)).astype(np.int64)
    favourite = (np.cumsum(liked, axis=1) > nth[:, None]).argmax(axis=1)
    anyone = rng.integers(0, count, n)
    return np.where(rng.random(n) < _FAVOURITE_SHARE, favourite, anyone).astype(np.int64)


def _devices(users: Users, user: I64, rng: np.random.Generator) -> tuple[I64, I64]:
    """Device type and OS: the user's home device 80% of the time, else any device."""
    n = len(user)
    home = users.device[user]
    device = np.where(rng.random(n) < 0.8, home, weighted_pick(DEVICE_CDF, rng.random(n)))
    other_os = OS_BY_DEVICE.pick(device, rng.random(n))
    return device, np.where(device == home, users.os[user], other_os)


def dsp_impressions(world: World, day: int) -> Frame:
    """One day of DSP impressions, sorted by time."""
    config, entities = world.config, world.entities
    rng = day_rng(config.seed, day, Code.DSP_IMPRESSIONS)
    n = int(rng.poisson(config.dsp_impressions_per_day))
    ts = _diurnal(rng, day, n)
    user = world.dsp_users.draw(rng.random(n))
    campaign = entities.campaigns.dsp_by_advertiser.pick(
        _advertisers(world.users.likes, user, rng), rng.random(n)
    )
    line_item = entities.line_items.by_campaign.pick(campaign, rng.random(n))
    creative = entities.line_items.creatives.pick(line_item, rng.random(n))
    device, os = _devices(world.users, user, rng)
    supply = SUPPLY_BY_DEVICE.pick(device, rng.random(n))
    bid = (entities.line_items.bid[line_item] * np.exp(rng.normal(0.0, 0.25, n))).astype(np.int64)
    # Second-price-like clearing: the cost is a share of the bid, fees come on top.
    cost = (bid * rng.uniform(0.55, 1.0, n)).astype(np.int64)
    total = cost * (1.0 + entities.line_items.fee[line_item])
    return freeze(
        {"ts": ts, "user": user, "campaign": campaign, "line_item": line_item,
         "creative": creative, "device": device, "os": os, "supply": supply, "bid": bid,
         "cost": cost, "total_cost": total, "key": row_keys(day, Code.DSP_IMPRESSIONS, n)}
    )  # fmt: skip


def dsp_clicks(world: World, day: int, impressions: Frame) -> Frame:
    """The clicks on one day's impressions (some land early on the next day)."""
    rng = day_rng(world.config.seed, day, Code.DSP_CLICKS)
    rate = world.config.dsp_click_rate * _CLICK_FACTOR[impressions["device"]]
    hit = rng.random(len(rate)) < rate
    clicks = {name: column[hit] for name, column in impressions.items()}
    m = int(hit.sum())
    clicks["impression_ts"] = clicks["ts"]
    clicks["ts"] = clicks["ts"] + _click_delay(rng, m, 40.0)
    # The click shares the impression's ad request (request_tag) but is its own row.
    clicks["impression_key"] = clicks["key"]
    clicks["key"] = row_keys(day, Code.DSP_CLICKS, m)
    return freeze(clicks)


def _click_delay(rng: np.random.Generator, n: int, mean: float) -> I64:
    return 1 + np.minimum(rng.exponential(mean, n), MAX_CLICK_DELAY - 1).astype(np.int64)


def sponsored_ads(world: World, day: int) -> Frame:
    """One day of sponsored-ads impressions plus the clicks on them, sorted by time."""
    config, targeting = world.config, world.entities.targeting
    rng = day_rng(config.seed, day, Code.SPONSORED_ADS)
    n = int(
        rng.poisson(config.sponsored_ads_events_per_day / (1 + config.sponsored_ads_click_rate))
    )
    ts = _diurnal(rng, day, n)
    user = world.shoppers.draw(rng.random(n))
    campaigns = world.entities.campaigns
    campaign = campaigns.sponsored_by_advertiser.pick(
        _advertisers(world.users.likes, user, rng), rng.random(n)
    )
    ad_group = targeting.ad_groups.pick(campaign, rng.random(n))
    target = targeting.by_ad_group.pick(ad_group, rng.random(n))
    impressions = {
        "ts": ts, "user": user, "campaign": campaign, "ad_group": ad_group, "target": target,
        "term": target * 3 + rng.integers(0, 3, n),
        "placement": PLACEMENT_BY_KIND.pick(campaigns.kind[campaign], rng.random(n)),
        "device": _devices(world.users, user, rng)[0],
        "impressions": np.ones(n, np.int64),
        "viewable": (rng.random(n) < 0.7).astype(np.int64),
        "clicks": np.zeros(n, np.int64), "spend": np.zeros(n, np.int64),
    }  # fmt: skip
    return freeze(
        _with_clicks(impressions, rng, config.sponsored_ads_click_rate, targeting.cpc, day)
    )


def _with_clicks(
    impressions: Frame, rng: np.random.Generator, rate: float, cpc: F64, day: int
) -> Frame:
    """Adds a click row (no impression, CPC spend in microcents) for each clicked impression."""
    hit = rng.random(len(impressions["ts"])) < rate
    m = int(hit.sum())
    clicks = {name: column[hit] for name, column in impressions.items()}
    clicks["ts"] = clicks["ts"] + _click_delay(rng, m, 20.0)
    clicks["impressions"] = clicks["viewable"] = np.zeros(m, np.int64)
    clicks["clicks"] = np.ones(m, np.int64)
    cents = cpc[clicks["target"]] * rng.uniform(0.6, 1.0, m)
    clicks["spend"] = (cents * 1_000_000).astype(np.int64)
    order = np.argsort(np.concatenate([impressions["ts"], clicks["ts"]]), kind="stable")
    both = {name: np.concatenate([impressions[name], clicks[name]])[order] for name in impressions}
    both["key"] = row_keys(day, Code.SPONSORED_ADS, len(order))
    return both


def attributed(
    world: World, day: int, impressions: Frame, clicks: Frame, sponsored: Frame
) -> Frame:
    """Conversions credited to one traffic day's DSP and sponsored-ads events."""
    config = world.config
    rng = day_rng(config.seed, day, Code.ATTRIBUTED)
    clicked = sponsored["clicks"] == 1
    rate = np.concatenate([
        np.full(len(impressions["ts"]), config.dsp_view_conversion_rate),
        np.full(len(clicks["ts"]), config.dsp_click_conversion_rate),
        np.where(clicked, config.sponsored_ads_click_conversion_rate,
                 config.sponsored_ads_view_conversion_rate),
    ])  # fmt: skip
    traffic = {
        name: np.concatenate([impressions[name], clicks[name], sponsored[name]])
        for name in ("ts", "user", "campaign")
    }
    traffic["event"] = np.concatenate(
        [np.zeros(len(impressions["ts"]), np.int64), np.ones(len(clicks["ts"]), np.int64),
         clicked.astype(np.int64)]
    )  # fmt: skip
    advertiser = world.entities.campaigns.advertiser[traffic["campaign"]]
    # People convert more on brands they like.
    rate = rate * np.where(world.users.likes[traffic["user"], advertiser], 1.5, 0.5)
    hit = rng.random(len(rate)) < rate
    return freeze(_conversions(world, rng, {k: v[hit] for k, v in traffic.items()}, day))


def _conversions(world: World, rng: np.random.Generator, traffic: Frame, day: int) -> Frame:
    m = len(traffic["ts"])
    advertiser = world.entities.campaigns.advertiser[traffic["campaign"]]
    # Truncated exponential delay: many convert within hours, none after the attribution window.
    u = rng.random(m)
    tail = 1.0 - np.exp(-_ATTRIBUTION_SECONDS / _CONVERSION_DELAY_MEAN)
    delay = (-_CONVERSION_DELAY_MEAN * np.log1p(-u * tail)).astype(np.int64)
    return {
        "traffic_ts": traffic["ts"], "ts": traffic["ts"] + delay, "user": traffic["user"],
        "campaign": traffic["campaign"], "advertiser": advertiser, "event": traffic["event"],
        **_purchases(world, rng, advertiser), "key": row_keys(day, Code.ATTRIBUTED, m),
    }  # fmt: skip


def _purchases(world: World, rng: np.random.Generator, advertiser: I64) -> Frame:
    """What was bought: ASIN (best sellers first), category, units and sales with halo."""
    asins, m = world.entities.asins, len(advertiser)
    asin = asins.by_advertiser.pick(advertiser, rng.random(m) ** 2)
    purchase = weighted_pick(CATEGORY_CDF, rng.random(m)) == 0
    category = np.where(purchase, 0, weighted_pick(cdf_of([0.0, 2.0, 1.0]), rng.random(m)))
    units = purchase * (1 + rng.poisson(0.3, m))
    # Halo: another product of the same brand bought along, counted only in the total_* columns.
    halo = purchase & (rng.random(m) < 0.15)
    halo_units = halo * (1 + rng.poisson(0.2, m))
    halo_asin = asins.by_advertiser.pick(advertiser, rng.random(m))
    sales = units * asins.price[asin] * 100  # DECIMAL(38, 4) as an integer count of 1/10000
    return {
        "asin": asin, "category": category, "new_to_brand": purchase & (rng.random(m) < 0.3),
        "purchases": purchase.astype(np.int64),
        "total_purchases": purchase.astype(np.int64) + halo, "units": units,
        "total_units": units + halo_units, "sales": sales,
        "total_sales": sales + halo_units * asins.price[halo_asin] * 100,
    }  # fmt: skip


def organic(world: World, day: int) -> Frame:
    """One day of conversions no ad is credited with, by anyone in the pool."""
    rng = day_rng(world.config.seed, day, Code.ORGANIC)
    n = int(rng.poisson(world.config.organic_conversions_per_day))
    ts = _diurnal(rng, day, n)
    user = world.everyone.draw(rng.random(n))
    advertiser = _advertisers(world.users.likes, user, rng)
    return freeze(
        {"ts": ts, "user": user, "advertiser": advertiser, **_purchases(world, rng, advertiser),
         "key": row_keys(day, Code.ORGANIC, n)}
    )  # fmt: skip
