"""A tiny real HTTP server for SDK tests that need no EClips server.

Each test scripts the replies of a route; the server records every request it gets.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """What the server answers. ``chunks`` stream with ``chunk_delay`` between them;
    ``drop`` closes the connection without answering; ``delay`` waits before answering."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    chunks: list[bytes] | None = None
    chunk_delay: float = 0.0
    delay: float = 0.0
    drop: bool = False


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Responder = Reply | Callable[[Recorded], Reply]


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], deque[Responder]] = defaultdict(deque)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return None

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def on(self, method: str, path: str, *replies: Responder) -> FakeServer:
        """Answer ``method path`` with ``replies`` in turn; the last one repeats."""
        with self._lock:
            self._routes[(method, path)].extend(replies)
        return self

    def reset(self) -> None:
        """Forget every route and request (the server is shared by a test session)."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def _next(self, method: str, path: str) -> Responder | None:
        with self._lock:
            queue = self._routes.get((method, path))
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        recorded = Recorded(
            method=handler.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(recorded)
        responder = self._next(handler.command, url.path)
        if responder is None:
            reply = Reply(404, {"error": f"No route {handler.command} {url.path}"})
        elif isinstance(responder, Reply):
            reply = responder
        else:
            reply = responder(recorded)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.drop:
            handler.close_connection = True
            return
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.chunks is not None:
            handler.send_header("Connection", "close")
            handler.end_headers()
            for chunk in reply.chunks:
                handler.wfile.write(chunk)
                handler.wfile.flush()
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)
            handler.close_connection = True
            return
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        if reply.raw is None and "Content-Type" not in reply.headers:
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
