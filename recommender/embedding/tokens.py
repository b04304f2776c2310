"""Tokenising for the OpenVINO path: the model's own ``tokenizer.json`` run by ``tokenizers``.

transformers' fast tokenizers are this same Rust tokenizer behind a Python layer, but importing
transformers imports torch, seconds of an ingest's start that the exported model never needs.
Truncation and padding are set here as ``AutoTokenizer(..., padding=True,
truncation="longest_first", max_length=..., pad_to_multiple_of=...)`` sets them, so the ids are
the same (``tests/recommender/embedding/test_embedding_tokens.py`` compares them). A model
without a ``tokenizer.json`` (only a slow, Python tokenizer) is tokenised by transformers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Tokenise", "load_tokenizer"]

#: Texts in, the model's inputs out (``input_ids``, ``attention_mask``, ``token_type_ids``).
Tokenise = Callable[[Sequence[str]], dict[str, npt.NDArray[np.int64]]]


def _pad_token(folder: Path) -> str:
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        try:
            value = json.loads((folder / name).read_text(encoding="utf-8")).get("pad_token")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, dict):  # {"content": "[PAD]", ...} in newer files
            value = value.get("content")
        if isinstance(value, str):
            return value
    return "[PAD]"


def load_tokenizer(model_path: str, max_length: int, multiple_of: int | None) -> Tokenise:
    """The tokenizer of the model at ``model_path``: batches padded to their longest text
    (rounded up to ``multiple_of``), each text cut to ``max_length`` tokens."""
    folder = Path(model_path)
    if (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        pad = _pad_token(folder)
        pad_id = tokenizer.token_to_id(pad)
        if pad_id is not None:
            tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
            tokenizer.enable_padding(pad_id=pad_id, pad_token=pad, pad_to_multiple_of=multiple_of)

            def tokenise(texts: Sequence[str]) -> dict[str, npt.NDArray[np.int64]]:
                encoded = tokenizer.encode_batch(list(texts))
                return {
                    "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
                }

            return tokenise
    return _transformers_tokenizer(model_path, max_length, multiple_of)


def _transformers_tokenizer(model_path: str, max_length: int, multiple_of: int | None) -> Tokenise:
    from transformers import AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(model_path)

    def tokenise(texts: Sequence[str]) -> dict[str, npt.NDArray[np.int64]]:
        tokens = tokenizer(
            list(texts),
            padding=True,
            truncation="longest_first",
            max_length=max_length,
            pad_to_multiple_of=multiple_of,
            return_tensors="np",
        )
        return {name: np.asarray(tokens[name], dtype=np.int64) for name in tokens}

    return tokenise
