"""Evaluation protocols, registered by name: what judges a list, and how the engine is fed.

A new protocol is one module with a class following
:class:`~evaluation.protocols.base.EvaluationProtocol`, plus one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from evaluation.protocols.base import EvaluationProtocol, Outcome
from evaluation.protocols.coread import CoreadProtocol
from evaluation.protocols.impressions import ImpressionsProtocol
from evaluation.protocols.labels import LabelsProtocol
from evaluation.protocols.logged import LoggedProtocol

__all__ = ["PROTOCOLS", "EvaluationProtocol", "Outcome", "protocol_named"]

PROTOCOLS: Final[Mapping[str, EvaluationProtocol]] = MappingProxyType(
    {
        p.name: p
        for p in (
            LabelsProtocol(),
            CoreadProtocol(),
            ImpressionsProtocol(),
            LoggedProtocol(),
        )
    }
)


def protocol_named(name: str) -> EvaluationProtocol:
    """The registered protocol ``name``.

    Raises:
        ValueError: an unknown name, listing the known ones.
    """
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(PROTOCOLS)
        raise ValueError(f"unknown protocol {name!r}; known protocols: {known}") from None
