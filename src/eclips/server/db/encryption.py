"""Secrets at rest: webhook signing secrets are stored encrypted (Fernet: AES-128-CBC with
HMAC-SHA256), so a database dump holds no usable secret.

The key comes from ``ECLIPS_SECRETS_KEY`` (a Fernet key; ``eclips secrets-key`` prints a new
one). On SQLite without it, a key file is created beside the database on first use; a fleet
on PostgreSQL must set the same key on every process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.engine import make_url
from sqlalchemy.types import TypeDecorator


class SecretsKeyMissing(RuntimeError):
    """No ECLIPS_SECRETS_KEY for a PostgreSQL deployment."""


_cipher: MultiFernet | None = None


def configure(keys: list[str]) -> None:
    """Install the keys; the first encrypts, all decrypt (for key rotation)."""
    global _cipher
    _cipher = MultiFernet([Fernet(key.encode()) for key in keys])


def keys_for(database_url: str, configured: str | None) -> list[str]:
    """The configured keys (comma-separated, newest first), or SQLite's key file."""
    if configured:
        return [k.strip() for k in configured.split(",") if k.strip()]
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise SecretsKeyMissing(
            "Set ECLIPS_SECRETS_KEY (generate one with `eclips secrets-key`) on every process"
        )
    path = Path(url.database + ".key")
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return [path.read_text().strip()]


def new_key() -> str:
    return Fernet.generate_key().decode()


def _active() -> MultiFernet:
    if _cipher is None:
        raise SecretsKeyMissing("Secrets encryption is not configured")
    return _cipher


class EncryptedText(TypeDecorator[str]):
    """A string column stored encrypted; reads give back the plain value."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:  # noqa: ARG002
        if value is None:
            return None
        return _active().encrypt(value.encode()).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:  # noqa: ARG002
        if value is None:
            return None
        try:
            return _active().decrypt(str(value).encode()).decode()
        except InvalidToken as exc:
            raise SecretsKeyMissing(
                "A stored secret cannot be decrypted: ECLIPS_SECRETS_KEY is not the key it "
                "was written with"
            ) from exc
