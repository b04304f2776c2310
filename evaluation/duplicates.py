"""The evaluation's own test of "two members of one story", independent of the engine's."""

from __future__ import annotations

import re

import numpy as np

from evaluation.runs import Run, ranked

__all__ = ["StoryJudge", "normalised_title", "one_per_story"]

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalised_title(title: str) -> str:
    """Lower case, punctuation and spacing folded: ``"U.S. Rates  UP"`` -> ``"u s rates up"``."""
    return _NON_WORD.sub(" ", title.lower()).strip()


class StoryJudge:
    """Two articles are one story when their normalised titles match or their cosine is high."""

    def __init__(
        self,
        titles: list[str],
        vectors: np.ndarray,
        row_of: dict[str, int],
        threshold: float = 0.95,
    ) -> None:
        """Judge articles of one corpus; ``threshold`` is the cosine at or above which two are one.

        Raises:
            ValueError: ``threshold`` outside (0, 1].
        """
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"story threshold must be in (0, 1], got {threshold}")
        self._titles = [normalised_title(t) for t in titles]
        self._vectors = vectors
        self._row_of = row_of
        self.threshold = threshold

    def __call__(self, a: str, b: str) -> bool:
        """True when articles ``a`` and ``b`` tell the same story."""
        ra, rb = self._row_of[a], self._row_of[b]
        if self._titles[ra] and self._titles[ra] == self._titles[rb]:
            return True
        return float(self._vectors[ra] @ self._vectors[rb]) >= self.threshold


def one_per_story(run: Run, same_story: StoryJudge) -> Run:
    """``run`` held to the rule newsrec's lists follow: each story once, never the source's own.

    Each list keeps, in its order, the items that are neither of the source's story nor of the
    story of an item kept above them, by the evaluation's judge (not the engine's), so every
    method is held to the same rule. A baseline that lists a re-titled copy of the source, or
    an update beside the story it updates, scores that copy as relevant; held to this rule it
    does not. Lists come out shorter where copies were dropped.
    """
    collapsed: Run = {}
    for source, items in run.items():
        kept: list[str] = []
        for doc, _ in items:
            if same_story(source, doc) or any(same_story(other, doc) for other in kept):
                continue
            kept.append(doc)
        collapsed[source] = ranked(kept)
    return collapsed
