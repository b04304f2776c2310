"""What the benchmark ran on: CPU, cores, memory, load, and the versions that matter; and how
to run a measurement as if on a CPU with AVX2 only.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

__all__ = ["avx2_only_env", "lscpu", "machine_facts"]

_SHIM = Path(__file__).with_name("avx2_only.c")

_PACKAGES = (
    "torch",
    "sentence-transformers",
    "openvino",
    "nncf",
    "faiss-cpu",
    "numpy",
    "fastapi",
    "uvicorn",
    "scikit-learn",
    "qdrant-client",
    "usearch",
)
_FLAGS = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


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
        "lscpu": lscpu(),
    }


def lscpu() -> list[str]:
    """The lines of ``lscpu``, less its vulnerability report (empty where it is missing)."""
    if shutil.which("lscpu") is None:
        return []
    done = subprocess.run(["lscpu"], capture_output=True, text=True, check=False)
    lines = (" ".join(line.split()) for line in done.stdout.splitlines())
    return [line for line in lines if line and not line.startswith("Vulnerability")]


def avx2_only_env(work: Path) -> dict[str, str]:
    """Environment variables that make a child process run as on a CPU with AVX2 only.

    Each library's own limit (oneDNN and OpenVINO: ``ONEDNN_MAX_CPU_ISA``; MKL:
    ``MKL_ENABLE_INSTRUCTIONS``; torch: ``ATEN_CPU_CAPABILITY``) leaves some kernels, such as
    OpenVINO's MLAS matrix products and layer norms, on AVX-512. So ``avx2_only.c`` is also
    preloaded: it makes CPUID fault and answers it with AVX-512, AMX and VNNI cleared, for every
    library. Compiled with ``cc`` into ``work``.

    Raises:
        RuntimeError: there is no C compiler, or this CPU or kernel cannot fault on CPUID.
    """
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("the AVX2-only run needs a C compiler (cc)")
    work.mkdir(parents=True, exist_ok=True)
    shim = work / "avx2_only.so"
    tmp = work / f".tmp-avx2_only-{os.getpid()}.so"
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(tmp), str(_SHIM)], check=True)
    os.replace(tmp, shim)
    env = {
        "LD_PRELOAD": str(shim),
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ATEN_CPU_CAPABILITY": "avx2",
    }
    probe = subprocess.run(["true"], env={**os.environ, **env}, check=False)
    if probe.returncode != 0:
        raise RuntimeError("this CPU or kernel cannot fault on CPUID: no AVX2-only run")
    return env
