"""Evaluation datasets: any corpus newsrec ingests, MIND reading logs, and the labels to judge by.

A dataset keeps two views of every article apart: the fields the engine may see (label fields
removed) and the labels it is judged by. The fingerprint names the exact input bytes and the
label fields, so a results file says what it was measured on.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from recommender.ingestion.articles import InvalidArticle, article_from_mapping
from recommender.ingestion.files import RowProblem, UnreadableFile, detect_format, read_rows
from recommender.ingestion.ingest import expand_paths
from recommender.ingestion.mind import Impression, is_behaviors_file, read_behaviors

__all__ = [
    "DEFAULT_LABEL_FIELDS",
    "STRIPPED_FIELDS",
    "Dataset",
    "DatasetError",
    "EvalArticle",
    "file_digest",
    "load_dataset",
]

#: Fields that are ground truth somewhere; an evaluation never lets the engine see them.
STRIPPED_FIELDS = ("topics", "places", "people", "orgs", "exchanges", "category", "labels")
#: The fields whose values count as labels unless the caller names others.
DEFAULT_LABEL_FIELDS = ("topics",)


class DatasetError(ValueError):
    """A dataset that cannot be evaluated; the message names the file or field."""


@dataclass(frozen=True, slots=True)
class EvalArticle:
    """One article as the evaluation sees it: what the engine gets, and what it is judged by.

    Attributes:
        id: the article id.
        title: normalised title.
        body: normalised lead/body ("" when none).
        published_at: publish time (UTC) or ``None``.
        labels: values of the label fields (e.g. Reuters topics); empty when unlabelled.
        split: the corpus's own split name (Reuters ``TRAIN``/``TEST``), if any.
        fields: the raw fields handed to ingest, with every label field removed.
    """

    id: str
    title: str
    body: str
    published_at: datetime | None
    labels: frozenset[str]
    split: str | None
    fields: Mapping[str, Any]

    @property
    def published_ts(self) -> float:
        """Publish time in epoch seconds, NaN when unknown."""
        return self.published_at.timestamp() if self.published_at else math.nan


@dataclass(frozen=True)
class Dataset:
    """Articles (in file order, unique ids), optional MIND impressions, and provenance.

    ``behaviors`` are the MIND ``behaviors.tsv`` files the impressions came from: protocols
    hand their reads to the engine through the product's event loader, from these files.
    """

    articles: tuple[EvalArticle, ...]
    impressions: tuple[Impression, ...]
    label_fields: tuple[str, ...]
    files: tuple[dict[str, Any], ...]
    fingerprint: str
    problems: tuple[str, ...] = field(default_factory=tuple)
    behaviors: tuple[Path, ...] = field(default_factory=tuple)
    _by_id: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {a.id: i for i, a in enumerate(self.articles)})

    def position(self, article_id: str) -> int | None:
        """Row of ``article_id`` in :attr:`articles`, or ``None``."""
        return self._by_id.get(article_id)

    @property
    def ids(self) -> list[str]:
        """Article ids in dataset order."""
        return [a.id for a in self.articles]

    def summary(self) -> dict[str, Any]:
        """Counts and provenance for ``results.json``."""
        labelled = sum(1 for a in self.articles if a.labels)
        return {
            "fingerprint": self.fingerprint,
            "files": list(self.files),
            "articles": len(self.articles),
            "labelled_articles": labelled,
            "impressions": len(self.impressions),
            "label_fields": list(self.label_fields),
            "rejected_rows": len(self.problems),
        }


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label_values(value: Any, name: str, source: str) -> set[str]:
    if value is None or value == "":
        return set()
    if isinstance(value, str):
        return {value.strip().lower()} if value.strip() else set()
    if isinstance(value, list | tuple):
        out: set[str] = set()
        for item in value:
            if not isinstance(item, str):
                raise DatasetError(f"{source}: label field {name!r} holds a non-text item")
            if item.strip():
                out.add(item.strip().lower())
        return out
    raise DatasetError(f"{source}: label field {name!r} must be text or a list of text")


def _mind_mapping(label_fields: Sequence[str]) -> dict[str, str]:
    # The MIND reader files a row's category under "section" and its subcategory under "tags";
    # when either is a label they are renamed back, so that stripping label fields removes them
    # from what the engine sees (a subcategory's category is stripped with it: it narrows the
    # candidates to the right group).
    if "subcategory" in label_fields:
        return {"section": "category", "tags": "subcategory"}
    return {"section": "category"} if "category" in label_fields else {}


def _articles_of(
    path: Path, label_fields: Sequence[str], problems: list[str]
) -> Iterable[EvalArticle]:
    kind = detect_format(path)
    strip = {*STRIPPED_FIELDS, *label_fields, "split"}
    mapping = _mind_mapping(label_fields) if kind == "mind" else {}
    for row in read_rows(path, mapping=mapping):
        if isinstance(row, RowProblem):
            problems.append(str(row))
            continue
        where = f"{row.source}:{row.line}"
        labels: set[str] = set()
        for name in label_fields:
            labels |= _label_values(row.fields.get(name), name, where)
        visible = {k: v for k, v in row.fields.items() if k not in strip}
        if kind == "mind" and "category" in label_fields:
            visible.pop("tags", None)  # a MIND subcategory names its category
        try:
            record = article_from_mapping(visible)
        except InvalidArticle as exc:
            problems.append(f"{where}: {exc}")
            continue
        split = row.fields.get("split")
        yield EvalArticle(
            id=record.id,
            title=record.title,
            body=record.body,
            published_at=record.published_at,
            labels=frozenset(labels),
            split=str(split).upper() if isinstance(split, str) and split else None,
            fields=visible,
        )


def load_dataset(
    paths: Sequence[Path], *, label_fields: Sequence[str] = DEFAULT_LABEL_FIELDS
) -> Dataset:
    """Read article files and MIND folders into a :class:`Dataset`.

    Args:
        paths: article files (JSONL(.gz), CSV, Parquet, MIND ``news.tsv``), MIND
            ``behaviors.tsv`` files, or folders holding them.
        label_fields: fields whose values are labels (``topics``, ``category``, ``section``
            ...); they and every other known label field are stripped from what is ingested.

    Raises:
        DatasetError: a path that cannot be read, or no article at all.
    """
    problems: list[str] = []
    articles: dict[str, EvalArticle] = {}
    impressions: list[Impression] = []
    behaviors: list[Path] = []
    files: list[dict[str, Any]] = []
    fields = tuple(label_fields)
    for path in expand_paths(list(paths)):
        if not path.is_file():
            raise DatasetError(f"{path}: no such file")
        files.append({"path": str(path), "bytes": path.stat().st_size, "sha256": file_digest(path)})
        try:
            if is_behaviors_file(path):
                behaviors.append(path)
                for item in read_behaviors(path):
                    if isinstance(item, RowProblem):
                        problems.append(str(item))
                    else:
                        impressions.append(item)
                continue
            for article in _articles_of(path, fields, problems):
                articles[article.id] = article  # a later row with the same id wins, as ingest
        except UnreadableFile as exc:
            raise DatasetError(str(exc)) from exc
    if not articles:
        raise DatasetError("no article could be read from " + ", ".join(map(str, paths)))
    digest = hashlib.sha256()
    for entry in files:
        digest.update(f"{Path(entry['path']).name}:{entry['sha256']}\n".encode())
    digest.update(("labels:" + ",".join(fields)).encode())
    return Dataset(
        articles=tuple(articles.values()),
        impressions=tuple(impressions),
        label_fields=fields,
        files=tuple(files),
        fingerprint=digest.hexdigest()[:16],
        problems=tuple(problems),
        behaviors=tuple(behaviors),
    )
