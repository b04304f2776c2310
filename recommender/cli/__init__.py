"""The ``newsrec`` command line: the one composition root, free to import every package.

One module per command group (:mod:`.ingest`, :mod:`.lists`, :mod:`.operations`,
:mod:`.catalogue`, :mod:`.evaluate`, :mod:`.editorial`, :mod:`.find`, :mod:`.experiments`,
:mod:`.batch`); importing them
registers their commands on :data:`recommender.cli.app.app`. Every failure ends with one line on
stderr saying what is wrong and where, and a non-zero exit code: 1 for a failed job, 2 for a bad
command line, bad input or a broken disk (full or read-only).
"""

from __future__ import annotations

from recommender.cli import (
    batch,
    catalogue,
    editorial,
    evaluate,
    experiments,
    find,
    ingest,
    lists,
    operations,
)
from recommender.cli.app import app, say_error

__all__ = ["app", "main"]

# Imported for the commands they register.
_COMMAND_GROUPS = (
    ingest,
    lists,
    operations,
    evaluate,
    editorial,
    find,
    experiments,
    batch,
    catalogue,
)


def main() -> None:
    """Entry point of the ``newsrec`` console script."""
    from index.disk import disk_error
    from recommender.embedding.model_weights import ModelUnavailable

    # Outside the Typer app a typer.Exit would surface as a traceback, hence SystemExit.
    try:
        app()
    except KeyboardInterrupt:
        say_error("interrupted")
        raise SystemExit(130) from None
    except ModelUnavailable as exc:
        say_error(f"model: {exc}")
        raise SystemExit(2) from None
    except Exception as exc:
        # A full or read-only disk met where no command expected it (a lock file, an index
        # file, SQLite): one line naming the cause, not a traceback ending in another error.
        broken_disk = disk_error(exc)
        if broken_disk is None:
            raise
        say_error(str(broken_disk))
        raise SystemExit(2) from None
