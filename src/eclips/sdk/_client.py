"""The synchronous client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from eclips.sdk._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    BaseClient,
    ModelT,
    connection_error,
    new_idempotency_key,
    path_segment,
    retry_delay,
    should_retry,
)
from eclips.sdk._exceptions import WaitTimeoutError
from eclips.sdk._models import (
    TERMINAL_RUN_STATUSES,
    Agent,
    AgentSettings,
    BatchDetail,
    BatchJob,
    BatchRow,
    Cancelled,
    Deleted,
    Health,
    Run,
    RunAccepted,
    RunEvent,
    RunWithTriage,
    SigningSecret,
    TriageItem,
    TriageResolution,
    Usage,
    UsageHistory,
    UsageMembers,
    Webhook,
    WebhookDelivery,
    WebhookSecret,
)
from eclips.sdk._pagination import SyncPage
from eclips.sdk._streaming import Format, Stream
from eclips.sdk._types import Priority, RowLike, row_payload

__all__ = ["EClipsClient"]

_JSON = "application/json"


class EClipsClient(BaseClient):
    """A client for the EClips REST API.

    ``api_key`` and ``base_url`` default to the ``ECLIPS_API_KEY`` and ``ECLIPS_BASE_URL``
    environment variables (and ``http://127.0.0.1:8080``). Failed calls are retried
    ``max_retries`` times with exponential backoff on connection errors, 408, 429 and 5xx.
    ``timeout`` is in seconds (or an ``httpx.Timeout``). Pass ``http_client`` to bring your
    own ``httpx.Client`` (proxies, custom transports); the client then does not close it.

    Use it as a context manager, or call :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key, base_url=base_url, max_retries=max_retries, timeout=timeout
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, follow_redirects=True)

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the client's connections."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> EClipsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: str = _JSON,
        stream: bool = False,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send with retries; return a successful response or raise the typed error."""
        request = self._build_request(
            self._http,
            method,
            path,
            params=params,
            json=json,
            accept=accept,
            idempotency_key=idempotency_key,
        )
        attempt = 0
        while True:
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise connection_error(exc, request) from exc
                time.sleep(retry_delay(attempt))
                attempt += 1
                continue
            if response.is_success:
                return response
            response.read()
            response.close()
            if should_retry(response) and attempt < self.max_retries:
                time.sleep(retry_delay(attempt, response.headers))
                attempt += 1
                continue
            raise self._status_error(response)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> tuple[Any, httpx.Request]:
        response = self._send(
            method, path, params=params, json=json, idempotency_key=idempotency_key
        )
        return self._json(response), response.request

    def _call(
        self,
        model: type[ModelT],
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        envelope: str | None = None,
        idempotency_key: str | None = None,
    ) -> ModelT:
        body, request = self._request(
            method, path, params=params, json=json, idempotency_key=idempotency_key
        )
        if envelope is not None:
            body = self._envelope(body, envelope, request)
        return self._cast(model, body, request)

    def _page(
        self,
        model: type[ModelT],
        path: str,
        *,
        items_key: str = "data",
        params: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> SyncPage[ModelT]:
        paginated = limit is not None
        query = {**(params or {}), "limit": limit, "offset": offset if paginated else None}
        body, request = self._request("GET", path, params=query)
        items = self._envelope(body, items_key, request)
        if not isinstance(items, list):
            items = []
        data = [self._cast(model, item, request) for item in items]

        def fetch(next_offset: int) -> SyncPage[ModelT]:
            return self._page(
                model, path, items_key=items_key, params=params, limit=limit, offset=next_offset
            )

        return SyncPage(
            body=body,
            items_key=items_key,
            data=data,
            limit=limit,
            offset=offset,
            fetch=fetch if paginated else None,
        )

    def _stream(
        self, model: type[ModelT], path: str, *, fmt: Format, accept: str
    ) -> Stream[ModelT]:
        response = self._send("GET", path, accept=accept, stream=True)
        return Stream(response, fmt=fmt, cast=model.model_validate)

    # -- health -----------------------------------------------------------------------------

    def health(self) -> Health:
        """``GET /v1/health``: whether the server is up (needs no API key)."""
        return self._call(Health, "GET", "/v1/health")

    # -- runs -------------------------------------------------------------------------------

    def run(
        self,
        task: str,
        *,
        agent_type: str = "center",
        data: Mapping[str, Any] | None = None,
        priority: Priority = "normal",
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> RunAccepted:
        """``POST /v1/run``: queue an agent run; it runs asynchronously.

        Retries of this call reuse one ``Idempotency-Key``, so the run is created once. Pass
        your own ``idempotency_key`` (say, an order number) to make a repeated call, even
        from another process within 24 hours, return the first call's run.
        """
        body: dict[str, Any] = {"task": task, "agent_type": agent_type, "priority": priority}
        if data is not None:
            body["data"] = dict(data)
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        key = idempotency_key or new_idempotency_key()
        return self._call(RunAccepted, "POST", "/v1/run", json=body, idempotency_key=key)

    def get_run(self, run_id: str) -> RunWithTriage:
        """``GET /v1/runs/{id}``: the full run and its triage item, if any."""
        return self._call(RunWithTriage, "GET", f"/v1/runs/{path_segment(run_id)}")

    def list_runs(
        self, *, status: str | None = None, limit: int = 20, offset: int = 0
    ) -> SyncPage[Run]:
        """``GET /v1/runs``: runs, newest first; iterate the page to walk every page."""
        return self._page(Run, "/v1/runs", params={"status": status}, limit=limit, offset=offset)

    def stream_run(self, run_id: str) -> Stream[RunEvent]:
        """``GET /v1/runs/{id}/stream``: the run's status events as they happen.

        The server ends the stream at a terminal status or after about 30 seconds.
        """
        return self._stream(
            RunEvent,
            f"/v1/runs/{path_segment(run_id)}/stream",
            fmt="sse",
            accept="text/event-stream",
        )

    def retry_run(self, run_id: str) -> RunAccepted:
        """``POST /v1/runs/{id}/retry``: queue a failed run again, as a new linked run."""
        return self._call(RunAccepted, "POST", f"/v1/runs/{path_segment(run_id)}/retry")

    def cancel_run(self, run_id: str) -> Cancelled:
        """``POST /v1/runs/{id}/cancel``: stop a queued or running run."""
        return self._call(Cancelled, "POST", f"/v1/runs/{path_segment(run_id)}/cancel")

    def wait_for_run(
        self, run_id: str, *, poll_interval: float = 1.0, timeout: float | None = None
    ) -> Run:
        """Poll until the run is completed, failed, cancelled or awaiting triage.

        Raises :class:`WaitTimeoutError` when ``timeout`` seconds pass first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.get_run(run_id).run
            if run.status in TERMINAL_RUN_STATUSES or run.status == "awaiting_triage":
                return run
            if deadline is not None and time.monotonic() + poll_interval > deadline:
                raise WaitTimeoutError(f"Run {run_id} is still {run.status} after {timeout} s")
            time.sleep(poll_interval)

    # -- triage -----------------------------------------------------------------------------

    def list_triage(self, *, limit: int = 20, offset: int = 0) -> SyncPage[TriageItem]:
        """``GET /v1/triage``: pending triage items, each joined to its run."""
        return self._page(TriageItem, "/v1/triage", limit=limit, offset=offset)

    def approve_triage(
        self,
        item_id: str,
        *,
        resolution_note: str | None = None,
        output: Mapping[str, Any] | None = None,
    ) -> TriageResolution:
        """``POST /v1/triage/{id}/approve``: the blocked run becomes completed.

        ``output``, when given, replaces the run's output (an edited answer).
        """
        body: dict[str, Any] = {}
        if resolution_note is not None:
            body["resolution_note"] = resolution_note
        if output is not None:
            body["output"] = dict(output)
        path = f"/v1/triage/{path_segment(item_id)}/approve"
        return self._call(TriageResolution, "POST", path, json=body, envelope="data")

    def reject_triage(self, item_id: str, *, reason: str | None = None) -> TriageResolution:
        """``POST /v1/triage/{id}/reject``: the blocked run becomes cancelled."""
        body: dict[str, Any] = {} if reason is None else {"reason": reason}
        path = f"/v1/triage/{path_segment(item_id)}/reject"
        return self._call(TriageResolution, "POST", path, json=body, envelope="data")

    # -- webhooks ---------------------------------------------------------------------------

    def create_webhook(self, *, url: str, events: Iterable[str]) -> Webhook:
        """``POST /v1/webhooks``: register an https URL; the answer holds the signing secret,
        shown only this once."""
        body = {"url": url, "events": list(events)}
        return self._call(Webhook, "POST", "/v1/webhooks", json=body, envelope="data")

    def list_webhooks(self) -> SyncPage[Webhook]:
        """``GET /v1/webhooks``: the organisation's webhooks (without secrets)."""
        return self._page(Webhook, "/v1/webhooks")

    def delete_webhook(self, webhook_id: str) -> Deleted:
        """``DELETE /v1/webhooks/{id}``."""
        return self._call(Deleted, "DELETE", f"/v1/webhooks/{path_segment(webhook_id)}")

    def list_webhook_deliveries(
        self, webhook_id: str, *, limit: int = 20, offset: int = 0
    ) -> SyncPage[WebhookDelivery]:
        """``GET /v1/webhooks/{id}/deliveries``: delivery attempts, newest first, with their
        status code, latency and error."""
        path = f"/v1/webhooks/{path_segment(webhook_id)}/deliveries"
        return self._page(WebhookDelivery, path, limit=limit, offset=offset)

    def rotate_webhook_secret(self, webhook_id: str) -> WebhookSecret:
        """``POST /v1/webhooks/{id}/rotate-secret``: a new signing secret, shown once."""
        path = f"/v1/webhooks/{path_segment(webhook_id)}/rotate-secret"
        return self._call(WebhookSecret, "POST", path, envelope="data")

    def enable_webhook(self, webhook_id: str) -> Webhook:
        """``POST /v1/webhooks/{id}/enable``: re-enable a disabled webhook; the deliveries
        held meanwhile are sent."""
        path = f"/v1/webhooks/{path_segment(webhook_id)}/enable"
        return self._call(Webhook, "POST", path, envelope="data")

    def get_signing_secret(self) -> SigningSecret:
        """``GET /v1/webhooks/signing-secret``: the secret that signs events sent to a run's or
        a batch's ``webhook_url``."""
        path = "/v1/webhooks/signing-secret"
        return self._call(SigningSecret, "GET", path, envelope="data")

    def rotate_signing_secret(self) -> SigningSecret:
        """``POST /v1/webhooks/signing-secret/rotate``: replace the organisation's signing
        secret; it takes effect at once."""
        path = "/v1/webhooks/signing-secret/rotate"
        return self._call(SigningSecret, "POST", path, envelope="data")

    # -- batches ----------------------------------------------------------------------------

    def create_batch(
        self,
        agent_type: str,
        rows: Iterable[RowLike],
        *,
        name: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> BatchJob:
        """``POST /v1/batches``: run ``agent_type`` over up to 500 rows; returns the pending job.

        Each row is ``{"task": ..., "data": {...}, "custom_id": ...}`` (a dict or a model).
        ``idempotency_key`` works as in :meth:`run`.
        """
        body: dict[str, Any] = {"agent_type": agent_type, "rows": [row_payload(r) for r in rows]}
        if name is not None:
            body["name"] = name
        if webhook_url is not None:
            body["webhook_url"] = webhook_url
        key = idempotency_key or new_idempotency_key()
        return self._call(
            BatchJob, "POST", "/v1/batches", json=body, envelope="job", idempotency_key=key
        )

    def get_batch(self, batch_id: str) -> BatchDetail:
        """``GET /v1/batches/{id}``: the job (its fields readable at top level) and its rows."""
        return self._call(BatchDetail, "GET", f"/v1/batches/{path_segment(batch_id)}")

    def list_batches(
        self, *, status: str | None = None, limit: int = 20, offset: int = 0
    ) -> SyncPage[BatchJob]:
        """``GET /v1/batches``: batch jobs, newest first."""
        return self._page(
            BatchJob,
            "/v1/batches",
            items_key="jobs",
            params={"status": status},
            limit=limit,
            offset=offset,
        )

    def cancel_batch(self, batch_id: str) -> Cancelled:
        """``POST /v1/batches/{id}/cancel``: cancel a pending or running job."""
        return self._call(Cancelled, "POST", f"/v1/batches/{path_segment(batch_id)}/cancel")

    def get_batch_results(self, batch_id: str) -> Stream[BatchRow]:
        """``GET /v1/batches/{id}/results``: every row, streamed as JSON Lines."""
        path = f"/v1/batches/{path_segment(batch_id)}/results"
        return self._stream(BatchRow, path, fmt="jsonl", accept="application/x-ndjson")

    def retry_batch(self, batch_id: str) -> BatchJob:
        """``POST /v1/batches/{id}/retry``: run the job's failed rows again."""
        path = f"/v1/batches/{path_segment(batch_id)}/retry"
        return self._call(BatchJob, "POST", path, envelope="job")

    def wait_for_batch(
        self,
        batch_id: str,
        *,
        on_progress: Callable[[BatchDetail], object] | None = None,
        poll_interval: float = 2.0,
        timeout: float | None = None,
    ) -> BatchDetail:
        """Poll until the job is no longer pending or running; return its final state.

        ``on_progress`` is called with the job after every poll. Raises
        :class:`WaitTimeoutError` when ``timeout`` seconds pass first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get_batch(batch_id)
            if on_progress is not None:
                on_progress(job)
            if job.status not in ("pending", "running"):
                return job
            if deadline is not None and time.monotonic() + poll_interval > deadline:
                raise WaitTimeoutError(
                    f"Batch {batch_id} is still {job.status} after {timeout} s "
                    f"({job.finished_rows}/{job.total_rows} rows done)"
                )
            time.sleep(poll_interval)

    # -- usage ------------------------------------------------------------------------------

    def get_usage(self) -> Usage:
        """``GET /v1/usage``: the organisation's credits for the current period."""
        return self._call(Usage, "GET", "/v1/usage")

    def get_usage_history(self) -> UsageHistory:
        """``GET /v1/usage/history``: the last 50 ledger entries."""
        return self._call(UsageHistory, "GET", "/v1/usage/history")

    def get_usage_members(self) -> UsageMembers:
        """``GET /v1/usage/members``: credits used per member this period."""
        return self._call(UsageMembers, "GET", "/v1/usage/members")

    # -- agents -----------------------------------------------------------------------------

    def list_agents(self) -> SyncPage[Agent]:
        """``GET /v1/agents``: the agent types this server runs."""
        return self._page(Agent, "/v1/agents")

    def get_agent_settings(self, agent_type: str) -> AgentSettings:
        """``GET /v1/agents/{agent_type}/settings``: the organisation's settings for an agent."""
        path = f"/v1/agents/{path_segment(agent_type)}/settings"
        return self._call(AgentSettings, "GET", path)

    def update_agent_settings(self, agent_type: str, settings: Mapping[str, Any]) -> AgentSettings:
        """``PUT /v1/agents/{agent_type}/settings``: replace the organisation's settings for an
        agent; the server validates them against the agent's ``settings_schema``."""
        path = f"/v1/agents/{path_segment(agent_type)}/settings"
        return self._call(AgentSettings, "PUT", path, json=dict(settings))
