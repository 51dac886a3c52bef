"""The loader writes exactly the rows it wrote before it took batches as Arrow tables.

One scripted sequence of batches touches every write of :func:`warehouse.load.load_batch`
(new, changed, unchanged and refreshed articles, a crawl's and a reparse's, pictures,
tags, NULLs, Vietnamese text, instants in several offsets, captures, a page kept with its
stored capture, a 304, a takedown and a return, a page refused as not the article, a
placeholder, failures and their resolution, a record twice in a batch). Every table it
writes is dumped, every value, and compared with ``loader_rows.json``: the dump the
NDJSON-staging loader (before issue #21) made of the same sequence. Regenerate it only
for a deliberate change of what the loader stores::

    uv run python tests/warehouse/test_loader_rows.py > tests/warehouse/loader_rows.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from baolaocai.models import Article, Failure, FetchedPage, Image, StagedArticle
from baolaocai.site import default_site
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.load import load_batch
from warehouse.warc import CaptureRef

EXPECTED = Path(__file__).with_name("loader_rows.json")
SITE = default_site()
VN = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
TABLES = {
    "articles": "site, article_id",
    "article_images": "site, article_id, position",
    "article_revisions": "site, article_id, version",
    "raw_pages": "site, url",
    "captures": "site, url, warc_offset",
    "fetch_errors": "site, url, run_id",
    "placeholder_pages": "site, fingerprint",
}


def url(aid: int) -> str:
    return f"https://baolaocai.vn/bai-so-{aid}-post{aid}.html"


def article(aid: int, **changes: Any) -> StagedArticle:
    fields: dict[str, Any] = {
        "url": url(aid),
        "article_id": aid,
        "title": f"Chợ phiên Bắc Hà số {aid}",
        "sapo": "Đồng bào Mông, Dao, Tày… xuống chợ từ sáng sớm.",
        "body": "Đoạn một về Lào Cai.\n\nĐoạn hai: “Sa Pa” và Hoàng Liên Sơn – 3.143 m.",
        "author": "Lò Văn Minh, Hà Thị Thu",
        "published_at": datetime(2026, 10, 30, 8, 15, tzinfo=VN),
        "category": "Kinh tế",
        "tags": ("Bắc Hà", "chợ phiên"),
        "images": (
            Image("https://cdn.baolaocai.vn/images/a/1.jpg", "Ảnh: Phiên chợ"),
            Image("https://cdn.baolaocai.vn/images/a/2.jpg", None),
        ),
        "source": None,
        "extraction_method": "epi",
        "page_kind": "article",
    }
    fields.update(changes)
    a = Article(**fields)
    return StagedArticle(a, content_hash(a))


def page(aid: int, at: datetime, status: int = 200, **changes: Any) -> FetchedPage:
    html = None if status in (304, 404, 410, 503) else f"<html>trang {aid} ở Lào Cai</html>"
    fields: dict[str, Any] = {
        "headers": {"etag": f'"e{aid}"', "content-type": "text/html; charset=utf-8"},
    }
    fields.update(changes)
    return FetchedPage(url(aid), url(aid), status, at, html, **fields)


def ref(n: int) -> CaptureRef:
    return CaptureRef("baolaocai-1.warc.gz", 1000 * n, 900 + n, f"sha1:D{n:031d}", f"<urn:{n}>")


def batches() -> Iterator[dict[str, Any]]:
    """The scripted batches, as ``load_batch`` keyword arguments."""
    t1, t2, t3, t4 = T0, T0 + timedelta(hours=2), T0 + timedelta(days=1), T0 + timedelta(days=2)
    # 1. A crawl: three new articles (one without pictures, tags, sapo, author, date),
    #    captured (one page kept as HTML, no archive), a failure, a listed <lastmod>.
    yield {
        "run_id": "crawl-1",
        "seen_at": t1,
        "pages": [page(1, t1), page(2, t1), page(3, t1), page(9, t1, 503, transient=True)],
        "articles": [
            article(1),
            article(
                2,
                tags=(),
                images=(),
                sapo=None,
                author=None,
                published_at=None,
                modified_at=None,
                category=None,
                extraction_method="density",
                field_conflicts=("published_at: json-ld vs visible",),
            ),
            article(3, modified_at=datetime(2026, 10, 31, 23, 59, 59, 123456, tzinfo=UTC)),
        ],
        "failures": [Failure(url(9), "fetch", "HTTP 503", 503, 3)],
        "captures": {url(1): ref(1), url(2): ref(2)},
        "lastmods": {1: datetime(2026, 10, 30, 9, 0, tzinfo=VN)},
    }
    # 2. A recrawl: 1 unchanged (its page the very answer captured: kept), 2 edited (twice
    #    in the batch: the last wins), 3 answers 304, 9 fetched now, 4 new; a takedown of
    #    nothing stored (404), a failure twice (the last wins).
    yield {
        "run_id": "crawl-2",
        "seen_at": t2,
        "pages": [
            page(1, t2, headers={"etag": '"new-e1"', "content-type": "text/html; charset=utf-8"}),
            page(2, t2),
            page(3, t2, 304),
            page(9, t2),
            page(4, t2),
            page(8, t2, 404),
        ],
        "articles": [
            article(1),
            article(2, body="Bản đầu đã sửa."),
            article(2, body="Bài đã được biên tập lại, thêm một câu về Y Tý."),
            article(9, title="Trang 9"),
            article(4, category="Văn hóa - Du lịch", category_source="listing"),
        ],
        "failures": [
            Failure(url(8), "fetch", "HTTP 404", 404),
            Failure(url(7), "parse", "first reason"),
            Failure(url(7), "parse", "second reason", None, 2),
        ],
        "captures": {url(2): ref(3), url(9): ref(4), url(4): ref(5)},
        "kept": {url(1): ref(1)},
        "lastmods": {
            2: datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
            4: datetime(2026, 10, 1, tzinfo=VN),
        },
    }
    # 3. Takedowns and impostors: 1 answers 410 (removed), 4 answers the site's error
    #    page (refused: stored version kept, a note), a placeholder is remembered.
    yield {
        "run_id": "crawl-3",
        "seen_at": t3,
        "pages": [page(1, t3, 410), page(4, t3)],
        "articles": [],
        "failures": [
            Failure(url(1), "fetch", "HTTP 410", 410),
            Failure(url(4), "identity", "the site's error page served as HTTP 200"),
        ],
        "captures": {url(4): ref(6)},
        "placeholders": {"fp-abc": url(4)},
    }
    # 4. A reparse (pages read back from the archive, the site not seen): 1 unchanged
    #    but read by a newer parser (kind, reader, conflicts refreshed; still removed,
    #    its 410 still open: a reparse sees no site), 2 unchanged as is, 3 changed (a new version keeping
    #    last_seen_at), 5 new; 7 parses now (its failure resolved).
    yield {
        "run_id": "reparse-1",
        "seen_at": t4,
        "touch_unchanged": False,
        "pages": [page(i, t1, archived=True) for i in (1, 2, 3, 5, 7)],
        "articles": [
            article(1, page_kind="gallery", extraction_method="epi+density"),
            article(2, body="Bài đã được biên tập lại, thêm một câu về Y Tý."),
            article(3, body="Đoạn một về Lào Cai, đọc lại."),
            article(5, tags=("Mường Khương",)),
            article(7),
        ],
        "failures": [],
    }


def dump(con: duckdb.DuckDBPyConnection) -> dict[str, list[list[Any]]]:
    """Every row of every table the loader writes, every value (instants in UTC)."""
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    for table, key in TABLES.items():
        rows = con.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
        out[table] = [[_plain(v) for v in row] for row in rows]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_all(folder: Path) -> dict[str, Any]:
    con = connect(folder / "w.duckdb")
    try:
        counts = []
        for batch in batches():
            c = load_batch(con, site=SITE, **batch)
            counts.append(asdict(c))
        return {"counts": counts, "tables": dump(con)}
    finally:
        con.close()


def test_the_loader_stores_the_rows_it_always_stored(tmp_path: Path) -> None:
    got = json.loads(json.dumps(load_all(tmp_path)))  # as the file holds it
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert got["counts"] == expected["counts"]
    for table in TABLES:
        assert got["tables"][table] == expected["tables"][table], table


def test_a_reparse_keeps_a_takedown(tmp_path: Path) -> None:
    """Article 1 answered 410 (batch 3), then its archived page was parsed again (batch
    4, a reparse): it is still removed, and the 410 that recorded it is still open; the
    parse error of article 7 is settled by the reparse that reads it."""
    load_all(tmp_path)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        removed = con.execute(
            "SELECT removed_at IS NOT NULL FROM articles WHERE article_id = 1"
        ).fetchone()
        open_errors = con.execute(
            "SELECT stage, status FROM fetch_errors WHERE resolved_at IS NULL ORDER BY url"
        ).fetchall()
    finally:
        con.close()
    assert removed == (True,)
    assert ("fetch", 410) in open_errors
    assert not [e for e in open_errors if e[0] == "parse"]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(load_all(Path(folder)), ensure_ascii=False, indent=1))
