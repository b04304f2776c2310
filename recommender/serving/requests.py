"""What a caller may ask of a list: sizes, filters, weight overrides, explanations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from recommender.ranking.scoring import Weights

__all__ = [
    "DEFAULT_LISTS",
    "LIST_NAMES",
    "MAX_K",
    "ListRequest",
    "parse_field_filters",
    "parse_lists",
]

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
        authors: if not empty, only candidates by one of these authors.
        kinds: if not empty, only candidates of one of these kinds (news, opinion, ...).
        tags: if not empty, only candidates with at least one of these tags.
        fields: (name, values) pairs: only candidates whose field ``name`` has one of
            ``values``, for every pair.

    Values are matched without regard to case; a value no article has is refused by the
    engine (:class:`recommender.serving.facets.UnknownFilterValue`) rather than matched by none.
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
    authors: frozenset[str] = field(default_factory=frozenset)
    kinds: frozenset[str] = field(default_factory=frozenset)
    tags: frozenset[str] = field(default_factory=frozenset)
    fields: tuple[tuple[str, frozenset[str]], ...] = ()

    def __post_init__(self) -> None:
        for name in ("k_more", "k_related", "k_popular"):
            value = getattr(self, name)
            if not 0 <= value <= MAX_K:
                raise ValueError(f"{name} must be between 0 and {MAX_K}, got {value}")
        if self.max_age_days is not None and not self.max_age_days > 0:
            raise ValueError(f"max_age_days must be positive, got {self.max_age_days}")

    @property
    def filters_metadata(self) -> bool:
        """Whether the request filters on authors, kinds, tags or fields."""
        return bool(self.authors or self.kinds or self.tags or self.fields)


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


def parse_field_filters(pairs: Iterable[str]) -> tuple[tuple[str, frozenset[str]], ...]:
    """``NAME=VALUE`` texts (``desk=metro``) as :attr:`ListRequest.fields`: the values given
    for one name are alternatives, names sorted.

    Raises:
        ValueError: a text without ``=``, or with an empty name or value.
    """
    found: dict[str, set[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(f"field filter {pair!r}: expected NAME=VALUE, e.g. desk=metro")
        found.setdefault(name, set()).add(value)
    return tuple((name, frozenset(found[name])) for name in sorted(found))
