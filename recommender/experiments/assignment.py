"""Stable assignment of readers to variants: the same reader always sees the same variant, and
changing shares moves as few readers as it can.

A reader's hash (:func:`reader_hash`, keyed, so the id itself is never stored) and the
experiment's salt give the reader one point ``x`` in ``[0, 1)``, uniform over readers. The
variants own intervals of ``[0, 1)``, laid out in the file's order, alternately from each end:
the 1st, 3rd, 5th ... from 0 upwards, the 2nd, 4th ... from 1 downwards, and ``"default"`` gets
the gap between the two stacks. For an interleaving experiment, ``"interleaved"`` grows from 0
and ``"default"`` holds the rest. A reader is in the variant whose interval holds ``x``.

So, with shares met exactly in expectation:

- with up to two variants, ramping A, B or both up moves only "default" readers in, ramping
  one down moves only its readers to "default", and moving share from A to B while no reader
  is on "default" (A 0.5 -> 0.4, B 0.5 -> 0.6) moves only A readers to B;
- a variant added at the end of the file takes its share from "default" readers only, and
  removing the last variant sends its readers to "default" only;
- changing a variant that is not the innermost of its end shifts the ones laid inside it, and
  reordering the file's variants, or changing the salt, reassigns readers.

No rule without stored state can do better for every change: with three variants, each
variant's readers would have to be a set depending only on its own share, growing with it and
disjoint from the others' whenever the shares sum to at most 1, and no such sets exist. Weighted
rendezvous hashing, the usual choice, does worse here: adding C beside A and B moves readers
from A and B to C, and between A, B and "default" too.

Hand-written: no maintained library assigns experiment variants with these guarantees, and the
rule is a few lines.
"""

from __future__ import annotations

import hashlib

from recommender.experiments.config import DEFAULT_VARIANT, INTERLEAVED, Experiment

__all__ = ["assign", "reader_hash"]

_HASH_BYTES = 8
_SPAN = float(1 << (8 * _HASH_BYTES))
_KEY_BYTES = 64  # blake2b's longest key


def reader_hash(reader: str, secret: bytes) -> str:
    """The reader's pseudonym: 16 hex characters, blake2b keyed with ``secret``, so that a
    reader or session id is never stored in clear and cannot be found by hashing guesses.

    Raises:
        ValueError: an empty reader id or secret.
    """
    if not reader:
        raise ValueError("the reader id is empty")
    if not secret:
        raise ValueError("the reader hash needs a non-empty secret")
    key = secret if len(secret) <= _KEY_BYTES else hashlib.blake2b(secret).digest()
    digest = hashlib.blake2b(
        reader.encode("utf-8"), key=key, digest_size=_HASH_BYTES, person=b"newsrec.reader"
    )
    return digest.hexdigest()


def assign(experiment: Experiment, reader: str) -> str:
    """The variant that ``reader`` (a :func:`reader_hash`) sees in ``experiment``: one of its
    variants, ``"interleaved"`` or ``"default"``; always the same for the same reader, salt and
    shares."""
    x = _point(experiment.salt, reader)
    if experiment.kind == "interleaving":
        if x < experiment.share:
            return INTERLEAVED
    else:
        # Earlier intervals have been ruled out, so each end's running edge is enough.
        low, high = 0.0, 1.0
        for at, variant in enumerate(experiment.variants):
            if at % 2 == 0:
                low += variant.share
                if x < low:
                    return variant.name
            else:
                high -= variant.share
                if x >= high:
                    return variant.name
    names = experiment.variant_names()
    # Shares summing to 1 within rounding leave no "default": the sliver goes to the last one.
    return DEFAULT_VARIANT if DEFAULT_VARIANT in names else names[-1]


def _point(salt: str, reader: str) -> float:
    salted = f"{len(salt)}:{salt}{reader}".encode()
    digest = hashlib.blake2b(salted, digest_size=_HASH_BYTES, person=b"newsrec.assign")
    return int.from_bytes(digest.digest(), "big") / _SPAN
