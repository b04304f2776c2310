"""Simulated readers against a real ``newsrec serve``: how many sessions an A/B test and an
interleaving experiment need to find a known better variant.

``python -m evaluation.simulation --data DATA --out DIR [--overlay w_pop=0] [--better B]
[--effect 0.5] [--seeds 20]``

1. A home is built from ``DATA`` (the bundled sample by default; e.g. the MIND slice in
   ``../shared/data/mind_small_sample``), and for each experiment kind a copy of it is served
   by ``newsrec serve`` on 127.0.0.1, with an experiments file (``NEWSREC_EXPERIMENTS_FILE``)
   comparing variant A (the defaults) with variant B (the ``--overlay`` weights): an A/B split
   with shares 0.5/0.5, or team-draft interleaving of the two for every reader.
2. A session is one new reader (``sim-<seed>-<n>``, sent as ``?reader=``) opening the Related
   list (``k`` items) of a source article drawn uniformly from the catalogue. The reader
   looks at the list through the click model of :mod:`evaluation.click_model`: position bias,
   and items that the better variant ranks higher than the other variant are more attractive.
   Both variants' lists of that source are asked for with ``?variant=A`` and ``?variant=B``
   (the QA override; no event is posted for them), so the truth is the lists as served at
   that moment. The impression and the clicks are posted to ``POST /events`` with the write
   key, in batches.
3. The seeds run in step, checkpoint by checkpoint (``--first`` sessions per seed, then about
   x1.41 each step, up to ``--cap``). At each checkpoint the report's own statistics
   (:func:`evaluation.online.results.online_results`) run on the feedback rows the server
   stored for each seed's first ``n`` sessions (read back from the home's
   :class:`index.feedback.FeedbackStore`, told apart by recommendation nonce). A seed's stream
   is extended, never rerun, from one checkpoint to the next: the first ``n`` sessions at a
   later checkpoint are exactly those tested at the earlier one.
4. Two figures per kind, over the seeds:

   - the median *first crossing*: each seed's first checkpoint whose verdict names the better
     variant at p < alpha, as an experimenter who looks at the report at every checkpoint and
     stops at the first significant one would see it. Looking again and again inflates the
     error rate (optional stopping), so a lucky early crossing is common;
   - the *half-power point*: the first checkpoint at which at least half the seeds' verdicts
     on exactly that many sessions name the better variant, i.e. where a test fixed in
     advance at that many sessions has about 50% power. It needs no stopping rule.

   The run stops when both are known (or at the cap); the output gives each seed's verdicts,
   the figures, the A/B : interleaving ratios, the true click-through rates of the two
   variants over the sessions simulated, and ``newsrec experiments report``'s verdict over
   every session of the kind.

The simulated clicks are stored as feedback and as ordinary click events, but by default the
server holds popularity and co-reads still (``NEWSREC_POPULARITY_REFRESH_SECONDS`` far above
the run): the home's reads are older than the simulated clicks, so folding those in would
re-rank the lists as the run goes on, a feedback loop that would change the true effect
between seeds and between the two kinds. ``--live-popularity`` lets the loop run.

A seed that has not crossed when the run stops counts as above it (a median above it says
"> n"). The service's own randomness (assignment keyed by a signing secret drawn per run, team
draft's coin) is not seeded, so a rerun differs in detail.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

from evaluation.bench.homes import home_settings
from evaluation.bench.machine import lscpu, machine_facts
from evaluation.bench.service import Server
from evaluation.click_model import ClickModel, expected_ctr, favoured, sample_clicks
from evaluation.harness import DEFAULT_CACHE
from evaluation.online.results import Design, online_results
from evaluation.vector_cache import CachingEmbedder
from index import Catalogue
from index.feedback import Feedback, FeedbackStore
from recommender.embedding.embedder import load_embedder, planned_backend, vector_identity
from recommender.experiments.tokens import RecommendationIds
from recommender.ingestion.ingest import ingest

__all__ = [
    "KINDS",
    "KindResult",
    "Plan",
    "SeedResult",
    "Verdict",
    "build_home",
    "checkpoints",
    "experiments_toml",
    "first_crossings",
    "half_power_point",
    "main",
    "names_better",
    "run_kind",
    "settled",
    "simulate",
]

Kind = Literal["ab", "interleaving"]
KINDS: tuple[Kind, ...] = ("ab", "interleaving")
VARIANTS = ("A", "B")
SAMPLE = Path(__file__).resolve().parent.parent / "recommender" / "sample" / "articles.jsonl"
LIST = "related"
_EVENTS_PER_POST = 1_000  # POST /events takes at most 1,000 events
_REDRAWS = 50  # sources with an empty list drawn in a row before a session gives up
_STEP = math.sqrt(2)
_DEFAULT_MODEL = ClickModel()


@dataclass(frozen=True, slots=True)
class Plan:
    """What a simulation runs.

    Attributes:
        data: articles to build the home from (any file or folder ``newsrec ingest`` reads).
        overlay: variant B's weights (``w_*`` -> value); variant A is the defaults.
        better: the variant whose ranking readers prefer ("A" or "B").
        model: the click model, with the true effect.
        seeds: seeds per kind; seed ``s`` draws its sources and clicks from ``Random(s)``.
        first: the first checkpoint (sessions).
        cap: the last checkpoint: a seed stops there if it has not crossed.
        alpha: the significance level of the verdict.
        k: items in the Related list.
        freeze_popularity: the server never folds the simulated clicks into popularity and
            co-reads, so every seed meets the same lists (see the module docstring).
    """

    data: Path = SAMPLE
    overlay: Mapping[str, float] = field(default_factory=lambda: {"w_pop": 0.0})
    better: str = "B"
    model: ClickModel = field(default_factory=ClickModel)
    seeds: int = 20
    first: int = 50
    cap: int = 12_800
    alpha: float = 0.05
    k: int = 5
    freeze_popularity: bool = True

    def __post_init__(self) -> None:
        if self.better not in VARIANTS:
            raise ValueError(f"better must be one of {', '.join(VARIANTS)}, got {self.better!r}")
        if not self.overlay:
            raise ValueError("the overlay is empty: variants A and B would be the same")
        bad = [key for key in self.overlay if not key.startswith("w_")]
        if bad:
            raise ValueError(f"the overlay may set w_* weights only, got {', '.join(bad)}")
        if self.seeds < 1 or not 1 <= self.first <= self.cap:
            raise ValueError(
                f"need seeds >= 1 and 1 <= first <= cap, got {self.seeds}, {self.first}, {self.cap}"
            )
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if not 1 <= self.k <= 50:
            raise ValueError(f"k must be 1 to 50, got {self.k}")


def checkpoints(first: int, cap: int, step: float = _STEP) -> list[int]:
    """Session counts at which a seed is tested: ``first``, then each about ``step`` times the
    one before (rounded, strictly increasing), ending with ``cap``.

    Raises:
        ValueError: ``first`` below 1, ``cap`` below ``first``, or ``step`` not above 1.
    """
    if first < 1 or cap < first or not step > 1:
        raise ValueError(f"need 1 <= first <= cap and step > 1, got {first}, {cap}, {step}")
    grid = [first]
    while grid[-1] < cap:
        grid.append(min(cap, max(grid[-1] + 1, round(first * step ** len(grid)))))
    return grid


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the report concludes on some sessions: the variant it names (or None) and p."""

    better: str | None
    p_value: float | None


