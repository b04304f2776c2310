"""Same section or shared tags: the newsroom's own word that two articles belong together.

``section = 1`` when the candidate is filed in the source's section or carries one of its
tags, else 0. Sections and tags compare case-insensitively; an article without either matches
nothing, so the signal never favours the unfiled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from index import ArticleRecord

__all__ = ["filed_apart", "filed_together", "section_match"]


def section_match(
    source_section: str | None,
    source_tags: Iterable[str],
    docs: npt.NDArray[np.int64],
    cards: Mapping[int, ArticleRecord],
) -> npt.NDArray[np.float32]:
    """1.0 for each of ``docs`` in the source's section or sharing one of its tags, else 0.

    ``cards`` holds each doc's record (section and tags); docs without one score 0.
    """
    section, tags = _filing(source_section, source_tags)
    out = np.zeros(len(docs), dtype=np.float32)
    if section is None and not tags:
        return out
    for at, doc in enumerate(docs.tolist()):
        card = cards.get(doc)
        if card is not None and _shares(section, tags, card):
            out[at] = 1.0
    return out


def filed_apart(
    source_section: str | None,
    source_tags: Iterable[str],
    docs: npt.NDArray[np.int64],
    cards: Mapping[int, ArticleRecord],
) -> npt.NDArray[np.bool_]:
    """True for each of ``docs`` that the newsroom filed apart from the source.

    Apart means both are filed (each has a section or a tag) and they share neither the
    section nor a tag. An unfiled article on either side is never apart: without the
    newsroom's word, content alone decides.
    """
    section, tags = _filing(source_section, source_tags)
    out = np.zeros(len(docs), dtype=bool)
    if section is None and not tags:
        return out
    for at, doc in enumerate(docs.tolist()):
        card = cards.get(doc)
        if card is not None and (card.section or card.tags):
            out[at] = not _shares(section, tags, card)
    return out


def filed_together(
    source_section: str | None,
    source_tags: Iterable[str],
    docs: npt.NDArray[np.int64],
    cards: Mapping[int, ArticleRecord],
) -> npt.NDArray[np.bool_]:
    """True for each of ``docs`` the newsroom filed with the source: in its section or sharing
    one of its tags (:func:`section_match` as a mask)."""
    return section_match(source_section, source_tags, docs, cards) > 0


def _filing(section: str | None, tags: Iterable[str]) -> tuple[str | None, set[str]]:
    """A source's section and tags as they compare: lower case, no section when empty."""
    return (section.lower() if section else None), {t.lower() for t in tags}


def _shares(section: str | None, tags: set[str], card: ArticleRecord) -> bool:
    """Whether ``card`` is in ``section`` or carries one of ``tags`` (both lower case)."""
    if section is not None and (card.section or "").lower() == section:
        return True
    return bool(tags) and not tags.isdisjoint(t.lower() for t in card.tags)
