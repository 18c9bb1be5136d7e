"""Client commands: drive a running EClips server through the Python SDK.

``register(app)`` adds them to the ``eclips`` command. They use only the SDK, so they work
with ``pip install eclips`` and no server installed.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from typing import Annotated, Any

import typer
from rich.json import JSON
from rich.text import Text

from eclips.cli import client_batch
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
    fields_table,
    note,
    out,
    parse_json_object,
    plural,
    print_json,
    reporting_errors,
    status_cell,
    table,
    time_cell,
)
from eclips.sdk import EClipsClient, Run, RunWithTriage, SyncPage

__all__ = ["register"]

WAITING_DONE = frozenset({"completed", "failed", "cancelled", "awaiting_triage"})
# The server closes a run's stream after about 30 s; reconnect no faster than this.
_RECONNECT_PAUSE = 1.0


def register(app: typer.Typer) -> None:
    """Add the client commands (``run``, ``runs``, ``batch``, ``triage``, ``webhooks``,
    ``usage``, ``agents``, ``health``) to ``app``."""
    runs = typer.Typer(help="List, show and cancel runs.", no_args_is_help=True)
    triage = typer.Typer(help="Review runs waiting for a human.", no_args_is_help=True)
    webhooks = typer.Typer(help="Manage webhook endpoints.", no_args_is_help=True)
    agents = typer.Typer(help="Agent types and their settings.", no_args_is_help=True)
    add_command(app, "health", health)
    add_command(app, "run", run)
    add_command(app, "usage", usage)
    app.add_typer(runs, name="runs")
    app.add_typer(client_batch.register(), name="batch")
    app.add_typer(triage, name="triage")
    app.add_typer(webhooks, name="webhooks")
    app.add_typer(agents, name="agents")
    add_command(runs, "list", runs_list)
    add_command(runs, "get", runs_get)
    add_command(runs, "cancel", runs_cancel)
    add_command(triage, "list", triage_list)
    add_command(triage, "approve", triage_approve)
    add_command(triage, "reject", triage_reject)
    add_command(webhooks, "create", webhooks_create)
    add_command(webhooks, "list", webhooks_list)
    add_command(webhooks, "delete", webhooks_delete)
    add_command(webhooks, "deliveries", webhooks_deliveries)
    add_command(webhooks, "rotate-secret", webhooks_rotate_secret)
    add_command(webhooks, "enable", webhooks_enable)
    add_command(webhooks, "signing-secret", webhooks_signing_secret)
    add_command(agents, "list", agents_list)
    add_command(agents, "settings", agents_settings)


# -- health ---------------------------------------------------------------------------------


def health(
    api_key: ApiKeyOption = None, base_url: BaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Check that the server is up (needs no API key)."""
    with reporting_errors(), connect(api_key, base_url, need_key=False) as client:
        result = client.health()
    emit(
        as_json,
        result.to_dict(),
        lambda: out.print(
            Text.assemble(
                (result.status, "green" if result.status == "ok" else "red"),
                f"  version {result.version}  {client.base_url}",
            )
        ),
    )


# -- runs -----------------------------------------------------------------------------------


