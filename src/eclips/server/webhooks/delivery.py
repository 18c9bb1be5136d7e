"""The dispatcher: claims due deliveries, signs and sends them, records every attempt.

Claims take a lease (``locked_until``) and count the attempt in the same transaction, so a
process that dies between claim and finish loses nothing: the lease runs out and another
dispatcher (or this one, restarted) sends the same event again with the same
``webhook-id``. Sends run concurrently under a bounded pool, and no single URL may hold
more than a quarter of it, so one slow receiver never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eclips.server.db.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from eclips.server.db.types import utcnow
from eclips.server.settings import Settings
from eclips.server.webhooks import repository, signing
from eclips.server.webhooks.ssrf import Resolver, resolve
from eclips.server.webhooks.status import DeliveryStatus
from eclips.server.webhooks.transport import GuardedTransport, delivery_ssl_context

logger = logging.getLogger(__name__)

# Seconds to wait after the n-th failed attempt (the first attempt is immediate), in the
# spirit of Svix: 8 attempts over about a day and a half.
RETRY_SCHEDULE: Final[tuple[float, ...]] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS: Final = len(RETRY_SCHEDULE) + 1
JITTER: Final = 0.2
# A receiver's Retry-After is honoured up to this long.
MAX_RETRY_AFTER: Final = 24 * 3600.0
USER_AGENT: Final = "EClips-Webhooks/1.0"
_ERROR_LIMIT = 500
_MAX_ANSWER_BYTES = 64 * 1024


def retry_delay(
    attempt: int, *, scale: float = 1.0, rng: random.Random | None = None
) -> float | None:
    """Seconds before the attempt after failed attempt number ``attempt`` (1-based), with
    +/-20% jitter; None when the attempts are spent."""
    if attempt < 1 or attempt > len(RETRY_SCHEDULE):
        return None
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return RETRY_SCHEDULE[attempt - 1] * scale * spread


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """A ``Retry-After`` header (delta-seconds or an HTTP date) as seconds from ``now``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Job:
    """One claimed delivery, with everything needed to send it outside a transaction."""

    delivery_id: uuid.UUID
    attempt: int  # also the fencing token of the lease
    org_id: uuid.UUID
    endpoint_id: uuid.UUID | None
    event_id: uuid.UUID
    event_type: str
    url: str
    body: bytes
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None = None
    at: datetime = field(default_factory=utcnow)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookDispatcher:
    """Delivers the outbox. Run one per worker process: ``await dispatcher.run(stop)``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        resolver: Resolver = resolve,
        lease_seconds: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._resolver = resolver
        self._timeout = settings.webhook_timeout_seconds
        # Longer than the slowest attempt plus its bookkeeping, so only a dead process
        # loses its lease.
        self._lease = lease_seconds if lease_seconds is not None else self._timeout * 2 + 5
        self._concurrency = settings.webhook_concurrency
        self._per_url = max(1, self._concurrency // 4)
        self._rng = rng or random.Random()
        self._in_flight: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        # Outcomes wait here to be written together: under load one transaction records
        # many attempts, instead of each send queueing for SQLite's single writer.
        self._unrecorded: list[tuple[Job, Outcome, asyncio.Future[None]]] = []
        self._recording = False
        # The dispatcher's own writes (claims, records) queue here rather than in the
        # database's lock, whose busy handler backs off in steps of many milliseconds.
        self._write_lock = asyncio.Lock()

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll (call after a commit
        that recorded events, from the dispatcher's event loop)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then let in-flight attempts finish (bounded by
        the timeout); anything cut short is re-offered when its lease expires."""
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    await self._fill()
                except Exception:
                    logger.exception("claiming webhook deliveries failed")
                await self._idle(stop)
        finally:
            await self._drain()
            await self.aclose()

    async def dispatch_once(self) -> int:
        """Claim what is due (up to the pool size), send it all, wait; the number sent."""
        jobs = await self._claim(self._concurrency)
        outcomes = await asyncio.gather(*(self.send(job) for job in jobs))
        await self._record_all(list(zip(jobs, outcomes, strict=True)))
        return len(jobs)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- the loop -----------------------------------------------------------------------

    async def _fill(self) -> None:
        free = self._concurrency - len(self._tasks)
        if free <= 0:
            return
        for job in await self._claim(free):
            self._in_flight[job.url] = self._in_flight.get(job.url, 0) + 1
            task = asyncio.create_task(self._deliver(job), name=f"webhook-{job.delivery_id}")
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._done, url=job.url))

    def _done(self, task: asyncio.Task[None], *, url: str) -> None:
        self._tasks.discard(task)
        left = self._in_flight.get(url, 1) - 1
        if left > 0:
            self._in_flight[url] = left
        else:
            self._in_flight.pop(url, None)
        self._wake.set()

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(
                waiters,
                timeout=self._settings.webhook_poll_seconds,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=self._timeout + 5)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)

    # --- claim --------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[Job]:
        async with self._write_lock, self._sessions() as session:
            now = utcnow()
            saturated = {url for url, n in self._in_flight.items() if n >= self._per_url}
            candidates = await repository.due_candidates(
                session, now=now, limit=limit * 4, exclude_urls=saturated
            )
            chosen: list[uuid.UUID] = []
            counts = dict(self._in_flight)
            for delivery_id, url in candidates:
                if counts.get(url, 0) >= self._per_url:
                    continue
                counts[url] = counts.get(url, 0) + 1
                chosen.append(delivery_id)
                if len(chosen) == limit:
                    break
            if not chosen:
                await session.rollback()
                return []
            deliveries = await repository.lease(
                session, chosen, now=now, until=now + timedelta(seconds=self._lease)
            )
            jobs = await self._jobs(session, deliveries, now=now)
            await session.commit()
        return jobs

    async def _jobs(
        self, session: AsyncSession, deliveries: Sequence[WebhookDelivery], *, now: datetime
    ) -> list[Job]:
        events = await repository.events_by_id(session, {d.event_id for d in deliveries})
        endpoints = await repository.endpoints_by_id(
            session, {d.endpoint_id for d in deliveries if d.endpoint_id is not None}
        )
        org_secrets = await repository.signing_secrets_by_org(
            session, {d.org_id for d in deliveries if d.endpoint_id is None}
        )
        jobs: list[Job] = []
        for delivery in deliveries:
            event = events[delivery.event_id]
            if delivery.endpoint_id is not None:
                secrets = _endpoint_secrets(endpoints[delivery.endpoint_id], now=now)
            else:
                secrets = (org_secrets[delivery.org_id],)
            jobs.append(
                Job(
                    delivery_id=delivery.id,
                    attempt=delivery.attempts,
                    org_id=delivery.org_id,
                    endpoint_id=delivery.endpoint_id,
                    event_id=event.id,
                    event_type=event.type,
                    url=delivery.url,
                    body=json.dumps(event.payload, separators=(",", ":")).encode(),
                    secrets=secrets,
                )
            )
        return jobs

    # --- send ---------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = GuardedTransport(
                ssl_context=delivery_ssl_context(),
                allow_private=self._settings.webhooks_allow_private,
                max_connections=self._concurrency,
                resolver=self._resolver,
            )
            self._client = httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(self._timeout),
                follow_redirects=False,
                trust_env=False,
                headers={"user-agent": USER_AGENT},
            )
        return self._client

    async def send(self, job: Job) -> Outcome:
        """One HTTP attempt: a fresh ``webhook-timestamp``, the event's ``webhook-id``."""
        timestamp = int(time.time())
        headers = signing.headers(
            job.secrets, msg_id=str(job.event_id), timestamp=timestamp, body=job.body
        )
        headers["content-type"] = "application/json"
        client = self._http()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                request = client.build_request("POST", job.url, content=job.body, headers=headers)
                response = await client.send(request, stream=True)
                try:
                    # Read a little of the answer so the connection can be kept alive;
                    # the rest is not ours to wait for.
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= _MAX_ANSWER_BYTES:
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return Outcome(None, _ms(started), f"Timed out after {self._timeout:g} s")
        except httpx.HTTPError as exc:
            return Outcome(None, _ms(started), _describe(exc))
        latency = _ms(started)
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(code, latency, None)
        error = f"HTTP {code}"
        if 300 <= code < 400:
            error += " (redirects are not followed)"
        retry_after = retry_after_seconds(response.headers.get("retry-after"), now=utcnow())
        return Outcome(code, latency, error, retry_after)

    async def _deliver(self, job: Job) -> None:
        outcome = await self.send(job)
        try:
            await self._record(job, outcome)
        except Exception:
            # The lease expires and the delivery is offered again: nothing is lost.
            logger.exception("recording webhook attempt %s failed", job.delivery_id)

    # --- record -------------------------------------------------------------------------

    async def _record(self, job: Job, outcome: Outcome) -> None:
        """Queue an outcome and wait until it is committed. The first waiter writes
        everything queued, in one transaction, until the queue is empty (group commit)."""
        recorded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unrecorded.append((job, outcome, recorded))
        if not self._recording:
            self._recording = True
            try:
                while self._unrecorded:
                    batch, self._unrecorded = self._unrecorded, []
                    try:
                        await self._record_all([(j, o) for j, o, _ in batch])
                    finally:
                        for _j, _o, future in batch:
                            if not future.done():
                                future.set_result(None)
            finally:
                self._recording = False
                for _j, _o, future in self._unrecorded:
                    future.set_exception(RuntimeError("the recording dispatcher stopped"))
                self._unrecorded = []
        await recorded

    async def _record_all(self, outcomes: Sequence[tuple[Job, Outcome]]) -> None:
        """Write outcomes in one transaction; if that fails, one by one, so one bad row
        cannot hold back the others (whatever still fails is re-sent after its lease)."""
        if not outcomes:
            return
        async with self._write_lock:
            try:
                await self._write(outcomes)
                return
            except Exception:
                logger.exception("recording %d webhook attempts failed", len(outcomes))
            for outcome in outcomes:
                try:
                    await self._write([outcome])
                except Exception:
                    logger.exception("recording webhook attempt %s failed", outcome[0].delivery_id)

    async def _finish(self, job: Job, outcome: Outcome) -> None:
        """Record one outcome now (tests use this to play a dispatcher that came back late)."""
        await self._record_all([(job, outcome)])

    async def _write(self, outcomes: Sequence[tuple[Job, Outcome]]) -> None:
        async with self._sessions() as session:
            now = utcnow()
            for job, outcome in outcomes:
                await self._write_one(session, job, outcome, now=now)
            await session.commit()

    async def _write_one(
        self, session: AsyncSession, job: Job, outcome: Outcome, *, now: datetime
    ) -> None:
        session.add(
            WebhookAttempt(
                org_id=job.org_id,
                delivery_id=job.delivery_id,
                endpoint_id=job.endpoint_id,
                event_id=job.event_id,
                event_type=job.event_type,
                url=job.url,
                attempt=job.attempt,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
                created_at=outcome.at,
            )
        )
        applied = await repository.finish_delivery(
            session, job.delivery_id, fence=job.attempt, values=self._next(job, outcome, now)
        )
        if applied and job.endpoint_id is not None:
            await self._judge_endpoint(session, job.endpoint_id, outcome, now=now)

    def _next(self, job: Job, outcome: Outcome, now: datetime) -> dict[str, object]:
        values: dict[str, object] = {
            "locked_until": None,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }
        if outcome.ok:
            return values | {"status": DeliveryStatus.DELIVERED, "delivered_at": outcome.at}
        gone = outcome.status_code == 410
        # 410 on a per-run URL ends that delivery; on an endpoint it disables the endpoint
        # and the delivery waits for it to be re-enabled.
        delay = None if gone and job.endpoint_id is None else self._delay(job.attempt)
        if delay is None:
            return values | {"status": DeliveryStatus.FAILED}
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        return values | {"next_attempt_at": now + timedelta(seconds=delay)}

    def _delay(self, attempt: int) -> float | None:
        return retry_delay(attempt, scale=self._settings.webhook_retry_scale, rng=self._rng)

    async def _judge_endpoint(
        self, session: AsyncSession, endpoint_id: uuid.UUID, outcome: Outcome, *, now: datetime
    ) -> None:
        if outcome.ok:
            await repository.endpoint_succeeded(session, endpoint_id)
            return
        failing_since = await repository.endpoint_failed(session, endpoint_id, now=now)
        if outcome.status_code == 410:
            reason = "The endpoint answered 410 Gone"
        elif failing_since is not None and now - failing_since >= timedelta(
            hours=self._settings.webhook_disable_after_hours
        ):
            hours = self._settings.webhook_disable_after_hours
            reason = f"Every delivery failed for {hours:g} hours (last: {outcome.error})"
        else:
            return
        await repository.disable_endpoint(session, endpoint_id, reason=reason, now=now)
        logger.warning("webhook endpoint %s disabled: %s", endpoint_id, reason)


def _endpoint_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> tuple[str, ...]:
    """The current secret, and the previous one while its 24 hours of grace last."""
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:_ERROR_LIMIT]
