"""Starting real ``newsrec serve`` processes for the service tests, and their keys."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.conftest import LiveServer

WRITE_KEY = "test-write-key-0123456789"
READ_KEY = "test-read-key-0123456789"
ALLOWED_ORIGIN = "https://www.news.example"


#: What each served answer has of its own (service/tracking.py): the rest is the lists.
ANSWER_STAMP = ("recommendation_id", "variant", "experiment")


def lists_only(answer: dict[str, Any]) -> dict[str, Any]:
    """A list answer without what is new in each one (its recommendation id and variant)."""
    return {key: value for key, value in answer.items() if key not in ANSWER_STAMP}


def ferry_article(n: int) -> dict[str, str]:
    """An article for a write test, number ``n`` of a family of near copies."""
    return {
        "title": f"Harbour ferry timetable changes for route {n}",
        "body": f"The harbour authority moves the departures of ferry route {n} by ten minutes "
        "from Monday, after complaints about missed train connections.",
        "section": "city",
        "published_at": "2026-10-09T08:00:00Z",
    }


def copy_home(template: Path, where: Path) -> Path:
    """A private copy of a home directory."""
    home = where / "home"
    shutil.copytree(template, home)
    return home


def start(home: Path, env: dict[str, str] | None = None, *args: str) -> LiveServer:
    """Start ``newsrec serve`` and wait until it answers."""
    server = LiveServer(home, env, *args)
    try:
        server.wait_ready(timeout=120)
    except BaseException:
        server.stop()
        raise
    return server