def run(
    task: Annotated[str, typer.Argument(metavar="TASK", help="What the agent must do.")],
    agent: Annotated[str, typer.Option("--agent", "-a", help="Agent type.")] = "center",
    data: Annotated[str | None, typer.Option("--data", help="Input data as a JSON object.")] = None,
    priority: Annotated[
        str, typer.Option(help="low, normal, high or urgent.", show_default=True)
    ] = "normal",
    webhook_url: Annotated[
        str | None, typer.Option("--webhook-url", help="Send this run's events here.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the run live until it finishes.")
    ] = False,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run an agent on a task.

    With --wait the command follows the run's status stream and exits 0 when the run
    completed or waits for triage, 3 when it failed or was cancelled.
    """
    payload = parse_json_object(data, "--data")
    with reporting_errors(), connect(api_key, base_url) as client:
        accepted = client.run(
            task,
            agent_type=agent,
            data=payload,
            priority=priority,  # type: ignore[arg-type]  # the server names bad values
            webhook_url=webhook_url,
        )
        if not wait:
            emit(
                as_json,
                accepted.to_dict(),
                lambda: out.print(
                    Text.assemble(
                        "Queued run ", (accepted.run_id, "bold"), f" ({accepted.agent_type})"
                    )
                ),
            )
            return
        if not as_json:
            note(f"Queued run {accepted.run_id} ({accepted.agent_type})")
        final = _follow(client, accepted.run_id, live=not as_json)
    emit(as_json, final.to_dict(), lambda: _render_run(final))
    if final.run.status in ("failed", "cancelled"):
        raise typer.Exit(EXIT_WORK_FAILED)


def _follow(client: EClipsClient, run_id: str, *, live: bool) -> RunWithTriage:
    """Follow the run's SSE stream, reopening it when the server closes it (after about
    30 s), until the run is finished or waits for triage; return the full run."""
    status = "queued"
    spinner = err.status(f"Run {run_id}: {status}", spinner="dots") if live else nullcontext()
    with spinner as shown:
        while status not in WAITING_DONE:
            with client.stream_run(run_id) as stream:
                for event in stream:
                    status = event.status
                    if shown is not None:
                        confidence = (
                            "" if event.confidence is None else f" ({event.confidence:.2f})"
                        )
                        shown.update(f"Run {run_id}: {status}{confidence}")
                    if status in WAITING_DONE:
                        break
            if status not in WAITING_DONE:
                time.sleep(_RECONNECT_PAUSE)
    return client.get_run(run_id)


def _render_run(result: RunWithTriage) -> None:
    current = result.run
    values: dict[str, Any] = {
        "id": current.id,
        "agent_type": current.agent_type,
        "status": current.status,
        "priority": current.priority,
        "confidence_score": current.confidence_score,
        "created_at": current.created_at,
        "completed_at": current.completed_at,
        "credits_charged": current.credits_charged,
    }
    if current.batch_id:
        values["batch"] = f"{current.batch_id} row {current.row_index}"
    if current.error_message:
        values["error_message"] = current.error_message
    item = result.triage_item
    if item is not None:
        values["triage"] = f"{item.status}: {item.triage_reason} ({item.id})"
    out.print(fields_table(values))
    if current.output is not None:
        out.print(Text("output", style="bold"))
        out.print(JSON.from_data(current.output))


def _runs_table(runs: list[Run], title: str | None) -> None:
    out.print(
        table(
            title,
            ["ID", "Agent", "Status", "Confidence", "Created", "Error"],
            [
                [
                    cell(r.id),
                    cell(r.agent_type),
                    status_cell(r.status),
                    cell(r.confidence_score),
                    time_cell(r.created_at),
                    cell(r.error_message, limit=40),
                ]
                for r in runs
            ],
        )
    )


def _page_title(page: SyncPage[Any], noun: str) -> str:
    shown = len(page.data)
    if page.total is None:
        return plural(shown, noun.removesuffix("s"))
    first = page.offset + 1 if shown else page.offset
    return f"{noun.capitalize()} {first}-{page.offset + shown} of {page.total}"


def runs_list(
    status: Annotated[
        str | None, typer.Option(help="Only runs in this status (e.g. completed).")
    ] = None,
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    all_pages: Annotated[bool, typer.Option("--all", help="Every page, not just one.")] = False,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List runs, newest first."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_runs(status=status, limit=100 if all_pages else limit, offset=offset)
        items = list(page) if all_pages else page.data
    if as_json:
        body = page.to_dict()
        if all_pages:
            body.update(data=[r.to_dict() for r in items], limit=len(items))
        print_json(body)
        return
    _runs_table(items, plural(len(items), "run") if all_pages else _page_title(page, "runs"))


def runs_get(
    run_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run: status, output, error and triage item."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.get_run(run_id)
    emit(as_json, result.to_dict(), lambda: _render_run(result))


def runs_cancel(
    run_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a queued, running or triage-waiting run."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.cancel_run(run_id)
    emit(as_json, result.to_dict(), lambda: out.print(f"Cancelled run {run_id}"))


# -- triage ---------------------------------------------------------------------------------


def triage_list(
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List triage items waiting for a decision."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_triage(limit=limit, offset=offset)
    emit(
        as_json,
        page.to_dict(),
        lambda: out.print(
            table(
                _page_title(page, "triage items"),
                ["ID", "Run", "Agent", "Confidence", "Reason", "Created"],
                [
                    [
                        cell(i.id),
                        cell(i.run_id),
                        cell(i.agent_runs.agent_type if i.agent_runs else None),
                        cell(i.agent_runs.confidence_score if i.agent_runs else None),
                        cell(i.triage_reason),
                        time_cell(i.created_at),
                    ]
                    for i in page.data
                ],
            )
        ),
    )


def triage_approve(
    item_id: Annotated[str, typer.Argument(metavar="ID")],
    note_: Annotated[
        str | None, typer.Option("--note", help="Why it is approved (resolution note).")
    ] = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a triage item; its run becomes completed."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.approve_triage(item_id, resolution_note=note_)
    emit(
        as_json,
        result.to_dict(),
        lambda: out.print(Text.assemble("Triage item ", item_id, " ", status_cell(result.status))),
    )


def triage_reject(
    item_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str | None, typer.Option(help="Why it is rejected.")] = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject a triage item; its run becomes cancelled."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.reject_triage(item_id, reason=reason)
    emit(
        as_json,
        result.to_dict(),
        lambda: out.print(Text.assemble("Triage item ", item_id, " ", status_cell(result.status))),
    )


# -- webhooks -------------------------------------------------------------------------------


def webhooks_create(
    url: Annotated[str, typer.Option("--url", help="https:// URL that receives events.")],
    event: Annotated[
        list[str],
        typer.Option(
            "--event", "-e", help="An event type to receive (repeat: -e run.completed -e ...)."
        ),
    ],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a webhook; prints its signing secret, shown only this once."""
    with reporting_errors(), connect(api_key, base_url) as client:
        created = client.create_webhook(url=url, events=event)

    def render() -> None:
        out.print(fields_table(created.to_dict()))
        note("Store the secret now: it is not shown again.")

    emit(as_json, created.to_dict(), render)


