"""The manifest.json that describes one published index version."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeGuard

from index.errors import FormatVersionError, IndexLoadError

__all__ = ["FORMAT_VERSION", "MANIFEST_NAME", "Manifest"]

FORMAT_VERSION: Final = 1
MANIFEST_NAME: Final = "manifest.json"

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Manifest:
    """What an index version holds and how it was built; checksums guard its files."""

    format_version: int
    kind: str
    model: str
    dim: int
    count: int
    created_at: datetime
    catalogue_seq: int  # catalogue Change seq the index reflects
    files: dict[str, str]  # file name -> sha256 hex
    params: dict[str, Any]  # index params + whatever the caller wants recorded

    def to_json(self) -> str:
        """Serialise to pretty, key-sorted JSON (created_at as ISO 8601)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["created_at"] = self.created_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, source: Path | str) -> Manifest:
        """Parse and validate manifest JSON read from `source` (named in every error).

        A format newer than FORMAT_VERSION raises FormatVersionError; any missing, unknown or
        mistyped key raises IndexLoadError.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IndexLoadError(f"{source}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise IndexLoadError(f"{source}: expected a JSON object, got {type(data).__name__}")

        # The version is checked before anything else: a newer format may legitimately have
        # different keys, and "upgrade newsrec" is the useful message then.
        version = data.get("format_version")
        if _is_int(version) and version > FORMAT_VERSION:
            raise FormatVersionError(
                f"{source}: written by a newer newsrec "
                f"(format {version}, this version reads up to {FORMAT_VERSION})"
            )

        expected = {f.name for f in fields(cls)}
        missing = sorted(expected - data.keys())
        if missing:
            raise IndexLoadError(f"{source}: missing key(s) {', '.join(missing)}")
        unknown = sorted(data.keys() - expected)
        if unknown:
            raise IndexLoadError(f"{source}: unknown key(s) {', '.join(unknown)}")

        def fail(key: str, wanted: str) -> IndexLoadError:
            return IndexLoadError(f"{source}: {key} must be {wanted}, got {data[key]!r}")

        for key in ("format_version", "dim", "count", "catalogue_seq"):
            if not _is_int(data[key]):
                raise fail(key, "an integer")
        if data["format_version"] < 1:
            raise fail("format_version", "at least 1")
        if data["dim"] < 1:
            raise fail("dim", "positive")
        for key in ("count", "catalogue_seq"):
            if data[key] < 0:
                raise fail(key, "non-negative")
        for key in ("kind", "model"):
            if not isinstance(data[key], str) or not data[key]:
                raise fail(key, "a non-empty string")
        if not isinstance(data["params"], dict):
            raise fail("params", "an object")

        files = data["files"]
        if not isinstance(files, dict) or not files:
            raise fail("files", "a non-empty object of file name -> sha256")
        for name, digest in files.items():
            # A manifest only ever names files inside its own directory; anything else is either
            # damage or an attempt to make the loader read elsewhere.
            if name in ("", ".", "..", MANIFEST_NAME) or Path(name).name != name or "\\" in name:
                raise IndexLoadError(f"{source}: files lists an invalid file name {name!r}")
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
                raise IndexLoadError(f"{source}: files[{name!r}] is not a sha256 hex digest")

        if not isinstance(data["created_at"], str):
            raise fail("created_at", "an ISO 8601 timestamp")
        try:
            created_at = datetime.fromisoformat(data["created_at"])
        except ValueError:
            raise fail("created_at", "an ISO 8601 timestamp") from None
        if created_at.tzinfo is None:
            raise fail("created_at", "a timestamp with a time zone")

        return cls(
            format_version=data["format_version"],
            kind=data["kind"],
            model=data["model"],
            dim=data["dim"],
            count=data["count"],
            created_at=created_at.astimezone(UTC),
            catalogue_seq=data["catalogue_seq"],
            files=dict(files),
            params=dict(data["params"]),
        )


def _is_int(value: object) -> TypeGuard[int]:
    # JSON true/false arrive as bool, which is an int subclass but never a valid count.
    return isinstance(value, int) and not isinstance(value, bool)
