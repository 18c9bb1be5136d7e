"""What every client command shares: its options, the SDK client, errors, and printing.

Human output (tables) goes to stdout, progress and notes to stderr; with ``--json`` stdout
holds exactly one JSON document (or JSON Lines for ``batch results``) and nothing else.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.table import Table
from rich.text import Text

from eclips.sdk import (
    APIConnectionError,
    APIError,
    APIStatusError,
    EClipsClient,
    EClipsError,
)

ENV_API_KEY = "ECLIPS_API_KEY"
ENV_BASE_URL = "ECLIPS_BASE_URL"

# Exit codes a script can rely on (2 is Click's usage error).
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_WORK_FAILED = 3


class _Stdout(Console):
    """Decides its width at each print: COLUMNS when set, the terminal's, or 140 columns
    when piped or redirected, so tables are not cut to 80 columns in a pipe."""

    @property
    def size(self) -> ConsoleDimensions:
        measured: ConsoleDimensions = Console.size.fget(self)  # type: ignore[attr-defined]
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return ConsoleDimensions(int(columns), measured.height)
        return measured if self.is_terminal else ConsoleDimensions(140, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


out = _Stdout(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)

ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar=ENV_API_KEY,
        show_envvar=True,
        show_default=False,
        help="API key.",
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar=ENV_BASE_URL,
        show_envvar=True,
        show_default=False,
        help="Server URL (default http://127.0.0.1:8080).",
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print exactly the JSON result on stdout.")
]
LimitOption = Annotated[int, typer.Option(min=1, max=100, help="Page size (1..100).")]
OffsetOption = Annotated[int, typer.Option(min=0, help="Items to skip.")]


def add_command(group: typer.Typer, name: str, function: Callable[..., None]) -> None:
    """Register ``function`` as ``name``, its docstring reflowed (Typer would keep the
    docstring's line breaks in later paragraphs)."""
    doc = inspect.cleandoc(function.__doc__ or "")
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n")]
    group.command(name, help="\n\n".join(paragraphs))(function)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print ``message`` in red on stderr and exit with ``code``."""
    err.print(Text(message, style="red"))
    raise typer.Exit(code)


def connect(api_key: str | None, base_url: str | None, *, need_key: bool = True) -> EClipsClient:
    """An SDK client; a missing key is reported before any request is made."""
    if need_key and not api_key:
        fail(f"No API key: pass --api-key or set {ENV_API_KEY}.")
    return EClipsClient(api_key=api_key, base_url=base_url)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn SDK errors into the server's message in red and exit code 1."""
    try:
        yield
    except APIStatusError as exc:
        fail(f"{exc.message} (HTTP {exc.status_code})")
    except APIConnectionError as exc:
        fail(exc.message)
    except (APIError, EClipsError) as exc:
        fail(exc.message)


def print_json(payload: Any) -> None:
    """One JSON document on stdout."""
    typer.echo(json.dumps(payload, ensure_ascii=False))


def print_json_line(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


def note(message: str) -> None:
    """A human remark on stderr (never mixed into stdout)."""
    err.print(Text(message))


def cell(value: Any, *, limit: int = 60) -> Text:
    """A table cell showing ``value`` literally (server text is never read as markup)."""
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, float):
        return Text(f"{value:g}")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def status_cell(status: str | None) -> Text:
    styles = {
        "completed": "green",
        "approved": "green",
        "failed": "red",
        "rejected": "red",
        "cancelled": "yellow",
        "awaiting_triage": "magenta",
        "pending": "cyan",
        "queued": "cyan",
        "running": "blue",
    }
    return Text(status or "-", style=styles.get(status or "", ""))


# Ids stay whole when the terminal allows; the other columns share what width is left.
_MIN_WIDTH = {"ID": 36, "Run": 36, "Event": 36, "Status": len("awaiting_triage")}


def time_cell(timestamp: str | None) -> Text:
    """``2026-06-06T09:00:00.000Z`` as ``2026-06-06 09:00:00`` (UTC), for tables."""
    if not timestamp:
        return cell(None)
    return Text(timestamp[:19].replace("T", " "))


def table(title: str | None, columns: list[str], rows: list[list[Text]]) -> Table:
    grid = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    # Keep ids whole only when that leaves room for the other columns; else fold them too.
    needed = sum(_MIN_WIDTH.get(c, min(len(c), 8)) + 3 for c in columns)
    keep_whole = needed <= out.width
    for column in columns:
        grid.add_column(
            column, overflow="fold", min_width=_MIN_WIDTH.get(column) if keep_whole else None
        )
    for row in rows:
        grid.add_row(*row)
    return grid


def plural(count: int, noun: str) -> str:
    """``1 batch job``, ``3 batch jobs``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def fields_table(values: Mapping[str, Any], *, title: str | None = None) -> Table:
    """A two-column table of name/value pairs, for a single object."""
    grid = Table(title=title, title_justify="left", show_header=False, box=None)
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for name, value in values.items():
        shown = status_cell(value) if name == "status" else cell(value, limit=2000)
        grid.add_row(Text(name), shown)
    return grid


def parse_json_object(raw: str | None, option: str) -> dict[str, Any] | None:
    """A ``--data``-style option as a JSON object, or a usage error naming the option."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return value


def emit(as_json: bool, payload: Any, render: Callable[[], None]) -> None:
    """``payload`` as JSON with ``--json``, else the human rendering."""
    if as_json:
        print_json(payload)
    else:
        render()
