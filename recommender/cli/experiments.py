"""``newsrec experiments``: check an experiments file, report what readers did under it.

The statistics and the report are :mod:`evaluation.online`'s; the file is
:mod:`recommender.experiments.config`'s, the feedback :class:`index.feedback.FeedbackStore`'s.
"""

from __future__ import annotations

import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from index import StorageError
from recommender.cli.app import HomeOption, app, console, fail, require_home, settings_for

if TYPE_CHECKING:
    from evaluation.online import Design
    from recommender.experiments.config import Experiment

experiments_app = typer.Typer(
    help="Online experiments: check an experiments file, report A/B and interleaving results.",
    no_args_is_help=True,
)
app.add_typer(experiments_app, name="experiments")


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _load(path: Path) -> Experiment | None:
    from recommender.experiments.config import ExperimentsError, load_experiments

    try:
        return load_experiments(path)
    except ExperimentsError as exc:
        fail(str(exc), 2)


def _describe(experiment: Experiment) -> list[str]:
    lines = [f"{experiment.name}: {experiment.kind}, salt {experiment.salt!r}"]
    for variant in experiment.variants:
        overlay = ", ".join(f"{k}={v:g}" for k, v in sorted(variant.overlay.items()))
        share = "" if experiment.kind == "interleaving" else f"share {variant.share:.2%}  "
        lines.append(f"  {variant.name:<20} {share}{overlay or 'the configured weights'}")
    if experiment.kind == "interleaving":
        lines.append(f"  interleaved for {experiment.share:.2%} of readers")
    if experiment.share < 1:
        lines.append(f"  {'default':<20} share {1 - experiment.share:.2%}  outside the experiment")
    return lines


@experiments_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The experiments file (TOML).")],
) -> None:
    """Check an experiments file and print its variants and shares; a bad file exits 2."""
    experiment = _load(file)
    if experiment is None:
        _say(f"{file}: enabled = false: every list is variant 'default'")
        return
    for line in _describe(experiment):
        _say(line)


def _design(experiment: Experiment) -> Design:
    from evaluation.online import Design

    return Design(experiment.name, experiment.kind, tuple(v.name for v in experiment.variants))


@experiments_app.command("report")
def report(
    out: Annotated[Path, typer.Option(help="Folder for results.json, report.md and the PNGs.")],
    home: HomeOption = None,
    experiment: Annotated[
        str | None,
        typer.Option(help="Report only this experiment (default: every one in the log)."),
    ] = None,
    control: Annotated[
        str | None,
        typer.Option(help="The variant the others are compared with (default: the first)."),
    ] = None,
    experiments_file: Annotated[
        Path | None,
        typer.Option(
            help="The experiments file giving variant order and kind (default: the setting "
            "experiments_file); experiments it does not describe are read from the log.",
            show_default=False,
        ),
    ] = None,
    min_lift: Annotated[
        float,
        typer.Option(
            help="Relative lift the power line sizes the test for (0.05 = 5%): of the CTR in "
            "an A/B test, of the winner's share of decisive lists over half in interleaving."
        ),
    ] = 0.05,
    alpha: Annotated[
        float, typer.Option(help="Significance level; intervals are at 1 - alpha.")
    ] = 0.05,
    power: Annotated[float, typer.Option(help="Power asked of the test.")] = 0.8,
) -> None:
    """Report the home's experiments: results.json, report.md and PNGs, with a verdict each.

    Per variant: impressions, clicks, CTR, lift over the control and p-value (or interleaving
    wins, losses and ties), CTR by position, and a power line.
    """
    from evaluation.online import online_results, write_online_report
    from index.feedback import FeedbackStore

    settings = settings_for(home)
    require_home(settings)
    designs = {}
    path = experiments_file or settings.experiments_file
    if path is not None:
        described = _load(path)
        if described is not None:
            designs[described.name] = _design(described)
    try:
        with FeedbackStore(settings.catalogue) as store:
            rows = list(store.rows(experiment=experiment))
    except StorageError as exc:
        fail(str(exc))
    try:
        results = online_results(
            rows,
            designs=designs,
            experiment=experiment,
            control=control,
            alpha=alpha,
            min_lift=min_lift,
            power=power,
        )
    except ValueError as exc:
        fail(str(exc), 2)
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in ["newsrec", *sys.argv[1:]]),
        "home": str(settings.home),
        **results,
    }
    try:
        written = write_online_report(out, results)
    except OSError as exc:
        fail(f"{out}: cannot write the report ({exc.strerror or exc})", 2)
    for name, result in results["experiments"].items():
        verdict = result["verdict"]
        p = "-" if verdict["p_value"] is None else f"{verdict['p_value']:.3g}"
        better = verdict["better"] or "no variant"
        _say(
            f"{name} ({result['kind']}): {better} better at {verdict['confidence']:.0%} "
            f"confidence (p = {p})"
        )
        for warning in result["warnings"]:
            _say(f"  warning: {warning}")
    if not results["experiments"]:
        _say("no experiment in the feedback log")
    _say(f"wrote {', '.join(str(p) for p in written)}")


@experiments_app.command("export-log")
def export_log(
    out: Annotated[
        Path, typer.Option(help="The behaviors.tsv to write (MIND's impressions form).")
    ],
    home: HomeOption = None,
    experiment: Annotated[
        str | None, typer.Option(help="Only the lists served under this experiment.")
    ] = None,
    variant: Annotated[str | None, typer.Option(help="Only the lists of this variant.")] = None,
) -> None:
    """Write the logged impressions and clicks as a MIND behaviors.tsv, one row per served
    list, for ``newsrec evaluate --protocol logged``."""
    from evaluation.online.log_export import export_log as write_log
    from index.feedback import FeedbackStore
    from recommender.cli.app import fail_storage

    settings = settings_for(home)
    require_home(settings)
    try:
        with FeedbackStore(settings.catalogue) as store:
            written = write_log(
                store.rows(experiment=experiment), out, experiment=experiment, variant=variant
            )
    except StorageError as exc:
        fail_storage(exc)
    except ValueError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(f"{out}: cannot write the log ({exc.strerror or exc})", 2)
    console.print(
        f"wrote {written.impressions} impressions with {written.clicks} clicks to {out}; "
        f"{written.clicks_without_impression} clicks without a logged impression left out, "
        f"{written.clicks_outside_visible} on positions not marked visible kept",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
