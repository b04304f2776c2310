"""Reach: how close an article's nearest neighbours are, the measure that keeps hubs in their place.

In an embedding space some articles are close to very many others (*hubs*: a story that mentions
the city, the council and the budget is close to most of a local site). A gate that asks only
"is the candidate among the source's closest?" lets a hub into the Related list of nearly every
article. The classic remedy for hubness is to ask it both ways, *mutual* nearest neighbours
(Radovanović et al., "Hubs in space", JMLR 2010): a candidate is related by content only when
the source is also among the candidate's ``depth`` closest, that is, when their cosine reaches
the candidate's *reach*, the cosine of its ``depth``-th closest article. An article then passes
the content gate of at most ``depth`` sources.

Reaches are measured the first time a candidate needs one, and kept: they change little as a
catalogue grows, and an article that changes is measured again. They are measured exactly, by
one product with every published vector rather than an index search: the rule is on only for
catalogues small enough for that (:func:`reach_depth`), and it keeps FAISS's thread pool out of
precompute's forked workers, where it would hang.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from index import VectorIndex

__all__ = ["MIN_REACH", "Reach", "reach_depth"]

#: The fewest closest articles a reach covers, however small the catalogue: a list of five needs
#: room to choose.
MIN_REACH = 10


def reach_depth(published: int, share: float, deepest: int) -> int | None:
    """How many closest articles a reach covers: ``share`` of the ``published`` articles, so
    that no article passes the content gate of more than that share of them, and at least
    :data:`MIN_REACH`. None when that is deeper than ``deepest`` (the candidates a list is made
    from): in a catalogue that large, the gate's own depth already keeps an article out of all
    but a small share of the lists (``evaluation/README.md``), and reaches would cost deep
    searches."""
    depth = max(MIN_REACH, int(share * published))
    return depth if depth <= deepest else None


class Reach:
    """The reach of every article at one ``depth``, measured when first asked for."""

    def __init__(self, depth: int) -> None:
        """No reach measured yet; ``depth`` is how many closest articles the reach covers."""
        self.depth = depth
        self._lock = threading.Lock()
        self._values = np.full(0, np.nan, dtype=np.float32)

    def of(
        self, docs: npt.NDArray[np.int64], index: VectorIndex, live: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.float32]:
        """The reach of each of ``docs`` among the published docs (``live`` by doc id, all in
        ``index``): -inf when there are no more than ``depth`` others, so that every article is
        within reach. Only the docs not measured yet cost a look at the catalogue."""
        docs = np.asarray(docs, dtype=np.int64)
        values = self._values
        known = docs < len(values)
        out = np.full(len(docs), np.nan, dtype=np.float32)
        out[known] = values[docs[known]]
        unknown = np.flatnonzero(np.isnan(out))
        if len(unknown):
            measured = self._measure(docs[unknown], index, np.flatnonzero(live))
            out[unknown] = measured
            with self._lock:
                if int(docs.max()) >= len(self._values):
                    grown = np.full(max(int(docs.max()) + 1, 2 * len(self._values)), np.nan)
                    grown[: len(self._values)] = self._values
                    self._values = grown.astype(np.float32)
                self._values[docs[unknown]] = measured
        return out

    def forget(self, docs: npt.NDArray[np.int64]) -> None:
        """Measure ``docs`` again when next asked (their vectors changed)."""
        with self._lock:
            docs = np.asarray(docs, dtype=np.int64)
            self._values[docs[docs < len(self._values)]] = np.nan

    def _measure(
        self, docs: npt.NDArray[np.int64], index: VectorIndex, published: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float32]:
        if len(published) <= self.depth:  # no more than ``depth`` others: all within reach
            return np.full(len(docs), -np.inf, dtype=np.float32)
        cosines = index.reconstruct(docs) @ index.reconstruct(published).T
        cosines[published[None, :] == docs[:, None]] = -np.inf  # no article is its own neighbour
        nth = np.partition(-cosines, self.depth - 1, axis=1)[:, self.depth - 1]
        return np.asarray(-nth, dtype=np.float32)
