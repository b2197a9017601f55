"""Where the store lives: a file path (SQLite) or a PostgreSQL DSN. Dependency-free, so `doctor` and the
composition root can tell and show it without importing asyncpg."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def is_postgres_dsn(path: str | Path) -> bool:
    return str(path).startswith(("postgresql://", "postgres://"))


def redact(dsn: str) -> str:
    """The DSN without its password, for messages (secrets are never echoed)."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
