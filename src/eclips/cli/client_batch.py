"""``eclips batch``: run an agent over the rows of a JSON Lines or CSV file, and follow it."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from eclips.cli.client_console import (
    EXIT_WORK_FAILED,
    ApiKeyOption,
    BaseUrlOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    add_command,
    cell,
    connect,
    emit,
    err,
    fail,
    fields_table,
    note,
    out,
    plural,
    reporting_errors,
    status_cell,
    table,
)
from eclips.sdk import BatchDetail, BatchJob, BatchRow, EClipsClient

__all__ = ["MAX_ROWS_PER_BATCH", "RowFileError", "read_rows", "register", "split_rows"]

MAX_ROWS_PER_BATCH = 500
ROW_FIELDS = ("task", "data", "custom_id")
RESULT_COLUMNS = ("row_index", "custom_id", "task", "status", "result", "error_message", "id")
STILL_WORKING = frozenset({"pending", "running"})


IntervalOption = Annotated[
    float, typer.Option("--interval", min=0.1, help="Seconds between polls while waiting.")
]


class RowFileError(ValueError):
    """A row file that cannot become batch rows."""


# -- reading row files ----------------------------------------------------------------------


def _sniff_jsonl(text: str) -> bool:
    return text.lstrip().startswith("{")


def _rows_from_jsonl(lines: Iterable[str], source: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise RowFileError(f"{source} line {number}: not valid JSON ({exc})") from exc
        if not isinstance(row, dict):
            raise RowFileError(f"{source} line {number}: expected a JSON object")
        _check_row(row, f"{source} line {number}")
        rows.append(row)
    return rows


def _rows_from_csv(text: str, source: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "task" not in reader.fieldnames:
        raise RowFileError(f"{source}: a CSV file needs a 'task' column")
    rows: list[dict[str, Any]] = []
    for row_number, record in enumerate(reader, start=2):
        if None in record:
            raise RowFileError(f"{source} line {row_number}: more cells than columns")
        row: dict[str, Any] = {"task": record.get("task") or ""}
        custom_id = record.get("custom_id")
        if custom_id:
            row["custom_id"] = custom_id
        # Other columns become the row's data; an empty cell is an absent value.
        data = {
            k: v
            for k, v in record.items()
            if k not in ("task", "custom_id") and v not in ("", None)
        }
        if data:
            row["data"] = data
        _check_row(row, f"{source} line {row_number}")
        rows.append(row)
    return rows


def _check_row(row: dict[str, Any], where: str) -> None:
    task = row.get("task")
    if not isinstance(task, str) or not task.strip():
        raise RowFileError(f"{where}: every row needs a non-empty 'task'")
    if "data" in row and not isinstance(row["data"], dict):
        raise RowFileError(f"{where}: 'data' must be a JSON object")
    if "custom_id" in row and not isinstance(row["custom_id"], str):
        row["custom_id"] = str(row["custom_id"])


def read_rows(path: str, stdin: TextIO | None = None) -> list[dict[str, Any]]:
    """Batch rows from a JSON Lines or CSV file (``-`` reads stdin).

    ``.csv`` files are CSV and ``.jsonl``/``.ndjson`` files JSON Lines; anything else is
    JSON Lines when its first character is ``{``. A CSV needs a ``task`` column; a
    ``custom_id`` column is kept, and every other non-empty cell goes into ``data``.
    """
    if path == "-":
        text, source, suffix = (stdin or sys.stdin).read(), "stdin", ""
    else:
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise RowFileError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise RowFileError(f"{path} is not UTF-8 text") from exc
        source, suffix = file.name, file.suffix.lower()
    if not text.strip():
        raise RowFileError(f"{source} holds no rows")
    is_jsonl = suffix in (".jsonl", ".ndjson") or (suffix != ".csv" and _sniff_jsonl(text))
    rows = _rows_from_jsonl(text.splitlines(), source) if is_jsonl else _rows_from_csv(text, source)
    if not rows:
        raise RowFileError(f"{source} holds no rows")
    return rows


def split_rows(
    rows: Sequence[dict[str, Any]], size: int = MAX_ROWS_PER_BATCH
) -> list[list[dict[str, Any]]]:
    """Rows in consecutive chunks of at most ``size`` (the server's per-batch limit)."""
    return [list(rows[i : i + size]) for i in range(0, len(rows), size)]


# -- following jobs -------------------------------------------------------------------------


def _job_rows(jobs: Sequence[BatchJob]) -> list[list[Text]]:
    return [
        [
            cell(j.id),
            cell(j.name),
            status_cell(j.status),
            cell(j.total_rows),
            cell(j.completed_rows),
            cell(j.failed_rows),
            cell(j.triage_rows),
            cell(j.cancelled_rows),
        ]
        for j in jobs
    ]


JOB_COLUMNS = ["ID", "Name", "Status", "Rows", "Completed", "Failed", "Triage", "Cancelled"]


def _summary(jobs: Sequence[BatchJob], title: str) -> None:
    out.print(table(title, JOB_COLUMNS, _job_rows(jobs)))


def wait_for_jobs(
    client: EClipsClient, job_ids: Sequence[str], *, interval: float, live: bool
) -> list[BatchJob]:
    """Poll the jobs until none is pending or running, with a progress bar (on stderr) of
    completed and failed rows across them all."""
    latest: dict[str, BatchDetail] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[extra]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, disable=not live) as progress:
        bar = progress.add_task("Rows", total=None, extra="")
        while True:
            for job_id in job_ids:
                known = latest.get(job_id)
                if known is None or known.status in STILL_WORKING:
                    latest[job_id] = client.get_batch(job_id)
            jobs = [latest[j].job for j in job_ids]
            failed = sum(j.failed_rows for j in jobs)
            triage = sum(j.triage_rows for j in jobs)
            extra = " ".join(
                part
                for part in (
                    f"{failed} failed" if failed else "",
                    f"{triage} in triage" if triage else "",
                )
                if part
            )
            progress.update(
                bar,
                total=sum(j.total_rows for j in jobs),
                completed=sum(j.completed_rows + j.failed_rows for j in jobs),
                extra=extra,
            )
            if all(j.status not in STILL_WORKING for j in jobs):
                return jobs
            time.sleep(interval)


def _finish(jobs: Sequence[BatchJob], as_json: bool) -> None:
    """The final summary, and exit 3 when rows failed or a job failed or was cancelled."""
    emit(as_json, {"jobs": [j.to_dict() for j in jobs]}, lambda: _summary(jobs, "Batch jobs"))
    failed_rows = sum(j.failed_rows for j in jobs)
    if not as_json:
        for job in jobs:
            if job.failed_rows:
                rows = plural(job.failed_rows, "row")
                note(f"{rows} of {job.id} failed: eclips batch retry {job.id}")
            if job.status == "awaiting_triage":
                rows = plural(job.triage_rows, "row")
                note(f"{rows} of {job.id} wait for triage: eclips triage list")
    if failed_rows or any(j.status in ("failed", "cancelled") for j in jobs):
        raise typer.Exit(EXIT_WORK_FAILED)


def register() -> typer.Typer:
    """The ``batch`` command group."""
    batch = typer.Typer(
        help="Run an agent over many rows, and follow the jobs.", no_args_is_help=True
    )
    add_command(batch, "create", batch_create)
    add_command(batch, "wait", batch_wait)
    add_command(batch, "get", batch_get)
    add_command(batch, "list", batch_list)
    add_command(batch, "cancel", batch_cancel)
    add_command(batch, "retry", batch_retry)
    add_command(batch, "results", batch_results)
    return batch


# -- commands -------------------------------------------------------------------------------


def batch_create(
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="JSON Lines or CSV rows; - reads stdin.")
    ],
    agent: Annotated[str, typer.Option("--agent", "-a", help="Agent type.")] = "center",
    name: Annotated[str | None, typer.Option(help="Job name (default: the file's name).")] = None,
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Send the rows' events here.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Show progress until every job finishes.")
    ] = False,
    interval: IntervalOption = 2.0,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create batch jobs from a file of rows; more than 500 rows become several jobs.

    JSON Lines rows are {"task": ..., "data": {...}, "custom_id": ...}. CSV files need a
    task column; a custom_id column is kept and the other columns go into data. With
    --wait, exits 0 when every row completed (or waits for triage) and 3 when rows failed
    or a job failed or was cancelled. --json prints {"jobs": [...]}.
    """
    try:
        rows = read_rows(file)
    except RowFileError as exc:
        fail(str(exc))
    chunks = split_rows(rows)
    base_name = name or ("stdin" if file == "-" else Path(file).name)
    created: list[BatchJob] = []
    with reporting_errors(), connect(api_key, base_url) as client:
        try:
            for number, chunk in enumerate(chunks, start=1):
                part = base_name if len(chunks) == 1 else f"{base_name} ({number}/{len(chunks)})"
                created.append(
                    client.create_batch(agent, chunk, name=part, webhook_url=webhook_url)
                )
        finally:
            if created and len(created) < len(chunks):
                ids = " ".join(j.id for j in created)
                note(f"Created {len(created)} of {len(chunks)} jobs before the error: {ids}")
        created_note = f"Created {plural(len(created), 'batch job')}, {plural(len(rows), 'row')}"
        if not wait:
            emit(
                as_json,
                {"jobs": [j.to_dict() for j in created]},
                lambda: _summary(created, created_note),
            )
            return
        if not as_json:
            note(created_note)
        jobs = wait_for_jobs(client, [j.id for j in created], interval=interval, live=not as_json)
    _finish(jobs, as_json)


def batch_wait(
    batch_ids: Annotated[list[str], typer.Argument(metavar="ID...")],
    interval: IntervalOption = 2.0,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show progress until the jobs are no longer pending or running (exit codes as
    batch create --wait)."""
    with reporting_errors(), connect(api_key, base_url) as client:
        jobs = wait_for_jobs(client, batch_ids, interval=interval, live=not as_json)
    _finish(jobs, as_json)


