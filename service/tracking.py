"""Which variant a reader sees, and the recommendation id that every served answer carries.

A reader (the ``reader`` option or the ``X-Newsrec-Reader`` header: a reader's or a session's
id) is assigned to a variant of the running experiment by a keyed hash
(:mod:`recommender.experiments.assignment`), so the same reader always sees the same variant
and the id itself is never kept. ``variant=`` forces one for QA. An A/B variant is a settings
overlay applied to the request's weights; the ``interleaved`` variant builds each list by
team-draft interleaving of the experiment's two variants.

Every answer is stamped, after the response cache, with a ``recommendation_id`` that is new per
answer (:mod:`recommender.experiments.tokens`): a click sent back with it is credited to the
variant, and to the team of the position, that made the list, with no state kept per view.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import orjson

from recommender.experiments.assignment import assign, reader_hash
from recommender.experiments.config import (
    DEFAULT_VARIANT,
    INTERLEAVED,
    Experiment,
    load_experiments,
)
from recommender.experiments.interleaved import interleave
from recommender.experiments.signer import configured_ids, configured_secret
from recommender.experiments.tokens import RecommendationIds, Trace
from recommender.ranking.scoring import Weights
from recommender.serving.answers import RelatedLists
from recommender.serving.requests import ListRequest
from recommender.settings import Settings
from service.cache import CachedResponse

__all__ = ["READER_HEADER", "Assignment", "Tracking", "UnknownVariant", "assignment_of"]

#: The header that may carry the reader's or session's id instead of the ``reader`` option.
READER_HEADER = "X-Newsrec-Reader"
# Positions a recommendation id records when the whole answer would make it too long: clicks
# below them are rare, and an id must stay small enough for a URL or a beacon.
_TRIMMED_POSITIONS = 10


class UnknownVariant(ValueError):
    """``variant=`` names no variant of the running experiment (answered with 422)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """The variant one request is served, and what its recommendation id records of it."""

    variant: str
    experiment: str | None
    reader: str | None  # the reader's keyed hash


