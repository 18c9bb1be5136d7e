"""The printed table: one row per figure, one column per database, and their ratio."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass
class Row:
    section: str
    label: str
    unit: str
    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    backends: list[str]
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)

    def set(self, section: str, label: str, unit: str, backend: str, value: float | None) -> None:
        """Record one figure; ``None`` (or NaN) prints as "n/a"."""
        row = self._row(section, label, unit)
        if value is None or math.isnan(value):
            row.missing[backend] = "n/a"
        else:
            row.values[backend] = value

    def unavailable(self, section: str, label: str, unit: str, backend: str, text: str) -> None:
        self._row(section, label, unit).missing[backend] = text

    def text(self, section: str, label: str, backend: str, text: str) -> None:
        """A figure that is words, not a number (no ratio is drawn for it)."""
        self._row(section, label, "").missing[backend] = text

    def block(self, text: str) -> None:
        """Lines printed as they are after the table, before the notes."""
        self.blocks.append(text)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _row(self, section: str, label: str, unit: str) -> Row:
        key = (section, label)
        if key not in self.rows:
            self.rows[key] = Row(section, label, unit)
        return self.rows[key]

    def render(self) -> str:
        heads = ["figure", *(BACKEND_NAMES.get(b, b) for b in self.backends)]
        ratio = len(self.backends) == 2
        if ratio:
            heads.append(f"{BACKEND_NAMES[self.backends[1]]} / {BACKEND_NAMES[self.backends[0]]}")
        lines: list[list[str]] = []
        section = None
        for row in sorted(self.rows.values(), key=_figure_number):
            if row.section != section:
                section = row.section
                lines.append([section])
            cells = ["  " + row.label]
            for backend in self.backends:
                if backend in row.values:
                    cells.append(fmt(row.values[backend], row.unit))
                else:
                    cells.append(row.missing.get(backend, "-"))
            if ratio:
                a, b = (row.values.get(x) for x in self.backends)
                cells.append(f"{b / a:.2f}" if a and b is not None else "")
            lines.append(cells)
        widths = [len(h) for h in heads]
        for cells in lines:
            if len(cells) > 1:
                for i, cell in enumerate(cells):
                    widths[i] = max(widths[i], len(cell))
        out = [_line(heads, widths), _line(["-" * w for w in widths], widths)]
        for cells in lines:
            out.append(cells[0] if len(cells) == 1 else _line(cells, widths))
        for block in self.blocks:
            out.append("")
            out.append(block)
        if self.notes:
            out.append("")
            out.extend(f"* {n}" for n in self.notes)
        return "\n".join(out)


def _figure_number(row: Row) -> int:
    number = row.section.split(" ", 1)[0]
    return int(number) if number.isdigit() else 99


def _line(cells: list[str], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
    return "  ".join([first, *rest]).rstrip()


def fmt(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}" if unit else text


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
