"""Known notices of the model libraries, silenced where they arise.

Loading and tracing the model makes transformers, torch and NNCF print notices that say nothing
to a newsroom user: a deprecation inside transformers (``is_gradient_checkpointing``), a
``loss_type=None`` remark about a training loss an embedding model never uses, tracer warnings
about Python booleans that the export handles, and progress bars for loading weights and for
NNCF's calibration. They are silenced only around those calls, and only those; any other
warning still shows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["quiet_model_libraries"]

_LOGGERS = ("transformers", "sentence_transformers", "nncf", "torch.fx", "torch.jit")


@contextmanager
def quiet_model_libraries() -> Iterator[None]:
    """Within the block, the model libraries' known notices are not shown."""
    import rich
    from transformers.utils import logging as transformers_logging

    hf_logging: Any = transformers_logging  # its functions carry no annotations

    console = rich.get_console()  # NNCF draws its progress bars on rich's shared console
    was_quiet = console.quiet
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*")
        warnings.filterwarnings("ignore", message=r"Converting a tensor to a Python boolean.*")
        warnings.filterwarnings("ignore", category=_tracer_warning())
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        for name in _LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        console.quiet = True
        try:
            yield
        finally:
            console.quiet = was_quiet
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


def _tracer_warning() -> type[Warning]:
    import torch.jit

    # Not in torch.jit's declared exports, though it is raised from there.
    found = getattr(torch.jit, "TracerWarning", None)
    return found if isinstance(found, type) and issubclass(found, Warning) else _Never


class _Never(Warning):
    """A warning no library raises."""
