"""Interleaving figures: which of two variants readers prefer, from team-draft lists.

Each position of an interleaved list belongs to the team (variant) whose ranking put the item
there; a click credits that team (Radlinski et al., CIKM 2008). A list whose clicks credit one
team more is a win for it, equal credit a tie; a list without clicks says nothing and is only
counted. Per reader, the credits of all the reader's lists are summed first.

- preference of the first variant: (wins - losses) / (wins + losses + ties), the mean of the
  per-unit outcomes +1, -1, 0 (Chapelle et al., TOIS 2012, use the same counts); its interval
  is a percentile bootstrap of that mean. Resampling n units with replacement from three
  outcome values draws their counts from a multinomial, so the bootstrap draws the counts
  (``numpy`` ``multinomial``, seeded): the same distribution, at a cost independent of n;
- test: two-sided exact binomial sign test of wins against losses, ties left out
  (``scipy.stats.binomtest``, p = 0.5).

Team draft flips its coin anew for every list, so lists are the randomised unit here: the
per-list test is valid even when one reader sees many lists, and the per-reader one is the more
conservative check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.online.served import ServedList

__all__ = ["InterleavingFigures", "Outcomes", "interleaving_figures"]

_RESAMPLES = 2000


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Wins, losses and ties of the first variant over units (lists or readers).

    Attributes:
        units: all units, with or without clicks.
        no_clicks: units without a credited click.
        preference: (wins - losses) / (wins + losses + ties); None without clicks.
        low, high: its bootstrap interval.
        p_value: two-sided binomial sign test of wins against losses; None if both are 0.
    """

    units: int
    wins: int
    losses: int
    ties: int
    no_clicks: int
    preference: float | None
    low: float | None
    high: float | None
    p_value: float | None


@dataclass(frozen=True, slots=True)
class InterleavingFigures:
    """What the interleaved lists say about ``first`` against ``second``.

    Attributes:
        credits: clicks credited to each team.
        per_list: outcomes with each served list as a unit.
        per_reader: outcomes with each reader (credits summed over their lists) as a unit.
        winner: the variant preferred at p < alpha per list, None otherwise.
    """

    first: str
    second: str
    credits: dict[str, int]
    per_list: Outcomes
    per_reader: Outcomes
    winner: str | None


def _bootstrap(wins: int, losses: int, ties: int, alpha: float, seed: int) -> tuple[float, float]:
    n = wins + losses + ties
    counts = np.random.default_rng(seed).multinomial(
        n, [wins / n, losses / n, ties / n], size=_RESAMPLES
    )
    preferences = (counts[:, 0] - counts[:, 1]) / n
    low, high = np.quantile(preferences, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _outcomes(margins: Sequence[int], clicked: Sequence[bool], alpha: float, seed: int) -> Outcomes:
    from scipy.stats import binomtest

    signs = [int(np.sign(m)) for m, c in zip(margins, clicked, strict=True) if c]
    wins, losses = signs.count(1), signs.count(-1)
    ties = len(signs) - wins - losses
    preference = low = high = p_value = None
    if signs:
        preference = (wins - losses) / len(signs)
        low, high = _bootstrap(wins, losses, ties, alpha, seed)
    if wins + losses:
        p_value = float(binomtest(wins, wins + losses, 0.5, alternative="two-sided").pvalue)
    return Outcomes(
        units=len(margins),
        wins=wins,
        losses=losses,
        ties=ties,
        no_clicks=len(margins) - len(signs),
        preference=preference,
        low=low,
        high=high,
        p_value=p_value,
    )


def interleaving_figures(
    lists: Sequence[ServedList], first: str, second: str, *, alpha: float, seed: int = 0
) -> InterleavingFigures:
    """Outcomes of the interleaved lists among ``lists`` (variant "interleaved"), ``first``
    being the team whose wins are counted as wins.

    A click at a position without a team (a list served before teams were recorded) is
    credited to nobody.
    """
    credits = {first: 0, second: 0}
    margins: list[int] = []
    clicked: list[bool] = []
    reader_margin: defaultdict[str, int] = defaultdict(int)
    reader_clicked: defaultdict[str, bool] = defaultdict(bool)
    for served in lists:
        teams = [served.teams[p - 1] if p <= len(served.teams) else None for p in served.clicked]
        a, b = teams.count(first), teams.count(second)
        credits[first] += a
        credits[second] += b
        margins.append(a - b)
        clicked.append(a + b > 0)
        reader_margin[served.unit] += a - b
        reader_clicked[served.unit] |= a + b > 0
    per_list = _outcomes(margins, clicked, alpha, seed)
    units = list(reader_margin)
    per_reader = _outcomes(
        [reader_margin[u] for u in units], [reader_clicked[u] for u in units], alpha, seed
    )
    winner = None
    if per_list.p_value is not None and per_list.p_value < alpha:
        winner = first if per_list.wins > per_list.losses else second
    return InterleavingFigures(first, second, credits, per_list, per_reader, winner)
