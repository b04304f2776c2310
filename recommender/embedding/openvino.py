"""Embedding with OpenVINO: the sentence-transformers model exported once, then run in bf16,
int8 or fp32 (:mod:`recommender.embedding.precision` chooses).

The export traces the whole sentence-transformers pipeline (transformer, pooling, normalising)
from the weights already installed, so nothing is downloaded; it runs on first use and is kept
in a cache directory, one folder per source model, checked like every file newsrec writes:

    <cache>/openvino/<key>/model.xml, model.bin   the OpenVINO graph and weights (fp32)
    <cache>/openvino/<key>/export.json            format version, source, sha256 of each file
    <cache>/openvino/<key>-int8-<calib>/...       the same graph quantised to int8 by NNCF

``<key>`` digests the source model's files (names, sizes, modification times), the OpenVINO
version and the export format, so a changed model or runtime gets a fresh export; ``<calib>``
digests the quantisation recipe, the NNCF version and the calibration text
(:mod:`recommender.embedding.quantise`). bf16 runs the fp32 graph with a bf16 inference hint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recommender.embedding.embedder import unit_rows
from recommender.embedding.model_weights import (
    ModelUnavailable,
    default_cache_dir,
    resolve_model_path,
)
from recommender.embedding.precision import Precision, resolve_precision
from recommender.embedding.quiet import quiet_model_libraries
from recommender.embedding.tokens import load_tokenizer
from recommender.settings import BUNDLED_MODEL

__all__ = [
    "EXPORT_FORMAT",
    "OpenVINOEmbedder",
    "ensure_export",
    "export_dir",
    "verified_export",
]

#: Version of the export folder's layout; a folder of another version is exported again.
EXPORT_FORMAT = 1
_MANIFEST = "export.json"
_GRAPH_FILES = ("model.xml", "model.bin")
_HASH_CHUNK = 1 << 20
# Inputs are padded to a multiple of this many tokens (the padding is masked out of the
# pooling): OpenVINO picks its kernels again at the first run of every input shape, which made
# the first write of each new length slow; buckets keep the shapes few enough for a worker to
# run them all at start (service/warmup.py).
_SHAPE_STEP = 32


def _source_key(model_path: Path) -> str:
    import openvino

    digest = hashlib.sha256(f"format {EXPORT_FORMAT}|openvino {openvino.__version__}".encode())
    files = sorted(p for p in model_path.rglob("*") if p.is_file()) if model_path.is_dir() else []
    if not files:
        raise ModelUnavailable(f"model path {model_path} holds no files to export")
    for file in files:
        stat = file.stat()
        digest.update(f"|{file.relative_to(model_path)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:24]


def export_dir(model: str, cache_dir: Path) -> Path:
    """The folder that holds (or will hold) the export of ``model`` under ``cache_dir``."""
    return cache_dir / "openvino" / _source_key(Path(resolve_model_path(model, cache_dir)))


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verified_export(folder: Path) -> dict[str, Any] | None:
    """The manifest of a complete, undamaged export in ``folder``, else None."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format_version") != EXPORT_FORMAT:
        return None
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(_GRAPH_FILES):
        return None
    for name, digest in files.items():
        file = folder / name
        if not file.is_file() or _sha256(file) != digest:
            return None
    return manifest


def _trace(model_path: str, folder: Path) -> dict[str, Any]:
    """Export the sentence-transformers model at ``model_path`` into ``folder``."""
    import openvino as ov
    import torch
    from sentence_transformers import SentenceTransformer

    with quiet_model_libraries():
        st = SentenceTransformer(model_path, device="cpu").eval()
    names = [n for n in st.tokenizer.model_input_names if n in _KNOWN_INPUTS]
    if "input_ids" not in names or "attention_mask" not in names:
        raise ModelUnavailable(
            f"model {model_path!r}: tokenizer inputs {st.tokenizer.model_input_names} are not "
            "input_ids/attention_mask; use NEWSREC_EMBED_BACKEND=torch"
        )
    example = dict(
        st.tokenizer(["an example", "a longer example text"], padding=True, return_tensors="pt")
    )
    example = {name: example[name] for name in names}

    class Pipeline(torch.nn.Module):
        """The whole sentence-transformers forward pass, on named token tensors."""

        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                features["token_type_ids"] = token_type_ids
            out: torch.Tensor = self.st(features)["sentence_embedding"]
            return out

    with torch.inference_mode(), quiet_model_libraries():
        graph = ov.convert_model(Pipeline().eval(), example_input=example)
    ov.save_model(graph, folder / "model.xml", compress_to_fp16=False)
    dim = st.get_embedding_dimension()
    return {
        "format_version": EXPORT_FORMAT,
        "source": model_path,
        "openvino_version": ov.__version__,
        "inputs": names,
        "dim": int(dim) if dim is not None else None,
        "files": {name: _sha256(folder / name) for name in _GRAPH_FILES},
    }


_KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def ensure_export(
    model: str, cache_dir: Path, precision: Precision = "fp32"
) -> tuple[Path, dict[str, Any]]:
    """The verified export of ``model`` (int8: quantised from the fp32 one), made now if missing.

    Written to a temporary folder and renamed into place, so a crash or a second process
    exporting at the same time never leaves a half-written export that looks complete.

    Raises:
        ModelUnavailable: the model cannot be exported or quantised (the message says why).
    """
    model_path = resolve_model_path(model, cache_dir)
    if precision == "int8":
        from recommender.embedding.quantise import calibration_digest, quantise_export

        try:
            digest = calibration_digest()
        except ImportError as exc:
            raise ModelUnavailable("int8 embedding needs the package nncf") from exc
        source_dir = export_dir(model, cache_dir)
        folder = source_dir.with_name(f"{source_dir.name}-int8-{digest}")

        def build(tmp: Path) -> dict[str, Any]:
            # The fp32 source is verified (and exported) only when the int8 graph must be made:
            # a finished int8 export holds everything it needs, and hashing the source's
            # weights would cost every load a read of them.
            source, source_manifest = ensure_export(model, cache_dir)
            window = min(_model_window(Path(model_path)), 512)
            extra = quantise_export(source, source_manifest["inputs"], model_path, window, tmp)
            manifest = {**source_manifest, **extra}
            manifest["files"] = {name: _sha256(tmp / name) for name in _GRAPH_FILES}
            return manifest

    else:
        folder = export_dir(model, cache_dir)

        def build(tmp: Path) -> dict[str, Any]:
            return _trace(model_path, tmp)

    manifest = verified_export(folder)
    if manifest is not None:
        return folder, manifest
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
    try:
        try:
            manifest = build(tmp)
        except ModelUnavailable:
            raise
        except Exception as exc:  # tracing and quantising fail in many library-specific ways
            raise ModelUnavailable(
                f"cannot export model {model!r} to OpenVINO {precision}: {exc}"
            ) from exc
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if folder.exists():  # a damaged export, or one another process just finished
            finished = verified_export(folder)
            if finished is not None:
                return folder, finished
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.rename(tmp, folder)
        except OSError:
            # Another process renamed its export into place between our check and rename.
            verified = verified_export(folder)
            if verified is None:
                raise
            return folder, verified
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder, manifest


class OpenVINOEmbedder:
    """The model's OpenVINO export on the CPU, in the precision the settings or the CPU choose."""

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        *,
        max_seq_length: int = 256,
        batch_size: int = 32,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        """Load (exporting on first use) ``model`` for OpenVINO CPU inference.

        ``precision`` is ``auto`` (see :func:`~recommender.embedding.precision.choose_precision`),
        ``fp32``, ``bf16`` or ``int8``.

        Raises:
            ModelUnavailable: OpenVINO is missing or the model cannot be exported.
            ValueError: ``precision`` is not one of those.
        """
        try:
            import openvino as ov
        except ImportError as exc:
            raise ModelUnavailable("the OpenVINO backend needs the package openvino") from exc

        self._name = model
        self.cache_dir = cache_dir or default_cache_dir()
        chosen = resolve_precision(precision)
        graph: Precision = "int8" if chosen == "int8" else "fp32"  # bf16 runs the fp32 graph
        folder, manifest = ensure_export(model, self.cache_dir, graph)
        path = resolve_model_path(model, self.cache_dir)
        window = _model_window(Path(path))
        self._max_length = min(max_seq_length, window)
        self._tokenise = load_tokenizer(
            path,
            self._max_length,
            _SHAPE_STEP if self._max_length % _SHAPE_STEP == 0 else None,
        )
        self._inputs: list[str] = list(manifest["inputs"])
        # Two requests of up to 16 texts in flight (one per stream and core) beat one request
        # of 32 over both cores: measured 4.2x vs 2.9x fp32's speed on Reuters stories, and
        # steadier on a busy machine, where a two-thread request keeps waiting for its slower half.
        self._batch_size = max(1, min(batch_size, 16))
        core = ov.Core()
        self._compiled: Any = core.compile_model(
            core.read_model(folder / "model.xml"),
            "CPU",
            {
                # The int8 graph's quantised products run in int8 whatever the hint.
                "INFERENCE_PRECISION_HINT": "bf16" if chosen == "bf16" else "f32",
                "PERFORMANCE_HINT": "THROUGHPUT",
            },
        )
        runs_in = str(self._compiled.get_property("INFERENCE_PRECISION_HINT"))
        if chosen == "int8":
            self._backend = "openvino-int8"
        else:
            self._backend = "openvino-bf16" if "bf" in runs_in.lower() else "openvino-fp32"
        dim = manifest.get("dim")
        if not isinstance(dim, int) or dim < 1:
            raise ModelUnavailable(f"{folder / _MANIFEST}: no embedding dimension recorded")
        self._dim = dim
        self._queue: Any = ov.AsyncInferQueue(
            self._compiled, int(self._compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        )
        self._queue.set_callback(_store_result)
        # One queue of requests per model: encode calls take turns.
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def backend(self) -> str:
        return self._backend

    def kernels(self) -> dict[str, int]:
        """How many matrix-product nodes ran each CPU kernel (e.g. ``brgemm_avx512_i8``).

        Kernels are picked at the first inference of each shape, so call this after encoding;
        it shows which instruction set and precision the products really ran in.
        """
        counts: dict[str, int] = {}
        for node in self._compiled.get_runtime_model().get_ops():
            info = node.get_rt_info()
            if info["layerType"].astype(str) in {"FullyConnected", "MatMul"}:
                kernel = info["primitiveType"].astype(str)
                counts[kernel] = counts.get(kernel, 0) + 1
        return counts

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed ``texts`` in batches of similar length; returns unit-length float32 rows."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        # Longest first, as sentence-transformers does: batches of similar length pad little.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches = range(0, len(texts), self._batch_size)
        if progress:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        with self._lock:
            for start in batches:
                rows = order[start : start + self._batch_size]
                tokens = self._tokenise([texts[i] for i in rows])
                feed = {name: tokens[name] for name in self._inputs}
                self._queue.start_async(feed, (out, rows))
            self._queue.wait_all()
        return unit_rows(out)


def _store_result(request: Any, target: tuple[np.ndarray, np.ndarray]) -> None:
    out, rows = target
    out[rows] = request.get_output_tensor(0).data


def _model_window(path: Path) -> int:
    """The model's own input limit (sentence_bert_config.json), as sentence-transformers uses."""
    try:
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 512
