"""The ``eclips`` command: operator commands here, client commands from the SDK side."""

from __future__ import annotations

import typer

from eclips.cli import operator

app = typer.Typer(
    name="eclips",
    help="EClips: run AI agents for back-office work. Operator and client commands.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
operator.register(app)

try:
    from eclips.cli import client
except ImportError:  # pragma: no cover - the client commands ship with the SDK
    pass
else:
    client.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
