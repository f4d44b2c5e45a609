"""The sandbox's operations, independent of HTTP: workflows, executions, results, sources."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from amc_manager.catalogue import Catalogue, Table
from amc_manager.sandbox import executions as ex
from amc_manager.sandbox import lifecycle
from amc_manager.sandbox import store as st
from amc_manager.sandbox.config import SandboxConfig
from amc_manager.sandbox.data import DataConfig, SyntheticData
from amc_manager.sandbox.errors import BadRequest, NotFound, SandboxHTTPError, UnprocessableEntity
from amc_manager.sandbox.faults import fail_marked
from amc_manager.sandbox.identity import Account, Directory
from amc_manager.sandbox.query import CompiledQueries, CompileError, QueryRuntimeError, run_query
from amc_manager.sandbox.results import file_stem, write_metadata, write_result_files
from amc_manager.sandbox.stats import Stats
from amc_manager.sandbox.tables import served_tables
from amc_manager.sandbox.throttle import Throttle
from amc_manager.sandbox.workflows import check_workflow, check_workflow_id, compile_saved

Doc = dict[str, Any]
logger = logging.getLogger("amc_manager.sandbox")
T = TypeVar("T")
STALE_CLAIM_SECONDS = 300.0
PRODUCERS = 2  # query runs at once (DuckDB runs each on threads of its own too)


class Sandbox:
    """One sandbox: configuration, persistent state, synthetic data, counters and throttles.

    Several `Sandbox` objects (in several processes) may share one state dir; they agree on
    everything because state lives in SQLite and the data is a pure function of the seed.
    """

    def __init__(
        self,
        config: SandboxConfig,
        state_dir: Path | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state_dir = state_dir
        self.clock = clock
        self.directory: Directory = config.directory()
        self.account: Account = self.directory.default
        # AMC's free catalogue, the paid tables subscribed to and the configured extra tables:
        # what dataSources lists and SQL reads.
        self.catalogue: Catalogue = served_tables(
            (t.table() for t in config.extra_tables), config.paid_tables()
        )
        self.queries = CompiledQueries(self.catalogue)
        self.stats = Stats()
        self.throttle = Throttle(config.throttle_rate * config.time_scale, config.throttle_burst)
        self.store = st.SandboxStore(state_dir / "sandbox.db" if state_dir else None)
        self._data: SyntheticData | None = None
        self._tmp_dir: Path | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Query runs take turns in a pool of their own, off the store's thread and the default
        # pool: hundreds of runs ending at once never slow the API's answers.
        self._producers = ThreadPoolExecutor(
            max_workers=PRODUCERS, thread_name_prefix="sandbox-results"
        )
        self._secret = b""
        self.token_cache: dict[str, tuple[str, float, int]] = {}

    # --- lifecycle ---------------------------------------------------------------------

    def open(self) -> None:
        self.store.open()
        self._secret = self.store.transact_sync(_url_secret)
        tokens = [self.config.refresh_token, *(i.refresh_token for i in self.config.identities)]

        def register(conn: Any) -> None:
            for token in tokens:
                st.add_refresh_token(conn, token, self.config.client_id)

        self.store.transact_sync(register)

    async def aclose(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self.store.close()
        self._producers.shutdown(wait=False, cancel_futures=True)
        if self._tmp_dir is not None:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)

    @property
    def url_secret(self) -> bytes:
        return self._secret

    @property
    def data(self) -> SyntheticData:
        if self._data is None:
            self._data = SyntheticData(
                DataConfig(
                    seed=self.config.seed,
                    users=self.config.users,
                    dsp_impressions_per_day=self.config.dsp_impressions_per_day,
                    sponsored_ads_events_per_day=self.config.sponsored_ads_events_per_day,
                ),
                self.catalogue,
                {t.name: t.rows_per_day for t in self.config.extra_tables},
                compact=True,
            )
        return self._data

    @property
    def results_dir(self) -> Path:
        if self.state_dir is not None:
            return self.state_dir / "results"
        if self._tmp_dir is None:
            self._tmp_dir = Path(tempfile.mkdtemp(prefix="amc-sandbox-"))
        return self._tmp_dir

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC).replace(tzinfo=None)

    def bucket(self, instance_id: str) -> str:
        return f"amc-{instance_id}-results"

    # --- workflows ---------------------------------------------------------------------

    async def create_workflow(self, instance_id: str, body: object) -> None:
        workflow = check_workflow(body, adhoc=False)
        compile_saved(workflow, self.now(), self.catalogue)

        def op(conn: Any) -> None:
            if st.get_workflow(conn, instance_id, workflow["workflowId"]) is not None:
                raise BadRequest(f"Workflow with ID {workflow['workflowId']} already exists.")
            st.put_workflow(conn, instance_id, workflow)

        await self.store.transact(op)

    async def update_workflow(self, instance_id: str, workflow_id: str, body: object) -> None:
        check_workflow_id(workflow_id)
        if isinstance(body, dict):
            body = {**body, "workflowId": body.get("workflowId", workflow_id)}
        workflow = check_workflow(body, adhoc=False)
        if workflow["workflowId"] != workflow_id:
            raise BadRequest("The workflowId in the body does not match the path.")
        compile_saved(workflow, self.now(), self.catalogue)

        def op(conn: Any) -> None:
            if st.get_workflow(conn, instance_id, workflow_id) is None:
                raise _workflow_missing(workflow_id)
            st.put_workflow(conn, instance_id, workflow)

        await self.store.transact(op)

    async def get_workflow(self, instance_id: str, workflow_id: str) -> Doc:
        found = await self.store.transact(lambda c: st.get_workflow(c, instance_id, workflow_id))
        if found is None:
            raise _workflow_missing(workflow_id)
        return found

    async def delete_workflow(self, instance_id: str, workflow_id: str) -> None:
        deleted = await self.store.transact(
            lambda c: st.delete_workflow(c, instance_id, workflow_id)
        )
        if not deleted:
            raise _workflow_missing(workflow_id)

    async def list_workflows(self, instance_id: str) -> list[Doc]:
        return await self.store.transact(lambda c: st.list_workflows(c, instance_id))

    # --- executions --------------------------------------------------------------------

    async def create_execution(self, instance_id: str, body: object) -> Doc:
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        now = self.now()
        saved = None
        if "workflowId" in body and "workflow" not in body:
            saved = await self.store.transact(
                lambda c: st.get_workflow(c, instance_id, str(body["workflowId"]))
            )
        ctx = ex.CreateContext(instance_id, saved, now, self.data.retention_start(now))
        doc = ex.build_execution(body, ctx, self.config)
        details = await asyncio.to_thread(ex.compile_error, doc, self.queries)
        if details is not None:
            if not self.config.late_compile_errors:
                raise BadRequest(details)
            ex.mark_compile_failure(doc, details)
        await self.store.transact(lambda c: self._insert(c, doc, now))
        self.stats.created(instance_id)
        # AMC answers with the execution as queued; it starts on the next look.
        return ex.execution_json(doc, include_workflow=False, bucket=self.bucket(instance_id))

    def _insert(self, conn: Any, doc: Doc, now: datetime) -> None:
        quota = self.config.daily_adhoc_quota
        if quota and doc["adhoc"] and not doc["dry_run"]:
            used = st.count_adhoc_since(conn, doc["instance_id"], ex.utc_day_start(now))
            if used >= quota:
                raise UnprocessableEntity(
                    f"You have exceeded the limit of {quota} ad hoc workflow executions per day "
                    f"for instance {doc['instance_id']}. Try again after 00:00 UTC or run a saved "
                    "workflow."
                )
        fail_marked(conn, doc, self.config.faults.fail_markers)
        limit = self.config.privacy_overlap_limit
        if limit and not doc["dry_run"] and doc["outcome"] == "SUCCEEDED":
            earlier = st.list_executions(
                conn, doc["instance_id"], workflow_id=None, min_created=None, max_created=None
            )
            similar = [
                e
                for e in earlier
                if ex.same_sources(e, doc) and ex.overlaps(e, doc) and e["status"] != "CANCELLED"
            ]
            if len(similar) >= limit:
                ex.mark_rejected(doc)
        st.insert_execution(conn, doc)

    async def _advanced(self, instance_id: str, then: Callable[[Any], T] | None = None) -> T | None:
        """Advance the instance to now, then run `then` in the same transaction.

        One transaction per request keeps status reads cheap and consistent.
        """
        now = self.clock()
        limit = self.config.max_running_per_instance
        active: list[Doc] = []

        def op(conn: Any) -> T | None:
            docs = st.active_executions(conn, instance_id)
            clock = st.instance_clock(conn, instance_id)
            for doc in lifecycle.advance(docs, now, limit, clock):
                st.update_execution(conn, doc)
                clock = max(clock, float(doc.get("slot_event_at", 0.0)))
            st.set_instance_clock(conn, instance_id, clock)
            active.extend(d for d in docs if not lifecycle.is_terminal(d))
            return then(conn) if then is not None else None

        result = await self.store.transact(op)
        self.stats.open_now(instance_id, len(active))
        for doc in active:
            self._ensure_result(doc)
        return result

    async def _execution_doc(self, instance_id: str, execution_id: str) -> Doc:
        doc = await self._advanced(
            instance_id, lambda c: st.get_execution(c, instance_id, execution_id)
        )
        if doc is None:
            raise self._execution_missing(execution_id)
        return doc

    async def get_execution(
        self, instance_id: str, execution_id: str, *, include_workflow: bool
    ) -> Doc:
        doc = await self._execution_doc(instance_id, execution_id)
        return ex.execution_json(
            doc, include_workflow=include_workflow, bucket=self.bucket(instance_id)
        )

    async def list_executions(
        self,
        instance_id: str,
        *,
        workflow_id: str | None,
        min_created: float | None,
        max_created: float | None,
        include_cancelled: bool,
        include_workflow: bool,
        ascending: bool,
    ) -> list[Doc]:
        docs = await self._advanced(
            instance_id,
            lambda c: st.list_executions(
                c,
                instance_id,
                workflow_id=workflow_id,
                min_created=min_created,
                max_created=max_created,
            ),
        )
        docs = [d for d in docs or [] if include_cancelled or d["status"] != "CANCELLED"]
        if ascending:
            docs.reverse()
        bucket = self.bucket(instance_id)
        return [
            ex.execution_json(d, include_workflow=include_workflow, bucket=bucket) for d in docs
        ]

    async def cancel_execution(self, instance_id: str, execution_id: str, body: object) -> None:
        if not isinstance(body, dict) or body.get("status") != "CANCELLED":
            raise BadRequest("Only an update to status CANCELLED is supported.")
        now = self.clock()

        def op(conn: Any) -> None:
            doc = st.get_execution(conn, instance_id, execution_id)
            if doc is None:
                raise self._execution_missing(execution_id)
            if lifecycle.is_terminal(doc):
                raise BadRequest(
                    f"Workflow execution with ID {execution_id} cannot be updated because it is "
                    f"in {doc['status']} status."
                )
            lifecycle.cancel(doc, now)
            st.update_execution(conn, doc)
            st.set_instance_clock(conn, instance_id, now)

        await self._advanced(instance_id, op)
        await self._advanced(instance_id)

    async def result_files(self, instance_id: str, execution_id: str) -> tuple[Doc, list[str]]:
        """The execution and its result file names; refuses until it SUCCEEDED."""
        doc = await self._execution_doc(instance_id, execution_id)
        if doc["status"] != "SUCCEEDED":
            raise SandboxHTTPError(
                f"Execution with ID {execution_id} is unavailable for download.",
                status=self.config.unavailable_download_status,
            )
        result = doc.get("result") or {}
        return doc, list(result.get("files", []))

    def result_path(self, execution_id: str, name: str) -> Path | None:
        if "/" in name or name.startswith(".") or "/" in execution_id or ".." in execution_id:
            return None
        path = self.results_dir / execution_id / name
        return path if path.is_file() else None

    def _execution_missing(self, execution_id: str) -> SandboxHTTPError:
        return SandboxHTTPError(
            f"Workflow execution with ID {execution_id} does not exist.",
            status=self.config.unknown_execution_status,
        )

    # --- results: computed by whichever process notices a running execution first --------

    def _ensure_result(self, doc: Doc) -> None:
        if doc["status"] != "RUNNING" or doc["outcome"] != "SUCCEEDED":
            return
        result = doc.get("result") or {}
        if result.get("state") in ("done", "failed") or doc["execution_id"] in self._tasks:
            return
        if ex.result_age_ok(result, self.clock(), STALE_CLAIM_SECONDS):
            return
        key = str(doc["execution_id"])
        task = asyncio.create_task(self._compute(doc["instance_id"], key))
        self._tasks[key] = task

        def forget(_task: asyncio.Task[None]) -> None:
            self._tasks.pop(key, None)

        task.add_done_callback(forget)

    async def _compute(self, instance_id: str, execution_id: str) -> None:
        owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        claimed = await self.store.transact(
            lambda c: self._claim(c, instance_id, execution_id, owner)
        )
        if claimed is None:
            return
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._producers, self._produce, claimed)
        except QueryRuntimeError as exc:
            result = {"state": "failed", "reason": str(exc), "at": self.clock()}
        except CompileError as exc:  # a run-time recompile can still meet a compile problem
            result = {"state": "failed", "reason": exc.details, "at": self.clock()}
        except Exception as exc:  # never leave the run RUNNING for ever: AMC would fail it
            logger.exception("sandbox: producing the result of %s failed", execution_id)
            reason = f"Internal error while producing the result ({type(exc).__name__})"
            result = {"state": "failed", "reason": reason, "at": self.clock()}
        await self.store.transact(
            lambda c: self._settle(c, instance_id, execution_id, owner, result)
        )

    def _claim(self, conn: Any, instance_id: str, execution_id: str, owner: str) -> Doc | None:
        doc = st.get_execution(conn, instance_id, execution_id)
        if doc is None or doc["status"] != "RUNNING":
            return None
        result = doc.get("result") or {}
        if result.get("state") in ("done", "failed"):
            return None
        if ex.result_age_ok(result, self.clock(), STALE_CLAIM_SECONDS):
            return None
        doc["result"] = {"state": "computing", "owner": owner, "since": self.clock()}
        st.update_execution(conn, doc)
        return doc

    def _settle(
        self, conn: Any, instance_id: str, execution_id: str, owner: str, result: Doc
    ) -> None:
        doc = st.get_execution(conn, instance_id, execution_id)
        if doc is None or (doc.get("result") or {}).get("owner") != owner:
            return
        doc["result"] = result
        st.update_execution(conn, doc)

    def _produce(self, doc: Doc) -> Doc:
        """Run the query and write the files (in a worker thread)."""
        if doc["dry_run"]:
            return {"state": "done", "files": [], "metadata": [], "rows": 0, "at": self.clock()}
        request = ex.query_request(doc)
        compiled = self.queries.compile(request)
        data = ex.restricted(self.data, doc, self.catalogue)
        table = run_query(compiled, data, now=ex.data_time(doc))
        ex.check_output_types(doc, table.schema)
        directory = self.results_dir / doc["execution_id"]
        stem = file_stem(_naive(doc["created_at"]), doc["workflow_id"])
        files: list[str] = []
        if not doc["skip_publish"]:
            files = write_result_files(table, directory, stem, self.config.rows_per_file)
        details = ex.execution_json(
            doc, include_workflow=True, bucket=self.bucket(doc["instance_id"])
        )
        details.update(status="SUCCEEDED", rowCount=table.num_rows)
        metadata = [] if doc["skip_publish"] else [write_metadata(directory, stem, details)]
        return {
            "state": "done",
            "files": files,
            "metadata": metadata,
            "rows": table.num_rows,
            "output_columns": ex.output_columns(table.schema),
            "at": self.clock(),
        }

    # --- data sources ------------------------------------------------------------------

    def data_sources(self) -> list[Doc]:
        """Every served table: AMC's catalogue, then the configured extra tables."""
        return [_data_source_json(table) for table in self.catalogue]

    def data_source(self, name: str) -> Doc:
        table = self.catalogue.table(name)
        if table is None or table.name != name:
            raise NotFound(f"Data source with ID {name} does not exist.")
        return _data_source_json(table)


def _data_source_json(table: Table) -> Doc:
    return {
        "dataSourceId": table.name,
        "description": table.description,
        "owner": "AMAZON",
        "provider": "AMAZON",
        "tags": [],
        "columns": [
            {
                "name": c.name,
                "columnType": c.role.value,
                "description": c.description,
            }
            for c in table.columns
        ],
    }


def _naive(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _workflow_missing(workflow_id: str) -> SandboxHTTPError:
    return NotFound(f"Workflow with ID {workflow_id} does not exist.")


def _url_secret(conn: Any) -> bytes:
    value = st.meta_get(conn, "url_secret")
    if value is None:
        value = secrets.token_hex(32)
        st.meta_set(conn, "url_secret", value)
    return bytes.fromhex(value)
