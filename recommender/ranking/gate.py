"""Related's relevance gate: which candidates are related at all, before anything reorders them.

Recency, popularity and co-reading reorder *Related*; they must never bring in a story that is
not about the source's subject (on a news site, that is mostly what everybody read, and it
belongs in *Popular*). So a candidate enters Related only when it is related:

- **by content**: the cosine of its plain embedding with the source's is above the catalogue's
  *floor*, and it is among the source's ``related_depth`` closest candidates (at least twice
  the list's length). The floor is calibrated on the catalogue, not set by hand: it is the
  ``related_floor_quantile`` quantile of the cosine of random pairs of published articles
  (:func:`calibrate_floor`), so "related" means "closer than that share of random pairs"
  whatever the model or corpus. Plain embeddings, not the augmented ones the lists rank by:
  augmentation pulls each article towards its neighbourhood, which in a small or one-city
  catalogue makes everything look alike;
- **or by reading**: at least ``coread_min_readers`` distinct readers read both.

Where the newsroom has filed both articles (a section or tags), its filing is the strongest word
on what a story is about, so content admits a candidate only when it shares the source's
section or a tag (``related_same_subject``): in a one-city catalogue the city's name makes a
heatwave close to an election by cosine, and no editor would list one under the other.
Reading evidence is not held to this.

Content is asked both ways: the source must also be among the candidate's closest
(:mod:`recommender.ranking.reach`), so that a hub, close to everything, is not related to
everything.

Editors' pins pass without the gate. When too few candidates pass, Related is shorter, and the
lists say why; it is never padded.

More like this ranks by similarity alone, so it needs no gate, only a lower floor of its own
(``more_floor_quantile``, measured from the same random pairs): without one, an article on a
subject the catalogue has nothing else on (a rare wildlife sighting in a city's news) gets the
five least unrelated stories, and an editor would rather show fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recommender.ranking.reach import Reach

__all__ = ["MIN_CALIBRATION_PAIRS", "RelatedGate", "calibrate_floor", "calibrate_floors"]

#: Below this many random pairs a quantile says little: the content gate keeps only its depth.
MIN_CALIBRATION_PAIRS = 200

_TIE = 1e-5  # float32 cosines computed two ways differ by well under this
_SOURCES = 200  # random sources ...
_TARGETS = 1_000  # ... each compared with this many random articles: enough for a 0.99 quantile


@dataclass(frozen=True, slots=True)
class RelatedGate:
    """The gate of one catalogue: the calibrated floor and the rules' sizes."""

    floor: float  # similarity above which a candidate may be related (-inf: not calibrated)
    depth: int  # most similar candidates that may be related
    min_readers: int  # shared readers that make a candidate related by reading
    reach: Reach | None = None  # the candidates' reaches (None: content is asked one way)
    more_floor: float = float("-inf")  # More like this's own, lower floor (-inf: none)
    more_quantile: float = 0.0  # the share of random pairs ``more_floor`` stands above

    def passes(
        self,
        similarity: npt.NDArray[np.float32],
        shared_readers: npt.NDArray[np.int64],
        k: int,
        apart: npt.NDArray[np.bool_] | None = None,
        reach: npt.NDArray[np.float32] | None = None,
    ) -> npt.NDArray[np.bool_]:
        """Which candidates are related, for a list of ``k`` items.

        Args:
            similarity: each candidate's similarity to the source (Related's blend).
            shared_readers: how many readers read both the source and each candidate.
            k: the length of the Related list asked for.
            apart: candidates the newsroom filed apart from the source (no shared section or
                tag, :func:`recommender.signals.section.filed_apart`): not related by content.
            reach: each candidate's reach (:class:`~recommender.ranking.reach.Reach`): its
                similarity must reach it to be related by content.
        """
        by_content = similarity >= self.floor
        depth = max(self.depth, 2 * k)
        if depth < len(similarity):
            top = np.argpartition(-similarity, depth - 1)[:depth]
            within = np.zeros(len(similarity), dtype=bool)
            within[top] = True
            by_content &= within
        if apart is not None:
            by_content &= ~apart
        if reach is not None:
            # At the boundary the candidate's depth-th closest is the source itself, whose
            # cosine is computed in two ways (alone, and within a batch of the reach's search)
            # that round differently: within _TIE it counts as reached, whichever way ran.
            by_content &= similarity >= reach - _TIE
        return np.asarray(by_content | (shared_readers >= self.min_readers), dtype=bool)


def calibrate_floor(
    docs: npt.NDArray[np.int64],
    similarities: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.float32]],
    quantile: float,
    *,
    seed: int = 0,
) -> float:
    """The ``quantile`` of the similarity between random pairs of ``docs``.

    Args:
        docs: the published articles.
        similarities: ``(sources, targets) -> (len(sources), len(targets))`` similarities, as
            the lists compute them.
        quantile: the share of random pairs the floor stands above.
        seed: the sample's seed, fixed so that a catalogue always gets the same floor.

    Returns:
        The floor, or ``-inf`` when ``docs`` give fewer than :data:`MIN_CALIBRATION_PAIRS`
        pairs (a tiny catalogue: the gate then keeps only its depth rule).
    """
    return calibrate_floors(docs, similarities, (quantile,), seed=seed)[0]


def calibrate_floors(
    docs: npt.NDArray[np.int64],
    similarities: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.float32]],
    quantiles: Sequence[float],
    *,
    seed: int = 0,
) -> list[float]:
    """:func:`calibrate_floor` for several ``quantiles`` at once, from one sample of pairs.

    A quantile of 0 gives no floor (``-inf``): the setting that switches a floor off.
    """
    n = len(docs)
    if n * (n - 1) < MIN_CALIBRATION_PAIRS:
        return [float("-inf")] * len(quantiles)
    rng = np.random.default_rng(seed)
    sources = rng.choice(docs, size=min(_SOURCES, n), replace=False)
    targets = rng.choice(docs, size=min(_TARGETS, n), replace=False)
    values = similarities(sources, targets)
    distinct = sources[:, None] != targets[None, :]  # an article is no random pair of itself
    pairs = values[distinct]
    return [float(np.quantile(pairs, q)) if q > 0 else float("-inf") for q in quantiles]
