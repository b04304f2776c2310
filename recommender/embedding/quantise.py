"""Post-training int8 quantisation of the model's OpenVINO export, with NNCF.

The fp32 export is quantised once, offline, and cached beside it (see
:func:`recommender.embedding.openvino.ensure_export`). Calibration uses only text newsrec ships:
the bundled sample articles (``recommender/sample/articles.jsonl``), each as a headline, as a
headline and lead, and as the whole story, so that activation ranges cover both short and
full-length inputs. No evaluation text is ever seen.

NNCF's transformer preset keeps the parts that quantise badly (softmax, layer norms, the
residual adds) in floating point and quantises the matrix products; SmoothQuant and bias
correction are applied as NNCF does by default for that preset.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from recommender.embedding.model_weights import ModelUnavailable
from recommender.embedding.quiet import quiet_model_libraries
from recommender.ingestion.articles import embedding_text

__all__ = ["QUANTISE_FORMAT", "calibration_digest", "calibration_texts", "quantise_export"]

#: Version of the quantisation recipe; a change makes every int8 export be built again.
QUANTISE_FORMAT = 1
_BATCH = 4
_LEAD_CHARS = 300


def calibration_texts() -> list[str]:
    """Headline, headline + lead and whole story of every bundled sample article."""
    sample = resources.files("recommender") / "sample" / "articles.jsonl"
    texts: list[str] = []
    for line in sample.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        article = json.loads(line)
        title, body = str(article["title"]), str(article.get("body") or "")
        texts += [title, embedding_text(title, body[:_LEAD_CHARS]), embedding_text(title, body)]
    return texts


def calibration_digest() -> str:
    """A digest of the recipe and its calibration text: part of the int8 export's cache key."""
    # The installed version from its metadata: importing nncf imports torch, seconds that a
    # load of a finished int8 export never needs.
    try:
        version = importlib.metadata.version("nncf")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ImportError("nncf is not installed") from exc
    digest = hashlib.sha256(f"recipe {QUANTISE_FORMAT}|nncf {version}".encode())
    for text in calibration_texts():
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:16]


def quantise_export(
    source: Path, inputs: list[str], tokenizer_path: str, max_length: int, target: Path
) -> dict[str, Any]:
    """Quantise the OpenVINO graph in ``source`` to int8 and save it as ``target/model.xml``.

    Returns what the export manifest records about the quantisation.

    Raises:
        ModelUnavailable: ``nncf`` is not installed.
    """
    try:
        import nncf
    except ImportError as exc:
        raise ModelUnavailable("int8 embedding needs the package nncf (pip install it)") from exc
    import openvino as ov
    from transformers import AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(tokenizer_path)
    texts = calibration_texts()
    batches = []
    for start in range(0, len(texts), _BATCH):
        tokens = tokenizer(
            texts[start : start + _BATCH],
            padding=True,
            truncation="longest_first",
            max_length=max_length,
            return_tensors="np",
        )
        batches.append({name: tokens[name].astype(np.int64) for name in inputs})
    graph = ov.Core().read_model(source / "model.xml")
    with quiet_model_libraries():  # NNCF's progress bars and notices
        quantised = nncf.quantize(
            graph,
            nncf.Dataset(batches),
            model_type=nncf.ModelType.TRANSFORMER,
            subset_size=len(batches),
        )
    ov.save_model(quantised, target / "model.xml", compress_to_fp16=False)
    return {
        "precision": "int8",
        "nncf_version": nncf.__version__,
        "calibration": {
            "texts": len(texts),
            "source": "recommender/sample/articles.jsonl",
            "digest": calibration_digest(),
        },
    }
