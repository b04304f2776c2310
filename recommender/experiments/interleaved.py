"""The lists of two variants interleaved into one answer, each position credited to its team.

Each list (More like this, Related, Popular) is drafted on its own by
:func:`recommender.experiments.interleaving.team_draft`, as long as the longer of the two, so
an interleaved list is short only where both variants' lists were. An item keeps the score and
explanation that its own team's variant gave it.
"""

from __future__ import annotations

import random
from dataclasses import replace

from recommender.experiments.interleaving import team_draft
from recommender.serving.answers import ListItem, RelatedLists
from recommender.serving.requests import LIST_NAMES

__all__ = ["interleave"]


def interleave(
    first: RelatedLists, second: RelatedLists, names: tuple[str, str], rng: random.Random
) -> RelatedLists:
    """``first`` and ``second`` (the lists of variants ``names``) interleaved by team draft;
    :attr:`RelatedLists.teams` names the variant behind each position."""
    merged: dict[str, list[ListItem]] = {}
    teams: dict[str, tuple[str, ...]] = {}
    for name in LIST_NAMES:
        by_team = (getattr(first, name), getattr(second, name))
        found = [{item.article.id: item for item in items} for items in by_team]
        drafted = team_draft(
            [item.article.id for item in by_team[0]],
            [item.article.id for item in by_team[1]],
            max(len(by_team[0]), len(by_team[1])),
            rng,
        )
        merged[name] = [found[team][article_id] for article_id, team in drafted]
        teams[name] = tuple(names[team] for _, team in drafted)
    return replace(
        first,
        more_like_this=merged["more_like_this"],
        related=merged["related"],
        popular=merged["popular"],
        signals_missing=tuple(dict.fromkeys((*first.signals_missing, *second.signals_missing))),
        # Drafted as long as the longer list, the result is short only where both were.
        short={name: why for name, why in first.short.items() if name in second.short},
        teams=teams,
    )
