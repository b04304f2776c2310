"""Team-draft interleaving: two rankings merged into one list, each item credited to a team.

Radlinski, Kurup and Joachims, "How does clickthrough data reflect retrieval quality?" (CIKM
2008); validated at scale by Chapelle, Joachims, Radlinski and Yue, "Large-scale validation
and analysis of interleaved search evaluation" (TOIS 2012). Like two captains picking players:
the team with fewer picks so far picks next (a fair coin breaks ties), and a team always picks
its highest-ranked item not yet in the list. A click credits the item's team; the team with
more clicks in one impression wins it (:func:`preference`).

Where one ranking runs out (every item of it already taken), the other keeps picking until
``k`` items or both are exhausted, so an interleaved list is short only where both were; those
tail items are credited to the team that picked them.

Hand-written: no maintained Python library implements team draft, and it is a few lines.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

__all__ = ["preference", "team_draft"]


def team_draft(
    a: Sequence[str], b: Sequence[str], k: int, rng: random.Random
) -> list[tuple[str, int]]:
    """The team-draft interleaving of rankings ``a`` and ``b`` (article ids, best first): up to
    ``k`` pairs ``(id, team)``, team 0 for ``a`` and 1 for ``b``; no id twice.

    Raises:
        ValueError: a negative ``k``.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    rankings = (a, b)
    cursors = [0, 0]
    picks = [0, 0]
    taken: set[str] = set()
    out: list[tuple[str, int]] = []
    while len(out) < k:
        for team in (0, 1):
            ranking = rankings[team]
            while cursors[team] < len(ranking) and ranking[cursors[team]] in taken:
                cursors[team] += 1
        left = [cursors[team] < len(rankings[team]) for team in (0, 1)]
        if not any(left):
            break
        # Fewer picks picks next; a coin on a tie.
        team = rng.randrange(2) if picks[0] == picks[1] else int(picks[1] < picks[0])
        if not left[team]:
            team = 1 - team
        item = rankings[team][cursors[team]]
        taken.add(item)
        out.append((item, team))
        picks[team] += 1
    return out


def preference(teams: Sequence[int], clicked_positions: Iterable[int]) -> int:
    """Which team one impression preferred: +1 when team 0 (``a``) got more clicks, -1 when
    team 1 (``b``) did, 0 on a tie (no clicks included). ``teams`` is the team of each position;
    positions are 1-based, and a position clicked twice counts once.

    Raises:
        ValueError: a team other than 0 or 1, or a position outside the list.
    """
    for team in teams:
        if team not in (0, 1):
            raise ValueError(f"teams must be 0 or 1, got {team!r}")
    clicks = [0, 0]
    for position in set(clicked_positions):
        if not 1 <= position <= len(teams):
            raise ValueError(f"clicked position {position} is outside the list of {len(teams)}")
        clicks[teams[position - 1]] += 1
    return (clicks[0] > clicks[1]) - (clicks[0] < clicks[1])
