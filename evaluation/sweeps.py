"""Sweeps: grid or random search over the Related settings, tuned on sources never reported.

Each protocol has its space. On labels (Reuters topics) it covers the weights (``w_sim`` is
``1 - w_rec - w_pop``; only ratios change a ranking), the recency half-lives, the story
threshold and MMR lambda. On co-reading (MIND readers) it covers what reading data drives:
the popularity and co-read weights against ``w_sim`` as configured, the popularity half-life,
the candidates added for popularity and co-reading, the co-read shrink, the shared-words share
and MMR lambda. The best configuration is written as a TOML settings file that
``NEWSREC_SETTINGS_FILE`` loads.
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from recommender.settings import Settings

__all__ = [
    "COREAD_SPACE",
    "SWEEP_SPACE",
    "SWEEP_SPACES",
    "SweepKind",
    "SweepResult",
    "SweepSpace",
    "Trial",
    "run_sweep",
    "sweep_configs",
    "write_settings_file",
]

SweepKind = Literal["grid", "random"]


@dataclass(frozen=True)
class SweepSpace:
    """The values a grid tries per setting, and the ranges a random sweep draws from.

    Attributes:
        grid: values per setting.
        ranges: ``(low, high, log-uniform)`` per setting.
        sim_takes_the_rest: ``w_sim`` is ``1 -`` the other weights (only ratios matter); when
            false, ``w_sim`` stays as configured and the other weights are absolute.
    """

    grid: Mapping[str, tuple[float, ...]]
    ranges: Mapping[str, tuple[float, float, bool]]
    sim_takes_the_rest: bool = True


#: Labels protocol: weights, recency half-lives, story threshold, MMR lambda.
SWEEP_SPACE = SweepSpace(
    grid={
        "w_rec": (0.0, 0.1, 0.3),
        "w_pop": (0.0, 0.1, 0.3),
        "recency_half_life_before_days": (3.0, 7.0, 30.0),
        "recency_half_life_after_days": (1.0, 3.0, 10.0),
        "story_threshold": (0.9, 0.95),
        "mmr_lambda": (0.7, 0.85, 1.0),
    },
    ranges={
        "w_rec": (0.0, 0.5, False),
        "w_pop": (0.0, 0.8, False),
        "recency_half_life_before_days": (0.5, 90.0, True),
        "recency_half_life_after_days": (0.5, 90.0, True),
        "story_threshold": (0.85, 0.99, False),
        "mmr_lambda": (0.5, 1.0, False),
    },
)
#: Co-read protocol: what reading data drives, against ``w_sim`` as configured, and Related's
#: gate (which bounds how far reading data may reach beyond the source's subject).
COREAD_SPACE = SweepSpace(
    grid={
        "w_pop": (0.0, 0.1, 0.3, 1.0, 3.0),
        "w_coread": (0.0, 0.5, 1.0, 2.0, 4.0),
        "related_floor_quantile": (0.8, 0.9, 0.95, 0.98),
        "related_depth": (10, 20, 40),
        "popularity_half_life_days": (1.0, 3.0, 7.0, 30.0),
        "popular_candidates": (0, 50, 200),
        "coread_candidates": (0, 50, 200),
        "coread_shrink": (0.0, 1.0, 2.0, 5.0),
        "related_lexical_weight": (0.0, 0.2, 0.4),
        "mmr_lambda": (0.7, 0.9, 1.0),
    },
    ranges={
        "w_pop": (0.05, 5.0, True),
        "w_coread": (0.0, 10.0, False),
        "related_floor_quantile": (0.5, 0.99, False),
        "related_depth": (5, 100, True),
        "popularity_half_life_days": (0.5, 60.0, True),
        "popular_candidates": (0, 300, False),
        "coread_candidates": (0, 300, False),
        "coread_shrink": (0.0, 8.0, False),
        "related_lexical_weight": (0.0, 0.5, False),
        "mmr_lambda": (0.6, 1.0, False),
    },
    sim_takes_the_rest=False,
)
#: The space each list protocol sweeps.
SWEEP_SPACES: dict[str, SweepSpace] = {"labels": SWEEP_SPACE, "coread": COREAD_SPACE}


@dataclass(frozen=True)
class Trial:
    """One configuration and its objective on the tuning sources."""

    config: dict[str, float]
    objective: float


@dataclass
class SweepResult:
    """Every trial, the best one, and what was optimised."""

    kind: str
    objective: str
    trials: list[Trial] = field(default_factory=list)

    @property
    def best(self) -> Trial:
        """The trial with the highest objective (the first one on ties).

        Raises:
            ValueError: no trial was run.
        """
        if not self.trials:
            raise ValueError("the sweep ran no trial")
        return max(self.trials, key=lambda t: t.objective)


def _available(space: Iterable[str], fixed: Mapping[str, Any]) -> list[str]:
    fields = Settings.model_fields
    return [name for name in space if name in fields and name not in fixed]


def _with_sim(config: dict[str, float]) -> dict[str, float] | None:
    rest = config.get("w_rec", 0.0) + config.get("w_pop", 0.0)
    if rest >= 1.0:
        return None
    return {"w_sim": round(1.0 - rest, 6), **config}


def _typed(name: str, value: float) -> float:
    # Integer settings (candidate counts) take whole numbers, also in the settings file.
    return round(value) if Settings.model_fields[name].annotation is int else value


def sweep_configs(
    kind: SweepKind,
    trials: int,
    seed: int,
    *,
    fixed: Mapping[str, Any] | None = None,
    exclude: Sequence[str] = (),
    space: SweepSpace = SWEEP_SPACE,
) -> list[dict[str, float]]:
    """The configurations a sweep over ``space`` tries, in order.

    A grid larger than ``trials`` is cut to a seeded sample of ``trials`` points (always
    keeping the engine's defaults first, so the sweep can only improve on them).

    Raises:
        ValueError: an unknown kind or ``trials`` < 1.
    """
    if trials < 1:
        raise ValueError(f"a sweep needs at least one trial, got {trials}")
    names = [n for n in _available(space.grid, fixed or {}) if n not in exclude]
    defaults = {n: _typed(n, float(Settings.model_fields[n].default)) for n in names}

    def complete(point: dict[str, float]) -> dict[str, float] | None:
        return _with_sim(point) if space.sim_takes_the_rest else point

    rng = random.Random(seed)
    configs: list[dict[str, float]] = []
    if kind == "grid":
        grid = [
            {n: _typed(n, v) for n, v in zip(names, values, strict=True)}
            for values in itertools.product(*(space.grid[n] for n in names))
        ]
        points = [c for c in (complete(g) for g in grid) if c is not None]
        if len(points) > trials - 1:
            points = rng.sample(points, trials - 1)
        configs = points
    elif kind == "random":
        # Points whose weights leave nothing for w_sim are redrawn, so every trial counts.
        while len(configs) < trials - 1:
            point: dict[str, float] = {}
            for name in names:
                low, high, log = space.ranges[name]
                value = (
                    low * (high / low) ** rng.random() if log else low + (high - low) * rng.random()
                )
                point[name] = _typed(name, round(value, 4))
            if (config := complete(point)) is not None:
                configs.append(config)
    else:
        raise ValueError(f"sweep must be 'grid' or 'random', got {kind!r}")
    # The engine's defaults as configured (their weights need not sum to one), so that the
    # sweep can only improve on what ships.
    base = {"w_sim": float(Settings.model_fields["w_sim"].default), **defaults}
    if not space.sim_takes_the_rest:
        base = defaults
    return [base, *(c for c in configs if c != base)]


def run_sweep(
    configs: Sequence[dict[str, float]],
    objective: Callable[[dict[str, float]], float],
    *,
    kind: str,
    objective_name: str,
    progress: bool = False,
) -> SweepResult:
    """Evaluate ``objective`` on every configuration."""
    result = SweepResult(kind=kind, objective=objective_name)
    for config in tqdm(configs, desc="sweep", unit=" trials", disable=not progress):
        result.trials.append(Trial(dict(config), float(objective(config))))
    return result


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_settings_file(config: Mapping[str, Any], path: Path, *, comment: str) -> None:
    """Write ``config`` as a TOML settings file (temporary name, then rename).

    Raises:
        ValueError: a key that is not a newsrec setting, or values the settings refuse.
    """
    unknown = [key for key in config if key not in Settings.model_fields]
    if unknown:
        raise ValueError(f"not newsrec settings: {', '.join(unknown)}")
    Settings.model_validate(dict(config))  # refuse a file the service would refuse
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f"{key} = {_toml_value(value)}" for key, value in sorted(config.items())]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".toml")
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would keep the service user from reading it
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
