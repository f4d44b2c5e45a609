"""The async AMC API client: discovery, workflows, executions, downloads, data sources.

Every call goes through `call`: the per-instance request budget, the auth flow (refresh and
replay), the one retry loop (what is safe to retry for the method), and one mapping of AMC's
errors. Hosts follow the region of the instance or account a call is for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from amc_manager.client import submit
from amc_manager.client.audit import (
    AuditContext,
    AuditSink,
    audit_scope,
    install_audit_hooks,
    redact_http_logs,
)
from amc_manager.client.auth import AmcAuth
from amc_manager.client.cache import TtlCache
from amc_manager.client.downloads import Downloads
from amc_manager.client.errors import (
    AmcTransportError,
    DownloadUnavailable,
    RateLimitedError,
    ServerError,
    UncertainOutcome,
    ValidationError,
)
from amc_manager.client.identity import (
    REGION_HOSTS,
    AccountRef,
    InstanceRef,
    Region,
    RegionMap,
    api_base,
    lwa_token_url,
)
from amc_manager.client.models import (
    Account,
    DataSource,
    DownloadUrls,
    Execution,
    ExecutionRequest,
    Instance,
    Workflow,
    unwrap,
)
from amc_manager.client.ratelimit import RateLimiter, RequestBudget
from amc_manager.client.responses import map_error, transport_errors
from amc_manager.client.retry import UNCERTAIN_STATUS, RetryPolicy
from amc_manager.client.tokens import LwaCredentials, TokenManager, TokenStore

Sleep = Callable[[float], Awaitable[None]]
PAGE_LIMIT = 100
M = TypeVar("M", bound=BaseModel)


class AmcClient:
    """One user's view of AMC over an `httpx.AsyncClient` (real network or the sandbox).

    **Parameters:** `http` the transport seam, which any number of clients (users) may share;
    `credentials` the LwA application; `token_store` where the user's tokens live; `user` who
    the calls are for (audit); `region` the region of calls that name no account (`GET
    /amc/accounts`; AMC's hosts answer for every region) and of the default token host;
    `hosts` the region-to-hosts map (default: Amazon's, `REGION_HOSTS`); `api_base_url` and
    `lwa_token_url` override every region's hosts (`AMC_API_BASE_URL`, `AMC_LWA_TOKEN_URL`);
    `budget` the per-instance request budget (shared by every caller of this client);
    `audit` receives one event per HTTP request this client sends; `sleep` and `clock` are
    injectable.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        credentials: LwaCredentials,
        token_store: TokenStore,
        user: str,
        region: Region = Region.NA,
        hosts: RegionMap | None = None,
        api_base_url: str | None = None,
        lwa_token_url: str | None = None,
        budget: RequestBudget | None = None,
        audit: AuditSink | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        discovery_ttl: float = 300.0,
        refresh_margin: float = 300.0,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        self.http = http
        self.user = user
        self.page_limit = page_limit
        self.region = Region(region)
        self.hosts: RegionMap = hosts if hosts is not None else REGION_HOSTS
        self._api_override = api_base_url
        self._token_override = lwa_token_url
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.budget: RequestBudget = budget if budget is not None else RateLimiter(sleep=sleep)
        self.audit = audit
        redact_http_logs()
        install_audit_hooks(http)
        self.tokens = TokenManager(
            http=http,
            token_url=self.token_url(self.region),
            credentials=credentials,
            store=token_store,
            user=user,
            refresh_margin=refresh_margin,
            clock=clock,
            sleep=sleep,
            retry=self.retry,
            audit=audit,
        )
        self._auths: dict[str, AmcAuth] = {}
        self._discovery: TtlCache[Any] = TtlCache(discovery_ttl)
        self.downloads = Downloads(self)
        self.adopted: set[str] = set()

    # --- hosts ---------------------------------------------------------------------------

    def token_url(self, region: Region) -> str:
        """The LwA token endpoint for `region` (the override, else the region's host)."""
        return lwa_token_url(region, self._token_override, self.hosts)

    def base_for(self, instance: InstanceRef | None, account: AccountRef | None = None) -> str:
        """The API base URL for a call about `instance` (or `account`, or neither)."""
        return api_base(
            instance, self._region_of(instance, account), self._api_override, self.hosts
        )

    def _region_of(self, instance: InstanceRef | None, account: AccountRef | None) -> Region:
        if instance is not None:
            return instance.region
        return account.region if account is not None else self.region

    def _auth_for(self, region: Region) -> AmcAuth:
        """One auth flow per token host: grants go to the region the request is for."""
        url = self.token_url(region)
        if url not in self._auths:
            self._auths[url] = AmcAuth(self.tokens, url)
        return self._auths[url]

    # --- the one request path ------------------------------------------------------------

    async def call(
        self,
        method: str,
        path: str,
        *,
        instance: InstanceRef | None,
        account: AccountRef | None,
        operation: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one AMC API call with budget, auth, safe retries and error mapping.

        A 429 is always retried (AMC did not process the request) after Retry-After, and slows
        the instance's budget; an unreachable AMC or a 5xx is retried only when `idempotent`,
        else it raises `UncertainOutcome` for the caller to resolve.
        """
        key = instance.instance_id if instance else "discovery"
        region = self._region_of(instance, account)
        url = self.base_for(instance, account) + path
        headers = account.headers() if account else {}
        context = AuditContext(self.user, instance.instance_id if instance else None, operation)
        auth = self._auth_for(region)

        async def attempt(number: int) -> httpx.Response:
            await self.budget.acquire(key)
            lost = AmcTransportError if idempotent else UncertainOutcome
            with (
                audit_scope(context, self.audit, number),
                transport_errors(method, path, error=lost),
            ):
                response = await self.http.request(
                    method, url, params=params, json=json, headers=headers, auth=auth
                )
            if response.status_code in UNCERTAIN_STATUS and not idempotent:
                raise UncertainOutcome(
                    f"AMC answered {response.status_code} to {method} {path}; "
                    "the request may or may not have taken effect",
                    method=method,
                    path=path,
                )
            if response.status_code >= 400:
                raise map_error(
                    response,
                    method=method,
                    path=path,
                    account_id=account.account_id if account else None,
                )
            return response

        async def slow_down(error: BaseException, seconds: float) -> None:
            if isinstance(error, RateLimitedError):
                await self.budget.penalize(key, seconds)

        retry_on = (
            (RateLimitedError, ServerError, AmcTransportError) if idempotent else RateLimitedError
        )
        return await self.retry.run(attempt, self.sleep, retry_on, before_sleep=slow_down)

    async def _json(
        self, method: str, instance: InstanceRef, operation: str, *parts: str, **kwargs: Any
    ) -> Any:
        response = await self.call(
            method,
            instance.reporting_path(*parts),
            instance=instance,
            account=instance.account,
            operation=operation,
            **kwargs,
        )
        return response.json() if response.content else {}

    async def _pages(
        self,
        path: str,
        field: str,
        *,
        instance: InstanceRef | None,
        account: AccountRef | None,
        operation: str,
        params: dict[str, Any] | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Follow `nextToken` until AMC stops giving one; never sends an empty token."""
        query = {**(params or {}), "limit": self.page_limit}
        while True:
            response = await self.call(
                "GET", path, instance=instance, account=account, operation=operation, params=query
            )
            body = response.json()
            yield list(body.get(field) or [])
            token = body.get("nextToken")
            if not token:
                return
            query = {**query, "nextToken": token}

    async def _collect(
        self,
        model: type[M],
        path: str,
        field: str,
        *,
        instance: InstanceRef | None,
        account: AccountRef | None,
        operation: str,
    ) -> list[M]:
        """Every page of a listing, parsed as `model`."""
        found: list[M] = []
        async for page in self._pages(
            path, field, instance=instance, account=account, operation=operation
        ):
            found.extend(model.model_validate(item) for item in page)
        return found

    # --- discovery ------------------------------------------------------------------------

    async def list_accounts(self) -> list[Account]:
        def load() -> Awaitable[list[Account]]:
            return self._collect(
                Account,
                "/amc/accounts",
                "amcAccounts",
                instance=None,
                account=None,
                operation="accounts.list",
            )

        result: list[Account] = await self._discovery.get_or_load(("accounts",), load)
        return result

    async def list_instances(self, account: AccountRef) -> list[Instance]:
        def load() -> Awaitable[list[Instance]]:
            return self._collect(
                Instance,
                "/amc/instances",
                "instances",
                instance=None,
                account=account,
                operation="instances.list",
            )

        result: list[Instance] = await self._discovery.get_or_load(("instances", account), load)
        return result

    async def get_instance(self, account: AccountRef, instance_id: str) -> Instance:
        probe = InstanceRef(instance_id, account)  # refuses internal ids before any call
        response = await self.call(
            "GET",
            f"/amc/instances/{probe.instance_id}",
            instance=None,
            account=account,
            operation="instances.get",
        )
        return Instance.model_validate(unwrap(response.json(), "instance"))

    def invalidate_discovery(self) -> None:
        """Forget cached accounts, instances and data sources (after a change)."""
        self._discovery.invalidate()

    # --- workflows -----------------------------------------------------------------------

    async def create_workflow(self, instance: InstanceRef, workflow: dict[str, Any]) -> None:
        """Create; after an uncertain attempt an "already exists" with our SQL is success."""
        uncertain = False

        async def attempt(_: int) -> None:
            nonlocal uncertain
            try:
                await self._json(
                    "POST",
                    instance,
                    "workflows.create",
                    "workflows",
                    json=workflow,
                    idempotent=False,
                )
            except UncertainOutcome:
                uncertain = True
                raise
            except ValidationError as exc:
                if not (uncertain and "already exists" in exc.details):
                    raise
                existing = await self.get_workflow(instance, workflow["workflowId"])
                if existing.sql_query != workflow.get("sqlQuery"):
                    raise

        await self.retry.run(attempt, self.sleep, UncertainOutcome)

    async def get_workflow(self, instance: InstanceRef, workflow_id: str) -> Workflow:
        body = await self._json("GET", instance, "workflows.get", "workflows", workflow_id)
        return Workflow.model_validate(unwrap(body, "workflow"))

    async def list_workflows(self, instance: InstanceRef) -> list[Workflow]:
        return await self._collect(
            Workflow,
            instance.reporting_path("workflows"),
            "workflows",
            instance=instance,
            account=instance.account,
            operation="workflows.list",
        )

    async def update_workflow(self, instance: InstanceRef, workflow: dict[str, Any]) -> None:
        await self._json(
            "PUT", instance, "workflows.update", "workflows", workflow["workflowId"], json=workflow
        )

    async def delete_workflow(self, instance: InstanceRef, workflow_id: str) -> None:
        await self._json("DELETE", instance, "workflows.delete", "workflows", workflow_id)

    # --- executions ----------------------------------------------------------------------

    async def create_execution(
        self,
        instance: InstanceRef,
        request: ExecutionRequest,
        *,
        nonce: str | None = None,
        since: float | None = None,
        resume: bool = False,
    ) -> Execution:
        """Submit once; after an uncertain outcome adopt the execution AMC made, if any."""
        return await submit.create_execution(
            self, instance, request, nonce=nonce, since=since, resume=resume
        )

    async def get_execution(
        self, instance: InstanceRef, execution_id: str, *, include_workflow: bool = False
    ) -> Execution:
        params = {"includeWorkflow": "true"} if include_workflow else None
        body = await self._json(
            "GET", instance, "executions.get", "workflowExecutions", execution_id, params=params
        )
        return Execution.model_validate(unwrap(body, "workflowExecution"))

    async def iter_executions(
        self,
        instance: InstanceRef,
        *,
        workflow_id: str | None = None,
        min_creation_time: str | None = None,
        max_creation_time: str | None = None,
        include_cancelled: bool = False,
        include_workflow: bool = False,
    ) -> AsyncIterator[list[Execution]]:
        """Pages of executions, newest first. Times are UTC `yyyy-MM-ddTHH:mm:ss`."""
        if workflow_id is None and min_creation_time is None:
            raise ValueError("listing executions needs workflow_id or min_creation_time")
        params: dict[str, Any] = {"timeZone": "UTC"}
        for key, value in (
            ("workflowId", workflow_id),
            ("minCreationTime", min_creation_time),
            ("maxCreationTime", max_creation_time),
        ):
            if value is not None:
                params[key] = value
        if include_cancelled:
            params["includeCancelled"] = "true"
        if include_workflow:
            params["includeWorkflow"] = "true"
        async for page in self._pages(
            instance.reporting_path("workflowExecutions"),
            "executions",
            instance=instance,
            account=instance.account,
            operation="executions.list",
            params=params,
        ):
            yield [Execution.model_validate(e) for e in page]

    async def cancel_execution(self, instance: InstanceRef, execution_id: str) -> None:
        """PUT status CANCELLED; a replay that finds it already CANCELLED is success."""
        try:
            await self._json(
                "PUT",
                instance,
                "executions.cancel",
                "workflowExecutions",
                execution_id,
                json={"status": "CANCELLED"},
            )
        except ValidationError:
            current = await self.get_execution(instance, execution_id)
            if current.status != "CANCELLED":
                raise

    async def download_urls(self, instance: InstanceRef, execution_id: str) -> DownloadUrls:
        """Presigned URLs; "unavailable for download" is retried briefly (AMC publishing)."""

        async def attempt(_: int) -> DownloadUrls:
            body = await self._json(
                "GET",
                instance,
                "executions.downloadUrls",
                "workflowExecutions",
                execution_id,
                "downloadUrls",
            )
            return DownloadUrls.model_validate(body)

        return await self.retry.run(attempt, self.sleep, DownloadUnavailable)

    # --- data sources --------------------------------------------------------------------

    async def list_data_sources(self, instance: InstanceRef) -> list[DataSource]:
        def load() -> Awaitable[list[DataSource]]:
            return self._collect(
                DataSource,
                instance.reporting_path("dataSources"),
                "dataSources",
                instance=instance,
                account=instance.account,
                operation="dataSources.list",
            )

        result: list[DataSource] = await self._discovery.get_or_load(("sources", instance), load)
        return result

    async def get_data_source(self, instance: InstanceRef, name: str) -> DataSource:
        body = await self._json("GET", instance, "dataSources.get", "dataSources", name)
        return DataSource.model_validate(unwrap(body, "dataSource"))
