"""An article's metadata beyond its text: ``author``, ``kind`` and the newsroom's own ``fields``.

* ``author``: free text, up to :data:`MAX_AUTHOR_CHARS` characters (several authors are one
  string, as the byline prints them).
* ``kind``: the content type, a short lower-case word such as ``news``, ``opinion``,
  ``analysis``, ``explainer``, ``review``, ``video``, ``audio``, ``gallery`` or ``live``. It is
  not a closed list: each newsroom's CMS has its own types. A typo cannot hide, because a filter
  naming a kind that no article has is refused with the kinds that exist.
* ``fields``: a small flat object of scalar values (text, numbers, booleans), e.g.
  ``{"desk": "metro", "premium": true, "words": 840}``: at most :data:`MAX_FIELDS` names of
  :data:`FIELD_NAME` form (so that ``field.NAME=`` can filter on them), text values of at most
  :data:`MAX_FIELD_VALUE_CHARS` characters. A JSON object, or its JSON text (a CSV cell), or
  columns named ``field.NAME`` (CSV, Parquet) give them; an empty value drops the field.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from index import FieldValue

__all__ = [
    "FIELD_COLUMN_PREFIX",
    "FIELD_NAME",
    "KIND",
    "MAX_AUTHOR_CHARS",
    "MAX_FIELDS",
    "MAX_FIELD_VALUE_CHARS",
    "InvalidMetadata",
    "author_of",
    "field_text",
    "fields_of",
    "kind_of",
    "one_line",
    "optional_line",
]

MAX_AUTHOR_CHARS = 200
MAX_FIELDS = 20
MAX_FIELD_VALUE_CHARS = 200
#: A field's name: a lower-case letter, then up to 39 lower-case letters, digits or ``_``.
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: A kind: a lower-case letter, then up to 39 lower-case letters, digits, ``-`` or ``_``.
KIND = re.compile(r"[a-z][a-z0-9_-]{0,39}")
#: CSV and Parquet columns named ``field.NAME`` become the field ``NAME``.
FIELD_COLUMN_PREFIX = "field."
# Integers beyond 2**53 do not survive a JavaScript client's JSON.parse.
_MAX_SAFE_INT = 2**53


class InvalidMetadata(ValueError):
    """Metadata that cannot be accepted; the message names the field and the rule."""


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def one_line(value: str) -> str:
    """``value`` in NFC on one line: NUL, other controls, newlines and tabs become spaces (they
    break terminals and some SQLite tooling, and titles and snippets are shown on one line),
    and runs of spaces become one."""
    text = unicodedata.normalize("NFC", value)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def optional_line(raw: Mapping[str, Any], field: str, limit: int) -> str | None:
    """The text ``field`` of an incoming row, on one line (:func:`one_line`); None if absent
    or empty.

    Raises:
        InvalidMetadata: the value is not text, or longer than ``limit`` characters.
    """
    value = raw.get(field)
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidMetadata(f"{field}: expected text, got {type(value).__name__}")
    text = one_line(value)
    if len(text) > limit:
        raise InvalidMetadata(f"{field}: {len(text)} characters, the limit is {limit}")
    return text or None


def author_of(raw: Mapping[str, Any]) -> str | None:
    """The ``author`` of an incoming article, on one line; None if absent or empty."""
    return optional_line(raw, "author", MAX_AUTHOR_CHARS)


def kind_of(raw: Mapping[str, Any]) -> str | None:
    """The ``kind`` of an incoming article, lower-cased; None if absent or empty."""
    value = raw.get("kind")
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidMetadata(f"kind: expected text, got {type(value).__name__}")
    text = value.strip().lower()
    if not KIND.fullmatch(text):
        raise InvalidMetadata(
            f"kind: {value[:50]!r} must be one short word: a letter, then up to 39 letters, "
            "digits, '-' or '_' (e.g. news, opinion, analysis, video, live)"
        )
    return text


def fields_of(raw: Mapping[str, Any]) -> tuple[tuple[str, FieldValue], ...]:
    """The newsroom's own ``fields`` of an incoming article, as pairs sorted by name.

    Taken from ``fields`` (an object, or its JSON text) and from ``field.NAME`` columns.
    """
    found: dict[str, Any] = {}
    given = raw.get("fields")
    if not _blank(given):
        if isinstance(given, str):
            try:
                given = json.loads(given)
            except ValueError as exc:
                raise InvalidMetadata(f"fields: not a JSON object ({exc})") from exc
        if not isinstance(given, Mapping):
            raise InvalidMetadata(f"fields: expected an object, got {type(given).__name__}")
        found.update(given)
    for key, value in raw.items():
        if isinstance(key, str) and key.startswith(FIELD_COLUMN_PREFIX):
            name = key.removeprefix(FIELD_COLUMN_PREFIX)
            if name in found and not _blank(found[name]) and not _blank(value):
                raise InvalidMetadata(f"fields: {name!r} given twice (in fields and {key})")
            if not _blank(value) or name not in found:
                found[name] = value
    pairs = [(name, _field_value(name, value)) for name, value in found.items()]
    kept = sorted((name, value) for name, value in pairs if value is not None)
    if len(kept) > MAX_FIELDS:
        raise InvalidMetadata(f"fields: {len(kept)} fields, the limit is {MAX_FIELDS}")
    return tuple(kept)


def _field_value(name: Any, value: Any) -> FieldValue | None:
    if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
        raise InvalidMetadata(
            f"fields: name {str(name)[:50]!r} must be a lower-case letter, then up to 39 "
            "lower-case letters, digits or '_'"
        )
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise InvalidMetadata(f"fields: {name} is an integer beyond 2**53")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidMetadata(f"fields: {name} must be a finite number")
        return value
    if isinstance(value, str):
        text = one_line(value)
        if len(text) > MAX_FIELD_VALUE_CHARS:
            raise InvalidMetadata(
                f"fields: {name} has {len(text)} characters, the limit is {MAX_FIELD_VALUE_CHARS}"
            )
        return text or None
    raise InvalidMetadata(
        f"fields: {name} must be text, a number or a boolean, got {type(value).__name__}"
    )


def field_text(value: FieldValue) -> str:
    """How a field's value is matched by a ``field.NAME=`` filter: its text, case-folded.

    ``true``/``false`` for booleans and a whole float as an integer, so that the value of a
    CSV cell (text) and of a JSON number match the same filter.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).casefold()
