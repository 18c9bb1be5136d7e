"""A real OpenAI-compatible chat-completions server on loopback, for tests.

It is a small Starlette app under uvicorn in a thread of the test process, so an EClips
server (another process) reaches it over HTTP like any model server. Answers are scripted
and deterministic: the first rule whose ``user`` text appears in the request's user message
(and whose ``system`` text, if any, in its system message) gives the answer. Every request
is recorded so a test can check what the model was asked.

Model names change how strict the server is, like real servers differ:
``no-json-schema`` refuses ``response_format`` of type ``json_schema`` (HTTP 400, as older
vLLM and llama.cpp builds do) and ``no-response-format`` refuses any ``response_format``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.support.server import free_port


@dataclass
class Rule:
    user: str
    system: str
    content: str
    status: int = 200
    delay: float = 0.0
    raw_body: str | None = None


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.rules: list[Rule] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-llm", daemon=True)

    def start(self) -> FakeLLM:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake language model server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def answer(
        self,
        *,
        user: str,
        system: str = "",
        json_answer: dict[str, Any] | None = None,
        content: str | None = None,
        status: int = 200,
        delay: float = 0.0,
        raw_body: str | None = None,
    ) -> None:
        """Script the answer to requests whose user message contains ``user``."""
        text = content if content is not None else json.dumps(json_answer or {})
        with self._lock:
            self.rules.append(Rule(user, system, text, status, delay, raw_body))

    def asked(self, user: str) -> list[dict[str, Any]]:
        """The recorded requests whose user message contains ``user``."""
        with self._lock:
            return [r for r in self.requests if user in _message(r, "user")]

    async def _chat(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            rules = list(self.rules)
        refused = _refusal(body)
        if refused:
            return JSONResponse(
                {"error": {"message": refused, "type": "invalid_request_error"}}, status_code=400
            )
        user, system = _message(body, "user"), _message(body, "system")
        rule = next((r for r in rules if r.user in user and r.system in system), None)
        if rule is None:
            # Unscripted: a model that finds nothing (and routes nowhere).
            content = '{"label": null}' if "Route the task" in system else "{}"
            return JSONResponse(_completion(body, content))
        if rule.delay:
            await asyncio.sleep(rule.delay)
        if rule.raw_body is not None:
            return PlainTextResponse(rule.raw_body, status_code=rule.status)
        if rule.status != 200:
            return JSONResponse(
                {"error": {"message": rule.content, "type": "server_error"}},
                status_code=rule.status,
            )
        return JSONResponse(_completion(body, rule.content))


def _message(body: dict[str, Any], role: str) -> str:
    return "\n".join(
        str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == role
    )


def _refusal(body: dict[str, Any]) -> str | None:
    kind = (body.get("response_format") or {}).get("type")
    if body.get("model") == "no-json-schema" and kind == "json_schema":
        return "response_format type json_schema is not supported"
    if body.get("model") == "no-response-format" and kind is not None:
        return "Unknown parameter: response_format"
    return None


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{len(content)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
