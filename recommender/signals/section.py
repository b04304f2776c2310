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

__all__ = ["filed_apart", "section_match"]


def section_match(
    source_section: str | None,
    source_tags: Iterable[str],
    docs: npt.NDArray[np.int64],
    cards: Mapping[int, ArticleRecord],
) -> npt.NDArray[np.float32]:
    """1.0 for each of ``docs`` in the source's section or sharing one of its tags, else 0.

    ``cards`` holds each doc's record (section and tags); docs without one score 0.
    """
    out = np.zeros(len(docs), dtype=np.float32)
    section = source_section.lower() if source_section else None
    tags = {t.lower() for t in source_tags}
    if section is None and not tags:
        return out
    for at, doc in enumerate(docs.tolist()):
        card = cards.get(doc)
        if card is None:
            continue
        if (section is not None and (card.section or "").lower() == section) or (
            tags and not tags.isdisjoint(t.lower() for t in card.tags)
        ):
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
    out = np.zeros(len(docs), dtype=bool)
    tags = {t.lower() for t in source_tags}
    if not source_section and not tags:
        return out
    related = section_match(source_section, tags, docs, cards).astype(bool)
    for at, doc in enumerate(docs.tolist()):
        card = cards.get(doc)
        if card is not None and not related[at] and (card.section or card.tags):
            out[at] = True
    return out
