"""The results of every experiment in a feedback log, with a verdict each, as plain data.

Only lists served under a named experiment count as evidence; lists of variant "default" (the
readers an experiment leaves out) are counted beside it, never compared. The verdict names the
better variant only at p < alpha:

- A/B: the variant with the highest CTR among those whose CTR differs from the control's at
  p < alpha (Holm-adjusted z-test, :mod:`evaluation.online.ab`) with a positive lift; the
  control when every other variant is worse at p < alpha; else none;
- interleaving: the team preferred at p < alpha by the per-list sign test
  (:mod:`evaluation.online.interleaving`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from evaluation.online.ab import VariantFigures, compare_variants, ctr_by_position
from evaluation.online.interleaving import interleaving_figures
from evaluation.online.power import power_line, sign_test_power_line
from evaluation.online.served import ServedList, served_lists
from index.feedback import Feedback
from recommender.experiments.config import DEFAULT_VARIANT, INTERLEAVED

__all__ = ["Design", "online_results"]

AB_TEST = (
    "two-sided two-proportion z-test on clicked impressions / impressions (statsmodels "
    "proportions_ztest, pooled), Holm-adjusted when several variants face the control"
)
READER_TEST = "two-sided Mann-Whitney U test on per-reader CTRs (scipy.stats.mannwhitneyu)"
SIGN_TEST = "two-sided exact binomial sign test, wins against losses (scipy.stats.binomtest)"


@dataclass(frozen=True, slots=True)
class Design:
    """What an experiment compares: its kind and its variants in file order (for
    interleaving, the two teams), the first being the control."""

    name: str
    kind: Literal["ab", "interleaving"]
    variants: tuple[str, ...]


def _inferred(name: str, lists: Sequence[ServedList]) -> Design:
    if any(s.variant == INTERLEAVED for s in lists):
        teams = {t for s in lists if s.variant == INTERLEAVED for t in s.teams}
        return Design(name, "interleaving", tuple(sorted(teams)))
    variants = {s.variant for s in lists} - {DEFAULT_VARIANT}
    return Design(name, "ab", tuple(sorted(variants)))


def _counts(lists: Sequence[ServedList]) -> dict[str, int]:
    return {
        "impressions": len(lists),
        "clicks": sum(len(s.clicked) for s in lists),
        "clicked_impressions": sum(1 for s in lists if s.clicked),
    }


def _ab_verdict(
    figures: Mapping[str, VariantFigures], control: str, alpha: float
) -> tuple[str | None, float | None]:
    others = [f for name, f in figures.items() if name != control]
    sure = [f for f in others if f.p_value is not None and f.p_value < alpha]
    better = [f for f in sure if (f.lift or 0) > 0]
    if better:
        best = max(better, key=lambda f: f.ctr.value or 0.0)
        return best.name, best.p_value
    worse = [f for f in sure if (f.lift or 0) < 0]
    if others and len(worse) == len(others):
        return control, max(f.p_value for f in worse if f.p_value is not None)
    tested = [f.p_value for f in others if f.p_value is not None]
    return None, min(tested) if tested else None


def _ab(
    design: Design,
    lists: Sequence[ServedList],
    control: str,
    *,
    alpha: float,
    min_lift: float,
    power: float,
) -> dict[str, Any]:
    variants = design.variants
    figures = compare_variants(lists, variants, control, alpha=alpha)
    by_list: defaultdict[str, list[ServedList]] = defaultdict(list)
    for served in lists:
        by_list[served.list_name].append(served)
    line = power_line(
        figures[control].ctr.value,
        min((f.impressions for f in figures.values()), default=0),
        min_lift=min_lift,
        alpha=alpha,
        power=power,
    )
    better, p_value = _ab_verdict(figures, control, alpha)
    warnings = [line.warning] if line.warning else []
    for f in figures.values():
        if (
            f.p_value is not None
            and f.p_value < alpha
            and (f.reader_p_value is None or f.reader_p_value >= alpha)
        ):
            warnings.append(
                f"{f.name}: significant per impression but not per reader (p = "
                f"{'-' if f.reader_p_value is None else f'{f.reader_p_value:.3g}'}): a few "
                "readers' many impressions may carry the difference"
            )
    return {
        "verdict": {"better": better, "p_value": p_value, "method": "ab"},
        "ab": {
            "test": AB_TEST,
            "reader_test": READER_TEST,
            "variants": {name: asdict(f) for name, f in figures.items()},
            "lists": {
                list_name: {
                    name: asdict(f)
                    for name, f in compare_variants(group, variants, control, alpha=alpha).items()
                }
                for list_name, group in sorted(by_list.items())
            },
        },
        "by_position": _positions(ctr_by_position(lists, variants, alpha=alpha)),
        "power": asdict(line),
        "warnings": warnings,
    }


def _interleaving(
    design: Design,
    lists: Sequence[ServedList],
    first: str,
    *,
    alpha: float,
    min_lift: float,
    power: float,
    seed: int,
) -> dict[str, Any]:
    second = next(name for name in design.variants if name != first)
    interleaved = [s for s in lists if s.variant == INTERLEAVED]
    figures = interleaving_figures(interleaved, first, second, alpha=alpha, seed=seed)
    by_list: defaultdict[str, list[ServedList]] = defaultdict(list)
    for served in interleaved:
        by_list[served.list_name].append(served)
    line = sign_test_power_line(
        figures.per_list.wins + figures.per_list.losses,
        min_lift=min_lift,
        alpha=alpha,
        power=power,
    )
    warnings = [line.warning] if line.warning else []
    if figures.per_list.p_value is not None and figures.per_list.p_value < alpha:
        reader_p = figures.per_reader.p_value
        if reader_p is None or reader_p >= alpha:
            warnings.append("significant per list but not per reader: a few readers carry it")
    return {
        "verdict": {
            "better": figures.winner,
            "p_value": figures.per_list.p_value,
            "method": "interleaving",
        },
        "interleaving": {
            "test": SIGN_TEST,
            **asdict(figures),
            "lists": {
                list_name: asdict(
                    interleaving_figures(group, first, second, alpha=alpha, seed=seed).per_list
                )
                for list_name, group in sorted(by_list.items())
            },
        },
        "by_position": _positions(
            ctr_by_position(interleaved, design.variants, alpha=alpha, by_team=True)
        ),
        "power": asdict(line),
        "warnings": warnings,
    }


def _positions(rates: Mapping[str, Sequence[Any]]) -> dict[str, list[dict[str, Any]]]:
    return {name: [asdict(r) for r in found] for name, found in rates.items()}


def _experiment(
    design: Design,
    lists: Sequence[ServedList],
    orphans: Sequence[Feedback],
    control: str | None,
    *,
    alpha: float,
    min_lift: float,
    power: float,
    seed: int,
    described: bool,
) -> dict[str, Any]:
    known = {*design.variants, DEFAULT_VARIANT, INTERLEAVED}
    unknown: defaultdict[str, int] = defaultdict(int)
    for served in lists:
        if served.variant not in known:
            unknown[served.variant] += 1
    head: dict[str, Any] = {
        "kind": design.kind,
        "design_from": "experiments file" if described else "feedback log",
        "variants": list(design.variants),
        "control": None,
        "outside": _counts([s for s in lists if s.variant == DEFAULT_VARIANT]),
        "unknown_variants": dict(unknown),
        "orphan_clicks": len(orphans),
        "readers": len({s.unit for s in lists}),
    }
    if control is not None and control not in design.variants:
        raise ValueError(
            f"experiment {design.name!r}: control {control!r} is not one of its variants "
            f"({', '.join(design.variants) or 'none'})"
        )
    two_teams = design.kind == "ab" or len(design.variants) == 2
    if len(design.variants) < 2 or not two_teams:
        return head | {
            "verdict": {"better": None, "p_value": None, "method": design.kind},
            "by_position": {},
            "power": None,
            "warnings": [
                f"{design.kind} needs two variants"
                + (" or more" if design.kind == "ab" else "")
                + f", the log shows {len(design.variants)}: nothing to compare"
            ],
        }
    head["control"] = control or design.variants[0]
    if design.kind == "ab":
        body = _ab(design, lists, head["control"], alpha=alpha, min_lift=min_lift, power=power)
    else:
        body = _interleaving(
            design, lists, head["control"], alpha=alpha, min_lift=min_lift, power=power, seed=seed
        )
    if unknown:
        body["warnings"].append(
            "lists of variants the design does not name are left out: "
            + ", ".join(f"{name} ({count})" for name, count in sorted(unknown.items()))
        )
    if orphans:
        body["warnings"].append(
            f"{len(orphans)} clicks on lists with no impression are left out of every rate"
        )
    return head | body


def online_results(
    rows: Iterable[Feedback],
    *,
    designs: Mapping[str, Design] | None = None,
    experiment: str | None = None,
    control: str | None = None,
    alpha: float = 0.05,
    min_lift: float = 0.05,
    power: float = 0.8,
    seed: int = 0,
) -> dict[str, Any]:
    """Figures and a verdict for each experiment in ``rows`` (or only ``experiment``).

    Args:
        rows: feedback rows, e.g. :meth:`index.feedback.FeedbackStore.rows`.
        designs: experiments described by a file, by name; others are inferred from the log
            (A/B variants, or interleaving teams, sorted by name).
        experiment: report only this experiment.
        control: the A/B control, or the interleaving team whose wins count as wins
            (default: the first variant).
        alpha: significance level; intervals are at 1 - alpha.
        min_lift: the relative lift the power line sizes the test for.
        power: the power asked of the test.
        seed: seed of the bootstrap.

    Raises:
        ValueError: ``control`` is not a variant of a reported experiment, or ``alpha``,
            ``power`` or ``min_lift`` is out of range.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    if not min_lift > 0:
        raise ValueError(f"min_lift must be above 0 (a relative lift, 0.05 = 5%), got {min_lift}")
    designs = designs or {}
    served = served_lists(rows)
    lists: defaultdict[str | None, list[ServedList]] = defaultdict(list)
    for s in served.lists:
        lists[s.experiment].append(s)
    orphans: defaultdict[str | None, list[Feedback]] = defaultdict(list)
    for click in served.orphan_clicks:
        orphans[click.experiment].append(click)
    names = sorted(n for n in {*lists, *orphans} if n is not None)
    if experiment is not None:
        names = [experiment]
    experiments = {}
    for name in names:
        described = name in designs
        design = designs[name] if described else _inferred(name, lists[name])
        experiments[name] = _experiment(
            design,
            lists[name],
            orphans[name],
            control,
            alpha=alpha,
            min_lift=min_lift,
            power=power,
            seed=seed,
            described=described,
        )
        experiments[name]["verdict"]["confidence"] = 1 - alpha
    return {
        "alpha": alpha,
        "confidence": 1 - alpha,
        "min_lift": min_lift,
        "power": power,
        "feedback": {
            "lists": len(served.lists),
            "clicks": sum(len(s.clicked) for s in served.lists) + len(served.orphan_clicks),
            "orphan_clicks": len(served.orphan_clicks),
        },
        "outside_experiments": _counts(lists[None]),
        "experiments": experiments,
    }
