"""The PostgreSQL fixtures: each test gets an empty database of its own, gone afterwards."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from tests.postgres import ThrowawayCluster, with_database

seen: list[str] = []


def database_names(server: str) -> set[str]:
    with psycopg.connect(server) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_gets_an_empty_database_of_its_own(pg_server: str, pg_url: str, run: int) -> None:
    name = urlsplit(pg_url).path.lstrip("/")
    assert name.startswith("t_") and name not in seen
    # The previous test's database was dropped when it ended.
    assert not set(seen) & database_names(pg_server)
    seen.append(name)
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        # Leave something behind: the next test must not see it.
        conn.execute("CREATE TABLE left_behind (n INTEGER)")
        conn.execute("INSERT INTO left_behind VALUES (%s)", (run,))


def test_an_open_connection_does_not_keep_a_database_from_being_dropped(pg_server: str) -> None:
    from tests.postgres import create_database, drop_database

    url = create_database(pg_server)
    held = psycopg.connect(url)  # a pool would hold one like this
    try:
        drop_database(pg_server, url)
        assert urlsplit(url).path.lstrip("/") not in database_names(pg_server)
    finally:
        held.close()


def test_with_database_keeps_everything_but_the_database() -> None:
    url = "postgresql://user:secret@db.example:6543/postgres?sslmode=disable"
    assert (
        with_database(url, "t_1") == "postgresql://user:secret@db.example:6543/t_1?sslmode=disable"
    )


def test_a_cluster_of_its_own_stops_and_comes_back_with_its_data(
    pg_server: str, pg_cluster: ThrowawayCluster
) -> None:
    assert pg_cluster.url != pg_server
    with psycopg.connect(pg_cluster.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n INTEGER)")
        conn.execute("INSERT INTO kept VALUES (7)")
    pg_cluster.stop_server(mode="immediate")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg_cluster.url, connect_timeout=2)
    # The session's server is not affected.
    assert "postgres" in database_names(pg_server)
    pg_cluster.start_server()
    with psycopg.connect(pg_cluster.url) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
