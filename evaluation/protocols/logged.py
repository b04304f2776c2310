"""Logged protocol: a candidate configuration scored against what readers clicked in served lists.

``LOGS`` are MIND ``behaviors.tsv`` files, as ``newsrec experiments export-log`` writes them from
the feedback log: one row per served list, the source article as the history and the shown items
in served order, ``-1`` when clicked. ``--home`` is the home that served them. Each impression
with a clicked and a skipped item is ranked by:

- ``logged``: the order readers were shown, the *as served* baseline;
- ``candidate``: the engine over the home with the ``--set`` overlay, ranking the shown items for
  the source with Related's served scoring (``Engine.score_candidates``, as the impressions
  protocol does);
- ``current``: with ``--set`` only, the same engine without the overlay, so that what the
  replay itself changes is told apart from what the overlay changes.

Figures are the impressions protocol's (AUC, MRR, nDCG@5, nDCG@10 per impression), and every
engine method is tested against ``logged`` by the runner's paired test.

What is replayed: the home's reading events. The home is copied, the copy's events from the first
scored impression on are removed and recorded again in time order, so each impression is scored
with only the reads before it (the clicks it received included, as later reads), and the engine's
clock reads the impression's time (recency, ages). What is not: the catalogue and its index are
today's (articles added, changed or unpublished since are as they are now; an impression showing
an article no longer published is dropped and counted), and the editorial overrides are today's.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence, Set
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.config import EvaluationConfig
from evaluation.corpus import Corpus, load_corpus
from evaluation.datasets import Dataset, DatasetError, EvalArticle, file_digest
from evaluation.harness import MethodResult
from evaluation.protocols.base import Outcome
from evaluation.protocols.impressions import (
    IMPRESSION_FIGURES,
    ImpressionCase,
    impression_qrels,
    impression_run,
    score_impressions,
)
from evaluation.replay import EngineReplay
from evaluation.runs import Run, ranked
from evaluation.significance import paired_test
from evaluation.splits import hash_unit, seeded_sample
from index.events import Event, EventStore
from recommender.ingestion.files import RowProblem, UnreadableFile
from recommender.ingestion.ingest import expand_paths
from recommender.ingestion.mind import Impression, read_behaviors
from recommender.settings import Settings, load_settings

__all__ = ["LOGGED_METHODS", "POSITION_CAVEAT", "LoggedProtocol", "logged_cases", "served_run"]

LOGGED_METHODS = ("logged", "current", "candidate")
#: Said beside every logged figure: the clicks were made on the served order.
POSITION_CAVEAT = (
    "logged clicks are biased towards the positions they were served at: a configuration that "
    "keeps the served order is favoured, and the figures only pre-screen a change (an A/B test "
    "or interleaving decides)"
)
_SECRETS = {"api_key", "read_key", "recommendation_secret"}


def _served_orders(path: Path) -> dict[str, tuple[str, ...]]:
    """Each line's impression id -> its items in the order shown (the reader keeps only the
    clicked and skipped sets)."""
    orders: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            cells = line.rstrip("\r\n").split("\t")
            if len(cells) == 5:
                shown = (token.rpartition("-")[0] for token in cells[4].split())
                orders.setdefault(cells[0], tuple(dict.fromkeys(shown)))
    return orders


def _home_settings(config: EvaluationConfig, **overrides: Any) -> Settings:
    settings = load_settings(home=config.home, **overrides)
    if not settings.catalogue_path.is_file():
        raise DatasetError(
            f"--home {settings.home}: no newsrec home here (no {settings.catalogue_path.name}); "
            "the logged protocol scores with the home that served the logged lists"
        )
    return settings


def logged_cases(
    impressions: Sequence[Impression],
    orders: Mapping[str, tuple[str, ...]],
    published: Set[str],
) -> tuple[list[ImpressionCase], dict[str, int], str | None]:
    """The scorable impressions in time order, what was dropped and why, and the first id not
    published in the catalogue.

    An impression is kept when it names a source, every id it names is published, and it has
    a clicked and a skipped item. Candidates are in a fixed shuffle per impression, so that
    equal engine scores follow neither the labels nor the served order.
    """
    cases: list[ImpressionCase] = []
    dropped: Counter[str] = Counter()
    unknown: str | None = None
    seen: set[str] = set()
    for impression in impressions:
        shown = orders.get(impression.impression_id, impression.clicked + impression.skipped)
        missing = [a for a in (*impression.history, *shown) if a not in published]
        clicked = set(impression.clicked)
        if impression.impression_id in seen:
            dropped["duplicate_impression_id"] += 1
        elif not impression.history:
            dropped["no_source_article"] += 1  # a list for a draft text: no article to replay
        elif missing:
            unknown = unknown or missing[0]
            dropped["article_not_published"] += 1
        elif not clicked:
            dropped["no_click"] += 1
        elif all(a in clicked for a in shown):
            dropped["no_skip"] += 1
        else:
            order = sorted(
                shown, key=lambda a: hash_unit(a, 0, f"order {impression.impression_id}")
            )
            cases.append(
                ImpressionCase(
                    impression.impression_id,
                    impression.user,
                    impression.time,
                    tuple(dict.fromkeys(impression.history)),
                    tuple(order),
                    tuple(int(a in clicked) for a in order),
                )
            )
        seen.add(impression.impression_id)
    cases.sort(key=lambda case: (case.time, case.impression_id))
    return cases, dict(dropped), unknown


def served_run(cases: Sequence[ImpressionCase], orders: Mapping[str, tuple[str, ...]]) -> Run:
    """Each impression's items in the order readers were shown them."""
    run: Run = {}
    for case in cases:
        candidates = set(case.candidates)
        run[case.impression_id] = ranked([a for a in orders[case.impression_id] if a in candidates])
    return run


