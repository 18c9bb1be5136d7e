"""Retries and bad input lose nothing: idempotency keys and body limits."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.server import LiveServer


def test_same_key_and_body_replays_the_first_response(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    body = {"agent_type": "test_noop", "task": "once"}
    headers = {"Idempotency-Key": "order-42"}
    first = client.post("/v1/run", json=body, headers=headers)
    again = client.post("/v1/run", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/v1/runs").json()["total"] == 1
    other = client.post("/v1/run", json={**body, "task": "twice"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["error"]
    # Keys are scoped per organisation.
    stranger = live_server.client(live_server.new_key())
    assert stranger.post("/v1/run", json=body, headers=headers).json() != first.json()


def test_batch_creation_is_idempotent(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    body = {"agent_type": "test_noop", "rows": [{"task": "a"}, {"task": "b"}]}
    headers = {"Idempotency-Key": "batch-1"}
    first = client.post("/v1/batches", json=body, headers=headers)
    again = client.post("/v1/batches", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(client.get("/v1/batches").json()["jobs"]) == 1


def test_a_failed_request_frees_its_key(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    headers = {"Idempotency-Key": "k-1"}
    bad = client.post("/v1/run", json={"agent_type": "nope", "task": "x"}, headers=headers)
    assert bad.status_code == 400
    good = client.post("/v1/run", json={"agent_type": "nope", "task": "x"}, headers=headers)
    assert good.status_code == 400  # not a replay of a stored failure, a fresh answer
    fixed = client.post("/v1/run", json={"agent_type": "test_noop", "task": "x"}, headers=headers)
    assert fixed.status_code == 202


def test_fifty_concurrent_requests_with_one_key_create_one_run(live_server: LiveServer) -> None:
    key = live_server.new_key()

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=live_server.base_url,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "burst"},
            timeout=60,
        ) as client:
            body = {"agent_type": "test_noop", "task": "burst"}
            return await asyncio.gather(*(client.post("/v1/run", json=body) for _ in range(50)))

    responses = asyncio.run(burst())
    codes = {r.status_code for r in responses}
    assert codes <= {202, 409}
    run_ids = {r.json()["run_id"] for r in responses if r.status_code == 202}
    assert len(run_ids) == 1
    assert all(
        r.json() == {"error": "A request with this Idempotency-Key is still in progress"}
        for r in responses
        if r.status_code == 409
    )
    assert live_server.client(key).get("/v1/runs").json()["total"] == 1


def test_oversized_bodies_get_413_and_500_rows_fit(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    huge = {"agent_type": "test_noop", "task": "x", "data": {"blob": "a" * (1024 * 1024)}}
    response = client.post("/v1/run", json=huge)
    assert response.status_code == 413
    assert "too large" in response.json()["error"]

    def chunks():
        yield b'{"task": "x", "data": {"blob": "'
        for _ in range(1100):
            yield b"a" * 1024
        yield b'"}}'

    chunked = client.post("/v1/run", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    rows = [
        {"task": f"Process invoice INV-{i:05d} for the June close", "data": {"amount": i}}
        for i in range(500)
    ]
    assert (
        client.post("/v1/batches", json={"agent_type": "test_noop", "rows": rows}).status_code
        == 201
    )


def test_database_holds_no_key_or_webhook_secret_in_clear(live_server: LiveServer) -> None:
    """Dump every text value of the database: neither the API key nor any secret appears."""
    import asyncio

    from sqlalchemy import String, Text, select

    from eclips.server.db.base import Base
    from eclips.server.db.session import create_engine

    key = live_server.new_key()
    client = live_server.client(key)
    created = client.post(
        "/v1/webhooks", json={"url": "https://hooks.example.com/x", "events": ["run.completed"]}
    ).json()["data"]
    rotated = client.post(f"/v1/webhooks/{created['id']}/rotate-secret").json()["data"]["secret"]
    signing = client.get("/v1/webhooks/signing-secret").json()["data"]["secret"]
    needles = [key, key[len("eck_live_") :], created["secret"], rotated, signing]
    for needle in (created["secret"], rotated, signing):
        needles.append(needle.removeprefix("whsec_"))

    async def dump() -> str:
        engine = create_engine(live_server.database_url)
        chunks: list[str] = []
        try:
            async with engine.connect() as conn:
                for table in Base.metadata.sorted_tables:
                    columns = [
                        c
                        for c in table.columns
                        if isinstance(c.type, String | Text)
                        or c.type.__class__.__name__ == "EncryptedText"
                    ]
                    if columns:
                        # Read raw: cast away the decrypting type so we see what is stored.
                        raw = [c.cast(Text) for c in columns]
                        rows = await conn.execute(select(*raw))
                        chunks.extend(str(v) for row in rows for v in row)
        finally:
            await engine.dispose()
        return "\n".join(chunks)

    stored = asyncio.run(dump())
    assert stored
    for needle in needles:
        assert needle not in stored


def test_data_depth_and_string_sizes_are_bounded(live_server: LiveServer) -> None:
    client = live_server.client(live_server.new_key())
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    for body, message in (
        ({"task": "x", "data": deep}, "nested more than 32 levels"),
        ({"task": "x", "data": {"s": "a" * 100_001}}, "string longer than 100000"),
    ):
        response = client.post("/v1/run", json=body)
        assert response.status_code == 400
        assert message in response.json()["error"]
        batch = client.post(
            "/v1/batches",
            json={"agent_type": "test_noop", "rows": [{"task": "x", "data": body["data"]}]},
        )
        assert batch.status_code == 400
        assert message in batch.json()["error"]
    assert (
        client.post(
            "/v1/run", json={"task": "x", "agent_type": "test_noop", "data": {"s": "a" * 100_000}}
        ).status_code
        == 202
    )
