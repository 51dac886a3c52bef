"""Raw pages as a web archive: every fetched page is a WARC capture next to the warehouse,
indexed in ``captures`` and ``raw_pages``; a reparse reads the captures back; pages an
older warehouse kept in ``raw_pages.html`` move into the archive; a crash that cut the last
record costs that record only; and the warehouse is written through one held connection
per run, which readers of ours still get between batches."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from baolaocai.errors import WarehouseBusyError
from baolaocai.models import FetchedPage
from baolaocai.settings import Settings
from baolaocai.site import default_site
from pipeline.crawl import crawl_site, reparse_archive
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import FaultPlan, churn
from warehouse.db import connect, migrations
from warehouse.load import kept_captures, load_batch
from warehouse.session import WarehouseSession, warc_dir
from warehouse.warc import warc_files
from warehouse.writer import read_holder

N_BUNDLED = len(list(SITE_DIR.glob("*-post*.html")))
ARTICLE_COLUMNS = "article_id, title, sapo, body, author, published_at, category, tags"
PAPER = default_site()


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    with serve_site(SITE_DIR) as server:
        yield server


def crawl(site: SiteServer, db: Path) -> Any:
    settings = Settings(base_url=site.url, db_path=str(db), rate=200.0, concurrency=4)
    return crawl_site(settings).summary


def test_a_crawl_archives_every_page_and_indexes_each_capture(
    site: SiteServer, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    summary = crawl(site, db)
    assert summary.status == "completed" and summary.articles_new == N_BUNDLED
    folder = warc_dir(db)
    assert folder == tmp_path / "w.warc" and warc_files(folder)
    captures = rows(
        db, "SELECT url, warc_file, warc_offset, warc_length, digest, status FROM captures"
    )
    assert len(captures) == N_BUNDLED and {c[5] for c in captures} == {200}
    # raw_pages points at the capture and holds no HTML any more.
    assert rows(db, "SELECT count(*) FROM raw_pages WHERE html IS NOT NULL") == [(0,)]
    assert rows(
        db,
        "SELECT count(*) FROM raw_pages r JOIN captures c"
        " ON r.url = c.url AND r.record_id = c.record_id AND r.warc_offset = c.warc_offset",
    ) == [(N_BUNDLED,)]
    # warcio itself reads the files: a response and a request record per page, and the
    # body of each response is the page the site served, byte for byte.
    served = {f"https://baolaocai.vn/{p.name}": p.read_bytes() for p in SITE_DIR.glob("*-post*")}
    kinds: dict[str, int] = {}
    for name in warc_files(folder):
        with open(folder / name, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                kinds[record.rec_type] = kinds.get(record.rec_type, 0) + 1
                if record.rec_type == "response":
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    assert record.content_stream().read() == served[url]
    assert kinds["response"] == kinds["request"] == N_BUNDLED


def test_a_reparse_reads_the_archive_and_changes_nothing(site: SiteServer, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    crawl(site, db)
    before = rows(db, f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY 1")
    settings = Settings(db_path=str(db))
    summary = reparse_archive(settings, batch_size=5).summary
    assert summary.status == "completed", summary.error
    assert (summary.articles_unchanged, summary.articles_new, summary.articles_updated) == (
        N_BUNDLED,
        0,
        0,
    )
    assert rows(db, f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY 1") == before
    assert rows(db, "SELECT count(*) FROM captures") == [(N_BUNDLED,)]  # nothing archived twice


def _warehouse_at_version_4(db: Path) -> None:
    """A warehouse as the previous release left it: schema 4, pages in raw_pages.html."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), checksum VARCHAR)"
        )
        for version, name, sql in migrations():
            if version <= 4:
                con.execute(sql)
                con.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", [version, name]
                )
        for number, path in enumerate(sorted(SITE_DIR.glob("*-post*.html"))):
            html = path.read_text(encoding="utf-8")
            aid = int(path.stem.rsplit("post", 1)[1])
            con.execute(
                "INSERT INTO raw_pages VALUES (?, ?, ?, 200, ?, NULL, 'text/html; charset=utf-8',"
                " ?, ?, 'r-old')",
                [
                    f"https://baolaocai.vn/{path.name}",
                    aid,
                    datetime(2026, 1, 1, number, tzinfo=UTC),
                    f'"etag-{number}"',
                    html,
                    hashlib.sha256(html.encode()).hexdigest(),
                ],
            )


