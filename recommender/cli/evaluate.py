"""``newsrec evaluate``: offline evaluation of a corpus, baselines beside newsrec."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from recommender.cli.app import (
    app,
    console,
    fail,
)


@app.command()
def evaluate(
    datasets: Annotated[
        list[Path],
        typer.Argument(
            help="Article files or MIND folders (news.tsv + behaviors.tsv); for the logged "
            "protocol, export-log's behaviors.tsv files."
        ),
    ],
    protocol: Annotated[
        str,
        typer.Option(
            help="labels (shared labels), coread (same reader), impressions, or logged "
            "(served lists' clicks, scored on --home)."
        ),
    ] = "labels",
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md, runs, plots.")] = (
        Path("evaluation-out")
    ),
    k: Annotated[str, typer.Option("--k", help="Cut-offs, comma-separated.")] = "5,10,20",
    seed: Annotated[int, typer.Option(help="Seed of every split, sample and resample.")] = 0,
    sweep: Annotated[
        str | None, typer.Option(help="Tune Related by 'grid' or 'random' search.")
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Sweep trials (a grid is sampled).")] = 20,
    split: Annotated[
        str, typer.Option(help="Corpus split whose sources are reported, or 'all'.")
    ] = "test",
    limit_sources: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Report a seeded sample of this many sources (impressions, in that protocol).",
        ),
    ] = None,
    tune_sources: Annotated[
        int, typer.Option(min=1, help="Sweep on a seeded sample of this many tuning sources.")
    ] = 500,
    candidates_before_source: Annotated[
        bool, typer.Option(help="Only candidates published before the source.")
    ] = False,
    window_days: Annotated[
        float | None, typer.Option(help="Only candidates within D days of the source.")
    ] = None,
    labels: Annotated[
        str, typer.Option(help="Label fields of the labels protocol, comma-separated.")
    ] = "topics",
    synthetic_reads: Annotated[
        int,
        typer.Option(
            min=0,
            help="Labels protocol: give the engine this many Zipf-distributed reads, drawn "
            "independently of the labels (relevance measured with popularity in play).",
        ),
    ] = 0,
    set_: Annotated[
        list[str], typer.Option("--set", help="A setting for the engine: KEY=VALUE (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default, it is never mutated
    cache: Annotated[
        Path | None, typer.Option(help="Embedding cache folder (default ~/.cache/newsrec-eval).")
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Logged protocol: the home that served the logged lists (default ./.newsrec, "
            "or $NEWSREC_HOME).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Measure both lists and the baselines against labels or reading data; write a report."""
    from evaluation.cli import EvaluateError, evaluate_command

    try:
        summary = evaluate_command(
            datasets,
            protocol=protocol,
            out=out,
            k=k,
            seed=seed,
            sweep=sweep,
            trials=trials,
            split=split,
            limit_sources=limit_sources,
            tune_sources=tune_sources,
            before_source=candidates_before_source,
            window_days=window_days,
            labels=labels,
            synthetic_reads=synthetic_reads,
            settings=set_,
            cache=cache,
            progress=sys.stderr.isatty(),
            home=home,
        )
    except EvaluateError as exc:
        fail(str(exc), exc.exit_code)
    console.print(summary, markup=False, highlight=False, soft_wrap=True)


# --- editorial overrides and reading events -------------------------------------------------