def names_better(verdict: Verdict, better: str, alpha: float) -> bool:
    """Whether ``verdict`` names ``better`` at p < ``alpha``."""
    return verdict.better == better and verdict.p_value is not None and verdict.p_value < alpha


def first_crossings(
    histories: Sequence[Sequence[Verdict]], grid: Sequence[int], better: str, alpha: float
) -> list[int | None]:
    """Per seed, the first checkpoint of ``grid`` whose verdict (``histories[seed][level]``)
    names ``better`` at p < ``alpha``; None where none of those tested did."""
    crossings: list[int | None] = []
    for history in histories:
        # A history is as long as the checkpoints its kind's run reached, often not all.
        tested = zip(grid, history, strict=False)
        crossings.append(next((n for n, v in tested if names_better(v, better, alpha)), None))
    return crossings


def half_power_point(
    histories: Sequence[Sequence[Verdict]], grid: Sequence[int], better: str, alpha: float
) -> int | None:
    """The first checkpoint ``n`` at which at least half the seeds' verdicts on their first
    ``n`` sessions name ``better`` at p < ``alpha``: where a test fixed at ``n`` sessions has
    about 50% power. None if no checkpoint tested got there."""
    for level, n in enumerate(grid):
        named = sum(
            1
            for history in histories
            if level < len(history) and names_better(history[level], better, alpha)
        )
        if histories and 2 * named >= len(histories):
            return n
    return None


