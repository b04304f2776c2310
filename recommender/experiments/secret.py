"""The key that signs recommendation ids: configured, or created once per home.

Every worker serving one home must sign with the same key, or a click attributed by one worker
would be "forged" to another. So an unconfigured key is kept in ``HOME/recommendation.secret``,
created by whichever worker comes first: written whole under a temporary name in the same
directory, then hard-linked to the final name. A link fails if the name exists, so two workers
racing agree on the first key written, and nobody ever reads a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from index.durable import fsync_path

__all__ = ["MIN_SECRET_CHARS", "SECRET_BYTES", "SECRET_FILE", "existing_secret", "home_secret"]

SECRET_FILE = "recommendation.secret"
SECRET_BYTES = 32
#: A configured key shorter than this is refused: it could be guessed and ids forged.
MIN_SECRET_CHARS = 16


def home_secret(home: Path, configured: str | None) -> bytes:
    """The signing key: ``configured`` (the setting ``recommendation_secret``) when given, else
    the home's own random key, created on first use (mode 0600).

    Raises:
        ValueError: a configured key shorter than :data:`MIN_SECRET_CHARS` characters, or a
            home key file that is not :data:`SECRET_BYTES` bytes long.
        OSError: the home key cannot be read or created.
    """
    if configured is not None:
        if len(configured) < MIN_SECRET_CHARS:
            raise ValueError(
                f"recommendation_secret must be at least {MIN_SECRET_CHARS} characters long, "
                f"got {len(configured)} (unset it to use a random key kept in the home)"
            )
        return configured.encode("utf-8")
    path = home / SECRET_FILE
    if not path.exists():
        _create(path)
    return _read(path)


def existing_secret(home: Path, configured: str | None) -> bytes | None:
    """The signing key as :func:`home_secret` finds it, without creating one: None when the
    home has none, so it never signed an id (for commands that only check ids, which must not
    write to a home that may be read-only).

    Raises:
        ValueError: as :func:`home_secret`.
        OSError: the home key cannot be read.
    """
    if configured is None and not (home / SECRET_FILE).exists():
        return None
    return home_secret(home, configured)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{SECRET_FILE}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(SECRET_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        # The race is lost when the name exists: the key already there is the home's key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
            fsync_path(path.parent)
    finally:
        os.unlink(temporary)


def _read(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != SECRET_BYTES:
        raise ValueError(
            f"{path}: expected a {SECRET_BYTES}-byte key, found {len(key)} bytes; delete the "
            "file to create a new key (ids issued under the old one will be refused)"
        )
    return key
