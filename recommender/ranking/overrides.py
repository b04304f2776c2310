"""Editorial overrides applied to the lists: pins put an article into a list (Related, or More
like this), blocks keep one out.

Rules, in order of strength:

- A block keeps its target out of both lists: of one source's lists (``--for SOURCE``) or of
  every list. A block beats a pin, so a story withdrawn for legal reasons stays out even where
  it was pinned.
- A pin puts its target at its position (1-based) in the source's Related list (or in More
  like this, for a pin into that list), whatever its score; other items move down. Two pins
  for one place keep the order they were made in. A pin beyond the end of the list lands at
  its end. The pinned article leaves the other list, and other members of its story leave
  both lists.
- An override applies from when it is made until its ``until`` time or its removal; expired
  ones stop applying by themselves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from index.overrides import Override

__all__ = ["EditorialRules", "InvalidUntil", "parse_until", "place_pins"]

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.IGNORECASE)
_UNIT_HOURS = {"h": 1.0, "d": 24.0, "w": 168.0}


class InvalidUntil(ValueError):
    """An ``--until`` value that is neither a date, a time nor a duration."""


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """When an override given ``--until text`` stops applying.

    Accepts an ISO 8601 time (``2026-10-12T18:00``, UTC if no zone), a date (``2026-10-12``:
    through the end of that day, UTC) or a duration from now (``36h``, ``7d``, ``2w``).

    Raises:
        InvalidUntil: naming the value.
    """
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(text)
    if match:
        hours = float(match.group(1)) * _UNIT_HOURS[match.group(2).lower()]
        return now + timedelta(hours=hours)
    stripped = text.strip()
    try:
        day = date.fromisoformat(stripped)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    try:
        when = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidUntil(
            f"--until {text!r}: expected a date (2026-10-12), a time (2026-10-12T18:00Z) "
            "or a duration (36h, 7d, 2w)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class EditorialRules:
    """The overrides in force, indexed for the list builder."""

    overrides: tuple[Override, ...] = ()

    @classmethod
    def of(cls, overrides: Sequence[Override]) -> EditorialRules:
        """Rules from the overrides not removed (expiry is checked per request)."""
        return cls(tuple(o for o in overrides if o.removed_at is None))

    def blocked(self, source_id: str | None, now: datetime) -> set[str]:
        """Article ids kept out of ``source_id``'s lists (every list's blocks if None)."""
        return {
            o.target_id
            for o in self.overrides
            if o.kind == "block"
            and (o.source_id is None or o.source_id == source_id)
            and o.active_at(now)
        }

    def pins(
        self, source_id: str | None, now: datetime, list_name: str = "related"
    ) -> list[Override]:
        """Pins into ``source_id``'s list ``list_name`` (Related unless told), by position then
        age; none without a source."""
        if source_id is None:
            return []
        found = [
            o
            for o in self.overrides
            if o.kind == "pin"
            and o.source_id == source_id
            and o.list_name == list_name
            and o.active_at(now)
        ]
        return sorted(found, key=lambda o: (o.position or 1, o.id))

    def next_expiry(self, now: datetime) -> datetime | None:
        """The earliest time after ``now`` at which an override stops applying, if any."""
        times = [o.until for o in self.overrides if o.until is not None and o.until > now]
        return min(times) if times else None


def place_pins(ranked: Sequence[int], pinned: Sequence[tuple[int, int]], k: int) -> list[int]:
    """Insert pinned items into a ranked list and cut it to ``k``.

    Args:
        ranked: item ids in list order (not containing any pinned id).
        pinned: ``(item id, 1-based position)`` pairs; earlier pairs win a contested place.
        k: the list's length.

    Returns:
        The list with each pinned item at its position, or at the nearest free place after it
        (before it if none is free after), and the ranked items filling the other places in
        order. If the ranked items run out, later items move up; pins beyond ``k`` places are
        dropped.
    """
    k = max(0, k)
    slots: list[int | None] = [None] * k
    for item, position in pinned:
        want = min(max(position, 1), k) - 1
        after = [i for i in range(max(want, 0), k) if slots[i] is None]
        before = [i for i in range(max(want, 0)) if slots[i] is None]
        if after:
            slots[after[0]] = item
        elif before:
            slots[before[-1]] = item
    fill = iter(ranked)
    out: list[int] = []
    for slot in slots:
        taken = slot if slot is not None else next(fill, None)
        if taken is not None:
            out.append(taken)
    return out
