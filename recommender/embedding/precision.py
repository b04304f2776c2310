"""Which numeric precision the embedding model runs in, chosen from the CPU's features.

``embed_precision = "auto"`` resolves by :func:`choose_precision`, a pure function of the CPU's
flags, so the rule is testable on any machine:

- ``amx_bf16`` (Intel Xeon with AMX): ``bf16``, the path measured fastest there;
- ``avx512_vnni`` without AMX: ``int8``, the model quantised by NNCF (VNNI runs int8 dot
  products in one instruction);
- anything else (AVX2 without VNNI, say): ``fp32``; int8 without VNNI was measured no faster
  than fp32 (BENCHMARKS.md, "Embedding on CPUs without AMX").

:func:`cpu_flags` reads the flags from ``/proc/cpuinfo`` and honours ``ONEDNN_MAX_CPU_ISA``,
the limit the OpenVINO CPU runtime also obeys, so an ISA-restricted run chooses as that CPU would.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = ["PRECISIONS", "Precision", "choose_precision", "cpu_flags", "resolve_precision"]

Precision = Literal["fp32", "bf16", "int8"]
#: Every precision a setting may force; ``auto`` resolves to one of them.
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16", "int8")

# Flags each ONEDNN_MAX_CPU_ISA value leaves out (it caps the instruction set used).
_NO_AVX512 = ("avx512", "amx", "avx_vnni")
_ISA_DROPS: dict[str, tuple[str, ...]] = {
    "SSE41": (*_NO_AVX512, "avx2"),
    "AVX": (*_NO_AVX512, "avx2"),
    "AVX2": _NO_AVX512,
    "AVX2_VNNI": ("avx512", "amx"),
    "AVX2_VNNI_2": ("avx512", "amx"),
    "AVX512_CORE": ("avx512_vnni", "avx512_bf16", "amx"),
    "AVX512_CORE_VNNI": ("avx512_bf16", "amx"),
    "AVX512_CORE_BF16": ("amx",),
}


def choose_precision(flags: frozenset[str]) -> Precision:
    """The fastest precision measured for a CPU with these ``/proc/cpuinfo`` flags.

    ``bf16`` with AMX, ``int8`` with AVX512-VNNI, else ``fp32`` (see the module docstring).
    """
    if "amx_bf16" in flags:
        return "bf16"
    if "avx512_vnni" in flags:
        return "int8"
    return "fp32"


@cache
def cpu_flags() -> frozenset[str]:
    """This CPU's feature flags, less those ``ONEDNN_MAX_CPU_ISA`` rules out (empty off Linux)."""
    if sys.platform != "linux":
        return frozenset()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    drops = _ISA_DROPS.get(limit, ())
    return frozenset(f for f in flags if not f.startswith(drops))


def resolve_precision(setting: str) -> Precision:
    """``setting`` itself if it names a precision, else (``auto``) :func:`choose_precision`.

    Raises:
        ValueError: ``setting`` is neither ``auto`` nor one of :data:`PRECISIONS`.
    """
    if setting == "auto":
        return choose_precision(cpu_flags())
    for precision in PRECISIONS:
        if setting == precision:
            return precision
    raise ValueError(f"embed_precision {setting!r}: expected auto, {', '.join(PRECISIONS)}")
