"""Where a catalogue lives, a SQLite file or a PostgreSQL URL, and how messages name it.

Kept apart from :mod:`index.postgres` so that a SQLite home never imports psycopg and libpq: a
command that works on a file pays for neither, and the PostgreSQL adapter is imported the first
time a database URL is opened.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.errors import CatalogueError, CatalogueUnavailable

__all__ = [
    "CatalogueTarget",
    "StatementError",
    "is_database_url",
    "missing_table",
    "redacted",
    "unavailable",
]

#: Where a catalogue lives: a SQLite file, or a PostgreSQL URL.
CatalogueTarget = Path | str

_SCHEMES = ("postgresql://", "postgres://")
_UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a table that does not exist


class StatementError(CatalogueError):
    """A statement failed on PostgreSQL; ``sqlstate`` is the server's error code."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database (a str starting ``postgresql://`` or
    ``postgres://``) rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(_SCHEMES)


def redacted(url: str | Path) -> str:
    """``url`` without its password (in the user part or a ``password=`` parameter), for
    messages and logs; a path (a SQLite file) as it is."""
    if not is_database_url(url):
        return str(url)
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = user.split(":", 1)[0] + "@" + host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def missing_table(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL saying a table does not exist."""
    return isinstance(exc, StatementError) and exc.sqlstate == _UNDEFINED_TABLE


def unavailable(where: str, exc: BaseException) -> CatalogueUnavailable:
    """The error for a database that cannot be reached, on one line."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return CatalogueUnavailable(
        f"{where}: the catalogue database is unavailable ({reason}); "
        "retry when it is back (newsrec reconnects by itself)"
    )
