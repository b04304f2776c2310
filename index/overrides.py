"""Editorial overrides (pins and blocks) stored in the catalogue's database.

An override is never deleted: removing one stamps who removed it and when, so the table is the
record of every editorial decision. A counter in ``meta`` (``overrides_rev``) changes with every
write, so a reader can tell cheaply whether it must reload.

Table versions (``meta.overrides_schema``): 1, the first (pins go into Related); 2 adds the list
a pin goes into (``list_name``: ``related`` or ``more_like_this``). Version-1 tables are
migrated in place when opened for writing, and read as pins into Related when opened
read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, cast, get_args

from index.connection import Connection
from index.errors import CatalogueError
from index.tables import CatalogueTables, stored_version
from index.targets import CatalogueTarget

__all__ = ["PIN_LISTS", "Override", "OverrideError", "OverrideStore", "PinList", "UnknownOverride"]

#: The lists a pin can go into.
PinList = Literal["related", "more_like_this"]
PIN_LISTS: tuple[str, ...] = get_args(PinList)

_SCHEMA = """
CREATE TABLE overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('pin', 'block')),
    source_id   TEXT,
    target_id   TEXT NOT NULL,
    position    INTEGER,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    reason      TEXT NOT NULL,
    until       TEXT,
    removed_at  TEXT,
    removed_by  TEXT,
    list_name   TEXT NOT NULL DEFAULT 'related' CHECK (list_name IN ('related', 'more_like_this')),
    CHECK (kind = 'block' OR (source_id IS NOT NULL AND position >= 1))
);
INSERT INTO meta (key, value) VALUES ('overrides_rev', '0')
"""
_COLUMNS = (
    "id, kind, source_id, target_id, position, created_by, created_at, reason, until, "
    "removed_at, removed_by, list_name"
)
# Version-1 tables opened read-only cannot be migrated: their pins all went into Related.
_COLUMNS_V1 = _COLUMNS.replace("list_name", "'related'")
_MIGRATE_TO_V2 = (
    "ALTER TABLE overrides ADD COLUMN list_name TEXT NOT NULL DEFAULT 'related' "
    "CHECK (list_name IN ('related', 'more_like_this'))",
)


class OverrideError(CatalogueError):
    """An override that cannot be stored; the message names the field at fault."""


class UnknownOverride(OverrideError, KeyError):
    """No override has this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown override"


@dataclass(frozen=True, slots=True)
class Override:
    """One pin or block, with who made it, when, why and until when."""

    id: int
    kind: Literal["pin", "block"]
    source_id: str | None  # the list it applies to; None: every list (blocks only)
    target_id: str
    position: int | None  # pins: the 1-based place in the source's Related list
    created_by: str
    created_at: datetime
    reason: str
    until: datetime | None  # stops applying at this time; None: until removed
    removed_at: datetime | None = None
    removed_by: str | None = None
    list_name: PinList = "related"  # pins: the list of the source's the target goes into

    def active_at(self, when: datetime) -> bool:
        """Whether the override applies at ``when``: not removed and not expired."""
        return self.removed_at is None and (self.until is None or when < self.until)


