"""Contract fuzzing: schemathesis against the OpenAPI schema the server serves.

Every operation is fuzzed over real HTTP with data that fits the schema and data that
breaks it, plus schemathesis' coverage cases (boundaries, missing fields, wrong types);
then the stateful phase follows the schema's links (`POST /v1/run` -> `GET /v1/runs/{id}`,
`POST /v1/batches` -> cancel, `POST /v1/webhooks` -> delete, ...). The checks: no 5xx,
every status, content type and body as the schema documents them, nothing accepted that
the schema forbids and nothing valid refused.

The server under test runs without a worker: runs stay queued, so no agent runs and no
webhook is ever delivered to the URLs the fuzzer invents (loopback-only traffic). Its
org is on the unlimited plan so valid requests are never refused for credits.

The budget is fixed (and the seed too, so a run is reproducible); raise it for a longer
hunt (examples per operation, stateful scenarios):

    ECLIPS_FUZZ_EXAMPLES=200 ECLIPS_FUZZ_SCENARIOS=100 pytest tests/server/test_contract_fuzz.py
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from eclips.server.app import create_app
from eclips.server.settings import Settings
from tests.support.agents import TEST_AGENT_CLASSES
from tests.support.server import LiveServer, database, start_server

EXAMPLES = int(os.environ.get("ECLIPS_FUZZ_EXAMPLES", "12"))
STATEFUL_SCENARIOS = int(os.environ.get("ECLIPS_FUZZ_SCENARIOS", "20"))

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    # Stateful: what was deleted is gone, what was created can be fetched.
    "use_after_free",
    "ensure_resource_availability",
)

REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429", "5xx"]

# Valid requests that an earlier request can make fail, beside the statuses schemathesis
# always accepts for valid data (2xx, 401, 403, 404, 409, 429): an Idempotency-Key reused
# with another body is 422; cancelling what is finished, or retrying a batch with nothing
# to retry (or a run that did not fail), is 400 as the manual says.
ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]
STATEFUL_REFUSALS = {
    "create_run": [*ACCEPTED, "422"],
    "create_batch": [*ACCEPTED, "422"],
    "cancel_run": [*ACCEPTED, "400"],
    "cancel_batch": [*ACCEPTED, "400"],
    "retry_batch": [*ACCEPTED, "400"],
    "retry_run": [*ACCEPTED, "400"],
}

# Streams of runs that never finish (there is no worker) close quickly.
SERVER_SETTINGS: dict[str, Any] = {"stream_timeout_seconds": 0.5, "stream_update_seconds": 0.2}


def _config() -> SchemathesisConfig:
    generation = {
        "max-examples": EXAMPLES,
        "database": "none",
        # NUL is refused with a 400 (pinned below) that the schema cannot express.
        "allow-x00": False,
        # The key is sent by the tests; the fuzzer does not invent Authorization.
        "with-security-parameters": False,
    }
    return SchemathesisConfig.from_dict(
        {
            "seed": 20260606,
            "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
            "generation": generation,
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                # A body over the size limit is refused with 413, a refusal like any 4xx.
                "negative_data_rejection": {"expected-statuses": REFUSALS},
            },
            # Sequences of valid requests, so links are followed; the operations' own tests
            # send the invalid ones.
            "phases": {
                "stateful": {"max-steps": 6, "generation": {**generation, "mode": "positive"}}
            },
            "operations": [
                {
                    # The body is checked against the settings schema of the agent named in
                    # the path (`GET /v1/agents`), which one request body schema cannot say.
                    "include-operation-id": "put_agent_settings",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                *(
                    {
                        "include-operation-id": operation_id,
                        "checks": {"positive_data_acceptance": {"expected-statuses": statuses}},
                    }
                    for operation_id, statuses in STATEFUL_REFUSALS.items()
                ),
            ],
        }
    )


# `schema.parametrize()` needs the schema when tests are collected, before any server runs
# (`schemathesis.pytest.from_fixture`, which would load it from the server, writes
# `item._nodeid`, gone in pytest 9.2). So it is built from the same app the server runs,
# with the same settings (`start_server` registers the test agents and allows private
# webhook URLs), and the first test proves the server serves exactly this schema.
OPENAPI = create_app(
    Settings(
        database_url="sqlite+aiosqlite://",
        agent_classes=TEST_AGENT_CLASSES,
        webhooks_allow_private=True,
    )
).openapi()
# A copy: schemathesis writes the links it infers into the dict it is given.
schema = schemathesis.openapi.from_dict(copy.deepcopy(OPENAPI), config=_config())


@dataclass(frozen=True)
class Target:
    server: LiveServer
    headers: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.base_url, headers=self.headers, timeout=30)

    def forget_webhooks(self) -> None:
        """Delete the org's webhooks: an org may hold 50, and a long hunt creates more."""
        with self.client() as client:
            for webhook in client.get("/v1/webhooks").json()["data"]:
                client.delete(f"/v1/webhooks/{webhook['id']}")


