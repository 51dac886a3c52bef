"""One warehouse, two papers: Báo Lào Cai and a second site on the same CMS that numbers
its articles alike. Every row is one site's; nothing one site does reads or changes the
other's rows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from baolaocai.models import (
    Article,
    Failure,
    FetchedPage,
    Image,
    SitemapMemo,
    SitemapRead,
    StagedArticle,
)
from baolaocai.site import Site, default_site
from transforms.validate import content_hash
from warehouse.backfill import done_months, record_month
from warehouse.db import connect
from warehouse.export import export
from warehouse.load import LoadCounts, load_batch, record_failures, start_run
from warehouse.raw import read_raw_article_pages
from warehouse.search import rebuild_search_index, search, search_index_dir, update_search_index
from warehouse.session import WarehouseSession, warc_dir
from warehouse.sitemaps import listed_before, read_memos, store_reads
from warehouse.state import RecheckPolicy, read_crawl_state, relisted, stored_validators
from warehouse.status import status
from warehouse.warc import warc_files

T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
LAO_CAI = default_site()
RECHECK_ALL = RecheckPolicy(
    fresh_days=3650,
    fresh_interval=timedelta(0),
    revisit_after=timedelta(0),
    revisit_share=1.0,
    revisit_max=1000,
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "two.duckdb"


def article(site: Site, aid: int, title: str, body: str, *, day: int = 30) -> Article:
    return Article(
        url=f"{site.origin}/bai-{aid}-post{aid}.html",
        article_id=aid,
        title=title,
        sapo=f"Tin của {site.name}.",
        body=body,
        author="Phóng viên",
        published_at=datetime(2026, 10, day, 8, 0, tzinfo=UTC),
        category="Thời sự",
        tags=(site.name,),
        images=(Image(f"{site.origin}/images/{aid}.jpg", site.name),),
    )


def page(a: Article, status: int = 200) -> FetchedPage:
    html = None if status == 304 else f"<html><h1>{a.title}</h1></html>"
    assert a.url is not None
    return FetchedPage(a.url, a.url, status, T0, html, {"etag": f'"{a.title}"'})


def load(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    articles: list[Article],
    *,
    run_id: str = "r1",
    pages: list[FetchedPage] | None = None,
    seen_at: datetime = T0,
    lastmods: dict[int, datetime] | None = None,
) -> LoadCounts:
    return load_batch(
        con,
        site=site,
        run_id=run_id,
        seen_at=seen_at,
        pages=[page(a) for a in articles] if pages is None else pages,
        articles=[StagedArticle(a, content_hash(a)) for a in articles],
        failures=[],
        lastmods=lastmods,
    )


def both(db: Path, yen_bai: Site) -> duckdb.DuckDBPyConnection:
    """Article 7 at both papers (different articles), 8 at Lào Cai only, 9 at Yên Bái only."""
    con = connect(db)
    load(con, LAO_CAI, [article(LAO_CAI, 7, "Chợ phiên Bắc Hà", "Chợ phiên Bắc Hà đông vui.")])
    load(con, LAO_CAI, [article(LAO_CAI, 8, "Sa Pa mùa mây", "Săn mây ở Sa Pa.", day=20)])
    load(
        con,
        yen_bai,
        [
            article(yen_bai, 7, "Ruộng bậc thang Mù Cang Chải", "Lúa chín ở Mù Cang Chải."),
            article(yen_bai, 9, "Hồ Thác Bà", "Du lịch hồ Thác Bà.", day=25),
        ],
        run_id="r2",
    )
    return con


def test_the_same_article_id_at_two_sites_is_two_articles(db: Path, yen_bai: Site) -> None:
    con = both(db, yen_bai)
    try:
        assert con.execute(
            "SELECT site, article_id, title, version FROM articles ORDER BY ALL"
        ).fetchall() == [
            ("baolaocai", 7, "Chợ phiên Bắc Hà", 1),
            ("baolaocai", 8, "Sa Pa mùa mây", 1),
            ("baoyenbai", 7, "Ruộng bậc thang Mù Cang Chải", 1),
            ("baoyenbai", 9, "Hồ Thác Bà", 1),
        ]
        for table in ("article_images", "article_revisions", "raw_pages", "captures"):
            sites = con.execute(
                f"SELECT site, count(*) FROM {table} WHERE article_id = 7 GROUP BY ALL ORDER BY 1"
            ).fetchall()
            expected = [] if table == "captures" else [("baolaocai", 1), ("baoyenbai", 1)]
            assert sites == expected, table
        # An edit at Yên Bái is a new version there and leaves Lào Cai's article 7 alone.
        edited = article(yen_bai, 7, "Ruộng bậc thang Mù Cang Chải", "Lúa chín vàng rực.")
        counts = load(con, yen_bai, [edited], run_id="r3", seen_at=T0 + timedelta(days=1))
        assert counts.changed == [(7, "updated")]
        assert con.execute(
            "SELECT site, version, body FROM articles WHERE article_id = 7 ORDER BY site"
        ).fetchall() == [
            ("baolaocai", 1, "Chợ phiên Bắc Hà đông vui."),
            ("baoyenbai", 2, "Lúa chín vàng rực."),
        ]
        assert con.execute(
            "SELECT site, max(version) FROM article_revisions WHERE article_id = 7"
            " GROUP BY site ORDER BY site"
        ).fetchall() == [("baolaocai", 1), ("baoyenbai", 2)]
        # Loading Lào Cai's 7 again is unchanged there, whatever Yên Bái stored.
        again = load(
            con, LAO_CAI, [article(LAO_CAI, 7, "Chợ phiên Bắc Hà", "Chợ phiên Bắc Hà đông vui.")]
        )
        assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
        # The views keep the sites apart too.
        assert con.execute(
            "SELECT site, article_id, len(images) FROM articles_with_images ORDER BY ALL"
        ).fetchall() == [
            ("baolaocai", 7, 1),
            ("baolaocai", 8, 1),
            ("baoyenbai", 7, 1),
            ("baoyenbai", 9, 1),
        ]
        assert con.execute(
            "SELECT site, sum(articles) FROM articles_per_day GROUP BY site ORDER BY site"
        ).fetchall() == [("baolaocai", 2), ("baoyenbai", 2)]
    finally:
        con.close()


def test_a_takedown_and_a_304_stay_at_their_site(db: Path, yen_bai: Site) -> None:
    con = both(db, yen_bai)
    try:
        gone = FetchedPage(f"{yen_bai.origin}/bai-7-post7.html", "", 404, T0, None, {})
        counts = load_batch(
            con,
            site=yen_bai,
            run_id="r4",
            seen_at=T0 + timedelta(days=1),
            pages=[gone],
            articles=[],
            failures=[Failure(gone.url, "fetch", "HTTP 404", 404)],
        )
        assert counts.removed == 1
        assert con.execute("SELECT site FROM articles WHERE removed_at IS NOT NULL").fetchall() == [
            ("baoyenbai",)
        ]
        assert con.execute("SELECT site, url FROM removed_articles").fetchall() == [
            ("baoyenbai", gone.url)
        ]
        # A 304 for Lào Cai's 7 moves its last_seen_at, not Yên Bái's.
        later = T0 + timedelta(days=2)
        not_modified = page(article(LAO_CAI, 7, "x", "x"), status=304)
        load_batch(
            con,
            site=LAO_CAI,
            run_id="r5",
            seen_at=later,
            pages=[not_modified],
            articles=[],
            failures=[],
        )
        assert con.execute(
            "SELECT site, last_seen_at = ? FROM articles WHERE article_id = 7 ORDER BY site",
            [later],
        ).fetchall() == [("baolaocai", True), ("baoyenbai", False)]
    finally:
        con.close()


def test_crawl_state_and_rechecks_of_one_site_never_see_the_other(db: Path, yen_bai: Site) -> None:
    con = both(db, yen_bai)
    try:
        for site, run in ((LAO_CAI, "c-lc"), (yen_bai, "c-yb")):
            start_run(
                con,
                site=site,
                run_id=run,
                started_at=T0 if site is LAO_CAI else T0 + timedelta(hours=5),
                base_url=site.origin,
                flow_run_id=None,
            )
        con.execute("UPDATE crawl_runs SET status = 'completed'")
        record_failures(
            con,
            site=yen_bai,
            run_id="c-yb",
            at=T0,
            failures=[Failure(f"{yen_bai.origin}/mat-post99.html", "fetch", "HTTP 410", 410)],
        )
        now = T0 + timedelta(days=60)
        lao_cai = read_crawl_state(con, site=LAO_CAI, policy=RECHECK_ALL, now=now)
        yen = read_crawl_state(con, site=yen_bai, policy=RECHECK_ALL, now=now)
        assert lao_cai.known_ids == {7, 8} and yen.known_ids == {7, 9}
        lao_cai_urls = {*lao_cai.recheck, *lao_cai.revisit}
        yen_urls = {*yen.recheck, *yen.revisit}
        assert lao_cai_urls and all(u.startswith(LAO_CAI.origin) for u in lao_cai_urls)
        assert yen_urls and all(u.startswith(yen_bai.origin) for u in yen_urls)
        # Validators are the site's own page's.
        assert lao_cai.recheck[f"{LAO_CAI.origin}/bai-7-post7.html"] == ('"Chợ phiên Bắc Hà"', None)
        assert lao_cai.gone == frozenset() and lao_cai.open_failures == frozenset()
        assert yen.gone == {f"{yen_bai.origin}/mat-post99.html"}
        assert lao_cai.last_completed_start == T0
        assert yen.last_completed_start == T0 + timedelta(hours=5)
        # Relisted and unlisted rechecks look up the site's own articles only.
        newer = T0 + timedelta(days=10)
        assert list(relisted(con, LAO_CAI, {7: newer, 9: newer})) == [
            f"{LAO_CAI.origin}/bai-7-post7.html"
        ]
        assert list(relisted(con, yen_bai, {7: newer, 8: newer})) == [
            f"{yen_bai.origin}/bai-7-post7.html"
        ]
        assert list(stored_validators(con, yen_bai, [7, 8, 9])) == [
            f"{yen_bai.origin}/bai-7-post7.html",
            f"{yen_bai.origin}/bai-9-post9.html",
        ]
    finally:
        con.close()


def test_sitemap_memos_backfill_months_and_raw_pages_are_per_site(
    db: Path, yen_bai: Site, tmp_path: Path
) -> None:
    con = both(db, yen_bai)
    try:
        month = f"{LAO_CAI.origin}/sitemap-2026-10.xml"
        read = SitemapRead(SitemapMemo(month, T0, '"s"', None), {7: T0, 8: T0})
        assert store_reads(con, site=LAO_CAI, run_id="r1", at=T0, reads=[read]) == 1
        # Yên Bái has no article 8: the same listing is not settled there.
        yb_month = f"{yen_bai.origin}/sitemap-2026-10.xml"
        yb_read = SitemapRead(SitemapMemo(yb_month, T0, None, None), {7: T0, 8: T0})
        assert store_reads(con, site=yen_bai, run_id="r2", at=T0, reads=[yb_read]) == 0
        assert list(read_memos(con, LAO_CAI)) == [month] and read_memos(con, yen_bai) == {}
        assert listed_before(con, LAO_CAI, [month]) == {7, 8}
        assert listed_before(con, yen_bai, [month]) == set()
        record_month(
            con,
            site=LAO_CAI,
            month=date(2026, 10, 1),
            sitemap_url=month,
            articles=2,
            stored=2,
            failed=0,
            completed_at=T0,
        )
        assert done_months(con, LAO_CAI) == {date(2026, 10, 1)}
        assert done_months(con, yen_bai) == set()
        folder = tmp_path / "no-archive"  # pages were stored in raw_pages.html
        lao_cai_pages = read_raw_article_pages(
            con, site=LAO_CAI, after_id=0, limit=10, warc_folder=folder
        )
        assert [p.url for p in lao_cai_pages] == [
            f"{LAO_CAI.origin}/bai-7-post7.html",
            f"{LAO_CAI.origin}/bai-8-post8.html",
        ]
        assert [
            p.html
            for p in read_raw_article_pages(
                con, site=yen_bai, after_id=0, limit=10, warc_folder=folder
            )
        ] == [
            "<html><h1>Ruộng bậc thang Mù Cang Chải</h1></html>",
            "<html><h1>Hồ Thác Bà</h1></html>",
        ]
    finally:
        con.close()


def test_each_site_is_archived_in_its_own_warc_files(db: Path, yen_bai: Site) -> None:
    both(db, yen_bai).close()
    wh = WarehouseSession(db, LAO_CAI)
    try:
        # The pages both() stored as HTML move into each site's own files.
        assert wh.begin() == 2
        assert wh.move_legacy_raw_pages(yen_bai) == 2
    finally:
        wh.close()
    folder = warc_dir(db)
    files = warc_files(folder)
    assert {f.split("-")[0] for f in files} == {"baolaocai", "baoyenbai"}
    for name in files:
        site = LAO_CAI if name.startswith("baolaocai-") else yen_bai
        with open(folder / name, "rb") as stream:
            records = [
                (r.rec_type, r.rec_headers, r.content_stream().read())
                for r in ArchiveIterator(stream)
            ]
        kind, _headers, info = records[0]
        assert kind == "warcinfo"
        assert f"{site.name} ({site.origin})" in info.decode("utf-8")
        for _kind, headers, _body in records[1:]:
            assert headers.get_header("WARC-Target-URI").startswith(site.origin)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT site, count(*), bool_and(warc_file LIKE site || '-%') FROM captures"
            " GROUP BY site ORDER BY site"
        ).fetchall() == [("baolaocai", 2, True), ("baoyenbai", 2, True)]
        assert con.execute("SELECT count(*) FROM raw_pages WHERE html IS NOT NULL").fetchone() == (
            0,
        )


def test_search_tells_the_sites_apart_and_filters_by_site(db: Path, yen_bai: Site) -> None:
    con = both(db, yen_bai)
    index = search_index_dir(db)
    try:
        assert rebuild_search_index(con, index) == 4
        hits = search(index, "mu cang chai")
        assert [(h.site, h.article_id) for h in hits] == [("baoyenbai", 7)]
        assert hits[0].to_dict()["site"] == "baoyenbai"
        assert [(h.site, h.article_id) for h in search(index, "bac ha")] == [("baolaocai", 7)]
        assert search(index, "mu cang chai", site="baolaocai") == []
        # Both sites' articles answer a word they share, each under its own site.
        shared = {(h.site, h.article_id) for h in search(index, "tin cua bao")}
        assert shared == {("baolaocai", 7), ("baolaocai", 8), ("baoyenbai", 7), ("baoyenbai", 9)}
        assert {h.article_id for h in search(index, "tin cua bao", site="baoyenbai")} == {7, 9}
        # Replacing Yên Bái's 7 in the index leaves Lào Cai's 7 as it was.
        edited = article(yen_bai, 7, "Đèo Khau Phạ", "Dù lượn trên đèo Khau Phạ.")
        load(con, yen_bai, [edited], run_id="r3", seen_at=T0 + timedelta(days=1))
        assert update_search_index(con, index, [("baoyenbai", 7)]) == 1
        assert search(index, "mu cang chai") == []
        assert [(h.site, h.article_id) for h in search(index, "khau pha")] == [("baoyenbai", 7)]
        assert [(h.site, h.article_id) for h in search(index, "bac ha")] == [("baolaocai", 7)]
        # Deleted from the warehouse at one site: only that document goes.
        con.execute("DELETE FROM article_images WHERE site = 'baolaocai' AND article_id = 7")
        con.execute("DELETE FROM articles WHERE site = 'baolaocai' AND article_id = 7")
        assert update_search_index(con, index, [("baolaocai", 7)]) == 1
        assert search(index, "bac ha") == []
        assert [(h.site, h.article_id) for h in search(index, "khau pha")] == [("baoyenbai", 7)]
    finally:
        con.close()


def test_export_with_and_without_a_site(db: Path, yen_bai: Site, tmp_path: Path) -> None:
    both(db, yen_bai).close()
    con = connect(db, read_only=True)
    try:
        every = export(con, tmp_path / "all", "jsonl")
        rows = [
            json.loads(line)
            for line in (tmp_path / "all" / "articles.jsonl").read_text("utf-8").splitlines()
        ]
        assert every.filters["site"] is None and every.tables["articles"] == 4
        assert sorted((r["site"], r["article_id"]) for r in rows) == [
            ("baolaocai", 7),
            ("baolaocai", 8),
            ("baoyenbai", 7),
            ("baoyenbai", 9),
        ]
        yb7 = next(r for r in rows if (r["site"], r["article_id"]) == ("baoyenbai", 7))
        assert [i["src"] for i in yb7["images"]] == [f"{yen_bai.origin}/images/7.jpg"]
        one = export(con, tmp_path / "yb", "csv", site="baoyenbai")
        assert one.filters["site"] == "baoyenbai"
        assert (one.tables["articles"], one.tables["article_images"]) == (2, 2)
        articles = con.execute(
            "SELECT site, article_id FROM read_csv(?, header = true) ORDER BY ALL",
            [str(tmp_path / "yb" / "articles.csv")],
        ).fetchall()
        assert articles == [("baoyenbai", 7), ("baoyenbai", 9)]
        images = con.execute(
            "SELECT site, article_id, src FROM read_csv(?, header = true) ORDER BY ALL",
            [str(tmp_path / "yb" / "article_images.csv")],
        ).fetchall()
        assert images == [
            ("baoyenbai", 7, f"{yen_bai.origin}/images/7.jpg"),
            ("baoyenbai", 9, f"{yen_bai.origin}/images/9.jpg"),
        ]
        parquet = export(con, tmp_path / "pq", "parquet", site="baolaocai")
        assert parquet.tables["articles"] == 2
        back = con.execute(
            "SELECT DISTINCT site FROM read_parquet(?, hive_partitioning = true)",
            [str(tmp_path / "pq" / "articles" / "**" / "*.parquet")],
        ).fetchall()
        assert back == [("baolaocai",)]
    finally:
        con.close()


def test_status_of_one_site_and_of_all(db: Path, yen_bai: Site) -> None:
    con = both(db, yen_bai)
    try:
        start_run(con, site=yen_bai, run_id="yb-1", started_at=T0, base_url="x", flow_run_id=None)
        everything = status(con, db)
        assert everything["articles"] == 4 and everything["site"] is None
        assert everything["sites"] == {"baolaocai": 2, "baoyenbai": 2}
        assert [r["site"] for r in everything["runs"]] == ["baoyenbai"]
        lao_cai = status(con, db, site="baolaocai")
        assert lao_cai["articles"] == 2 and lao_cai["runs"] == []
        assert lao_cai["sites"] == everything["sites"]
    finally:
        con.close()
