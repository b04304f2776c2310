"""``newsrec migrate`` and ``newsrec copy-catalogue``: a home moved to PostgreSQL and back, with
nothing lost, and refusals in one line with nothing written."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index import Catalogue, IndexStore
from index.events import Event, EventStore
from index.overrides import OverrideStore
from tests.reliability.support import invoke_newsrec


def _with_password(url: str) -> str:
    # The test server trusts every local connection: a password is accepted and ignored.
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:hunter2-secret@{host}"


def test_migrate_creates_every_table_group_and_is_safe_to_rerun(pg_url: str) -> None:
    url = _with_password(pg_url)
    for _ in range(2):
        done = invoke_newsrec("migrate", "--catalogue", url)
        assert done.returncode == 0, done.stderr
        assert "catalogue 2" in done.stdout and "events 1" in done.stdout
        assert "hunter2" not in done.stdout


def test_a_home_goes_to_postgresql_and_back_with_nothing_lost(
    sample_home_template: Path, tmp_path: Path, pg_url: str
) -> None:
    home = tmp_path / "home"
    shutil.copytree(sample_home_template, home)
    with OverrideStore(home / "catalogue.sqlite") as overrides:
        pinned = overrides.pin("sample-001", "sample-009", reason="test", by="editor")
        overrides.remove(pinned.id, by="editor")  # the audit trail must travel too
    with EventStore(home / "catalogue.sqlite") as events:
        at = datetime(2026, 10, 1, 12, tzinfo=UTC)
        events.add([Event("sample-002", "view", at, user="u1", key="k1")] * 2)
        events.add([Event("sample-003", "click", at, user="u2")])
    url = _with_password(pg_url)
    there = invoke_newsrec("copy-catalogue", str(home), url)
    assert there.returncode == 0, there.stderr
    assert "counts and checksums match" in there.stdout and "hunter2" not in there.stdout
    back = tmp_path / "back"
    again = invoke_newsrec("copy-catalogue", url, str(back))
    assert again.returncode == 0, again.stderr
    before, after = home / "catalogue.sqlite", back / "catalogue.sqlite"
    with Catalogue(before, readonly=True) as old, Catalogue(after, readonly=True) as new:
        assert list(old.iter_records()) == list(new.iter_records())  # doc ids kept
        old_ids, old_vectors = old.vectors()
        new_ids, new_vectors = new.vectors()
        assert (old_ids == new_ids).all() and (old_vectors == new_vectors).all()
        assert old.changes_since(0) == new.changes_since(0)
    with EventStore(before) as old_events, EventStore(after) as new_events:
        assert old_events.count() == new_events.count() == 2
        assert _same_events(old_events, new_events)
    with OverrideStore(after) as copied:
        (audit,) = copied.all()
        assert audit.removed_by == "editor" and audit.target_id == "sample-009"
    assert not list(back.glob(".*copying*")), "the staged file was left behind"
    # The copy serves: the lists of the copied home are those of the original.
    code = invoke_newsrec("related", "sample-002", "--json", "--home", str(back))
    first = invoke_newsrec("related", "sample-002", "--json", "--home", str(home))
    assert code.returncode == first.returncode == 0, code.stderr
    assert _ids(code.stdout) == _ids(first.stdout)


def _same_events(old: EventStore, new: EventStore) -> bool:
    # EventBatch holds numpy arrays: compared column by column.
    (a,), (b,) = list(old.since(0)), list(new.since(0))
    return bool(
        (a.seq == b.seq).all()
        and a.article_ids == b.article_ids
        and (a.is_click == b.is_click).all()
        and (a.at_ts == b.at_ts).all()
        and a.users == b.users
    )


def _ids(out: str) -> list[list[str]]:
    answer = json.loads(out)
    return [[item["id"] for item in answer[name]] for name in ("more_like_this", "related")]


def test_a_copy_into_a_catalogue_that_holds_articles_is_refused(
    sample_home_template: Path, pg_url: str
) -> None:
    first = invoke_newsrec("copy-catalogue", str(sample_home_template), pg_url)
    assert first.returncode == 0, first.stderr
    second = invoke_newsrec("copy-catalogue", str(sample_home_template), pg_url)
    assert second.returncode != 0
    assert second.stderr.count("\n") == 1 and "newsrec: error:" in second.stderr
    with (
        Catalogue(pg_url, readonly=True) as catalogue,
        Catalogue(sample_home_template / "catalogue.sqlite", readonly=True) as source,
    ):
        assert catalogue.count() == source.count()  # nothing written twice


@pytest.mark.parametrize(
    ("source", "problem"),
    [("missing-home", "no catalogue here"), ("postgresql://nobody@127.0.0.1:1/x", "unavailable")],
)
def test_a_source_that_is_not_there_fails_in_one_line(
    tmp_path: Path, source: str, problem: str
) -> None:
    if not source.startswith("postgresql"):
        source = str(tmp_path / source)
    done = invoke_newsrec("copy-catalogue", source, str(tmp_path / "dest"))
    assert done.returncode != 0
    assert problem in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "dest" / "catalogue.sqlite").exists()


def test_a_replica_without_an_index_refuses_to_serve_from_a_damaged_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "CURRENT").write_text("v000009\n", encoding="utf-8")  # names a missing version
    done = invoke_newsrec("serve", "--home", tmp_path / "replica", "--store", store, "--port", "9")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(store) in lines[0] and "not serving" in lines[0], lines
    assert IndexStore(tmp_path / "replica" / "index").current() is None
