"""What a caller may ask of a list: sizes, filters, weight overrides, explanations."""

from __future__ import annotations

from dataclasses import dataclass, field

from recommender.ranking.scoring import Weights

__all__ = ["DEFAULT_LISTS", "LIST_NAMES", "MAX_K", "ListRequest", "parse_lists"]

#: The lists a page can show, by the names the API and the CLI use.
LIST_NAMES = ("more_like_this", "related", "popular")
#: What a page shows unless it asks otherwise: all three.
DEFAULT_LISTS = ",".join(LIST_NAMES)

#: The largest list either endpoint or the CLI will produce.
MAX_K = 50


@dataclass(frozen=True, slots=True)
class ListRequest:
    """Options of one request for the lists.

    Attributes:
        k_more: length of More like this (0 to ``MAX_K``).
        k_related: length of Related (0 to ``MAX_K``).
        k_popular: length of Popular (0 to ``MAX_K``).
        sections: if not empty, only candidates from these sections.
        exclude_sections: never candidates from these sections.
        language: if set, only candidates in this language.
        max_age_days: if set, only candidates published at most this many days before now.
        exclude_ids: article ids never to show.
        weights: replaces the configured weights for this request.
        explain: attach each item's score parts and shared terms.
    """

    k_more: int = 5
    k_related: int = 5
    k_popular: int = 0
    sections: frozenset[str] = field(default_factory=frozenset)
    exclude_sections: frozenset[str] = field(default_factory=frozenset)
    language: str | None = None
    max_age_days: float | None = None
    exclude_ids: frozenset[str] = field(default_factory=frozenset)
    weights: Weights | None = None
    explain: bool = False

    def __post_init__(self) -> None:
        for name in ("k_more", "k_related", "k_popular"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_K:
                raise ValueError(f"{name} must be between 0 and {MAX_K}, got {value}")
        if self.max_age_days is not None and not self.max_age_days > 0:
            raise ValueError(f"max_age_days must be positive, got {self.max_age_days}")


def parse_lists(text: str) -> frozenset[str]:
    """The list names in ``text`` (comma-separated, e.g. ``"related,popular"``).

    Raises:
        ValueError: an unknown name, or none at all.
    """
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - set(LIST_NAMES))
    if unknown:
        raise ValueError(f"unknown list {unknown[0]!r}; the lists are {', '.join(LIST_NAMES)}")
    if not names:
        raise ValueError(f"name at least one list: {', '.join(LIST_NAMES)}")
    return names