@pytest.fixture(scope="module")
def target(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp: Path = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with database(backend, tmp) as url:
        server, process = start_server(backend, url, tmp, worker=False, **SERVER_SETTINGS)
        try:
            key = server.new_key(plan="unlimited")
            yield Target(server, {"Authorization": f"Bearer {key}"})
        finally:
            process.stop()


def test_the_server_serves_the_fuzzed_schema(target: Target) -> None:
    served = httpx.get(f"{target.server.base_url}/openapi.json", timeout=30)
    assert served.status_code == 200
    lines = [json.dumps(x, indent=1, sort_keys=True).splitlines() for x in (OPENAPI, served.json())]
    assert lines[0] == lines[1], "\n".join(difflib.unified_diff(*lines, "fuzzed", "served", n=2))


@schema.parametrize()
def test_operation_honours_the_contract(case: Any, target: Target) -> None:
    response = case.call_and_validate(
        base_url=target.server.base_url, headers=target.headers, timeout=30
    )
    if case.operation.label == "POST /v1/webhooks" and response.status_code == 201:
        target.forget_webhooks()


def test_stateful_sequences_honour_the_contract(target: Target) -> None:
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[valid-type,misc]
        def get_call_kwargs(self, _case: Any) -> dict[str, Any]:
            return {"base_url": target.server.base_url, "headers": target.headers, "timeout": 30}

        def teardown(self) -> None:
            target.forget_webhooks()
            super().teardown()

    settings = schema.config.get_hypothesis_settings(phase="stateful")
    Machine.run(settings=hypothesis.settings(settings, max_examples=STATEFUL_SCENARIOS))


def test_text_a_database_cannot_store_is_a_400(target: Target) -> None:
    # Found by the fuzzer: PostgreSQL refused a NUL in `data` and the server answered 500.
    client = target.client()
    cases = [
        ("/v1/run", {"task": "x\u0000"}, "Invalid task: must not contain the NUL character"),
        ("/v1/run", {"task": "x", "data": {"a": ["\u0000"]}}, "Invalid data.a.0: must not"),
        ("/v1/run", {"task": "x", "data": {"\u0000": 1}}, "Invalid data: a key must not"),
        ("/v1/run", {"task": "x", "data": {"a": "\ud800"}}, "unpaired surrogates"),
        ("/v1/batches", {"agent_type": "test_noop", "rows": [{"task": "\u0000"}]}, "rows.0.task"),
        ("/v1/webhooks", {"url": "https://a/\u0000", "events": ["run.failed"]}, "Invalid url"),
    ]
    json_headers = {"Content-Type": "application/json"}
    for path, body, message in cases:
        # json.dumps escapes NUL and lone surrogates, as a client would.
        response = client.post(path, content=json.dumps(body), headers=json_headers)
        assert response.status_code == 400, (path, body, response.text)
        assert message in response.json()["error"], (path, response.text)
    # Unknown fields are ignored, whatever they hold.
    extra = json.dumps({"task": "x", "extra\u0000": "\u0000"})
    assert client.post("/v1/run", content=extra, headers=json_headers).status_code == 202


def test_method_not_allowed_names_every_method_of_the_path(target: Target) -> None:
    # Found by the fuzzer: Starlette named only the first route of a path served by several.
    with target.client() as client:
        settings = client.delete("/v1/agents/test_noop/settings")
        assert settings.status_code == 405
        assert settings.headers["allow"] == "GET, HEAD, PUT"
        assert settings.json() == {"error": "Method Not Allowed"}
        assert client.delete("/v1/webhooks").headers["allow"] == "GET, HEAD, POST"
