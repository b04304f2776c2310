"""``auto`` chooses the embedding precision from the CPU's flags; a setting can force any."""

from __future__ import annotations

import pytest

from recommender.embedding import precision as precision_module
from recommender.embedding.precision import choose_precision, cpu_flags, resolve_precision

# Flag sets as /proc/cpuinfo shows them, cut to what the choice reads.
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16"})
EPYC_GENOA = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"})
CASCADE_LAKE = frozenset({"avx2", "avx512f", "avx512_vnni"})
EPYC_MILAN = frozenset({"avx2", "fma"})
SKYLAKE_SERVER = frozenset({"avx2", "avx512f", "avx512bw"})


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (SAPPHIRE_RAPIDS, "bf16"),
        (EPYC_GENOA, "int8"),
        (CASCADE_LAKE, "int8"),
        (EPYC_MILAN, "fp32"),
        (SKYLAKE_SERVER, "fp32"),
        (frozenset(), "fp32"),
    ],
)
def test_auto_chooses_by_cpu_flags(flags: frozenset[str], expected: str) -> None:
    assert choose_precision(flags) == expected


@pytest.mark.parametrize("forced", ["fp32", "bf16", "int8"])
def test_a_named_precision_is_used_whatever_the_cpu(forced: str) -> None:
    assert resolve_precision(forced) == forced


def test_auto_resolves_to_the_choice_for_this_cpu() -> None:
    assert resolve_precision("auto") == choose_precision(cpu_flags())


def test_an_unknown_precision_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'fp8'"):
        resolve_precision("fp8")


def test_an_avx2_isa_limit_hides_avx512_and_amx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    precision_module.cpu_flags.cache_clear()
    try:
        flags = cpu_flags()
        assert not any(f.startswith(("avx512", "amx")) for f in flags)
        assert choose_precision(flags) == "fp32"
    finally:
        precision_module.cpu_flags.cache_clear()