def _home_events(settings: Settings) -> list[Event]:
    """Every reading event of the home, in time order."""
    events: list[Event] = []
    with EventStore(settings.catalogue_path) as store:
        for batch in store.since(0):
            for article_id, click, at_ts, user in zip(
                batch.article_ids,
                batch.is_click.tolist(),
                batch.at_ts.tolist(),
                batch.users,
                strict=True,
            ):
                at = datetime.fromtimestamp(at_ts, UTC)
                events.append(Event(article_id, "click" if click else "view", at, user))
    events.sort(key=lambda event: event.at)
    return events


def _engine_run(
    settings: Settings,
    cases: Sequence[ImpressionCase],
    events: Sequence[Event],
    corpus: Corpus,
    scratch: Path,
    seed: int,
) -> tuple[Run, float]:
    started = time.perf_counter()
    start = cases[0].time
    later = [e for e in events if e.at >= start]
    replay = EngineReplay(settings, later, scratch, None, start=start)
    try:
        # The corpus is for the baselines of impression_run; the engine method reads none of it.
        run = impression_run("related", cases, corpus, seed=seed, replay=replay)
    finally:
        replay.close()
    return run, time.perf_counter() - started


def _result(name: str, run: Run, cases: Sequence[ImpressionCase], seconds: float) -> MethodResult:
    per_query = score_impressions(run, cases)
    figures: dict[str, float | None] = {n: float(v.mean()) for n, v in per_query.items()}
    figures["queries"] = float(len(cases))
    return MethodResult(name, run, dict(per_query), figures, seconds)


