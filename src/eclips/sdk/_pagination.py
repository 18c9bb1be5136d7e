"""Pages of list results that fetch the pages after them on demand (offset pagination)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from eclips.sdk._models import EClipsModel

__all__ = ["AsyncPage", "SyncPage"]

ItemT = TypeVar("ItemT", bound=EClipsModel)


class BasePage(Generic[ItemT]):
    """One page of a list endpoint.

    ``data`` holds this page's items; ``total`` is the server's count when it sends one.
    Endpoints that do not paginate (``GET /v1/webhooks``, ``GET /v1/agents``) answer with a
    single page.
    """

    data: list[ItemT]
    total: int | None
    limit: int | None
    offset: int

    def __init__(
        self,
        *,
        body: dict[str, Any],
        items_key: str,
        data: list[ItemT],
        limit: int | None,
        offset: int,
    ) -> None:
        self._body = body
        self._items_key = items_key
        self.data = data
        total = body.get("total")
        self.total = total if isinstance(total, int) else None
        echoed_limit = body.get("limit")
        self.limit = echoed_limit if isinstance(echoed_limit, int) else limit
        echoed_offset = body.get("offset")
        self.offset = echoed_offset if isinstance(echoed_offset, int) else offset

    def has_next_page(self) -> bool:
        """Whether another page follows this one."""
        if not self.data or self.limit is None:
            return False
        if self.total is not None:
            return self.offset + len(self.data) < self.total
        # Without a total (``GET /v1/batches``), a full page may have a successor.
        return len(self.data) >= self.limit

    def next_offset(self) -> int:
        return self.offset + len(self.data)

    def to_dict(self) -> dict[str, Any]:
        """The page as the server sent it, as JSON-ready data."""
        out = dict(self._body)
        out[self._items_key] = [item.to_dict() for item in self.data]
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(items={len(self.data)}, total={self.total}, "
            f"limit={self.limit}, offset={self.offset})"
        )


class SyncPage(BasePage[ItemT]):
    """A page you can iterate across all pages: ``for run in client.list_runs(): ...``."""

    def __init__(
        self,
        *,
        body: dict[str, Any],
        items_key: str,
        data: list[ItemT],
        limit: int | None,
        offset: int,
        fetch: Callable[[int], SyncPage[ItemT]] | None,
    ) -> None:
        super().__init__(body=body, items_key=items_key, data=data, limit=limit, offset=offset)
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self._fetch is not None and super().has_next_page()

    def next_page(self) -> SyncPage[ItemT]:
        """Fetch the page after this one."""
        if self._fetch is None or not self.has_next_page():
            raise RuntimeError("No more pages; check has_next_page() first")
        return self._fetch(self.next_offset())

    def iter_pages(self) -> Iterator[SyncPage[ItemT]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(BasePage[ItemT]):
    """A page you can iterate across all pages: ``async for run in page: ...``."""

    def __init__(
        self,
        *,
        body: dict[str, Any],
        items_key: str,
        data: list[ItemT],
        limit: int | None,
        offset: int,
        fetch: Callable[[int], Awaitable[AsyncPage[ItemT]]] | None,
    ) -> None:
        super().__init__(body=body, items_key=items_key, data=data, limit=limit, offset=offset)
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self._fetch is not None and super().has_next_page()

    async def next_page(self) -> AsyncPage[ItemT]:
        """Fetch the page after this one."""
        if self._fetch is None or not self.has_next_page():
            raise RuntimeError("No more pages; check has_next_page() first")
        return await self._fetch(self.next_offset())

    async def iter_pages(self) -> AsyncIterator[AsyncPage[ItemT]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item
