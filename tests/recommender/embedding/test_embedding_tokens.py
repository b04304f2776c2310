"""The OpenVINO path's tokenizer (``tokenizers`` on the model's tokenizer.json) gives the ids
transformers gives, so dropping transformers from the load changes no vector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.embedding.model_weights import resolve_model_path
from recommender.embedding.tokens import _transformers_tokenizer, load_tokenizer
from recommender.ingestion.articles import embedding_text
from recommender.settings import BUNDLED_MODEL

_SAMPLE = Path(__file__).resolve().parents[3] / "recommender" / "sample" / "articles.jsonl"


def _texts() -> list[str]:
    rows = [json.loads(line) for line in _SAMPLE.read_text(encoding="utf-8").splitlines()]
    texts = [embedding_text(r["title"], r.get("body", "")) for r in rows]
    texts += [
        "",
        " ",
        "Zoë Ångström's café in Zürich — naïve façade, 34°C",
        "東京の株価 and 北京 talks; emoji 🚢🌧️ too",
        "word " * 600,  # far past the window
        "UPPER lower MiXeD\ttabs\nnewlines",
        "U.S. Federal Reserve's $1.5bn (£1.2bn) rate-cut: 0.25%",
    ]
    return texts


@pytest.mark.parametrize(("max_length", "multiple_of"), [(256, 32), (128, 32), (100, None)])
def test_the_ids_are_those_of_transformers(max_length: int, multiple_of: int | None) -> None:
    path = resolve_model_path(BUNDLED_MODEL)
    ours = load_tokenizer(path, max_length, multiple_of)
    reference = _transformers_tokenizer(path, max_length, multiple_of)
    texts = _texts()
    for start in range(0, len(texts), 16):  # batches, as the embedder sends them
        batch = texts[start : start + 16]
        got, want = ours(batch), reference(batch)
        assert set(want) <= set(got)
        for name in want:
            assert got[name].dtype == np.int64
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert ours(["word " * 600])["input_ids"].shape[1] <= max_length + (multiple_of or 0)


def test_a_model_without_tokenizer_json_falls_back_to_transformers(tmp_path: Path) -> None:
    source = Path(resolve_model_path(BUNDLED_MODEL))
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    slow = load_tokenizer(str(tmp_path), 64, None)
    fast = load_tokenizer(str(source), 64, None)
    np.testing.assert_array_equal(
        slow(["Harbour ferry"])["input_ids"], fast(["Harbour ferry"])["input_ids"]
    )
