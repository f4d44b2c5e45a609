"""Several users on one HTTP pool are audited once per request; regions pick the hosts."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from amc_manager.client import (
    Account,
    AccountRef,
    AmcClient,
    AmcTransportError,
    InMemoryTokenStore,
    InstanceRef,
    MemoryAuditSink,
    RateLimiter,
    Region,
    RegionHosts,
    RetryPolicy,
    Secret,
    region_for_endpoint,
    region_for_marketplace,
)
from tests.client.conftest import credentials
from tests.sandbox.conftest import LiveServer

USERS = ("ana@example.com", "ben@example.com", "cy@example.com")


def hosts_of(server: LiveServer) -> RegionHosts:
    return RegionHosts(server.url, f"{server.url}/auth/o2/token", f"{server.url}/ap/oa")


async def stats_of(server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as plain:
        result: dict[str, Any] = (await plain.get("/__sandbox/stats")).json()
        return result


def instance_in(server: LiveServer, region: Region) -> InstanceRef:
    account = server.sandbox.account
    ref = AccountRef(account.account_id, account.marketplace_id, region)
    return InstanceRef(account.instances[0].instance_id, ref)


async def test_three_users_on_one_pool_audit_each_request_once(live: Any) -> None:
    server = live()
    audit = MemoryAuditSink()  # one sink for the process, as the service's runtime has
    async with httpx.AsyncClient(timeout=30) as http:
        clients = {}
        for user in USERS:
            store = InMemoryTokenStore()
            await store.save_refresh_token(user, Secret(server.sandbox.config.refresh_token))
            clients[user] = AmcClient(
                http=http,
                credentials=credentials(server.sandbox.config),
                token_store=store,
                user=user,
                api_base_url=server.url,
                lwa_token_url=f"{server.url}/auth/o2/token",
                budget=RateLimiter(0),
                audit=audit,
            )
        instance = instance_in(server, Region.NA)
        assert await clients[USERS[1]].list_workflows(instance) == []
        stats = await stats_of(server)
        assert (stats["requests_total"], stats["token_grants"]) == (1, 1)
        assert len(audit.events) == 2
        assert {(e.kind, e.user) for e in audit.events} == {
            ("api", USERS[1]),
            ("token", USERS[1]),
        }
        await clients[USERS[2]].list_workflows(instance)
        assert len(audit.events) == 4
        assert [e.user for e in audit.events[2:]] == [USERS[2], USERS[2]]


async def test_eu_instance_uses_the_eu_api_and_token_hosts(live: Any) -> None:
    # Two sandboxes over one state dir: they share tokens as AMC's regions do (a token from
    # any region's LwA host works everywhere) but count their own requests.
    na, eu = live(), live()
    store = InMemoryTokenStore()
    user = USERS[0]
    now = [time.time()]
    await store.save_refresh_token(user, Secret(na.sandbox.config.refresh_token))
    async with httpx.AsyncClient(timeout=30) as http:
        client = AmcClient(
            http=http,
            credentials=credentials(na.sandbox.config),
            token_store=store,
            user=user,
            hosts={Region.NA: hosts_of(na), Region.EU: hosts_of(eu)},
            budget=RateLimiter(0),
            clock=lambda: now[0],
        )
        assert await client.list_workflows(instance_in(eu, Region.EU)) == []
        na_seen, eu_seen = await stats_of(na), await stats_of(eu)
        assert (eu_seen["requests_total"], eu_seen["token_grants"]) == (1, 1)
        assert (na_seen["requests_total"], na_seen["token_grants"]) == (0, 0)

        token = await store.access_token(user)
        assert token is not None
        now[0] = token.expires_at + 1  # the token's life passes: the next call needs a grant
        assert await client.list_workflows(instance_in(na, Region.NA)) == []
        na_seen, eu_seen = await stats_of(na), await stats_of(eu)
        assert (na_seen["requests_total"], na_seen["token_grants"]) == (1, 1)
        assert (eu_seen["requests_total"], eu_seen["token_grants"]) == (1, 1)

        # A call that names no account goes to the client's own region (NA by default).
        await client.list_accounts()
        assert (await stats_of(na))["requests_total"] == 2


def test_region_follows_marketplace_and_api_endpoint() -> None:
    assert region_for_marketplace("ATVPDKIKX0DER") is Region.NA
    assert region_for_marketplace("A1PA6795UKMFR9") is Region.EU
    assert region_for_marketplace("A21TJRUUN4KGV") is Region.EU  # India: the EU host
    assert region_for_marketplace("A1VC38T7YXB528") is Region.FE
    assert region_for_marketplace("A0NEWMARKET000") is None
    uk = Account.model_validate(
        {"accountId": "ENTITYABC123456789", "marketplaceId": "A1F83G8C2ARO7P"}
    )
    assert uk.region is Region.EU and uk.ref(Region.NA).region is Region.EU
    unknown = uk.model_copy(update={"marketplace_id": "A0NEWMARKET000"})
    assert unknown.ref(Region.FE).region is Region.FE
    assert region_for_endpoint("https://advertising-api-fe.amazon.com/") is Region.FE
    assert region_for_endpoint("https://proxy.example") is None


async def test_unreachable_hosts_fail_once_per_attempt_with_the_cause_kept(live: Any) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    server = live()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    store = InMemoryTokenStore()
    await store.save_refresh_token(USERS[0], Secret(server.sandbox.config.refresh_token))
    audit = MemoryAuditSink()
    async with httpx.AsyncClient(timeout=30) as http:
        client = AmcClient(
            http=http,
            credentials=credentials(server.sandbox.config),
            token_store=store,
            user=USERS[0],
            api_base_url=server.url,
            lwa_token_url=f"{closed}/auth/o2/token",
            budget=RateLimiter(0),
            audit=audit,
            retry=RetryPolicy(max_attempts=3),
            sleep=sleep,
        )
        instance = instance_in(server, Region.NA)
        with pytest.raises(AmcTransportError) as caught:
            await client.list_workflows(instance)
        lwa_error = caught.value
        # LwA down inside the API call's auth flow: its own 3 attempts, not 3 x 3.
        assert "Login with Amazon unreachable" in str(lwa_error)
        assert isinstance(lwa_error.__cause__, httpx.ConnectError)
        assert [(e.kind, e.error) for e in audit.events] == [("token", "ConnectError")] * 3
        assert len(slept) == 2 and (await stats_of(server))["requests_total"] == 0

        client = AmcClient(
            http=http,
            credentials=credentials(server.sandbox.config),
            token_store=store,
            user=USERS[0],
            api_base_url=closed,
            lwa_token_url=f"{server.url}/auth/o2/token",
            budget=RateLimiter(0),
            audit=audit,
            retry=RetryPolicy(max_attempts=3),
            sleep=sleep,
        )
        audit.events.clear()
        with pytest.raises(AmcTransportError) as caught:
            await client.list_workflows(instance)
        api_error = caught.value
        assert "AMC unreachable for GET /amc/reporting/" in str(api_error)
        assert isinstance(api_error.__cause__, httpx.ConnectError)
        assert [(e.kind, e.attempt, e.error) for e in audit.events if e.kind == "api"] == [
            ("api", n, "ConnectError") for n in (1, 2, 3)
        ]