def test_pages_of_an_older_warehouse_move_into_the_archive(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _warehouse_at_version_4(db)
    stored = dict(rows(db, "SELECT url, html FROM raw_pages"))
    wh = WarehouseSession(db, PAPER)
    assert wh.begin() == N_BUNDLED
    wh.close()
    assert rows(db, "SELECT count(*) FROM raw_pages WHERE html IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT count(*), count(DISTINCT url) FROM captures") == [
        (N_BUNDLED, N_BUNDLED)
    ]
    # The validators stay for conditional requests; each page reads back unchanged.
    assert rows(db, "SELECT count(*) FROM raw_pages WHERE etag LIKE '\"etag-%'") == [(N_BUNDLED,)]
    from warehouse.raw import read_raw_article_pages

    con = connect(db, read_only=True)
    try:
        pages = read_raw_article_pages(
            con, site=PAPER, after_id=-1, limit=1000, warc_folder=warc_dir(db)
        )
    finally:
        con.close()
    assert {p.url: p.html for p in pages} == stored
    assert all(p.archived for p in pages)
    # A second start has nothing left to move; a reparse of the moved pages loads them.
    wh = WarehouseSession(db, PAPER)
    assert wh.begin() == 0
    wh.close()
    summary = reparse_archive(Settings(db_path=str(db))).summary
    assert summary.status == "completed" and summary.articles_new == N_BUNDLED


def test_a_crash_that_cut_the_last_record_costs_that_record_only(
    site: SiteServer, tmp_path: Path
) -> None:
    """The process dies while writing a capture (simulated: half a record appended to the
    newest file). The next run repairs the file and archives on; every capture the
    warehouse indexes still reads back."""
    db = tmp_path / "w.duckdb"
    crawl(site, db)
    folder = warc_dir(db)
    newest = folder / warc_files(folder)[-1]
    whole = newest.read_bytes()
    newest.write_bytes(whole + whole[-300:][:150])  # a gzip member cut short
    settings = Settings(base_url=site.url, db_path=str(db), rate=200.0, concurrency=4)
    with connect(db) as con:
        con.execute("DELETE FROM article_images")
        con.execute("DELETE FROM article_revisions")
        con.execute("DELETE FROM articles")  # so that the next crawl fetches every page again
    summary = crawl_site(settings).summary
    assert summary.status == "completed" and summary.articles_new == N_BUNDLED
    assert newest.read_bytes()[: len(whole)] == whole  # the complete records were kept
    summary = reparse_archive(Settings(db_path=str(db))).summary
    assert summary.status == "completed" and summary.articles_failed == 0


def _plain_reader(db: Path) -> subprocess.CompletedProcess[str]:
    """What a pandas or DuckDB CLI user does: a plain read-only connection, no waiting."""
    code = f"import duckdb; duckdb.connect({str(db)!r}, read_only=True).close()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


def test_a_run_holds_the_warehouse_only_while_it_writes(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    wh = WarehouseSession(db, PAPER, run_id="r1", kind="crawl")
    wh.begin()
    try:
        assert wh.running and not wh.held
        assert _plain_reader(db).returncode == 0  # between writes, anyone reads
        with wh.writing() as first:
            assert wh.held
            first.execute("CREATE TABLE t AS SELECT 1 AS x")
            with wh.reading() as inner:  # inside a write: a cursor of the same connection
                assert inner.execute("SELECT x FROM t").fetchall() == [(1,)]
            # DuckDB: one writing process, and no reader beside it, for as long as it writes.
            probe = _plain_reader(db)
            assert probe.returncode != 0 and "lock" in probe.stderr.lower()
        assert not wh.held
        assert _plain_reader(db).returncode == 0
        with wh.reading() as second:  # the run's own reads share the file with the others'
            assert second.execute("SELECT x FROM t").fetchall() == [(1,)]
            assert _plain_reader(db).returncode == 0
        # A second run on the warehouse is refused in one line naming the first.
        other = WarehouseSession(db, PAPER, run_id="r2", kind="backfill")
        with pytest.raises(WarehouseBusyError, match=rf"crawl run r1 \(pid {os.getpid()}"):
            other.begin()
        assert not other.running
    finally:
        wh.close()
    wh.close()  # twice: nothing to do
    assert rows(db, "SELECT x FROM t") == [(1,)]
    other = WarehouseSession(db, PAPER, run_id="r2")
    other.begin()  # the first run's lock went with it
    other.close()


def test_a_second_run_waits_for_the_first_and_says_for_whom(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    first = WarehouseSession(db, PAPER, run_id="r1", kind="crawl")
    first.begin()
    told: list[str] = []
    second = WarehouseSession(
        db, PAPER, run_id="r2", wait_s=30.0, on_wait=lambda h: told.append(h.describe())
    )
    timer = threading.Timer(1.0, first.close)
    timer.start()
    began = time.monotonic()
    try:
        second.begin()
    finally:
        timer.join()
        second.close()
    assert time.monotonic() - began >= 0.9
    assert len(told) == 1 and told[0].startswith("crawl run r1 (pid ")


def test_a_killed_writer_leaves_no_lock_behind(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    code = (
        "import sys, time; sys.path.insert(0, sys.argv[2]);"
        "from warehouse.writer import WriterLock;"
        "WriterLock(sys.argv[1], run_id='dead', kind='crawl').acquire();"
        "print('held', flush=True); time.sleep(60)"
    )
    root = str(Path(__file__).resolve().parents[2])
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(db), root], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        holder = read_holder(db)
        assert holder is not None and holder.run_id == "dead" and holder.pid == child.pid
    finally:
        child.kill()
        child.wait()
    assert read_holder(db) is None
    wh = WarehouseSession(db, PAPER)
    wh.begin()
    wh.close()


def test_archive_of_a_page_known_only_as_text_says_utf_8(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    page = FetchedPage(
        "https://baolaocai.vn/thu-nghiem-post1.html",
        "https://baolaocai.vn/thu-nghiem-post1.html",
        200,
        datetime(2026, 12, 1, tzinfo=UTC),
        "<html><body><p>Đồng bào Mông ở Bắc Hà</p></body></html>",
        {"content-type": "text/html; charset=windows-1258", "etag": '"e1"'},
    )
    wh = WarehouseSession(db, PAPER)
    try:
        [ref] = wh.archive([page]).values()
    finally:
        wh.close()
    from warehouse.warc import read_capture

    capture = read_capture(warc_dir(db), ref)
    assert capture.body.decode("utf-8") == page.html
    assert capture.headers["content-type"] == "text/html; charset=utf-8"
    assert capture.headers["etag"] == '"e1"'


def test_a_recrawl_of_an_unchanged_site_adds_revisit_records(tmp_path: Path) -> None:
    """Every stored article rechecked twice: one page answers the same body under a new
    ``ETag`` each time (an identical-payload revisit), the others answer 304 (a
    server-not-modified revisit). Each re-fetch is a small revisit record naming the
    first response, and a ``captures`` row saying so; the pages are not stored again and
    a reparse still reads every page."""
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    churning = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))[0]
    churning_url = f"https://baolaocai.vn/{churning}"
    db = tmp_path / "w.duckdb"
    with serve_site(root) as server:
        server.override = FaultPlan({re.escape(f"/{churning}"): [churn()] * 10})
        settings = Settings(
            base_url=server.url,
            db_path=str(db),
            rate=200.0,
            concurrency=4,
            recheck_days=36500,
            recheck_interval_h=0,
        )
        sizes = []
        for _ in range(3):
            summary = crawl_site(settings).summary
            assert summary.status == "completed", summary.error
            sizes.append(sum(p.stat().st_size for p in warc_dir(db).iterdir()))
        statuses = {r.path: r.status for r in server.requests if r.path.endswith(".html")}
    assert statuses[f"/{churning}"] == 200 and 304 in statuses.values()
    # Per article: its first response, then two revisits referring to it.
    per_url = rows(
        db,
        "SELECT url, list(record_type ORDER BY fetched_at), count(DISTINCT coalesce(refers_to,"
        " record_id)) FROM captures WHERE article_id IS NOT NULL GROUP BY url ORDER BY url",
    )
    assert len(per_url) == N_BUNDLED
    assert all(kinds == ["response", "revisit", "revisit"] and n == 1 for _, kinds, n in per_url)
    assert rows(
        db,
        "SELECT count(*) FROM captures v JOIN captures r ON r.record_id = v.refers_to"
        " WHERE v.record_type = 'revisit' AND r.record_type = 'response' AND r.url = v.url",
    ) == [(2 * N_BUNDLED,)]
    statuses_of_revisits = rows(
        db,
        f"SELECT url = '{churning_url}', status, count(*) FROM captures"
        " WHERE record_type = 'revisit' GROUP BY ALL ORDER BY ALL",
    )
    assert statuses_of_revisits == [(False, 304, 2 * (N_BUNDLED - 1)), (True, 200, 2)]
    # The files say the same (warcio reads them): one response per page, revisits
    # that name it, with the profile of the answer.
    folder = warc_dir(db)
    responses: dict[str, str] = {}
    revisits: list[tuple[str, str, str]] = []
    for name in warc_files(folder):
        with open(folder / name, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                uri = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and "-post" in uri:
                    responses[uri] = record.rec_headers.get_header("WARC-Record-ID")
                elif record.rec_type == "revisit":
                    profile = record.rec_headers.get_header("WARC-Profile").rsplit("/", 1)[1]
                    revisits.append((uri, record.rec_headers.get_header("WARC-Refers-To"), profile))
    assert len(responses) == N_BUNDLED and len(revisits) == 2 * N_BUNDLED
    assert all(responses[uri] == refers for uri, refers, _ in revisits)
    assert {p for u, _, p in revisits if u == churning_url} == {"identical-payload-digest"}
    assert {p for u, _, p in revisits if u != churning_url} == {"server-not-modified"}
    # raw_pages still points at the responses, which a reparse reads.
    assert rows(
        db,
        "SELECT count(*) FROM raw_pages p JOIN captures c ON c.record_id = p.record_id"
        " WHERE c.record_type = 'response'",
    ) == [(N_BUNDLED,)]
    summary = reparse_archive(Settings(db_path=str(db))).summary
    assert summary.status == "completed" and summary.articles_unchanged == N_BUNDLED
    # A recheck of an unchanged site adds about a kilobyte a page (a revisit and its
    # request), not the pages again (these synthetic pages are small: ~3.7 KB gzipped).
    assert sizes[2] - sizes[1] < 1200 * N_BUNDLED < sizes[0] / 3


def _fetched(text: str, at: datetime, etag: str) -> FetchedPage:
    url = "https://baolaocai.vn/phien-cho-vung-cao-post77.html"
    return FetchedPage(
        url,
        url,
        200,
        at,
        text,
        {"content-type": "text/html; charset=utf-8", "etag": etag},
        body=text.encode("utf-8"),
        response_headers=(("Content-Type", "text/html; charset=utf-8"), ("ETag", etag)),
    )


def _store(wh: WarehouseSession, pages: list[FetchedPage], run_id: str) -> dict[str, Any]:
    """A crawl batch's archive and load (``pipeline.steps``), the same batch loadable
    twice: returns what was archived."""
    with wh.reading() as con:
        kept = kept_captures(con, PAPER, pages)
    captures = wh.archive(pages, kept=kept)
    for _ in range(2):  # the same batch loaded twice leaves the same rows
        with wh.writing() as con:
            load_batch(
                con,
                site=PAPER,
                run_id=run_id,
                seen_at=pages[0].fetched_at,
                pages=pages,
                articles=[],
                failures=[],
                captures=captures,
                kept=kept,
            )
    return {"kept": kept, "captures": captures}


def test_a_revisit_batch_loaded_twice_adds_its_rows_once(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    text = "<html><body><p>Phiên chợ vùng cao Bắc Hà họp sáng Chủ nhật.</p></body></html>"
    wh = WarehouseSession(db, PAPER)
    wh.begin()
    try:
        first = _store(wh, [_fetched(text, datetime(2026, 12, 1, tzinfo=UTC), '"a"')], "r1")
        again = _store(wh, [_fetched(text, datetime(2026, 12, 2, tzinfo=UTC), '"b"')], "r2")
    finally:
        wh.close()
    [original] = first["captures"].values()
    [revisit] = again["captures"].values()
    assert again["kept"] == first["captures"] and revisit.refers_to == original.record_id
    assert rows(db, "SELECT record_type, refers_to, run_id FROM captures ORDER BY fetched_at") == [
        ("response", None, "r1"),
        ("revisit", original.record_id, "r2"),
    ]
    assert rows(db, "SELECT record_id, etag FROM raw_pages") == [(original.record_id, '"b"')]


def test_a_page_whose_stored_capture_is_lost_is_archived_again_in_full(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    text = "<html><body><p>Phiên chợ vùng cao Bắc Hà họp sáng Chủ nhật.</p></body></html>"
    wh = WarehouseSession(db, PAPER)
    wh.begin()
    try:
        first = _store(wh, [_fetched(text, datetime(2026, 12, 1, tzinfo=UTC), '"a"')], "r1")
    finally:
        wh.close()
    [original] = first["captures"].values()
    (warc_dir(db) / original.file).unlink()  # lost by hand
    wh = WarehouseSession(db, PAPER)
    wh.begin()
    try:
        again = _store(wh, [_fetched(text, datetime(2026, 12, 2, tzinfo=UTC), '"b"')], "r2")
    finally:
        wh.close()
    [copy] = again["captures"].values()
    assert again["kept"] and not copy.is_revisit  # no revisit of a record that is gone
    assert rows(db, "SELECT record_id FROM raw_pages") == [(copy.record_id,)]
    assert rows(db, "SELECT record_type FROM captures WHERE run_id = 'r2'") == [("response",)]
    from warehouse.warc import read_capture

    assert read_capture(warc_dir(db), copy).body == text.encode("utf-8")