class Tracking:
    """The running experiment, and the signer of recommendation ids, of one worker."""

    def __init__(
        self, experiment: Experiment | None, ids: RecommendationIds, secret: bytes
    ) -> None:
        """Assign readers to ``experiment`` (None: every list is ``default``); sign answers
        with ``ids``; hash readers with ``secret``."""
        self.experiment = experiment
        self.ids = ids
        self._secret = secret

    @staticmethod
    def experiment_of(settings: Settings) -> Experiment | None:
        """The experiment that ``settings`` run (None: none, or turned off).

        Raises:
            recommender.experiments.config.ExperimentsError: the experiments file is not valid.
        """
        if settings.experiments_file is None:
            return None
        return load_experiments(Path(settings.experiments_file))

    @classmethod
    def from_settings(cls, settings: Settings, experiment: Experiment | None) -> Tracking:
        """The tracking of ``experiment`` (:meth:`experiment_of` reads it from ``settings``)
        with the secret and ttl that ``settings`` configure. The home's signing key is created
        if it has none.

        Raises:
            ValueError: the configured secret is not valid.
        """
        secret = configured_secret(settings)
        return cls(experiment, configured_ids(settings, secret), secret)

    @property
    def variants(self) -> tuple[str, ...]:
        """The variant names a request may force."""
        if self.experiment is None:
            return (DEFAULT_VARIANT,)
        return tuple(dict.fromkeys((*self.experiment.variant_names(), DEFAULT_VARIANT)))

    def assign(self, reader: str | None, forced: str | None) -> Assignment:
        """The variant for a request from ``reader`` (None: anonymous), or ``forced``; only
        a reader's own assignment names the experiment, so that QA's forced answers never
        count in it.

        Raises:
            UnknownVariant: ``forced`` is not a variant of the running experiment.
        """
        hashed = reader_hash(reader, self._secret) if reader else None
        experiment = self.experiment
        if forced is not None:
            if forced not in self.variants:
                raise UnknownVariant(
                    f"variant {forced!r} is not running; the variants are "
                    + ", ".join(self.variants)
                )
            variant = forced
        elif experiment is None or hashed is None:
            # An anonymous request cannot be followed to a later click: it gets the defaults.
            variant = DEFAULT_VARIANT
        else:
            variant = assign(experiment, hashed)
        # A forced answer is QA's, not a reader's choice of traffic: its feedback stays out of
        # the experiment's figures (it names no experiment), as does the defaults' outside it.
        counted = experiment is not None and forced is None and variant != DEFAULT_VARIANT
        return Assignment(variant, experiment.name if counted and experiment else None, hashed)

    def request_for(
        self, assignment: Assignment, request: ListRequest, configured: Weights
    ) -> ListRequest:
        """``request`` as ``assignment``'s variant makes it: its settings overlay applied to
        the request's weights (an interleaved answer uses :meth:`arms` instead)."""
        return self._arm(assignment.variant, request, configured)

    def arms(self, request: ListRequest, configured: Weights) -> tuple[ListRequest, ListRequest]:
        """The requests of the two variants an interleaved answer draws from."""
        first, second = self._pair()
        return self._arm(first, request, configured), self._arm(second, request, configured)

    def interleaved(self, first: RelatedLists, second: RelatedLists, seed: str) -> RelatedLists:
        """The lists of the two variants, interleaved by team draft; ``seed`` (the answer's
        nonce) makes each answer's coin flips its own."""
        return interleave(first, second, self._pair(), random.Random(seed))

    def stamp(
        self, answer: CachedResponse, assignment: Assignment, source: str, nonce: str
    ) -> bytes:
        """``answer``'s body with its recommendation id, variant and experiment put first."""
        trace = Trace(
            source=source,
            lists=dict(answer.ids),
            teams=dict(answer.teams),
            variant=assignment.variant,
            experiment=assignment.experiment,
            index_version=answer.index_version,
            reader=assignment.reader,
            issued_at=datetime.now(UTC),
            nonce=nonce,
        )
        try:
            token = self.ids.issue(trace)
        except ValueError:
            token = self.ids.issue(_trimmed(trace))
        head = orjson.dumps(
            {
                "recommendation_id": token,
                "variant": assignment.variant,
                "experiment": assignment.experiment,
            }
        )
        return head[:-1] + b"," + answer.body[1:]

    def _pair(self) -> tuple[str, str]:
        experiment = self.experiment
        if experiment is None or experiment.kind != "interleaving":
            raise UnknownVariant(f"variant {INTERLEAVED!r} needs an interleaving experiment")
        first, second = experiment.variants
        return first.name, second.name

    def _arm(self, variant: str, request: ListRequest, configured: Weights) -> ListRequest:
        experiment = self.experiment
        if experiment is None or variant in (DEFAULT_VARIANT, INTERLEAVED):
            return request
        base = request.weights if request.weights is not None else configured
        weights = experiment.weights_for(variant, base)
        # A variant that changes nothing shares the default's cache entries.
        return replace(request, weights=None if weights == configured else weights)


def _trimmed(trace: Trace) -> Trace:
    return replace(
        trace,
        lists={name: ids[:_TRIMMED_POSITIONS] for name, ids in trace.lists.items()},
        teams={name: teams[:_TRIMMED_POSITIONS] for name, teams in trace.teams.items()},
    )


def assignment_of(
    tracking: Tracking, headers: Mapping[str, str], *, reader: str | None, variant: str | None
) -> Assignment:
    """The variant of a request with HTTP ``headers`` and the ``reader`` and ``variant``
    options: the reader is the option, else the :data:`READER_HEADER` header.

    Raises:
        UnknownVariant: ``variant`` names no running variant (answered with 422).
    """
    return tracking.assign(reader or headers.get(READER_HEADER) or None, variant)
