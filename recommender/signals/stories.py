"""One item per story: re-issues, updates and copies of an article count as one story.

Two articles belong to the same story when their vectors are nearly identical (cosine at least
``story_threshold``), when their normalised titles match, or when their normalised bodies match
(a wire story re-titled: its title and body vector differ, its text does not); stories are the
connected groups of that relation. Grouping runs on the few dozen candidates a list is built
from, never over the whole catalogue, from the cosines between them (one small matrix product
per request, which MMR reuses). Grouping the source article(s) with the candidates finds the
copies of the source too: they share its story.

A title is normalised by dropping wire re-issue markers (``UPDATE 1-``, ``Updated:``,
``REFILE-``, ``CORRECTED-``, ``CORRECTION-``, ``RPT-``), case, punctuation and extra spaces.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import numpy.typing as npt

__all__ = ["MIN_BODY_CHARS", "NO_TITLE_KEY", "normalise_body", "normalise_title", "story_labels"]

#: Bodies shorter than this (a lead, a one-line brief) say too little to make two articles one
#: story by themselves.
MIN_BODY_CHARS = 200

#: The title key of an article whose title normalises to nothing; it matches no other.
NO_TITLE_KEY = -1

_DASH = r"[-:\u2013\u2014]"  # hyphen, colon, en and em dash
_REISSUE = re.compile(
    rf"""^\s*(?:
        update[sd]?\s*\d*\s*{_DASH}  # UPDATE 1-, Updated:, UPDATE-
      | refile\s*{_DASH}              # REFILE-
      | corrected\s*{_DASH}           # CORRECTED-
      | correction\s*{_DASH}          # CORRECTION-
      | rpt\s*{_DASH}                 # RPT-
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def normalise_title(title: str) -> str:
    """The title with re-issue markers, case, punctuation and extra spaces removed.

    >>> normalise_title("UPDATE 1-Storm Ingrid: river peaks at 4.2m")
    'storm ingrid river peaks at 4 2m'
    """
    text = unicodedata.normalize("NFKC", title)
    previous = None
    while previous != text:  # markers can be stacked: "REFILE-UPDATE 2-..."
        previous = text
        text = _REISSUE.sub("", text, count=1)
    cleaned = "".join(ch if ch.isalnum() else " " for ch in text.casefold())
    return " ".join(cleaned.split())


def normalise_body(body: str) -> str:
    """The body with case, punctuation and spacing removed; empty when it is shorter than
    :data:`MIN_BODY_CHARS` (too short to identify a story)."""
    if len(body) < MIN_BODY_CHARS:
        return ""
    cleaned = "".join(ch if ch.isalnum() else " " for ch in unicodedata.normalize("NFKC", body))
    return " ".join(cleaned.casefold().split())


def story_labels(
    cosine: npt.NDArray[np.floating],
    title_keys: npt.NDArray[np.int64],
    threshold: float,
    *,
    body_keys: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Label each of ``n`` articles with its story: equal labels mean one story.

    Args:
        cosine: ``(n, n)`` cosines between the articles' unit vectors.
        title_keys: ``n`` integer codes of normalised titles; :data:`NO_TITLE_KEY` matches none.
        threshold: cosine at or above which two articles are copies of one another.
        body_keys: ``n`` integer codes of normalised bodies (:func:`normalise_body`); equal
            keys make copies whatever the titles (a wire story re-titled). :data:`NO_TITLE_KEY`
            matches none.

    Returns:
        ``n`` labels; each story is labelled by the position of its first member.
    """
    n = len(title_keys)
    labels = np.arange(n, dtype=np.int64)
    if n < 2:
        return labels
    same = cosine >= threshold
    np.fill_diagonal(same, True)
    matched = False
    for keys in (np.asarray(title_keys), None if body_keys is None else np.asarray(body_keys)):
        if keys is None:
            continue
        known = keys[keys != NO_TITLE_KEY].tolist()
        if len(set(known)) < len(known):
            same |= (keys[:, None] == keys[None, :]) & (keys[:, None] != NO_TITLE_KEY)
            matched = True
    if not matched and np.count_nonzero(same) == n:
        return labels  # no copies at all, the common case: every article is its own story
    # Connected components by min-label propagation, vectorised: a per-pair union-find loop
    # in Python took milliseconds on pools full of copies. Each round gives every article the
    # smallest label among its copies, then jumps to that label's label, so chains settle in
    # a few rounds; at the fixed point each story carries its first member's position.
    while True:
        spread = np.where(same, labels[None, :], n).min(axis=1)
        spread = spread[spread]
        if np.array_equal(spread, labels):
            return labels
        labels = spread
