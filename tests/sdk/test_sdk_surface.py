"""The public surface: what ``import eclips`` gives, and what it must not drag in."""

from __future__ import annotations

import json
import subprocess
import sys

import eclips
import eclips.sdk


def test_import_loads_only_the_sdk() -> None:
    code = (
        "import json, sys, eclips; "
        "print(json.dumps(sorted(m.split('.')[0] if not m.startswith('eclips') else m "
        "for m in sys.modules)))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    # (rich is not on the list: httpx itself imports it, for its own CLI, when installed.)
    for forbidden in ("eclips.server", "eclips.cli", "fastapi", "sqlalchemy", "typer"):
        assert forbidden not in loaded, forbidden


def test_all_names_exist() -> None:
    for module in (eclips, eclips.sdk):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == []
    assert eclips.webhooks.verify is not None
    assert issubclass(eclips.WebhookVerificationError, Exception)
    assert eclips.__version__ == eclips.sdk.__version__


def test_error_tree() -> None:
    assert issubclass(eclips.APIStatusError, eclips.APIError)
    assert issubclass(eclips.APIError, eclips.EClipsError)
    assert issubclass(eclips.APITimeoutError, eclips.APIConnectionError)
    for cls in (
        eclips.BadRequestError,
        eclips.AuthenticationError,
        eclips.PaymentRequiredError,
        eclips.PermissionDeniedError,
        eclips.NotFoundError,
        eclips.ConflictError,
        eclips.UnprocessableEntityError,
        eclips.RateLimitError,
        eclips.InternalServerError,
    ):
        assert issubclass(cls, eclips.APIStatusError)