def batch_get(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a batch job and its rows."""
    with reporting_errors(), connect(api_key, base_url) as client:
        detail = client.get_batch(batch_id)

    def render() -> None:
        out.print(fields_table(detail.job.to_dict()))
        out.print(
            table(
                f"{len(detail.rows)} rows",
                ["#", "Custom ID", "Status", "Task", "Result", "Error"],
                [
                    [
                        cell(r.row_index),
                        cell(r.custom_id),
                        status_cell(r.status),
                        cell(r.task, limit=40),
                        cell(r.result, limit=40),
                        cell(r.error_message, limit=40),
                    ]
                    for r in detail.rows
                ],
            )
        )

    emit(as_json, detail.to_dict(), render)


def batch_list(
    status: Annotated[str | None, typer.Option(help="Only jobs in this status.")] = None,
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List batch jobs, newest first."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_batches(status=status, limit=limit, offset=offset)
    emit(as_json, page.to_dict(), lambda: _summary(page.data, plural(len(page.data), "batch job")))


def batch_cancel(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a pending or running job; rows not started are not billed."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.cancel_batch(batch_id)
    emit(as_json, result.to_dict(), lambda: out.print(f"Cancelled batch {batch_id}"))


def batch_retry(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run a job's failed rows again."""
    with reporting_errors(), connect(api_key, base_url) as client:
        job = client.retry_batch(batch_id)
    emit(as_json, job.to_dict(), lambda: _summary([job], "Retrying"))


class ResultFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def _write_results(rows: Iterable[BatchRow], fmt: ResultFormat, sink: TextIO) -> int:
    count = 0
    if fmt is ResultFormat.JSONL:
        for row in rows:
            sink.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        values = row.to_dict()
        writer.writerow(
            [
                json.dumps(values.get("result"), ensure_ascii=False)
                if column == "result" and values.get("result") is not None
                else ("" if values.get(column) is None else values.get(column))
                for column in RESULT_COLUMNS
            ]
        )
        count += 1
    return count


def batch_results(
    batch_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[
        ResultFormat, typer.Option("--format", "-f", help="jsonl or csv.")
    ] = ResultFormat.JSONL,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every row's result, streamed as JSON Lines (one row per line) or CSV.

    CSV columns: row_index, custom_id, task, status, result (as JSON), error_message, id.
    --json is the same as --format jsonl.
    """
    chosen = ResultFormat.JSONL if as_json else fmt
    with reporting_errors(), connect(api_key, base_url) as client:
        stream = client.get_batch_results(batch_id)
        if output is None:
            _write_results(stream, chosen, sys.stdout)
            sys.stdout.flush()
            return
        with stream, output.open("w", encoding="utf-8", newline="") as sink:
            count = _write_results(stream, chosen, sink)
    note(f"Wrote {count} rows to {output}")
