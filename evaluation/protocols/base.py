"""What every evaluation protocol is: a name, the labels it judges by, and a run that hands back
its methods' lists and figures for the runner to write.

A new protocol is one module with a class that has these members, plus one line in
:data:`evaluation.protocols.PROTOCOLS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from evaluation.config import EvaluationConfig
from evaluation.datasets import Dataset
from evaluation.harness import MethodResult
from evaluation.runs import Qrels
from evaluation.sweeps import SweepResult

__all__ = ["EvaluationProtocol", "LoadsOwnDataset", "Outcome"]


@dataclass
class Outcome:
    """One protocol run, ready to be written.

    Attributes:
        methods: every method's lists and figures, by name.
        qrels: the judgements of the reported queries (written beside the runs).
        main_metric: the figure significance is tested on and sweeps optimise.
        headline: the figures of the report's main table (and their intervals).
        beyond: further figures for the report (coverage, diversity ...).
        baselines: the methods newsrec is tested against.
        notes: the protocol's own sizes and choices, for the report.
        settings: the evaluation engine's settings.
        sweep: the sweep's trials, when one ran.
        tuning: how many tuning queries the sweep used.
        plot: ``lists`` (a metric against k) or ``impressions`` (one bar group per figure).
        ranx_metrics: headline figures ranx recomputes from the written files.
    """

    methods: dict[str, MethodResult]
    qrels: Qrels
    main_metric: str
    headline: list[str]
    beyond: list[str]
    baselines: tuple[str, ...]
    notes: dict[str, Any]
    settings: dict[str, Any]
    sweep: SweepResult | None = None
    tuning: int = 0
    plot: Literal["lists", "impressions"] = "lists"
    ranx_metrics: list[str] = field(default_factory=list)


class EvaluationProtocol(Protocol):
    """An evaluation protocol, registered by :attr:`name`."""

    @property
    def name(self) -> str:
        """The name ``newsrec evaluate --protocol`` takes."""
        ...

    def label_fields(self, config: EvaluationConfig) -> tuple[str, ...]:
        """The dataset fields this protocol judges by (stripped before ingest)."""
        ...

    def run(self, config: EvaluationConfig, dataset: Dataset) -> Outcome:
        """Build the task from ``dataset``, rank with every method, and compute the figures.

        Raises:
            evaluation.datasets.DatasetError: a dataset that cannot serve the protocol.
            ValueError: options that do not fit together.
        """
        ...


@runtime_checkable
class LoadsOwnDataset(Protocol):
    """A protocol whose data is not an article corpus (e.g. ``logged``: feedback logs judged on
    an existing home): it reads ``config.datasets`` itself instead of
    :func:`evaluation.datasets.load_dataset`."""

    def load_dataset(self, config: EvaluationConfig) -> Dataset:
        """The dataset of ``config``.

        Raises:
            evaluation.datasets.DatasetError: data that cannot serve the protocol.
        """
        ...
