"""Editors' decisions, checked and recorded: the one path from ``newsrec pin/block`` and from
``/overrides`` over HTTP to the override store, so both keep the same rules and the same
record (who, when, why, until when).

The rules checked here: both articles are published, an article is never pinned into its own
lists, an expiry is in the future. A pin of an article that a block keeps out is recorded,
with a warning, because a block wins over a pin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from index import Catalogue
from index.overrides import PIN_LISTS, Override, OverrideError, OverrideStore
from recommender.ranking.overrides import InvalidUntil, parse_until

__all__ = [
    "EditorialError",
    "Made",
    "block_article",
    "describe",
    "listed_overrides",
    "override_view",
    "pin_article",
    "state_of",
    "until_of",
    "when_text",
]


class EditorialError(ValueError):
    """A pin or block that cannot be made; the message names the input at fault."""


@dataclass(frozen=True, slots=True)
class Made:
    """An override just recorded, and what the editor should know about it."""

    override: Override
    warnings: tuple[str, ...] = ()


def until_of(text: str | None, now: datetime | None = None) -> datetime | None:
    """When an override given ``until`` text stops applying (None: until removed).

    Raises:
        EditorialError: not a date, time or duration (see
            :func:`recommender.ranking.overrides.parse_until`), or already past.
    """
    if text is None:
        return None
    now = now or datetime.now(UTC)
    try:
        when = parse_until(text, now)
    except InvalidUntil as exc:
        raise EditorialError(str(exc)) from None
    if when <= now:
        raise EditorialError(f"--until {text!r} is already past ({when.isoformat()})")
    return when


def _require_published(catalogue: Catalogue, *article_ids: str) -> None:
    for article_id in article_ids:
        if catalogue.get(article_id) is None:
            raise EditorialError(f"no published article with id {article_id!r}")


def pin_article(
    store: OverrideStore,
    catalogue: Catalogue,
    source: str,
    target: str,
    *,
    position: int = 1,
    list_name: str = "related",
    until: datetime | None = None,
    reason: str = "",
    by: str,
) -> Made:
    """Pin ``target`` at ``position`` of ``source``'s list ``list_name``.

    Raises:
        EditorialError: an unknown article or list, the source pinned into its own list, a
            position below 1.
    """
    if source == target:
        raise EditorialError(f"cannot pin {target!r} into its own list")
    if list_name not in PIN_LISTS:
        raise EditorialError(f"list must be one of {', '.join(PIN_LISTS)}, got {list_name!r}")
    _require_published(catalogue, source, target)
    try:
        made = store.pin(
            source,
            target,
            position=position,
            until=until,
            reason=reason,
            by=by,
            list_name=list_name,
        )
    except OverrideError as exc:
        raise EditorialError(str(exc)) from None
    now = datetime.now(UTC)
    warnings = tuple(
        f"{target} is blocked (override {o.id}); blocks win over pins"
        for o in store.in_force()
        if o.kind == "block"
        and o.target_id == target
        and o.source_id in (None, source)
        and o.active_at(now)
    )
    return Made(made, warnings)


def block_article(
    store: OverrideStore,
    catalogue: Catalogue,
    target: str,
    *,
    source: str | None = None,
    until: datetime | None = None,
    reason: str = "",
    by: str,
) -> Made:
    """Keep ``target`` out of ``source``'s lists, or out of every list if None.

    Raises:
        EditorialError: an unknown article.
    """
    _require_published(catalogue, target, *([source] if source else []))
    try:
        made = store.block(target, source_id=source, until=until, reason=reason, by=by)
    except OverrideError as exc:
        raise EditorialError(str(exc)) from None
    return Made(made)


def when_text(moment: datetime | None) -> str:
    """A moment as editors read it (UTC, to the minute); empty for none."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def listed_overrides(store: OverrideStore, now: datetime, every: bool) -> list[Override]:
    """The overrides to list: those in force at ``now``, or with ``every`` all ever made,
    oldest first."""
    return store.all() if every else [o for o in store.in_force() if o.active_at(now)]


_LIST_TITLES = {"related": "Related", "more_like_this": "More like this"}


def describe(override: Override) -> str:
    """One line saying what ``override`` does, until when and who made it."""
    where = f"{override.source_id}'s lists" if override.source_id else "every list"
    if override.kind == "pin":
        what = (
            f"pin {override.id}: {override.target_id} at #{override.position} "
            f"of {_LIST_TITLES[override.list_name]} for {override.source_id}"
        )
    else:
        what = f"block {override.id}: {override.target_id} kept out of {where}"
    until = f" until {when_text(override.until)}" if override.until else ""
    return f"{what}{until} (by {override.created_by})"


def state_of(override: Override, now: datetime) -> str:
    """``active``, ``expired`` or ``removed <when> by <who>``."""
    if override.removed_at is not None:
        return f"removed {when_text(override.removed_at)} by {override.removed_by}"
    return "active" if override.active_at(now) else "expired"


def override_view(override: Override, now: datetime) -> dict[str, Any]:
    """An override as JSON shows it (``newsrec overrides --json`` and ``GET /overrides``)."""
    return {
        "id": override.id,
        "kind": override.kind,
        "source": override.source_id,
        "target": override.target_id,
        "position": override.position,
        "list": override.list_name if override.kind == "pin" else None,
        "by": override.created_by,
        "at": override.created_at.isoformat(),
        "reason": override.reason,
        "until": override.until.isoformat() if override.until else None,
        "active": override.active_at(now),
        "state": state_of(override, now),
    }
