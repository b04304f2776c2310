"""``newsrec embed``: batch work that may run on Ray, and the ``--ray`` option's handling.

Ray is optional: :mod:`recommender.distributed` is imported inside the commands, so that the
CLI loads, and every other command runs, without it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recommender.cli.app import (
    HomeOption,
    RayOption,
    app,
    console,
    error_console,
    fail,
    settings_for,
)

if TYPE_CHECKING:  # Ray is optional: recommender.distributed is imported only for --ray
    from recommender.distributed.runtime import RayTarget

__all__ = ["embed", "on_ray"]

#: Rejected rows quoted in the summary line; the rest are counted.
_QUOTED_REJECTS = 3


@contextmanager
def on_ray(option: str | None) -> Iterator[RayTarget | None]:
    """Connected to Ray as ``--ray`` asks, yielding the target (None: in this process).

    A bad value, a missing Ray or an unreachable cluster fails with one line and exit 2,
    before anything is read or written; a job that fails on Ray, with one line and exit 1.
    """
    if option is None:
        yield None
        return
    from recommender.distributed.runtime import (
        RayConnectError,
        RayUnavailable,
        ray_session,
        ray_target,
    )

    try:
        target = ray_target(option)
    except ValueError as exc:
        fail(str(exc), 2)
    assert target is not None  # an option was given
    with ExitStack() as stack:
        try:
            stack.enter_context(ray_session(target))
        except (RayUnavailable, RayConnectError) as exc:
            fail(str(exc), 2)
        # Say where the work ran (how many parts, on how many nodes) on stderr.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("newsrec: %(message)s"))
        logger = logging.getLogger("recommender.distributed")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield target
        except Exception as exc:
            # Ray's own errors (a task that failed after its retries, a lost cluster) are
            # told apart by their module: ray must not be imported unless --ray is given.
            if not type(exc).__module__.startswith("ray."):
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            fail(f"--ray {option}: the job failed on Ray ({first})")
        finally:
            logger.removeHandler(handler)


@app.command()
def embed(
    files: Annotated[
        list[str],
        typer.Argument(
            help="JSONL(.gz), CSV, Parquet or MIND files or folders; paths or URIs "
            "(file:///..., s3://...).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder of vector shards (created if missing).")
    ],
    ray: RayOption = None,
    home: HomeOption = None,
) -> None:
    """Embed articles into Parquet vector shards, for `newsrec ingest --vectors`.

    Rows are validated as ingest validates them (rejects are reported with file and line);
    articles already in the shards with the same content and model are skipped, so an
    interrupted run can simply be rerun.
    """
    from recommender.distributed.embed import embed_files
    from recommender.ingestion.shards import ShardMismatch

    settings = settings_for(home)
    with on_ray(ray) as target:
        try:
            report = embed_files(
                files, out, settings, on_ray=target is not None, progress=sys.stderr.isatty()
            )
        except ShardMismatch as exc:
            fail(str(exc), 2)
    for message in report.unreadable:
        error_console.print(f"unreadable {message}", markup=False, highlight=False, soft_wrap=True)
    for message in report.damaged_shards:
        error_console.print(
            f"skipped damaged shard {message} (its rows are embedded again)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    summary = (
        f"embedded {report.written} articles into {len(report.shards)} shards in {out}, "
        f"skipped {report.skipped} already there, rejected {report.rejected}"
    )
    if report.problems:
        quoted = "; ".join(str(p) for p in report.problems[:_QUOTED_REJECTS])
        more = " ..." if len(report.problems) > _QUOTED_REJECTS else ""
        summary += f" ({quoted}{more})"
    summary += f" in {report.seconds:.1f}s"
    console.print(summary, markup=False, highlight=False, soft_wrap=True)
    if report.nothing_read:
        fail("nothing could be read from " + ", ".join(files), 1)