class OverrideStore(CatalogueTables):
    """The overrides table of one catalogue (SQLite file or PostgreSQL database); one instance
    may be shared between threads."""

    GROUP: ClassVar[str] = "overrides"
    SCHEMA_VERSION: ClassVar[int] = 2
    SCHEMA: ClassVar[str] = _SCHEMA
    MIGRATIONS: ClassVar[dict[int, tuple[str, ...]]] = {2: _MIGRATE_TO_V2}

    def __init__(self, catalogue_path: CatalogueTarget, *, readonly: bool = False) -> None:
        """Open the overrides of the catalogue at ``catalogue_path``, a SQLite file or a
        PostgreSQL URL (creating or migrating the tables unless ``readonly``).

        Raises:
            index.FormatVersionError: a newer newsrec wrote the tables.
            index.CatalogueError: the file is not a newsrec catalogue.
        """
        super().__init__(catalogue_path, readonly=readonly)
        version = stored_version(self._open(), self._where, self.GROUP)
        self._columns = _COLUMNS if version >= 2 else _COLUMNS_V1

    # --- writes -----------------------------------------------------------------------------
    def pin(
        self,
        source_id: str,
        target_id: str,
        *,
        position: int = 1,
        until: datetime | None = None,
        reason: str = "",
        by: str,
        list_name: str = "related",
    ) -> Override:
        """Put ``target_id`` at ``position`` (1-based) of ``source_id``'s list ``list_name``
        (Related, or More like this).

        Raises:
            OverrideError: an empty id, the same id twice, a position below 1, a naive time,
                an unknown list.
        """
        if list_name not in PIN_LISTS:
            raise OverrideError(f"list must be one of {', '.join(PIN_LISTS)}, got {list_name!r}")
        _check_id("source", source_id)
        _check_id("target", target_id)
        if source_id == target_id:
            raise OverrideError(f"cannot pin {target_id!r} into its own list")
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise OverrideError(f"position must be an integer >= 1, got {position!r}")
        return self._insert("pin", source_id, target_id, position, until, reason, by, list_name)

    def block(
        self,
        target_id: str,
        *,
        source_id: str | None = None,
        until: datetime | None = None,
        reason: str = "",
        by: str,
    ) -> Override:
        """Keep ``target_id`` out of ``source_id``'s lists, or out of every list if None.

        Raises:
            OverrideError: an empty id or a naive time.
        """
        _check_id("target", target_id)
        if source_id is not None:
            _check_id("source", source_id)
        return self._insert("block", source_id, target_id, None, until, reason, by, "related")

    def remove(self, override_id: int, *, by: str) -> Override:
        """Stop override ``override_id`` from applying, recording who and when.

        Raises:
            UnknownOverride: no override has this id, or it was removed already.
        """
        self._check_writable()
        now = datetime.now(UTC).isoformat()
        with self._transaction() as conn:
            row = conn.execute(
                "UPDATE overrides SET removed_at = ?, removed_by = ? "
                "WHERE id = ? AND removed_at IS NULL RETURNING " + self._columns,
                (now, by, int(override_id)),
            ).fetchone()
            if row is not None:
                _bump_rev(conn)
        if row is None:
            raise UnknownOverride(f"no override {override_id} in force (see `newsrec overrides`)")
        return _decode(row)

    # --- reads ------------------------------------------------------------------------------
    def all(self) -> list[Override]:
        """Every override ever made, active or not, oldest first."""
        with self._lock:
            rows = (
                self._open()
                .execute(f"SELECT {self._columns} FROM overrides ORDER BY id")
                .fetchall()
            )
        return [_decode(row) for row in rows]

    def in_force(self) -> list[Override]:
        """Overrides not removed (some may have expired; see :meth:`Override.active_at`)."""
        with self._lock:
            rows = (
                self._open()
                .execute(
                    f"SELECT {self._columns} FROM overrides WHERE removed_at IS NULL ORDER BY id"
                )
                .fetchall()
            )
        return [_decode(row) for row in rows]

    def get(self, override_id: int) -> Override | None:
        """The override with this id, or None."""
        with self._lock:
            row = (
                self._open()
                .execute(f"SELECT {self._columns} FROM overrides WHERE id = ?", (int(override_id),))
                .fetchone()
            )
        return None if row is None else _decode(row)

    def rev(self) -> int:
        """A number that changes whenever an override is added or removed."""
        with self._lock:
            row = (
                self._open()
                .execute("SELECT value FROM meta WHERE key = 'overrides_rev'")
                .fetchone()
            )
        return int(row[0]) if row is not None else 0

    # --- internals --------------------------------------------------------------------------
    def _insert(
        self,
        kind: str,
        source_id: str | None,
        target_id: str,
        position: int | None,
        until: datetime | None,
        reason: str,
        by: str,
        list_name: str,
    ) -> Override:
        self._check_writable()
        if until is not None and (not isinstance(until, datetime) or until.utcoffset() is None):
            raise OverrideError(f"until must be a tz-aware datetime, got {until!r}")
        if not isinstance(by, str) or not by.strip():
            raise OverrideError("the author (by) must be a non-empty string")
        if not isinstance(reason, str):
            raise OverrideError(f"reason must be a string, got {type(reason).__name__}")
        values = (
            kind,
            source_id,
            target_id,
            position,
            by,
            datetime.now(UTC).isoformat(),
            reason,
            until.astimezone(UTC).isoformat() if until is not None else None,
            list_name,
        )
        with self._transaction() as conn:
            row = conn.execute(
                "INSERT INTO overrides (kind, source_id, target_id, position, created_by, "
                "created_at, reason, until, list_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING " + _COLUMNS,
                values,
            ).fetchone()
            _bump_rev(conn)
        return _decode(row)

    def _check_writable(self) -> None:
        if self._readonly:
            raise OverrideError(f"{self._where}: overrides are opened read-only")


def _check_id(role: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise OverrideError(f"{role} article id must be a non-empty string, got {value!r}")


def _bump_rev(conn: Connection) -> None:
    conn.execute(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
        "WHERE key = 'overrides_rev'"
    )


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _decode(row: tuple[Any, ...]) -> Override:
    (ident, kind, source, target, position, by, created, reason, until, removed, removed_by) = row[
        :11
    ]
    return Override(
        id=int(ident),
        kind=cast(Literal["pin", "block"], kind),
        source_id=source,
        target_id=target,
        position=None if position is None else int(position),
        created_by=by,
        created_at=datetime.fromisoformat(created),
        reason=reason,
        until=_time(until),
        removed_at=_time(removed),
        removed_by=removed_by,
        list_name=cast(PinList, row[11]),
    )