def webhooks_list(
    api_key: ApiKeyOption = None, base_url: BaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """List the organisation's webhooks."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_webhooks()
    emit(
        as_json,
        page.to_dict(),
        lambda: out.print(
            table(
                plural(len(page.data), "webhook"),
                ["ID", "URL", "Events", "Active", "Created"],
                [
                    [
                        cell(w.id),
                        cell(w.url),
                        cell(", ".join(w.events)),
                        cell("yes" if w.is_active else f"no: {w.disabled_reason or 'disabled'}"),
                        time_cell(w.created_at),
                    ]
                    for w in page.data
                ],
            )
        ),
    )


def webhooks_delete(
    webhook_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a webhook."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.delete_webhook(webhook_id)
    emit(as_json, result.to_dict(), lambda: out.print(f"Deleted webhook {webhook_id}"))


def webhooks_deliveries(
    webhook_id: Annotated[str, typer.Argument(metavar="ID")],
    limit: LimitOption = 20,
    offset: OffsetOption = 0,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show recent delivery attempts to a webhook, with status codes and latency."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_webhook_deliveries(webhook_id, limit=limit, offset=offset)
    emit(
        as_json,
        page.to_dict(),
        lambda: out.print(
            table(
                _page_title(page, "delivery attempts"),
                ["Event", "Type", "Attempt", "HTTP", "Latency ms", "Error", "At"],
                [
                    [
                        cell(d.event_id),
                        cell(d.event_type),
                        cell(d.attempt),
                        cell(d.status_code),
                        cell(d.latency_ms),
                        cell(d.error, limit=40),
                        time_cell(d.created_at),
                    ]
                    for d in page.data
                ],
            )
        ),
    )


def webhooks_rotate_secret(
    webhook_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a webhook a new signing secret (the old one keeps signing for a while)."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.rotate_webhook_secret(webhook_id)
    emit(as_json, result.to_dict(), lambda: out.print(fields_table(result.to_dict())))


def webhooks_enable(
    webhook_id: Annotated[str, typer.Argument(metavar="ID")],
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-enable a disabled webhook; deliveries held meanwhile are sent."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.enable_webhook(webhook_id)
    emit(as_json, result.to_dict(), lambda: out.print(fields_table(result.to_dict())))


def webhooks_signing_secret(
    rotate: Annotated[
        bool, typer.Option("--rotate", help="Replace it first (takes effect at once).")
    ] = False,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the secret that signs events sent to a run's or batch's webhook_url."""
    with reporting_errors(), connect(api_key, base_url) as client:
        result = client.rotate_signing_secret() if rotate else client.get_signing_secret()
    emit(as_json, result.to_dict(), lambda: out.print(result.secret))


# -- usage ----------------------------------------------------------------------------------


def usage(
    history: Annotated[
        bool, typer.Option("--history", help="Also the last 50 ledger entries.")
    ] = False,
    members: Annotated[bool, typer.Option("--members", help="Also usage per member.")] = False,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the organisation's credits for the current period.

    With --json and no other option, prints the usage summary; with --history or
    --members, an object with "usage" and the "history" and/or "members" asked for.
    """
    with reporting_errors(), connect(api_key, base_url) as client:
        summary = client.get_usage()
        ledger = client.get_usage_history() if history else None
        per_member = client.get_usage_members() if members else None
    if as_json:
        if ledger is None and per_member is None:
            print_json(summary.to_dict())
            return
        body: dict[str, Any] = {"usage": summary.to_dict()}
        if ledger is not None:
            body["history"] = ledger.to_dict()
        if per_member is not None:
            body["members"] = per_member.to_dict()
        print_json(body)
        return
    remaining = "unlimited" if summary.unlimited else summary.credits_remaining
    included = "unlimited" if summary.unlimited else summary.included_credits
    out.print(
        table(
            f"Usage {summary.period} ({summary.plan} plan)",
            ["Included", "Top-up", "Used", "Remaining"],
            [
                [
                    cell(included),
                    cell(summary.topup_credits),
                    cell(summary.credits_used),
                    cell(remaining),
                ]
            ],
        )
    )
    if ledger is not None:
        out.print(
            table(
                "Ledger (newest first)",
                ["When", "Kind", "Credits", "Run", "Description"],
                [
                    [
                        time_cell(e.created_at),
                        cell(e.kind),
                        cell(e.credits),
                        cell(e.run_id),
                        cell(e.description, limit=40),
                    ]
                    for e in ledger.data
                ],
            )
        )
    if per_member is not None:
        out.print(
            table(
                f"Members {per_member.period}",
                ["Member", "Runs", "Credits used"],
                [
                    [
                        cell(m.email or m.member_id or "(organisation keys)"),
                        cell(m.runs),
                        cell(m.credits_used),
                    ]
                    for m in per_member.data
                ],
            )
        )


# -- agents ---------------------------------------------------------------------------------


def agents_list(
    api_key: ApiKeyOption = None, base_url: BaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """List the agent types this server runs."""
    with reporting_errors(), connect(api_key, base_url) as client:
        page = client.list_agents()
    emit(
        as_json,
        page.to_dict(),
        lambda: out.print(
            table(
                plural(len(page.data), "agent type"),
                ["Agent type", "Credits/run", "Description"],
                [
                    [cell(a.agent_type), cell(a.credits_per_run), cell(a.description, limit=80)]
                    for a in page.data
                ],
            )
        ),
    )


def _setting_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def agents_settings(
    agent_type: Annotated[str, typer.Argument(metavar="AGENT_TYPE")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="NAME=VALUE to change (VALUE read as JSON when it parses); repeatable.",
        ),
    ] = None,
    api_key: ApiKeyOption = None,
    base_url: BaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the organisation's settings for an agent type, or change some with --set."""
    changes: dict[str, Any] = {}
    for item in set_ or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        changes[name.strip()] = _setting_value(value)
    with reporting_errors(), connect(api_key, base_url) as client:
        current = client.get_agent_settings(agent_type)
        if changes:
            current = client.update_agent_settings(agent_type, {**current.settings, **changes})
    emit(
        as_json,
        current.to_dict(),
        lambda: out.print(fields_table(current.settings, title=f"{agent_type} settings")),
    )
