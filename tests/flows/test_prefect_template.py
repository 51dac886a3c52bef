"""A new Prefect home starts from a template of the database (flows/prefect_template.py).

Real servers (``prefect server start``, API only, as a command starts them) in homes of
their own and a cache folder of the test's (``XDG_CACHE_HOME``): the first server builds
its database and leaves the template, which holds no run; the next new home starts from
a copy of it and works. The rules around it (nothing overwritten, a server given its own
database left alone, a damaged template removed, an unwritable cache harmless) on plain
SQLite files."""

from __future__ import annotations

import sqlite3
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from flows.prefect_server import LocalPrefectServer
from flows.prefect_template import DATABASE, keep_template, seed_home, template_path


def _rows(database: Path) -> dict[str, int]:
    """Rows per non-empty table."""
    con = sqlite3.connect(database)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()
    return {t: n for t, n in counts.items() if n}


def _migrated(path: Path, rows: int = 1) -> Path:
    """A small SQLite file that looks migrated (an ``alembic_version`` row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE alembic_version (version_num TEXT)")
    con.executemany("INSERT INTO alembic_version VALUES (?)", [(f"v{i}",) for i in range(rows)])
    con.commit()
    con.close()
    return path


def test_the_template_is_named_after_the_prefect_version_in_the_cache(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert (
        template_path(env) == tmp_path / "cache" / "baolaocai" / f"prefect-{version('prefect')}.db"
    )


def test_a_first_server_leaves_a_template_the_next_new_home_starts_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    template = template_path()
    assert template is not None and not template.exists()

    first = LocalPrefectServer(tmp_path / "first", services=False).start()
    try:
        assert template.is_file()
        kept = _rows(template)
        # What a server writes for itself at start (its migrations, Prefect's block
        # types), nothing a command asked for.
        assert kept["alembic_version"] == 1
        assert not {t for t in kept if "flow" in t or "deployment" in t or "task" in t}, kept
        made = httpx.post(f"{first.api_url}/flows/", json={"name": "an-archive-run"}, timeout=30)
        assert made.status_code in (200, 201), made.text
    finally:
        first.stop()
    assert _rows(template) == kept  # the first home's use never reaches the template
    assert sorted(p.name for p in template.parent.iterdir()) == [template.name]

    second_home = tmp_path / "second"
    second = LocalPrefectServer(second_home, services=False)
    second_home.mkdir()
    con = sqlite3.connect(template)  # a mark: the new home's database is this copy
    con.execute("CREATE TABLE test_mark (x INTEGER)")
    con.commit()
    con.close()
    stamp = template.stat().st_mtime_ns
    second.start()
    try:
        # The new home got its copy (it never saw the first home's flow) and it works.
        listed = httpx.post(f"{second.api_url}/flows/filter", json={}, timeout=30)
        assert listed.status_code == 200 and listed.json() == []
        made = httpx.post(f"{second.api_url}/flows/", json={"name": "another-run"}, timeout=30)
        assert made.status_code in (200, 201), made.text
    finally:
        second.stop()
    assert template.stat().st_mtime_ns == stamp  # not made again
    con = sqlite3.connect(second_home / DATABASE)
    marked = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'test_mark'").fetchone()
    con.close()
    assert marked == (1,)


def test_a_home_with_a_database_keeps_it(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    template = template_path(env)
    assert template is not None
    _migrated(template)
    home = tmp_path / "home"
    own = _migrated(home / DATABASE, rows=1)
    before = own.read_bytes()
    assert seed_home(home, env) is False
    assert own.read_bytes() == before


def test_a_server_given_a_database_of_its_own_is_left_alone(tmp_path: Path) -> None:
    for name in ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"):
        env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), name: "postgresql+asyncpg://x/y"}
        template = template_path(env)
        assert template is not None
        _migrated(template)
        home = tmp_path / name
        home.mkdir()
        assert seed_home(home, env) is False
        assert not (home / DATABASE).exists()
        template.unlink()
        _migrated(home / DATABASE)
        keep_template(home, env)
        assert not template.exists()


def test_a_damaged_template_is_removed_not_given_to_a_new_home(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    template = template_path(env)
    assert template is not None
    for damaged in (b"not a database at all" * 100, None):
        if damaged is None:
            _migrated(template, rows=0)  # a database, but never migrated
        else:
            template.parent.mkdir(parents=True, exist_ok=True)
            template.write_bytes(damaged)
        home = tmp_path / f"home-{damaged is None}"
        home.mkdir()
        assert seed_home(home, env) is False
        assert not (home / DATABASE).exists()
        assert not template.exists()


def test_a_template_is_copied_whole_and_made_once(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    source_home = tmp_path / "source"
    _migrated(source_home / DATABASE)
    keep_template(source_home, env)
    template = template_path(env)
    assert template is not None and _rows(template) == {"alembic_version": 1}
    assert [p.name for p in template.parent.iterdir()] == [template.name]  # no partial left
    _migrated(tmp_path / "other" / DATABASE, rows=1)
    stamp = template.stat().st_mtime_ns
    keep_template(tmp_path / "other", env)
    assert template.stat().st_mtime_ns == stamp
    home = tmp_path / "new"
    home.mkdir()
    assert seed_home(home, env) is True
    assert (home / DATABASE).read_bytes() == template.read_bytes()
    assert sorted(p.name for p in home.iterdir()) == [DATABASE]


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder would be")
    env = {"XDG_CACHE_HOME": str(blocked)}
    _migrated(tmp_path / "home" / DATABASE)
    keep_template(tmp_path / "home", env)  # says so in the debug log, raises nothing
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert seed_home(fresh, env) is False
