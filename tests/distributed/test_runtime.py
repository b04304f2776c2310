"""``--ray``: what its values mean, and one line and exit 2 for every way it can fail."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from recommender.distributed.runtime import RayConnectError, RayTarget, ray_session, ray_target
from tests.conftest import ROOT, free_port
from tests.reliability.support import invoke_newsrec


def test_no_option_means_in_process() -> None:
    assert ray_target(None) is None


@pytest.mark.parametrize(
    "value", ["local", "auto", "ray://head:10001", "127.0.0.1:6379", "[::1]:6379"]
)
def test_local_auto_and_addresses_are_targets(value: str) -> None:
    assert ray_target(value) == RayTarget(value)


@pytest.mark.parametrize(
    "value", ["", " ", "head", "head:", "head:0", "head:65536", "ray://:1", "a b:1", "h/x:1"]
)
def test_other_values_are_refused_naming_the_value(value: str) -> None:
    with pytest.raises(ValueError, match="--ray") as caught:
        ray_target(value)
    assert repr(value) in str(caught.value)


def test_an_unreachable_address_fails_fast_in_one_line() -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RayConnectError, match=f"--ray {address}: cannot reach"):  # noqa: SIM117
        with ray_session(RayTarget(address)):
            pass
    assert time.monotonic() - started < 10


def test_the_cli_turns_an_unreachable_cluster_into_exit_2(tmp_path: Path) -> None:
    result = invoke_newsrec(
        "embed", ROOT / "recommender/sample/articles.jsonl", "--out", tmp_path / "shards",
        "--home", tmp_path / "home", "--ray", f"ray://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach a Ray cluster" in result.stderr
    assert not (tmp_path / "shards").exists()


def test_the_cli_turns_a_bad_value_into_exit_2(tmp_path: Path) -> None:
    result = invoke_newsrec(
        "embed", ROOT / "recommender/sample/articles.jsonl", "--out", tmp_path / "shards",
        "--ray", "",
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().startswith("newsrec: error: --ray ''")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_without_ray_installed_the_option_says_how_to_get_it(tmp_path: Path) -> None:
    # A None entry in sys.modules makes `import ray` raise ImportError, as if not installed.
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from recommender.cli import main\n"
        f"sys.argv = ['newsrec', 'embed', 'x.jsonl', '--out', {str(tmp_path / 's')!r},"
        " '--ray', 'local']\n"
        "main()\n"
    )
    result = _python(code)
    assert result.returncode == 2
    assert result.stderr.strip() == "newsrec: error: --ray needs Ray: pip install 'newsrec[ray]'"


def test_the_cli_and_the_service_load_without_importing_ray() -> None:
    result = _python(
        "import sys, recommender.cli, recommender.cli.app, service.app\nprint('ray' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