def settled(
    histories: Sequence[Sequence[Verdict]], grid: Sequence[int], better: str, alpha: float
) -> bool:
    """Whether both medians are known: more than half the seeds have crossed (so the median
    first crossing is), and the half-power point is found."""
    crossed = sum(c is not None for c in first_crossings(histories, grid, better, alpha))
    return 2 * crossed > len(histories) and (
        half_power_point(histories, grid, better, alpha) is not None
    )


def experiments_toml(kind: Kind, name: str, overlay: Mapping[str, float]) -> str:
    """The experiments file comparing A (the defaults) with B (``overlay``) as ``kind``."""
    weights = "".join(f"{key} = {float(value)!r}\n" for key, value in sorted(overlay.items()))
    if kind == "ab":
        return (
            f'name = "{name}"\nkind = "ab"\n\n'
            "[variants.A]\nshare = 0.5\n\n"
            f"[variants.B]\nshare = 0.5\n{weights}"
        )
    return (
        f'name = "{name}"\nkind = "interleaving"\nshare = 1.0\n\n'
        f"[variants.A]\n\n[variants.B]\n{weights}"
    )


@dataclass(frozen=True, slots=True)
class SeedResult:
    """One seed of one kind.

    Attributes:
        seed: the seed.
        crossed_at: the first checkpoint at which the verdict named the better variant at
            p < alpha; None if none up to where the kind's run stopped.
        sessions: sessions run.
        history: the verdict at each checkpoint run, in order.
        true_ctr: per variant, the exact CTR the click model gives its lists, averaged over
            the sessions' sources.
        lists_changed: variant lists that differed from the first time this kind's run saw
            that source's list of that variant (0 when the world is stationary).
    """

    seed: int
    crossed_at: int | None
    sessions: int
    history: list[Verdict]
    true_ctr: dict[str, float]
    lists_changed: int


@dataclass(frozen=True, slots=True)
class KindResult:
    """Every seed of one kind, the two medians and the report's verdict over all sessions.

    Attributes:
        median: median first crossing over the seeds; None if it lies above ``stopped_at``.
        half_power: :func:`half_power_point`; None if not reached by ``stopped_at``.
        stopped_at: the last checkpoint run (the seeds run in step, until both are known or
            the cap).
        report_verdict: ``newsrec experiments report``'s verdict over every session, by
            experiment (empty if the report failed).
        planned: :func:`planned_sessions` at 50% and 80% power, from that report's rates.
    """

    kind: Kind
    experiment: str
    seeds: list[SeedResult]
    median: float | None
    half_power: int | None
    stopped_at: int
    report_verdict: dict[str, Any]
    planned: dict[str, float | None]
    sessions_per_second: float


