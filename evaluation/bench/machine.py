"""What the benchmark ran on: CPU, cores, memory, load, and the versions that matter."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

__all__ = ["machine_facts"]

_PACKAGES = (
    "torch",
    "sentence-transformers",
    "openvino",
    "faiss-cpu",
    "numpy",
    "fastapi",
    "uvicorn",
    "scikit-learn",
    "qdrant-client",
    "usearch",
)
_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    present = set(text.split())
    return [flag for flag in _FLAGS if flag in present]


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts() -> dict[str, object]:
    """CPU model and flags, cores, memory, load average and package versions."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "os": platform.platform(),
        "packages": {name: _version(name) for name in _PACKAGES},
    }