class LoggedProtocol:
    """Logged impressions judge: would the candidate have ranked the clicked items higher?"""

    name = "logged"

    def label_fields(self, config: EvaluationConfig) -> tuple[str, ...]:
        """None: the logged clicks judge."""
        return ()

    def load_dataset(self, config: EvaluationConfig) -> Dataset:
        """The logged impressions of ``config.datasets`` and the published articles of
        ``config.home`` (the catalogue they were served from).

        Raises:
            DatasetError: no home, a log that is missing, unreadable or malformed, or empty.
        """
        settings = _home_settings(config)
        files: list[dict[str, Any]] = []
        impressions: list[Impression] = []
        paths = expand_paths(list(config.datasets))
        for path in paths:
            if not path.is_file():
                raise DatasetError(f"{path}: no such file")
            try:
                for item in read_behaviors(path):
                    if isinstance(item, RowProblem):
                        raise DatasetError(f"{item} (expected a behaviors.tsv of export-log)")
                    impressions.append(item)
            except UnreadableFile as exc:
                raise DatasetError(str(exc)) from exc
            files.append(
                {"path": str(path), "bytes": path.stat().st_size, "sha256": file_digest(path)}
            )
        if not impressions:
            raise DatasetError("no logged impression in " + ", ".join(map(str, paths)))
        corpus = load_corpus(settings)
        articles = tuple(
            EvalArticle(
                article_id,
                title,
                body,
                None if math.isnan(ts) else datetime.fromtimestamp(ts, UTC),
                frozenset(),
                None,
                {},
            )
            for article_id, title, body, ts in zip(
                corpus.ids,
                corpus.titles,
                corpus.bodies,
                corpus.published_ts.tolist(),
                strict=True,
            )
        )
        digest = hashlib.sha256()
        for entry in files:
            digest.update(f"{Path(entry['path']).name}:{entry['sha256']}\n".encode())
        return Dataset(
            articles=articles,
            impressions=tuple(impressions),
            label_fields=(),
            files=tuple(files),
            fingerprint=digest.hexdigest()[:16],
            behaviors=tuple(paths),
        )

    def run(self, config: EvaluationConfig, dataset: Dataset) -> Outcome:
        """The served order, the current settings (with ``--set``) and the candidate, each
        judged on the logged clicks with the reads before each impression.

        Raises:
            DatasetError: no impression left to score (the message says why).
            ValueError: a sweep (the logged protocol scores one configuration).
        """
        if config.sweep is not None:
            raise ValueError("the logged protocol scores one configuration: give it with --set")
        overrides = dict(config.settings_overrides)
        current = _home_settings(config)
        candidate = _home_settings(config, **overrides)
        orders: dict[str, tuple[str, ...]] = {}
        for path in dataset.behaviors:
            for key, order in _served_orders(path).items():
                orders.setdefault(key, order)
        cases, dropped, unknown = logged_cases(dataset.impressions, orders, set(dataset.ids))
        cases = seeded_sample(cases, config.limit_sources, config.seed, _case_id)
        cases.sort(key=lambda case: (case.time, case.impression_id))
        if not cases:
            raise DatasetError(_nothing_to_score(dropped, unknown, current.home))
        events = _home_events(current)
        started = time.perf_counter()
        served = served_run(cases, orders)
        methods = {"logged": _result("logged", served, cases, time.perf_counter() - started)}
        corpus = load_corpus(current)
        scratch = config.out / "replay-home"
        if overrides:
            run, seconds = _engine_run(current, cases, events, corpus, scratch, config.seed)
            methods["current"] = _result("current", run, cases, seconds)
        run, seconds = _engine_run(candidate, cases, events, corpus, scratch, config.seed)
        methods["candidate"] = _result("candidate", run, cases, seconds)
        notes: dict[str, Any] = {
            "home": str(current.home),
            "overlay": overrides,
            "impressions_total": len(dataset.impressions),
            "impressions_scored": len(cases),
            "impressions_dropped": dropped,
            "first_unpublished_article": unknown,
            "clicks_scored": int(sum(sum(c.labels) for c in cases)),
            "candidates_per_impression": float(np.mean([len(c.candidates) for c in cases])),
            "first_impression": cases[0].time.isoformat(),
            "last_impression": cases[-1].time.isoformat(),
            "events_replayed": sum(1 for e in events if e.at >= cases[0].time),
            "engine_sees": "the home's reads before each impression (events from the first "
            "impression on replayed in time order), its clock at the impression's time; the "
            "catalogue, index and editorial overrides as they are now",
            "lists": dict(Counter(_list_of(c.impression_id) for c in cases)),
            "scoring": "every list's items are ranked by Related's served scoring of the "
            "candidates for the source (Engine.score_candidates), More like this's too",
            "caveat": POSITION_CAVEAT,
        }
        if "current" in methods:
            notes["candidate_vs_current"] = _paired(methods, "candidate", "current", config.seed)
        return Outcome(
            methods=methods,
            qrels=impression_qrels(cases),
            main_metric="auc",
            headline=list(IMPRESSION_FIGURES),
            beyond=[],
            baselines=("logged",),
            notes=notes,
            settings=candidate.model_dump(mode="json", exclude=_SECRETS),
            plot="impressions",
            ranx_metrics=["ndcg@5", "ndcg@10"],
        )


def _list_of(impression_id: str) -> str:
    """The list of an export-log impression id (``imp:NONCE:LIST``); ``-`` for another id."""
    parts = impression_id.split(":")
    return parts[2] if len(parts) == 3 and parts[0] == "imp" else "-"


def _paired(methods: dict[str, MethodResult], a: str, b: str, seed: int) -> dict[str, Any]:
    """``a`` minus ``b`` on AUC, paired per impression: what the overlay alone changes."""
    test = paired_test(methods[a].per_query["auc"], methods[b].per_query["auc"], seed=seed)
    return {
        "metric": "auc",
        "mean_difference": test.mean_difference,
        "ci_low": test.ci_low,
        "ci_high": test.ci_high,
        "p_value": test.p_value,
        "queries": test.queries,
    }


def _case_id(case: ImpressionCase) -> str:
    return case.impression_id


def _nothing_to_score(dropped: dict[str, int], unknown: str | None, home: Path) -> str:
    if unknown is not None and dropped.get("article_not_published"):
        return (
            f"article {unknown!r} of the log is not published in {home} "
            f"({dropped['article_not_published']} impressions name such articles), and no "
            "other impression can be scored: was the log exported from another home?"
        )
    why = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sorted(dropped.items()))
    return f"no logged impression has a source, a clicked and a skipped item ({why})"
