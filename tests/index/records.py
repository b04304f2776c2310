"""Articles and vectors for the catalogue's tests, on either backend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from index import ArticleRecord


def rec(article_id: str, content_hash: str = "aa", **fields: Any) -> ArticleRecord:
    """An article with every field set (``fields`` replace any of them)."""
    values: dict[str, Any] = {
        "id": article_id,
        "title": f"Title {article_id}",
        "body": f"Body of {article_id}.",
        "url": f"https://news.example/{article_id}",
        "section": "world",
        "tags": ("politics",),
        "language": "en",
        "published_at": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "popularity": 3.0,
        "content_hash": content_hash,
    }
    values.update(fields)
    return ArticleRecord(**values)


def vec(*values: float) -> npt.NDArray[np.float32]:
    """A float32 vector of ``values``."""
    return np.array(values, dtype=np.float32)
