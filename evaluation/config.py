"""What one ``newsrec evaluate`` run is asked to do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.datasets import DEFAULT_LABEL_FIELDS
from evaluation.sweeps import SweepKind

__all__ = ["EvaluationConfig"]


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything one ``newsrec evaluate`` run needs; see the CLI for each option's meaning."""

    datasets: tuple[Path, ...]
    protocol: str
    out: Path
    ks: tuple[int, ...] = (5, 10, 20)
    seed: int = 0
    sweep: SweepKind | None = None
    trials: int = 20
    split: str | None = "TEST"
    limit_sources: int | None = None
    tune_sources: int | None = 500
    before_source: bool = False
    window_days: float | None = None
    label_fields: tuple[str, ...] = DEFAULT_LABEL_FIELDS
    synthetic_reads: int = 0
    settings_overrides: Mapping[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    progress: bool = False
    command: str = ""
    home: Path | None = None  # the logged protocol: the home that served the logged lists

    def __post_init__(self) -> None:
        if not self.ks or any(k < 1 for k in self.ks):
            raise ValueError(f"cut-offs must be positive integers, got {self.ks}")
        if self.trials < 1:
            raise ValueError(f"trials must be at least 1, got {self.trials}")
        if self.synthetic_reads < 0:
            raise ValueError(f"synthetic_reads must be 0 or more, got {self.synthetic_reads}")
        if self.limit_sources is not None and self.limit_sources < 1:
            raise ValueError(f"limit_sources must be at least 1, got {self.limit_sources}")

    @property
    def main_k(self) -> int:
        """The cut-off of the headline figure: 10 when asked for, else the largest."""
        return 10 if 10 in self.ks else max(self.ks)
