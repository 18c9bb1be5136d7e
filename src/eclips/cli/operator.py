"""Operator commands: run the server and worker, migrate, manage orgs, keys and credits.

They import the server lazily, so ``pip install eclips`` (SDK and client CLI only) still
works; the server needs ``pip install 'eclips[server]'``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

T = TypeVar("T")
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _server_missing() -> None:
    err.print("[red]The server is not installed: pip install 'eclips[server]'[/red]")
    raise typer.Exit(1)


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run an operator action; an AppError becomes a red message and exit code 1."""
    try:
        from eclips.server.errors import AppError
    except ImportError:
        _server_missing()
        raise
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except AppError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc


def _emit(as_json: bool, payload: dict[str, Any], human: list[str], last: str) -> None:
    """Human lines, then the result alone on the last stdout line (or JSON)."""
    if as_json:
        typer.echo(json.dumps(payload))
        return
    for line in human:
        err.print(line)
    typer.echo(last)


def register(app: typer.Typer) -> None:
    orgs = typer.Typer(help="Organisations (operator).", no_args_is_help=True)
    keys = typer.Typer(help="API keys (operator).", no_args_is_help=True)
    credits = typer.Typer(help="Credits (operator).", no_args_is_help=True)
    app.add_typer(orgs, name="orgs")
    app.add_typer(keys, name="keys")
    app.add_typer(credits, name="credits")

    @app.command()
    def migrate() -> None:
        """Apply pending database migrations to ECLIPS_DATABASE_URL."""
        from eclips.server.db.migrate import upgrade
        from eclips.server.settings import get_settings

        url = get_settings().database_url
        asyncio.run(upgrade(url))
        err.print("Database is up to date.")

    @app.command("secrets-key")
    def secrets_key() -> None:
        """Print a new key for ECLIPS_SECRETS_KEY (encrypts webhook secrets at rest)."""
        from eclips.server.db.encryption import new_key

        typer.echo(new_key())

    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(help="Bind address")] = None,
        port: Annotated[int | None, typer.Option(help="Port")] = None,
        no_worker: Annotated[
            bool, typer.Option("--no-worker", help="Serve the API only; run workers apart.")
        ] = False,
    ) -> None:
        """Start the API (with an embedded worker unless --no-worker)."""
        import uvicorn

        from eclips.server.app import create_app
        from eclips.server.bootstrap import prepare
        from eclips.server.settings import get_settings

        settings = get_settings()
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        key = asyncio.run(prepare(settings))
        if key is not None:
            typer.echo("Created organisation 'demo'. Its API key, shown only this once:")
            typer.echo(f"  export ECLIPS_API_KEY={key}")
        app_ = create_app(settings, embed_worker=not no_worker)
        uvicorn.run(
            app_,
            host=host or settings.host,
            port=port or settings.port,
            log_level="info",
            timeout_graceful_shutdown=int(settings.shutdown_grace_seconds) + 5,
        )

    @app.command()
    def worker() -> None:
        """Run a worker: claim queued runs and execute them until SIGTERM/SIGINT."""
        from eclips.server.app import build_state, build_worker
        from eclips.server.settings import get_settings

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

        async def main() -> None:
            state = build_state(get_settings())
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await state.signals.listen(state.settings.database_url)
            try:
                await build_worker(state).run(stop)
            finally:
                await state.signals.close()
                await state.engine.dispose()

        asyncio.run(main())

    @orgs.command("create")
    def orgs_create(
        name: str,
        plan: Annotated[str, typer.Option(help="team or unlimited")] = "team",
        as_json: JsonOption = False,
    ) -> None:
        """Create an organisation; prints its id."""
        from eclips.server import bootstrap

        org = _run(lambda: bootstrap.create_org(name=name, plan=plan))
        _emit(as_json, org, [f"Created organisation {name} ({plan})."], org["id"])

    @keys.command("create")
    def keys_create(
        org: Annotated[str, typer.Option("--org", help="Organisation name")],
        member: Annotated[str | None, typer.Option("--member", help="Member email")] = None,
        scope: Annotated[
            list[str] | None, typer.Option("--scope", help="Repeat for each scope; default all")
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Create an API key; prints the key, shown only this once."""
        from eclips.server import bootstrap

        key = _run(lambda: bootstrap.create_key(org=org, member=member, scopes=scope or []))
        _emit(
            as_json,
            key,
            [f"Key {key['id']} with scopes: {' '.join(key['scopes'])}. Store it now."],
            key["key"],
        )

    @keys.command("revoke")
    def keys_revoke(key_id: str, as_json: JsonOption = False) -> None:
        """Revoke an API key at once; prints its id."""
        from eclips.server import bootstrap

        key = _run(lambda: bootstrap.revoke_key(key_id))
        _emit(as_json, key, ["Key revoked."], key["id"])

    @credits.command("topup")
    def credits_topup(
        credits_: Annotated[int, typer.Argument(metavar="CREDITS")],
        org: Annotated[str, typer.Option("--org", help="Organisation name")],
        as_json: JsonOption = False,
    ) -> None:
        """Add credits to an organisation for this period; prints the credits remaining."""
        from eclips.server import bootstrap

        usage = _run(lambda: bootstrap.topup(org=org, credits=credits_))
        remaining = usage["credits_remaining"]
        _emit(
            as_json,
            usage,
            [f"Added {credits_} credits to {org}."],
            "unlimited" if remaining is None else str(remaining),
        )
