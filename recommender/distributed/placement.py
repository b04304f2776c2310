"""Where a job's work ran on Ray, said in one phrase for the user."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["where"]


def where(count: int, unit: str, nodes: Collection[str]) -> str:
    """``"3 parts on 2 nodes"``: ``count`` pieces of work (``unit``) and the nodes they ran on."""
    return f"{_counted(count, unit)} on {_counted(len(nodes), 'node')}"


def _counted(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"
