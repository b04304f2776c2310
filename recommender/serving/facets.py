"""Which published articles carry each section, language, author, kind, tag and field value.

A list request may filter on any of them (``section=``, ``language=``, ``author=``, ``kind=``,
``tag=``, ``field.NAME=``). :class:`Facets` answers two questions fast: which of a request's
candidates pass its author, kind, tag and field filters (the section, language and age filters
work on the article columns), and whether every value a request names is carried by some
published article. A value that none carries is a typo far more often than a wish for an
empty list, so it is refused with the values that exist (:class:`UnknownFilterValue`: 422 over
HTTP, exit 2 on the command line) rather than answered with empty lists.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from index import ArticleRecord
from recommender.ingestion.metadata import field_text
from recommender.serving.requests import ListRequest

__all__ = ["Facets", "UnknownFilterValue"]

# Up to this many known values are all named in a refusal; above it, the closest ones.
_NAMED = 30
_FIELD = "field."


class UnknownFilterValue(ValueError):
    """A filter names a value no published article has; the message names the known ones."""

    def __init__(self, message: str, *, facet: str, value: str, known: list[str]) -> None:
        super().__init__(message)
        self.facet = facet
        self.value = value
        self.known = known


def _keys(record: ArticleRecord) -> Iterator[tuple[str, str]]:
    if record.section:
        yield "section", record.section.casefold()
    if record.language:
        yield "language", record.language.casefold()
    if record.author:
        yield "author", record.author.casefold()
    if record.kind:
        yield "kind", record.kind.casefold()
    for tag in record.tags:
        yield "tag", tag.casefold()
    for name, value in record.fields:
        yield _FIELD + name, field_text(value)


def _wanted(values: Iterable[str]) -> set[str]:
    return {value.strip().casefold() for value in values if value.strip()}


# Sections and languages are filtered on the article columns; only how many articles carry
# each value is kept here, which spares a posting entry per article for each.
_COUNTED = frozenset({"section", "language"})


class Facets:
    """Posting lists of published articles by facet value, kept as articles come and go."""

    def __init__(self) -> None:
        """No articles yet."""
        self._lock = threading.Lock()
        self._docs: dict[tuple[str, str], set[int]] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._of_doc: dict[int, tuple[tuple[str, str], ...]] = {}
        self._arrays: dict[tuple[str, str], npt.NDArray[np.int64]] = {}
        self._interned: dict[tuple[str, str], tuple[str, str]] = {}

    def put(self, doc: int, record: ArticleRecord) -> None:
        """Index ``record`` (published as ``doc``), replacing what ``doc`` carried before."""
        with self._lock:
            # One key object per value, shared by every article carrying it.
            keys = tuple(self._interned.setdefault(k, k) for k in dict.fromkeys(_keys(record)))
            self._forget(doc)
            self._of_doc[doc] = keys
            for key in keys:
                self._counts[key] = self._counts.get(key, 0) + 1
                if key[0] not in _COUNTED:
                    self._docs.setdefault(key, set()).add(doc)
                    self._arrays.pop(key, None)

    def drop(self, doc: int) -> None:
        """Forget ``doc`` (unpublished)."""
        with self._lock:
            self._forget(doc)

    def _forget(self, doc: int) -> None:
        for key in self._of_doc.pop(doc, ()):
            left = self._counts.pop(key) - 1
            if left:
                self._counts[key] = left
            else:
                self._interned.pop(key, None)
            docs = self._docs.get(key)
            if docs is not None:
                docs.discard(doc)
                if not docs:
                    del self._docs[key]
            self._arrays.pop(key, None)

    def known(self, facet: str) -> list[str]:
        """The values of ``facet`` (``section``, ``author``, ``field.desk``, ...) that some
        published article carries, sorted."""
        with self._lock:
            return sorted(value for name, value in self._counts if name == facet)

    def field_names(self) -> list[str]:
        """The names of the fields that some published article carries, sorted."""
        with self._lock:
            names = {
                name.removeprefix(_FIELD) for name, _ in self._counts if name.startswith(_FIELD)
            }
        return sorted(names)

    def _array(self, key: tuple[str, str]) -> npt.NDArray[np.int64]:
        array = self._arrays.get(key)
        if array is None:
            array = np.array(sorted(self._docs.get(key, ())), dtype=np.int64)
            self._arrays[key] = array
        return array

    def _carrying(self, facet: str, values: Iterable[str]) -> npt.NDArray[np.int64]:
        with self._lock:
            arrays = [self._array((facet, value)) for value in _wanted(values)]
        # No np.unique: membership (np.isin) needs no distinct values, and sorting the union of
        # a common tag's docs on every admissible() call of a request is what it would cost.
        if len(arrays) == 1:
            return arrays[0]
        return np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)

    def admits(self, docs: npt.NDArray[np.int64], request: ListRequest) -> npt.NDArray[np.bool_]:
        """Which of ``docs`` pass the request's author, kind, tag and field filters: one of
        the values given for each filter (any of the tags), every filter at once."""
        mask = np.ones(len(docs), dtype=bool)
        groups = [
            ("author", request.authors),
            ("kind", request.kinds),
            ("tag", request.tags),
            *((_FIELD + name, values) for name, values in request.fields),
        ]
        for facet, values in groups:
            if values:
                carrying = self._carrying(facet, values)
                mask &= np.isin(docs, carrying, assume_unique=False)
        return mask

    def check(self, request: ListRequest) -> None:
        """Refuse a request naming a filter value that no published article carries.

        Raises:
            UnknownFilterValue: for the first such value, with the known values in its message.
        """
        groups: list[tuple[str, str, Iterable[str]]] = [
            ("section", "sections", request.sections),
            ("section", "sections", request.exclude_sections),
            ("language", "languages", [request.language] if request.language else []),
            ("author", "authors", request.authors),
            ("kind", "kinds", request.kinds),
            ("tag", "tags", request.tags),
        ]
        names = self.field_names() if request.fields else []
        for name, _ in request.fields:
            if name not in names:
                raise _unknown("field", name, "fields", names)
        groups += [(_FIELD + name, f"values of {name}", vs) for name, vs in request.fields]
        for facet, plural, values in groups:
            for value in sorted(_wanted(values)):
                with self._lock:
                    carried = (facet, value) in self._counts
                if not carried:
                    raise _unknown(facet, value, plural, self.known(facet))


def _unknown(facet: str, value: str, plural: str, known: list[str]) -> UnknownFilterValue:
    what = f"field {value!r}" if facet == "field" else f"{facet} {value!r}"
    if facet.startswith(_FIELD):
        what = f"{facet.removeprefix(_FIELD)} {value!r} (field.{facet.removeprefix(_FIELD)}=)"
    if not known:
        message = f"unknown {what}: no published article has any {plural}"
    else:
        close = difflib.get_close_matches(value, known, n=3)
        hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
        if len(known) <= _NAMED:
            message = f"unknown {what}{hint}; the {plural} are: {', '.join(known)}"
        else:
            message = f"unknown {what}{hint}; {len(known):,} {plural} are known"
    return UnknownFilterValue(message, facet=facet, value=value, known=known)
