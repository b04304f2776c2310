"""The ``newsrec`` command line: the one composition root, free to import every package.

One module per command group (:mod:`.ingest`, :mod:`.lists`, :mod:`.operations`,
:mod:`.evaluate`, :mod:`.editorial`); importing them registers their commands on
:data:`recommender.cli.app.app`. Every failure ends with one line on stderr saying what is wrong
and where, and a non-zero exit code: 1 for a failed job, 2 for a bad command line or bad input.
"""

from __future__ import annotations

from recommender.cli import editorial, evaluate, ingest, lists, operations
from recommender.cli.app import app, say_error

__all__ = ["app", "main"]

# Imported for the commands they register.
_COMMAND_GROUPS = (ingest, lists, operations, evaluate, editorial)


def main() -> None:
    """Entry point of the ``newsrec`` console script."""
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
