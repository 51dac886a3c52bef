"""A batch is loaded through one open of the warehouse during a run (each open replays
DuckDB's write-ahead log), and still loads outside a run, where a session's write block
is a connection of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from pipeline.steps import load_pages
from sitecopy.generate import make_articles, render_article
from transforms.parallel import ParsePool
from warehouse import db, session
from warehouse.session import WarehouseSession


def _pages(first_id: int) -> list[FetchedPage]:
    now = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    return [
        FetchedPage(
            a.url, a.url, 200, now, render_article(a), {"content-type": "text/html; charset=utf-8"}
        )
        for a in make_articles(6, seed=8, first_id=first_id)
    ]


def _stored(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM articles").fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0])


def test_a_batch_opens_the_warehouse_once_during_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb"
    settings = Settings(db_path=str(path), parse_workers=1, parse_deadline=0)
    wh = WarehouseSession(path, settings.site)
    wh.begin()
    opens: list[bool] = []
    real_connect = db.connect

    def counting(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        opens.append(bool(kwargs.get("read_only")))
        return real_connect(*args, **kwargs)  # type: ignore[arg-type]

    try:
        with ParsePool(1) as pool:
            load_pages(settings, wh, pool, "crawl-1", _pages(910_000))  # creates, migrates
            monkeypatch.setattr(db, "connect", counting)  # open_held's
            monkeypatch.setattr(session, "connect", counting)  # reading()'s
            result = load_pages(settings, wh, pool, "crawl-1", _pages(920_000))
    finally:
        monkeypatch.undo()
        wh.close()
    assert result.counts.new == 6
    assert opens == [False], opens  # the write's open; no read-only open beside it
    assert _stored(path) == 12


def test_a_batch_loads_outside_a_run(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    settings = Settings(db_path=str(path), parse_workers=1, parse_deadline=0)
    db.connect(path).close()  # an existing warehouse (reads outside a run need one)
    wh = WarehouseSession(path, settings.site)  # never begun: no held connection
    try:
        with ParsePool(1) as pool:
            first = load_pages(settings, wh, pool, "crawl-1", _pages(930_000))
            again = load_pages(settings, wh, pool, "crawl-1", _pages(930_000))
    finally:
        wh.close()
    assert (first.counts.new, again.counts.unchanged) == (6, 6)
    assert _stored(path) == 6
