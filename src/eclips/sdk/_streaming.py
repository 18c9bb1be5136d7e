"""Streamed responses: Server-Sent Events (a run's status) and JSON Lines (batch results)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar

import httpx
import pydantic

from eclips.sdk._exceptions import APIConnectionError, APIResponseValidationError, APITimeoutError

__all__ = ["AsyncStream", "ServerSentEvent", "Stream"]

T = TypeVar("T")
Format = Literal["sse", "jsonl"]


class ServerSentEvent:
    """One dispatched SSE event (the fields of the WHATWG event-stream format)."""

    __slots__ = ("data", "event", "id", "retry")

    def __init__(self, *, data: str, event: str, id: str | None, retry: int | None) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"


class SSEDecoder:
    """Turns event-stream lines into events; comment lines (keep-alive pings) are dropped."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its line ending); return an event when one is complete."""
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> ServerSentEvent | None:
        """Dispatch what is buffered; an event without data is not an event (per the spec)."""
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event or "message",
            id=self._id,
            retry=self._retry,
        )
        self._data = []
        self._event = ""
        return event


def iter_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
    # A stream closed without its final blank line still delivered its last event.
    last = decoder.flush()
    if last is not None:
        yield last


async def aiter_sse(lines: AsyncIterable[str]) -> AsyncIterator[ServerSentEvent]:
    decoder = SSEDecoder()
    async for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


def _payloads(fmt: Format, lines: Iterable[str]) -> Iterator[str]:
    if fmt == "sse":
        for event in iter_sse(lines):
            yield event.data
    else:
        for line in lines:
            if line.strip():
                yield line


async def _apayloads(fmt: Format, lines: AsyncIterable[str]) -> AsyncIterator[str]:
    if fmt == "sse":
        async for event in aiter_sse(lines):
            yield event.data
    else:
        async for line in lines:
            if line.strip():
                yield line


def _parse(payload: str, cast: Callable[[Any], T]) -> T:
    try:
        return cast(json.loads(payload))
    except (ValueError, pydantic.ValidationError) as exc:
        raise APIResponseValidationError(
            f"The server streamed data the SDK could not read: {payload[:200]!r}"
        ) from exc


def _wrap_transport_error(exc: httpx.TransportError, request: httpx.Request) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request=request)
    return APIConnectionError(f"The connection to the EClips server broke: {exc}", request=request)


class Stream(Generic[T]):
    """An open streamed response. Iterate it once; it closes itself at the end.

    Use it as a context manager (or call :meth:`close`) when you stop early.
    """

    def __init__(self, response: httpx.Response, *, fmt: Format, cast: Callable[[Any], T]) -> None:
        self.response = response
        self._fmt = fmt
        self._cast = cast

    def __iter__(self) -> Iterator[T]:
        try:
            for payload in _payloads(self._fmt, self.response.iter_lines()):
                yield _parse(payload, self._cast)
        except httpx.TransportError as exc:
            raise _wrap_transport_error(exc, self.response.request) from exc
        finally:
            self.close()

    def close(self) -> None:
        """Close the connection."""
        self.response.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """The async twin of :class:`Stream`: iterate with ``async for``."""

    def __init__(self, response: httpx.Response, *, fmt: Format, cast: Callable[[Any], T]) -> None:
        self.response = response
        self._fmt = fmt
        self._cast = cast

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            async for payload in _apayloads(self._fmt, self.response.aiter_lines()):
                yield _parse(payload, self._cast)
        except httpx.TransportError as exc:
            raise _wrap_transport_error(exc, self.response.request) from exc
        finally:
            await self.close()

    async def close(self) -> None:
        """Close the connection."""
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
