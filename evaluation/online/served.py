"""Served lists rebuilt from feedback rows: one impression with the positions its reader clicked.

The unit every online statistic counts is a served list: one list (More like this, Related ...)
of one answer, named by its recommendation id's nonce and the list's name. Its impression row
says what was shown (and which positions were visible); its click rows say which positions were
clicked. A click whose list has no impression row is kept apart (``orphan_clicks``): counting
it would add a success without its trial and push a CTR above what readers did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from index.feedback import Feedback

__all__ = ["Served", "ServedList", "served_lists"]


@dataclass(frozen=True, slots=True)
class ServedList:
    """One list as a reader was shown it, and what they clicked in it.

    Attributes:
        recommendation: the recommendation id's nonce.
        list_name: the list within the answer.
        experiment: the experiment the answer was served under, None outside any.
        variant: the variant that built the list ("interleaved" for a team-draft list).
        reader: the reader hash, None for an anonymous reader.
        length: how many items the list held.
        visible: the positions seen (1-based); None when the whole list was.
        teams: per position, the variant whose ranking placed the item (interleaving only).
        clicked: the distinct positions clicked, ascending.
    """

    recommendation: str
    list_name: str
    experiment: str | None
    variant: str
    reader: str | None
    length: int
    visible: tuple[int, ...] | None
    teams: tuple[str, ...]
    clicked: tuple[int, ...]

    @property
    def unit(self) -> str:
        """Who the list counts for in per-reader figures: the reader, or the answer if anonymous."""
        return self.reader if self.reader is not None else f"anonymous:{self.recommendation}"

    def seen(self, position: int) -> bool:
        """Whether the reader saw ``position`` (1-based)."""
        if not 1 <= position <= self.length:
            return False
        return self.visible is None or position in self.visible


@dataclass(frozen=True, slots=True)
class Served:
    """Every served list found in the rows, in the order of their impressions, and the clicks
    that belong to no impression."""

    lists: tuple[ServedList, ...]
    orphan_clicks: tuple[Feedback, ...]


def served_lists(rows: Iterable[Feedback]) -> Served:
    """Join impression rows with their click rows by (recommendation, list name).

    A second impression row of the same list (a re-sent impression with another key) adds
    nothing: the list was served once.
    """
    impressions: dict[tuple[str, str], Feedback] = {}
    clicks: defaultdict[tuple[str, str], list[Feedback]] = defaultdict(list)
    for row in rows:
        key = (row.recommendation, row.list_name)
        if row.kind == "impression":
            impressions.setdefault(key, row)
        elif row.kind == "click":
            clicks[key].append(row)
    lists = []
    for key, impression in impressions.items():
        positions = {c.position for c in clicks.pop(key, []) if c.position is not None}
        lists.append(
            ServedList(
                recommendation=impression.recommendation,
                list_name=impression.list_name,
                experiment=impression.experiment,
                variant=impression.variant,
                reader=impression.reader,
                length=len(impression.shown),
                visible=impression.visible,
                teams=impression.teams,
                clicked=tuple(sorted(positions)),
            )
        )
    orphans = tuple(click for group in clicks.values() for click in group)
    return Served(tuple(lists), orphans)
