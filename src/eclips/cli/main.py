"""The ``eclips`` command: operator commands (server side) and client commands (SDK side)."""

from __future__ import annotations

import typer

from eclips.cli import client, operator

app = typer.Typer(
    name="eclips",
    help="EClips: run AI agents for back-office work. Operator and client commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
operator.register(app)
client.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
