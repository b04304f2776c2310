"""Articles as newsrec accepts them: field rules, normalisation and the text that is embedded."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from index import ArticleRecord
from recommender.ingestion.metadata import (
    InvalidMetadata,
    author_of,
    fields_of,
    kind_of,
    one_line,
    optional_line,
)

__all__ = [
    "MAX_BODY_CHARS",
    "MAX_TITLE_CHARS",
    "InvalidArticle",
    "article_from_mapping",
    "content_hash",
    "embedding_text",
    "is_web_url",
    "parse_datetime",
    "snippet",
]

MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 200_000
_MAX_TAGS = 100
_BODY_FIELDS = ("body", "abstract", "lead", "description", "text")


class InvalidArticle(ValueError):
    """An article that cannot be accepted; the message says which field and why."""


def _shown(value: Any) -> str:
    # repr() of an int beyond 4,300 digits raises ValueError, and a huge string would flood
    # the report; what an error message quotes is kept short.
    if isinstance(value, int) and value.bit_length() > 128:
        return "a very large integer"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_datetime(value: Any, field: str = "published_at") -> datetime | None:
    """Parse an ISO 8601 time (or epoch seconds) into an aware UTC datetime.

    A time without a zone is taken as UTC. Empty values give ``None``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool):
        raise InvalidArticle(f"{field}: expected an ISO 8601 time, got a boolean")
    elif isinstance(value, int | float):
        try:
            # float() of a huge int overflows, fromtimestamp() of NaN or 1e300 fails: one case.
            parsed = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidArticle(f"{field}: {_shown(value)} is not a time (epoch seconds)") from exc
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InvalidArticle(f"{field}: {_shown(value)} is not an ISO 8601 time") from exc
    else:
        raise InvalidArticle(f"{field}: expected an ISO 8601 time, got {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+05:00 falls before year 1 in UTC
        raise InvalidArticle(f"{field}: {_shown(value)} is out of range in UTC") from exc


def _text_field(raw: Mapping[str, Any], field: str, limit: int, *, required: bool) -> str:
    value = raw.get(field)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if not isinstance(value, str):
        raise InvalidArticle(f"{field}: expected text, got {type(value).__name__}")
    text = one_line(value)
    if required and not text:
        raise InvalidArticle(f"{field}: missing or empty")
    if len(text) > limit:
        raise InvalidArticle(f"{field}: {len(text)} characters, the limit is {limit}")
    return text


def _optional_str(raw: Mapping[str, Any], field: str, limit: int = 2_000) -> str | None:
    try:
        return optional_line(raw, field, limit)
    except InvalidMetadata as exc:
        raise InvalidArticle(str(exc)) from None


def _url(raw: Mapping[str, Any]) -> str | None:
    # A url is rendered as a link by pages (the demo page, a site's own templates); any
    # scheme but http and https (javascript:, data:, vbscript:) could run in a reader's browser.
    text = _optional_str(raw, "url")
    if text is None:
        return None
    if not is_web_url(text):
        raise InvalidArticle(
            f"url: {_shown(text)} is not an absolute http or https URL (no other scheme is "
            "accepted)"
        )
    return text


def is_web_url(text: str) -> bool:
    """Whether ``text`` is an absolute ``http`` or ``https`` URL with a host, and no spaces or
    control characters (which browsers strip before reading the scheme)."""
    scheme, sep, rest = text.partition("://")
    return (
        bool(sep)
        and scheme.lower() in ("http", "https")
        and bool(rest)
        and rest[0] not in "/\\"
        and all(ch.isprintable() and not ch.isspace() for ch in text)
    )


def _article_id(raw: Mapping[str, Any]) -> str:
    value = raw.get("id")
    if isinstance(value, bool) or value is None:
        raise InvalidArticle("id: missing")
    if isinstance(value, int):
        if value.bit_length() > 700:  # over 200 digits; str() would even raise past 4,300
            raise InvalidArticle("id: an integer of more than 200 digits")
        value = str(value)
    if not isinstance(value, str):
        raise InvalidArticle(f"id: expected text or an integer, got {type(value).__name__}")
    # An id is never rewritten: one that would be stored differently from how it was sent, or
    # that a URL could not carry unchanged, is refused.
    text = value
    if not text.strip():
        raise InvalidArticle("id: missing or empty")
    if len(text) > 200 or any(not ch.isprintable() or ch.isspace() for ch in text):
        raise InvalidArticle(f"id: {text[:40]!r} must be 1-200 printable characters, no spaces")
    # Ids are served at /articles/{id}, '/' included. HTTP clients and proxies remove '.' and
    # '..' segments and may merge '//', and /articles/{id}/related(.html) names the lists.
    segments = text.split("/")
    ends_in_related = len(segments) > 1 and segments[-1] in ("related", "related.html")
    if ends_in_related or any(segment in ("", ".", "..") for segment in segments):
        raise InvalidArticle(
            f"id: {text[:40]!r} cannot be a URL path: no empty, '.' or '..' segment between "
            "'/'s, no '/' at either end, and not ending in '/related' or '/related.html'"
        )
    return text


def _tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = raw.get("tags")
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        # CSV cells carry lists as "a;b" or "a,b".
        items: list[Any] = value.replace(";", ",").split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    elif hasattr(value, "tolist"):  # a Parquet list column arrives as a numpy array
        items = list(value.tolist())
    else:
        raise InvalidArticle(f"tags: expected a list of text, got {type(value).__name__}")
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidArticle(f"tags: expected text items, got {type(item).__name__}")
        tag = one_line(item).lower()
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > _MAX_TAGS:
        raise InvalidArticle(f"tags: {len(tags)} tags, the limit is {_MAX_TAGS}")
    return tuple(tags)


def _popularity(raw: Mapping[str, Any]) -> float:
    value = raw.get("popularity")
    if value is None or value == "":
        return 0.0
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError as exc:
            raise InvalidArticle(f"popularity: {_shown(value)} is not a number") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArticle(f"popularity: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isnan(number):
        return 0.0
    if not math.isfinite(number) or number < 0:
        raise InvalidArticle(f"popularity: {_shown(value)} must be a finite count >= 0")
    return number


def embedding_text(title: str, body: str) -> str:
    """The text embedded for an article: its title, then its lead and body."""
    return f"{title}. {body}" if body else title


def content_hash(title: str, body: str, embedding_key: str = "") -> str:
    """A digest of the embedded text and of how it is embedded.

    Unchanged content is never re-embedded; ``embedding_key`` (model and input length, see
    ``Settings.embedding_key``) makes a change of model re-embed everything on the next ingest.
    """
    digest = hashlib.sha256(embedding_key.encode("utf-8") + b"\x00")
    digest.update(embedding_text(title, body).encode("utf-8"))
    return digest.hexdigest()


def snippet(body: str, limit: int = 160) -> str:
    """The first ``limit`` characters of the lead, cut at a word boundary with an ellipsis."""
    if len(body) <= limit:
        return body
    cut = body[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def article_from_mapping(raw: Mapping[str, Any], *, embedding_key: str = "") -> ArticleRecord:
    """Validate one incoming article (a JSON object, CSV row, ...) into a catalogue record.

    ``embedding_key`` is ``Settings.embedding_key``; it goes into the content hash.

    Raises:
        InvalidArticle: naming the first field that is missing, mistyped or out of range.
    """
    if not isinstance(raw, Mapping):
        raise InvalidArticle(f"expected an object with fields, got {type(raw).__name__}")
    article_id = _article_id(raw)
    title = _text_field(raw, "title", MAX_TITLE_CHARS, required=True)
    body = ""
    for field in _BODY_FIELDS:
        if raw.get(field) not in (None, ""):
            body = _text_field(raw, field, MAX_BODY_CHARS, required=False)
            break
    try:
        author, kind, own_fields = author_of(raw), kind_of(raw), fields_of(raw)
    except InvalidMetadata as exc:
        raise InvalidArticle(str(exc)) from exc
    return ArticleRecord(
        id=article_id,
        title=title,
        body=body,
        url=_url(raw),
        section=(_optional_str(raw, "section", 100) or "").lower() or None,
        tags=_tags(raw),
        language=(_optional_str(raw, "language", 35) or "").lower() or None,
        published_at=parse_datetime(raw.get("published_at")),
        popularity=_popularity(raw),
        content_hash=content_hash(title, body, embedding_key),
        author=author,
        kind=kind,
        fields=own_fields,
    )
