"""Failed calls raise the typed error carrying the server's message; retries back off."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest

import eclips
from eclips import AsyncEClipsClient, EClipsClient
from eclips.sdk import _base_client
from tests.sdk.fake_server import FakeServer, Reply

KEY = "eck_live_test"


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base_client, "INITIAL_RETRY_DELAY", 0.01)
    monkeypatch.setattr(_base_client, "MAX_RETRY_DELAY", 0.05)


def client(fake: FakeServer, **kwargs: object) -> EClipsClient:
    return EClipsClient(api_key=KEY, base_url=fake.base_url, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, eclips.BadRequestError),
        (401, eclips.AuthenticationError),
        (402, eclips.PaymentRequiredError),
        (403, eclips.PermissionDeniedError),
        (404, eclips.NotFoundError),
        (409, eclips.ConflictError),
        (422, eclips.UnprocessableEntityError),
        (429, eclips.RateLimitError),
        (500, eclips.InternalServerError),
        (503, eclips.InternalServerError),
        (418, eclips.APIStatusError),
    ],
)
def test_status_maps_to_error_class(fake: FakeServer, status: int, cls: type) -> None:
    fake.on("GET", "/v1/usage", Reply(status, {"error": "Insufficient scope"}))
    with client(fake, max_retries=0) as c, pytest.raises(cls) as info:
        c.get_usage()
    error = info.value
    assert type(error) is cls
    assert isinstance(error, eclips.APIStatusError)
    assert isinstance(error, eclips.APIError)
    assert error.status_code == status
    assert error.message == "Insufficient scope"
    assert error.body == {"error": "Insufficient scope"}
    assert error.response.status_code == status
    assert str(error) == f"{status}: Insufficient scope"


def test_non_json_error_body(fake: FakeServer) -> None:
    fake.on("GET", "/v1/usage", Reply(502, raw=b"Bad gateway from the proxy"))
    with client(fake, max_retries=0) as c, pytest.raises(eclips.InternalServerError) as info:
        c.get_usage()
    assert info.value.message == "Bad gateway from the proxy"


def test_missing_key_hint(fake: FakeServer) -> None:
    fake.on("GET", "/v1/usage", Reply(401, {"error": "Missing API key"}))
    with EClipsClient(base_url=fake.base_url) as c, pytest.raises(eclips.AuthenticationError) as e:
        c.get_usage()
    assert e.value.message.startswith("Missing API key")
    assert "ECLIPS_API_KEY" in e.value.message


def test_unreadable_response(fake: FakeServer) -> None:
    fake.on("GET", "/v1/usage", Reply(200, {"plan": "team"}))
    with client(fake) as c, pytest.raises(eclips.APIResponseValidationError):
        c.get_usage()
    fake.on("GET", "/v1/health", Reply(200, raw=b"<html>"))
    with client(fake) as c, pytest.raises(eclips.APIResponseValidationError):
        c.health()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with (
        EClipsClient(base_url=url, max_retries=1) as c,
        pytest.raises(eclips.APIConnectionError) as info,
    ):
        c.health()
    assert not isinstance(info.value, eclips.APITimeoutError)
    assert url in info.value.message


def test_timeout(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(200, {"status": "ok"}, delay=0.5))
    with client(fake, timeout=0.1, max_retries=1) as c, pytest.raises(eclips.APITimeoutError):
        c.health()
    assert len(fake.calls("GET", "/v1/health")) == 2


def test_retries_5xx_then_succeeds(fake: FakeServer) -> None:
    fake.on(
        "GET",
        "/v1/health",
        Reply(503, {"error": "Busy"}),
        Reply(500, {"error": "Oops"}),
        Reply(200, {"status": "ok"}),
    )
    with client(fake) as c:
        assert c.health().status == "ok"
    assert len(fake.requests) == 3


def test_gives_up_after_max_retries(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(503, {"error": "Busy"}))
    with client(fake, max_retries=3) as c, pytest.raises(eclips.InternalServerError) as info:
        c.health()
    assert info.value.message == "Busy"
    assert len(fake.requests) == 4


def test_no_retry_when_disabled(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(503, {"error": "Busy"}))
    with client(fake, max_retries=0) as c, pytest.raises(eclips.InternalServerError):
        c.health()
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_not_retried(fake: FakeServer, status: int) -> None:
    fake.on("POST", "/v1/triage/t/approve", Reply(status, {"error": "No"}))
    with client(fake) as c, pytest.raises(eclips.APIStatusError):
        c.approve_triage("t")
    assert len(fake.requests) == 1
    assert "idempotency-key" not in fake.requests[0].headers


def test_409_to_an_idempotent_create_is_retried(fake: FakeServer) -> None:
    # The first attempt timed out on our side but is still running on the server's.
    in_progress = {"error": "A request with this Idempotency-Key is still in progress"}
    fake.on(
        "POST",
        "/v1/batches",
        Reply(409, in_progress),
        Reply(201, {"job": {"id": "j", "status": "pending"}}),
    )
    with client(fake) as c:
        assert c.create_batch("a", [{"task": "x"}]).id == "j"
    first, second = fake.requests
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]


def test_dropped_connection_is_retried(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(drop=True), Reply(200, {"status": "ok"}))
    with client(fake) as c:
        assert c.health().status == "ok"
    assert len(fake.requests) == 2


def test_post_retries_reuse_the_idempotency_key(fake: FakeServer) -> None:
    fake.on(
        "POST",
        "/v1/run",
        Reply(503, {"error": "Busy"}),
        Reply(202, {"run_id": "r", "status": "queued", "agent_type": "center"}),
    )
    with client(fake) as c:
        c.run("x")
        c.run("y")
    keys = [r.headers["idempotency-key"] for r in fake.requests]
    assert keys[0] == keys[1] != keys[2]


@pytest.mark.parametrize(
    "headers",
    [{"Retry-After": "0.3"}, {"retry-after-ms": "300"}],
    ids=["retry-after", "retry-after-ms"],
)
def test_429_honours_retry_after(fake: FakeServer, headers: dict[str, str]) -> None:
    fake.on("GET", "/v1/health", Reply(429, {"error": "Slow down"}, headers=headers))
    with client(fake, max_retries=1) as c, pytest.raises(eclips.RateLimitError) as info:
        c.health()
    first, second = fake.requests
    assert second.at - first.at >= 0.28
    assert info.value.message == "Slow down"


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    assert 8 <= _base_client.retry_after_seconds({"retry-after": when}) <= 10  # type: ignore[operator]


def test_unreasonable_retry_after_falls_back_to_backoff() -> None:
    assert _base_client.retry_after_seconds({"retry-after": "3600"}) is None
    assert _base_client.retry_after_seconds({"retry-after": "-1"}) is None
    assert _base_client.retry_after_seconds({"retry-after": "soon"}) is None
    assert _base_client.retry_after_seconds({}) is None


def test_backoff_grows_with_jitter_and_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base_client, "INITIAL_RETRY_DELAY", 0.5)
    monkeypatch.setattr(_base_client, "MAX_RETRY_DELAY", 8.0)
    for attempt, nominal in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        delays = {_base_client.retry_delay(attempt) for _ in range(50)}
        assert all(0.75 * nominal <= d <= nominal for d in delays)
        assert len(delays) > 1  # jittered


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        EClipsClient(max_retries=-1)


@pytest.mark.anyio
async def test_async_errors_and_retries(fake: FakeServer) -> None:
    fake.on("GET", "/v1/health", Reply(503, {"error": "Busy"}), Reply(200, {"status": "ok"}))
    fake.on("GET", "/v1/runs/x", Reply(404, {"error": "Run not found"}))
    async with AsyncEClipsClient(api_key=KEY, base_url=fake.base_url) as c:
        assert (await c.health()).status == "ok"
        with pytest.raises(eclips.NotFoundError, match="Run not found"):
            await c.get_run("x")
    assert len(fake.calls("GET", "/v1/health")) == 2


@pytest.mark.anyio
async def test_async_connection_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with AsyncEClipsClient(base_url=url, max_retries=0) as c:
        with pytest.raises(eclips.APIConnectionError):
            await c.health()