class _Readers:
    """The simulated readers of one seed against one server, and the nonces they were served."""

    def __init__(
        self,
        client: httpx.Client,
        kind: Kind,
        seed: int,
        sources: Sequence[str],
        plan: Plan,
        ids: RecommendationIds,
        first_seen: dict[tuple[str, str], list[str]],
    ) -> None:
        self._client = client
        self._kind = kind
        self._seed = seed
        self._sources = sources
        self._plan = plan
        self._ids = ids
        self._rng = random.Random(seed)
        self._pending: list[dict[str, object]] = []
        self.nonces: list[str] = []
        self.true_ctr = dict.fromkeys(VARIANTS, 0.0)
        self._first_seen = first_seen
        self.changed = 0

    def run_until(self, sessions: int) -> None:
        """Run sessions until ``sessions`` have been run, and post every pending event."""
        while len(self.nonces) < sessions:
            self._session(len(self.nonces))
            if len(self._pending) >= _EVENTS_PER_POST - self._plan.k - 1:
                self._flush()
        self._flush()

    def _lists(self, source: str, params: Mapping[str, str]) -> dict[str, Any]:
        answer = self._client.get(
            f"/articles/{quote(source, safe='')}/related",
            params={"k": str(self._plan.k), "lists": LIST, **params},
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def _session(self, number: int) -> None:
        reader = f"sim-{self._seed}-{number}"
        for _ in range(_REDRAWS):
            source = self._rng.choice(self._sources)
            answer = self._lists(source, {"reader": reader})
            shown = [item["id"] for item in answer[LIST]]
            if shown:
                break
        else:
            raise RuntimeError(f"{_REDRAWS} sources in a row had an empty {LIST} list")
        expected = {"ab": VARIANTS, "interleaving": ("interleaved",)}[self._kind]
        if answer["variant"] not in expected:
            raise RuntimeError(
                f"{self._kind} experiment served variant {answer['variant']!r} to {reader}; "
                f"expected one of {', '.join(expected)}: is the experiments file in effect?"
            )
        lists = {
            v: shown if v == answer["variant"] else self._variant_list(source, v) for v in VARIANTS
        }
        other = "A" if self._plan.better == "B" else "B"
        preferred = favoured(lists[self._plan.better], lists[other])
        for v in VARIANTS:
            self.true_ctr[v] += expected_ctr(lists[v], preferred, self._plan.model)
            self.changed += self._first_seen.setdefault((source, v), lists[v]) != lists[v]
        token = answer["recommendation_id"]
        self.nonces.append(self._ids.check(token).nonce)
        self._pending.append({"kind": "impression", "recommendation_id": token, "list": LIST})
        for position in sample_clicks(shown, preferred, self._plan.model, self._rng):
            self._pending.append(
                {
                    "kind": "click",
                    "recommendation_id": token,
                    "list": LIST,
                    "position": position,
                    "article_id": shown[position - 1],
                }
            )

    def _variant_list(self, source: str, variant: str) -> list[str]:
        return [item["id"] for item in self._lists(source, {"variant": variant})[LIST]]

    def _flush(self) -> None:
        if not self._pending:
            return
        answer = self._client.post("/events", json={"events": self._pending})
        if answer.status_code >= 400:
            raise RuntimeError(f"POST /events answered {answer.status_code}: {answer.text[:500]}")
        rejected = answer.json().get("rejected") or []
        if rejected:
            raise RuntimeError(f"the service rejected simulated feedback: {rejected[:5]}")
        self._pending = []


def _verdict(rows: Sequence[Feedback], design: Design, alpha: float) -> Verdict:
    results = online_results(
        rows, designs={design.name: design}, experiment=design.name, control="A", alpha=alpha
    )
    found = results["experiments"][design.name]["verdict"]
    return Verdict(found["better"], found["p_value"])


def _run_seeds(
    client: httpx.Client,
    store: FeedbackStore,
    design: Design,
    sources: Sequence[str],
    plan: Plan,
    ids: RecommendationIds,
) -> tuple[list[SeedResult], int]:
    """Every seed in step, checkpoint by checkpoint, until :func:`settled` or the cap;
    returns the seeds and the last checkpoint run."""
    first_seen: dict[tuple[str, str], list[str]] = {}
    readers = [
        _Readers(client, design.kind, seed, sources, plan, ids, first_seen)
        for seed in range(plan.seeds)
    ]
    owner: dict[str, int] = {}
    rows: list[list[Feedback]] = [[] for _ in readers]
    histories: list[list[Verdict]] = [[] for _ in readers]
    grid = checkpoints(plan.first, plan.cap)
    mark = store.last_seq()
    stopped_at = grid[-1]
    for n in grid:
        for seed, reader in enumerate(readers):
            reader.run_until(n)
            owner.update(dict.fromkeys(reader.nonces, seed))
        # Only this client writes to the home, and each POST is stored before it answers.
        for row in store.rows(experiment=design.name, since_seq=mark):
            rows[owner[row.recommendation]].append(row)
        mark = store.last_seq()
        for seed in range(len(readers)):
            histories[seed].append(_verdict(rows[seed], design, plan.alpha))
        named = sum(names_better(h[-1], plan.better, plan.alpha) for h in histories)
        print(
            f"  {design.kind}: {n} sessions per seed, {named} of {plan.seeds} seeds name "
            f"{plan.better} at p < {plan.alpha}",
            flush=True,
        )
        if settled(histories, grid, plan.better, plan.alpha):
            stopped_at = n
            break
    crossings = first_crossings(histories, grid, plan.better, plan.alpha)
    seeds = [
        SeedResult(
            seed=seed,
            crossed_at=crossings[seed],
            sessions=len(reader.nonces),
            history=histories[seed],
            true_ctr={v: total / len(reader.nonces) for v, total in reader.true_ctr.items()},
            lists_changed=reader.changed,
        )
        for seed, reader in enumerate(readers)
    ]
    return seeds, stopped_at


def build_home(data: Path, home: Path, cache: Path = DEFAULT_CACHE) -> list[str]:
    """Ingest ``data`` into a fresh ``home`` (vectors through the evaluation's embedding
    cache); returns the published article ids."""
    shutil.rmtree(home, ignore_errors=True)
    settings = home_settings(home)
    embedder = CachingEmbedder(
        cache,
        model=vector_identity(settings),
        max_seq_length=settings.max_seq_length,
        load=lambda: load_embedder(settings),
        backend=planned_backend(settings),
    )
    report = ingest([data], settings, lambda: embedder)
    if report.rejected:
        raise RuntimeError(f"{data}: {report.rejected} articles rejected: {report.problems[:3]}")
    with Catalogue(settings.catalogue_path, readonly=True) as catalogue:
        return sorted({record.id for record in catalogue.iter_records()})


def planned_sessions(
    kind: Kind, figures: Mapping[str, Any], *, alpha: float, power: float
) -> float | None:
    """Sessions a test fixed in advance needs for ``power`` at ``alpha``, if the rates were
    those the report measured (``figures``: one experiment of results.json); None when the
    report measured no difference.

    A/B: two-proportion test on clicked lists with Cohen's h of the two CTRs, sessions = both
    arms; interleaving: sign test on the lists with a winner (one-sample, Cohen's h of the
    better team's share of them against 1/2), divided by the share of lists with a winner.
    Normal approximations (``statsmodels`` ``NormalIndPower``, ``proportion_effectsize``).
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if kind == "ab":
        variants = figures["ab"]["variants"]
        rates = [variants[v]["ctr"]["value"] for v in VARIANTS]
        if None in rates or rates[0] == rates[1]:
            return None
        h = abs(proportion_effectsize(rates[1], rates[0]))
        per_arm = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0)
        return 2 * float(per_arm)
    found = figures["interleaving"]["per_list"]
    wins, losses, units = int(found["wins"]), int(found["losses"]), int(found["units"])
    if wins == losses:
        return None
    share = max(wins, losses) / (wins + losses)
    h = abs(proportion_effectsize(share, 0.5))
    lists = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=0.0)
    return float(lists) * units / (wins + losses)


def _report(home: Path, out: Path, env: Mapping[str, str]) -> dict[str, Any] | None:
    """``newsrec experiments report`` over the home: its experiments, or None if it failed."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "recommender",
            "experiments",
            "report",
            "--home",
            str(home),
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    try:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"newsrec experiments report failed ({done.returncode}): {done.stderr[-500:]}")
        return None
    experiments: dict[str, Any] = results.get("experiments", {})
    return experiments


