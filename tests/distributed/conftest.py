"""One real Ray per test module of this folder: started once (2 CPUs), shut down after it.

Ray takes seconds to start, so its tests share it; the code under test, and commands run in
this process, find it running (``ray_session`` uses a Ray already initialised as it is).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """A real local Ray with 2 CPUs, initialised in this process."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
