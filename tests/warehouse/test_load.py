"""Loading is idempotent, keeps every version, and is all-or-nothing per batch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from baolaocai.models import Article, Failure, FetchedPage, Image, StagedArticle
from baolaocai.site import default_site
from transforms.validate import content_hash
from warehouse.db import connect, migrations, schema_version
from warehouse.load import kept_captures, load_batch
from warehouse.state import read_crawl_state
from warehouse.warc import CaptureRef, payload_digest

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
SITE = default_site()


def _article(
    aid: int, body: str = "Nội dung bài viết về chợ phiên Bắc Hà ngày cuối tuần."
) -> Article:
    return Article(
        url=f"https://baolaocai.vn/bai-{aid}-post{aid}.html",
        article_id=aid,
        title=f"Bài số {aid}",
        sapo="Sapo của bài.",
        body=body,
        author="Lò Văn Minh",
        published_at=datetime(2026, 10, 30, 8, 15, tzinfo=UTC),
        category="Kinh tế",
        tags=("Bắc Hà", "chợ phiên"),
        images=(Image("https://cdn.baolaocai.vn/images/a/1.jpg", "Ảnh"),),
        source=None,
        extraction_method="epi",
    )


def _staged(article: Article) -> StagedArticle:
    return StagedArticle(article, content_hash(article))


def _page(article: Article) -> FetchedPage:
    return FetchedPage(article.url, article.url, 200, T0, "<html>...</html>", {"etag": '"x"'})


def _load(con: duckdb.DuckDBPyConnection, articles: list[Article], seen_at: datetime = T0):
    return load_batch(
        con,
        site=SITE,
        run_id="r1",
        seen_at=seen_at,
        pages=[_page(a) for a in articles],
        articles=[_staged(a) for a in articles],
        failures=[],
    )


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = ("articles", "article_images", "article_revisions", "raw_pages")
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]


@pytest.fixture
def con(tmp_path: Path):
    connection = connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "m.duckdb"
    connect(path).close()
    con = connect(path)
    assert schema_version(con) == max(v for v, _, _ in migrations())
    assert con.execute("SELECT count(*) FROM schema_version").fetchone() == (len(migrations()),)


def test_same_batch_twice_leaves_the_same_rows(con: duckdb.DuckDBPyConnection) -> None:
    first = _load(con, [_article(1), _article(2)])
    assert (first.new, first.updated, first.unchanged) == (2, 0, 0)
    before = _counts(con)
    again = _load(con, [_article(1), _article(2)], T0 + timedelta(hours=1))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 2)
    assert _counts(con) == before
    row = con.execute(
        "SELECT version, first_seen_at, last_seen_at FROM articles WHERE article_id = 1"
    ).fetchone()
    assert row is not None and row[0] == 1 and row[2] > row[1]
    assert read_crawl_state(con, site=SITE, now=T0 + timedelta(hours=2)).known_ids == {1, 2}


def test_edited_article_is_updated_and_history_kept(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [_article(1)])
    edited = _article(1, body="Nội dung đã được biên tập lại sau khi đăng, thêm một câu mới.")
    counts = _load(con, [edited], T0 + timedelta(days=1))
    assert (counts.new, counts.updated) == (0, 1)
    current = con.execute("SELECT version, body FROM articles WHERE article_id = 1").fetchone()
    assert current == (2, edited.body)
    versions = con.execute(
        "SELECT version, body FROM article_revisions WHERE article_id = 1 ORDER BY version"
    ).fetchall()
    assert [v for v, _ in versions] == [1, 2] and versions[0][1] == _article(1).body
    assert con.execute("SELECT count(*) FROM article_images WHERE article_id = 1").fetchone() == (
        1,
    )


def test_vietnamese_text_and_times_round_trip(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [_article(7)])
    row = con.execute(
        "SELECT tags, strftime(published_at, '%Y-%m-%d %H:%M %z') FROM articles"
    ).fetchone()
    assert row == (["Bắc Hà", "chợ phiên"], "2026-10-30 15:15 +07")


def test_a_failing_batch_leaves_nothing_behind(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [_article(1)])
    before = _counts(con)
    good, broken = _article(3), _article(2).replace(url=None)  # NOT NULL, hit mid-transaction
    with pytest.raises(duckdb.Error):
        load_batch(
            con,
            site=SITE,
            run_id="r2",
            seen_at=T0,
            pages=[_page(good), _page(_article(2))],
            articles=[_staged(good), _staged(broken)],
            failures=[],
        )
    assert _counts(con) == before


def test_articles_with_images_view(con: duckdb.DuckDBPyConnection) -> None:
    _load(con, [_article(7), _article(8).replace(images=())])
    rows = con.execute("SELECT article_id, images FROM articles_with_images ORDER BY 1").fetchall()
    assert rows == [
        (7, [{"position": 0, "src": "https://cdn.baolaocai.vn/images/a/1.jpg", "caption": "Ảnh"}]),
        (8, []),
    ]


def _gone(url: str) -> tuple[FetchedPage, Failure]:
    page = FetchedPage(url, url, 404, T0, None, error="HTTP 404")
    return page, Failure(url, "fetch", "HTTP 404", 404)


def test_a_takedown_counts_as_removed_not_as_failed(con: duckdb.DuckDBPyConnection) -> None:
    stored = _article(1)
    _load(con, [stored])
    never_stored = "https://baolaocai.vn/bai-2-post2.html"
    answers = [_gone(stored.url or ""), _gone(never_stored)]
    for later, newly_removed in ((1, 1), (2, 0)):  # removed now, then already removed
        counts = load_batch(
            con,
            site=SITE,
            run_id=f"r{later + 1}",
            seen_at=T0 + timedelta(days=later),
            pages=[page for page, _ in answers],
            articles=[],
            failures=[failure for _, failure in answers],
        )
        assert (counts.removed, counts.failed) == (newly_removed, 1)
        assert counts.taken_down == [stored.url]
    assert con.execute("SELECT article_id FROM removed_articles").fetchall() == [(1,)]
    # Both are recorded: the takedown's row is what --retry-failed asks again.
    errors = con.execute("SELECT url FROM open_fetch_errors ORDER BY url").fetchall()
    assert errors == [(stored.url,), (never_stored,)]


def test_an_answer_already_captured_only_renews_its_validators(
    con: duckdb.DuckDBPyConnection,
) -> None:
    article = _article(1)
    first = _page(article)
    body = (first.html or "").encode("utf-8")
    ref = CaptureRef("baolaocai-1.warc.gz", 0, 900, payload_digest(body), "<urn:uuid:1>")
    load_batch(
        con,
        site=SITE,
        run_id="r1",
        seen_at=T0,
        pages=[first],
        articles=[_staged(article)],
        failures=[],
        captures={first.url: ref},
    )
    again = replace(first, headers={"etag": '"y"', "last-modified": "Sun, 01 Nov 2026"})
    assert kept_captures(con, SITE, [again]) == {again.url: ref}
    assert kept_captures(con, SITE, [replace(again, archived=True)]) == {}
    assert kept_captures(con, SITE, [replace(again, html="<html>edited</html>")]) == {}
    other_type = replace(again, headers={**again.headers, "content-type": "text/html"})
    assert kept_captures(con, SITE, [other_type]) == {}

    load_batch(
        con,
        site=SITE,
        run_id="r2",
        seen_at=T0 + timedelta(days=1),
        pages=[again],
        articles=[_staged(article)],
        failures=[],
        captures={},
        kept={again.url: ref},
    )
    assert con.execute("SELECT count(*) FROM captures").fetchone() == (1,)
    raw = con.execute(
        "SELECT etag, last_modified, record_id, warc_file, run_id, html FROM raw_pages"
    ).fetchall()
    assert raw == [('"y"', "Sun, 01 Nov 2026", ref.record_id, ref.file, "r1", None)]