def run_kind(
    kind: Kind, template: Path, sources: Sequence[str], plan: Plan, out: Path
) -> KindResult:
    """Serve a copy of ``template`` under a ``kind`` experiment and run every seed against it."""
    folder = out / kind
    shutil.rmtree(folder, ignore_errors=True)
    home = folder / "home"
    shutil.copytree(template, home)
    name = f"simulation-{kind}"
    experiments = folder / "experiments.toml"
    experiments.write_text(experiments_toml(kind, name, plan.overlay), encoding="utf-8")
    key = secrets.token_hex(16)
    signing = secrets.token_hex(32)
    env = {
        "NEWSREC_API_KEY": key,
        "NEWSREC_EXPERIMENTS_FILE": str(experiments),
        "NEWSREC_RECOMMENDATION_SECRET": signing,
    }
    if plan.freeze_popularity:
        # The home's reads are older than today's simulated clicks: folding those in would
        # re-rank the lists as a run goes on (popularity decays from the newest event), so
        # the true effect would drift between seeds and between the two kinds.
        env["NEWSREC_POPULARITY_REFRESH_SECONDS"] = "1e9"
    ids = RecommendationIds(signing.encode(), timedelta(days=30))
    design = Design(name, kind, VARIANTS)
    server = Server(
        ["-m", "recommender", "serve", "--home", str(home)], folder / "server.log", "/readyz", env
    )
    try:
        server.wait_ready(timeout=300)
        with (
            httpx.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client,
            # Read beside the server (SQLite WAL); opened for writing only so that the feedback
            # tables exist before the server's first write creates them.
            FeedbackStore(home_settings(home).catalogue_path) as store,
        ):
            started = time.perf_counter()
            seeds, stopped_at = _run_seeds(client, store, design, sources, plan, ids)
            seconds = time.perf_counter() - started
    finally:
        server.stop()
    report_env = {k: v for k, v in env.items() if k != "NEWSREC_API_KEY"}
    report = _report(home, folder / "report", _environ(report_env))
    figures = (report or {}).get(name)
    return KindResult(
        kind=kind,
        experiment=name,
        seeds=seeds,
        median=_median([s.crossed_at for s in seeds]),
        half_power=half_power_point(
            [s.history for s in seeds], checkpoints(plan.first, plan.cap), plan.better, plan.alpha
        ),
        stopped_at=stopped_at,
        report_verdict={n: found["verdict"] for n, found in (report or {}).items()},
        planned={
            f"power_{power:g}": planned_sessions(kind, figures, alpha=plan.alpha, power=power)
            if figures is not None
            else None
            for power in (0.5, 0.8)
        },
        sessions_per_second=sum(s.sessions for s in seeds) / seconds,
    )


