"""The secret and the recommendation-id signer that a home's settings configure.

The service, ``newsrec precompute`` and ``newsrec events`` all sign or check ids with the same
key (``NEWSREC_RECOMMENDATION_SECRET``, else the home's own), so an id issued by one is
accepted by the others.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from recommender.experiments.secret import existing_secret, home_secret
from recommender.experiments.tokens import RecommendationIds
from recommender.settings import Settings

__all__ = ["checking_ids", "configured_ids", "configured_secret"]


def configured_secret(settings: Settings) -> bytes:
    """The key that signs ids and hashes readers for ``settings.home``.

    Raises:
        ValueError: the configured secret is too short.
    """
    configured = settings.recommendation_secret
    return home_secret(
        settings.home, configured.get_secret_value() if configured is not None else None
    )


def configured_ids(settings: Settings, secret: bytes | None = None) -> RecommendationIds:
    """The signer of recommendation ids for ``settings`` (``secret``: already read)."""
    return RecommendationIds(
        secret if secret is not None else configured_secret(settings),
        timedelta(days=settings.recommendation_ttl_days),
    )


def checking_ids(settings: Settings) -> RecommendationIds:
    """A checker of the ids issued for ``settings.home``, for commands that only check them:
    it writes nothing. A home with no key of its own never issued an id, so every id is
    checked against a throwaway key and refused as forged.

    Raises:
        ValueError: the configured secret is too short, or the home's key file is damaged.
        OSError: the home's key cannot be read.
    """
    configured = settings.recommendation_secret
    found = existing_secret(
        settings.home, configured.get_secret_value() if configured is not None else None
    )
    return configured_ids(settings, found if found is not None else secrets.token_bytes(32))
