"""The experiments file (``NEWSREC_EXPERIMENTS_FILE``): which variants run, on what share of
readers, as overlays of the Related weights.

A TOML file::

    name = "related-weights-2026-12"   # required, [A-Za-z0-9._-]{1,64}
    kind = "ab"                         # "ab" (default) or "interleaving"
    enabled = true                      # false: every list is variant "default"
    salt = "..."                        # optional, defaults to name: the assignment's hash salt

    [variants.A]                        # [A-Za-z0-9_-]{1,32}; "default", "interleaved" reserved
    share = 0.5                         # ab: 0 < share <= 1, shares sum to <= 1
    [variants.B]
    share = 0.5
    w_pop = 0.5                         # any other key: a w_* weight this variant overrides

``kind = "interleaving"`` takes exactly two variants and no per-variant share; its top-level
``share`` (0 < share <= 1, default 1) is the part of readers whose lists are the two variants'
lists interleaved. Readers outside every share get ``"default"``: the configured weights.

The whole file is checked when it is loaded, even when disabled, so that a mistake stops
``serve`` at start with one line naming the file and the problem, rather than a later switch.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from recommender.ranking.scoring import SIGNALS, WeightError, Weights

__all__ = [
    "DEFAULT_VARIANT",
    "INTERLEAVED",
    "Experiment",
    "ExperimentsError",
    "Kind",
    "Variant",
    "load_experiments",
]

DEFAULT_VARIANT = "default"
INTERLEAVED = "interleaved"
Kind = Literal["ab", "interleaving"]

_KINDS: tuple[Kind, ...] = ("ab", "interleaving")
_EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_VARIANT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_TOP_LEVEL_KEYS = ("name", "kind", "enabled", "salt", "share", "variants")
_WEIGHT_NAMES = tuple(s.weight for s in SIGNALS)
# Shares are decimals written by people: 0.1 + 0.2 + 0.7 must count as 1.
_SHARE_TOLERANCE = 1e-9


class ExperimentsError(ValueError):
    """An experiments file that cannot be used; ``str()`` is one line naming the file and the
    problem."""


@dataclass(frozen=True)
class Variant:
    """One variant: its name, its share of readers (0 for interleaving's two variants, which are
    only ever served interleaved or forced), and the ``w_*`` weights it overrides."""

    name: str
    share: float
    overlay: Mapping[str, float]


@dataclass(frozen=True)
class Experiment:
    """An enabled experiment, checked."""

    name: str
    kind: Kind
    salt: str
    variants: tuple[Variant, ...]
    share: float  # ab: the variants' shares summed; interleaving: the part interleaved

    def variant_names(self) -> tuple[str, ...]:
        """Every variant a list can be served under: ab, the variants (and ``"default"`` when
        their shares sum below 1); interleaving, both variants and ``"interleaved"`` (and
        ``"default"`` when its share is below 1)."""
        names = tuple(v.name for v in self.variants)
        if self.kind == "interleaving":
            names += (INTERLEAVED,)
        if self.share < 1 - _SHARE_TOLERANCE:
            names += (DEFAULT_VARIANT,)
        return names

    def weights_for(self, variant: str, base: Weights) -> Weights:
        """The Related weights of ``variant``: ``base`` with the variant's overlay; ``base``
        itself for ``"default"`` (which QA may force even when no reader gets it) and
        ``"interleaved"`` (whose lists are built from both variants').

        Raises:
            ValueError: a variant this experiment does not have.
        """
        if variant in (DEFAULT_VARIANT, INTERLEAVED):
            return base
        for candidate in self.variants:
            if candidate.name == variant:
                return base.overridden(candidate.overlay)
        known = ", ".join(self.variant_names())
        raise ValueError(f"unknown variant {variant!r}; the variants are {known}")


def load_experiments(path: Path) -> Experiment | None:
    """The experiment that ``path`` describes; ``None`` when it says ``enabled = false``.

    Raises:
        ExperimentsError: the file cannot be read, is not TOML, or describes no valid
            experiment (unknown key, bad name, share or weight, shares above 1, interleaving
            without exactly two variants).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ExperimentsError(f"{path}: cannot read experiments file ({reason})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentsError(f"{path}: not valid TOML: {exc}") from exc
    try:
        experiment, enabled = _experiment(data)
    except _Problem as problem:
        raise ExperimentsError(f"{path}: {problem}") from None
    return experiment if enabled else None


class _Problem(Exception):
    """A problem found in the parsed file, before the path is added."""


def _experiment(data: dict[str, Any]) -> tuple[Experiment, bool]:
    _refuse_unknown(data, _TOP_LEVEL_KEYS, "")
    name = data.get("name")
    if name is None:
        raise _Problem('missing name (e.g. name = "related-weights-2026-12")')
    if not isinstance(name, str) or _EXPERIMENT_NAME.fullmatch(name) is None:
        raise _Problem(f"name must match [A-Za-z0-9._-]{{1,64}}, got {name!r}")
    kind = data.get("kind", "ab")
    if kind not in _KINDS:
        raise _Problem(f'kind must be "ab" or "interleaving", got {kind!r}')
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _Problem(f"enabled must be true or false, got {enabled!r}")
    salt = data.get("salt", name)
    if not isinstance(salt, str) or not salt:
        raise _Problem(f"salt must be a non-empty string, got {salt!r}")
    tables = data.get("variants")
    if not isinstance(tables, dict) or not tables:
        raise _Problem("no variants: add a table per variant, e.g. [variants.B]")
    variants = tuple(_variant(vname, table, kind) for vname, table in tables.items())
    if kind == "interleaving":
        if len(variants) != 2:
            raise _Problem(f"interleaving takes exactly two variants, got {len(variants)}")
        share = _share(data.get("share", 1.0), "share")
    else:
        if "share" in data:
            raise _Problem("a top-level share is for interleaving; give each ab variant its share")
        share = math.fsum(v.share for v in variants)
        if share > 1 + _SHARE_TOLERANCE:
            raise _Problem(f"the variants' shares sum to {share:g}, above 1")
    experiment = Experiment(
        name=name, kind=kind, salt=salt, variants=variants, share=min(share, 1.0)
    )
    return experiment, enabled


def _variant(name: object, table: object, kind: Kind) -> Variant:
    if not isinstance(name, str) or _VARIANT_NAME.fullmatch(name) is None:
        raise _Problem(f"variant name must match [A-Za-z0-9_-]{{1,32}}, got {name!r}")
    if name in (DEFAULT_VARIANT, INTERLEAVED):
        raise _Problem(f"variant name {name!r} is reserved")
    if not isinstance(table, dict):
        raise _Problem(f"variants.{name} must be a table, e.g. [variants.{name}]")
    allowed = ("share", *_WEIGHT_NAMES) if kind == "ab" else _WEIGHT_NAMES
    if kind == "interleaving" and "share" in table:
        raise _Problem(
            f"variants.{name}: interleaving variants take no share; the top-level share is "
            "the part of readers interleaved"
        )
    _refuse_unknown(table, allowed, f" in variants.{name}")
    if kind == "ab":
        if "share" not in table:
            raise _Problem(f"variants.{name}: missing share (0 < share <= 1)")
        share = _share(table["share"], f"variants.{name}.share")
    else:
        share = 0.0
    overlay: dict[str, float] = {}
    for key, value in table.items():
        if key == "share":
            continue
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _Problem(f"variants.{name}.{key} must be a number, got {value!r}")
        overlay[key] = float(value)
    try:
        weights = Weights.defaults().overridden(overlay)
    except WeightError as exc:
        raise _Problem(f"variants.{name}: {exc}") from None
    if weights.total() <= 0:
        raise _Problem(f"variants.{name}: the weights must not all be 0")
    return Variant(name=name, share=share, overlay=MappingProxyType(overlay))


def _share(value: object, where: str) -> float:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise _Problem(f"{where} must be a number with 0 < share <= 1, got {value!r}")
    return float(value)


def _refuse_unknown(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise _Problem(f"unknown key {key!r}{where}{hint} (allowed: {', '.join(allowed)})")