def _environ(extra: Mapping[str, str]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("NEWSREC_")}
    environ.update(extra)
    return environ


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _shown(value: float | None, cap: int) -> str:
    return f"> {cap}" if value is None else f"{value:g}"


def _quantile(values: Sequence[int | None], q: float) -> int | None:
    """The lower ``q`` quantile with None above every number."""
    ordered = sorted(values, key=lambda v: math.inf if v is None else v)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def _median(values: Sequence[int | None]) -> float | None:
    """The median with None (never crossed) above every number; None if the median is one."""
    ordered = sorted(values, key=lambda v: math.inf if v is None else v)
    middle = len(ordered) // 2
    pair = (
        ordered[middle - 1 : middle + 1] if len(ordered) % 2 == 0 else ordered[middle : middle + 1]
    )
    if any(v is None for v in pair):
        return None
    return statistics.mean(v for v in pair if v is not None)


def simulate(plan: Plan, out: Path, kinds: Sequence[Kind] = KINDS) -> dict[str, Any]:
    """Build the home, run every kind, write ``out/simulation.json`` and return its content."""
    out.mkdir(parents=True, exist_ok=True)
    template = out / "template"
    sources = build_home(plan.data, template)
    results = {kind: run_kind(kind, template, sources, plan, out) for kind in kinds}
    medians: dict[str, float | None] = {kind: r.median for kind, r in results.items()}
    half: dict[str, float | None] = {kind: r.half_power for kind, r in results.items()}
    summary: dict[str, Any] = {
        "command": " ".join([sys.executable, "-m", "evaluation.simulation", *sys.argv[1:]]),
        "cpu": _model_name(),
        "cores": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "plan": {
            **asdict(plan),
            "data": str(plan.data),
            "overlay": dict(plan.overlay),
            "checkpoints": checkpoints(plan.first, plan.cap),
        },
        "articles": len(sources),
        "kinds": {kind: asdict(r) for kind, r in results.items()},
        "medians": medians,
        "ratio_ab_to_interleaving": _ratio(medians),
        "half_power": half,
        "half_power_ratio_ab_to_interleaving": _ratio(half),
        "planned_ratio_ab_to_interleaving": _ratio(
            {kind: r.planned["power_0.8"] for kind, r in results.items()}
        ),
    }
    path = out / "simulation.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return summary


def _ratio(by_kind: Mapping[str, float | None]) -> float | None:
    ab, interleaving = by_kind.get("ab"), by_kind.get("interleaving")
    return ab / interleaving if ab is not None and interleaving is not None else None


def _model_name() -> str:
    """The CPU model as ``lscpu`` names it (``/proc/cpuinfo``'s where lscpu is missing)."""
    for line in lscpu():
        name, _, value = line.partition(":")
        if name.strip() == "Model name":
            return value.strip()
    return str(machine_facts()["cpu"])


def _overlay(values: Sequence[str]) -> dict[str, float]:
    overlay = {}
    for value in values:
        key, sep, number = value.partition("=")
        if not sep:
            raise SystemExit(f"--overlay {value!r}: expected KEY=VALUE, e.g. w_pop=0")
        try:
            overlay[key.strip()] = float(number)
        except ValueError:
            raise SystemExit(f"--overlay {value!r}: {number!r} is not a number") from None
    return overlay


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulation from the command line; prints the medians and their ratio."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.simulation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=SAMPLE, help="articles to serve")
    parser.add_argument("--out", type=Path, required=True, help="work and output folder")
    parser.add_argument("--overlay", action="append", default=[], help="B's weight, KEY=VALUE")
    parser.add_argument("--better", choices=VARIANTS, default="B", help="the true better variant")
    parser.add_argument("--effect", type=float, default=_DEFAULT_MODEL.effect)
    parser.add_argument("--a0", type=float, default=_DEFAULT_MODEL.a0, help="base attractiveness")
    parser.add_argument(
        "--eta", type=float, default=_DEFAULT_MODEL.eta, help="examination exponent"
    )
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=50, help="first checkpoint (sessions)")
    parser.add_argument("--cap", type=int, default=12_800, help="last checkpoint (sessions)")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--kind", choices=KINDS, action="append", help="only these kinds")
    parser.add_argument(
        "--live-popularity",
        action="store_true",
        help="let the simulated clicks feed popularity and co-reads as the run goes",
    )
    args = parser.parse_args(argv)
    try:
        plan = Plan(
            data=args.data,
            overlay=_overlay(args.overlay) or {"w_pop": 0.0},
            better=args.better,
            model=ClickModel(a0=args.a0, effect=args.effect, eta=args.eta),
            seeds=args.seeds,
            first=args.first,
            cap=args.cap,
            alpha=args.alpha,
            freeze_popularity=not args.live_popularity,
        )
    except ValueError as exc:
        parser.error(str(exc))
    summary = simulate(plan, args.out, tuple(args.kind or KINDS))
    print(f"lscpu model name: {summary['cpu']} ({summary['cores']} cores)")
    print(f"command: {summary['command']}")
    print(
        "| kind | median first crossing (quartiles) | half-power point | seeds crossed | "
        "planned for 50% / 80% power | true CTR A | true CTR B | sessions/s | "
        "report over all sessions |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, found in summary["kinds"].items():
        crossed = [s["crossed_at"] for s in found["seeds"]]
        ctr = {v: statistics.mean(s["true_ctr"][v] for s in found["seeds"]) for v in VARIANTS}
        verdict = found["report_verdict"].get(found["experiment"], {})
        stop = found["stopped_at"]
        print(
            f"| {kind} | {_shown(found['median'], stop)} ({_shown(_quantile(crossed, 0.25), stop)}"
            f" - {_shown(_quantile(crossed, 0.75), stop)}) | {_shown(found['half_power'], stop)} "
            f"| {sum(c is not None for c in crossed)} of {len(crossed)} by {stop} | "
            f"{_p(found['planned']['power_0.5'])} / {_p(found['planned']['power_0.8'])} | "
            f"{ctr['A']:.4f} | {ctr['B']:.4f} | {found['sessions_per_second']:.0f} | "
            f"{verdict.get('better')} (p = {_p(verdict.get('p_value'))}) |"
        )
    print(
        f"A/B : interleaving, median first crossing {_p(summary['ratio_ab_to_interleaving'])}, "
        f"half-power point {_p(summary['half_power_ratio_ab_to_interleaving'])}, planned for "
        f"80% power {_p(summary['planned_ratio_ab_to_interleaving'])}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
