"""A page is stored as an article only if it is the article its address names.

A site answers more than articles at an article's address: its error page served as 200
(a soft 404), a redirect to another article, a placeholder shared by every unknown
address, a link whose id no BIGINT holds. Each is judged here on a copy of the site
served on 127.0.0.1 that misbehaves on purpose, with the plain steps: nothing stored is
replaced, no "article" is added, the run says so, and a rerun stores the rest.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.models import Article, FetchedPage, StagedArticle
from baolaocai.settings import Settings
from baolaocai.site import default_site
from pipeline.crawl import crawl_site
from pipeline.steps import load_isolating
from sitecopy import SITE_DIR, SiteServer, serve_site
from sitecopy.faults import Fault, FaultPlan, status
from transforms.validate import content_hash
from warehouse.load import start_run
from warehouse.session import WarehouseSession
from warehouse.state import NO_RECHECKS, read_crawl_state

ORIGIN = "https://baolaocai.vn"
ARTICLE_FILES = sorted(p.name for p in SITE_DIR.glob("*-post*.html"))
VICTIM = next(n for n in ARTICLE_FILES if n.endswith("post904118.html"))
OTHER = next(n for n in ARTICLE_FILES if n.endswith("post904702.html"))
UNKNOWN = [f"bai-viet-chua-tung-co-{i}-post90999{i}.html" for i in range(5)]


def error_page(title: str, text: str, canonical: str | None = None) -> str:
    """An error page as an EPI paper serves it, with status 200 (synthetic text)."""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{title} | Báo Lào Cai</title>{link}</head><body>"
        '<header class="site-header"><nav><a href="/thoi-su">Thời sự</a>'
        '<a href="/kinh-te">Kinh tế</a></nav></header>'
        f'<main><div class="error-page"><h1>{title}</h1><p>{text}</p>'
        '<p><a href="/">Về trang chủ</a></p></div></main>'
        '<footer class="site-footer"><p>Báo Lào Cai - Cơ quan của Đảng bộ tỉnh</p></footer>'
        "</body></html>"
    )


SOFT_404 = error_page(
    "Trang không tồn tại",
    "Xin lỗi, đường dẫn bạn vừa mở không còn trên hệ thống hoặc đã được chuyển đi nơi"
    " khác. Mời bạn quay về trang chủ để đọc những tin mới nhất của tòa soạn.",
)
PLACEHOLDER = error_page(
    "Thông báo của tòa soạn",
    "Nội dung bạn tìm đang được hệ thống cập nhật lại, xin vui lòng quay lại sau ít phút."
    " Tòa soạn chân thành cảm ơn bạn đọc đã luôn quan tâm theo dõi và đồng hành cùng báo.",
)


def settings_for(site: SiteServer, db: str, **more: Any) -> Settings:
    return Settings(base_url=site.url, db_path=db, rate=200.0, concurrency=4, **more)


def recheck_all(site: SiteServer, db: str, **more: Any) -> Settings:
    """Every stored article is fetched again (conditionally), however recently seen."""
    return settings_for(site, db, recheck_days=36500, recheck_interval_h=0, **more)


def rows(db: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def link_from_home(root: Path, hrefs: list[str]) -> None:
    home = root / "index.html"
    links = "".join(f'<a href="{h}">Tin {i}</a>' for i, h in enumerate(hrefs))
    home.write_text(
        home.read_text(encoding="utf-8").replace("<body>", f"<body>{links}", 1),
        encoding="utf-8",
    )


def stored_article(db: str, name: str) -> tuple[Any, ...]:
    found = rows(
        db,
        "SELECT title, body, version, content_hash FROM articles WHERE url = ?",
        [f"{ORIGIN}/{name}"],
    )
    assert len(found) == 1
    return found[0]


def test_a_soft_404_never_replaces_a_stored_article(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    assert crawl_site(settings_for(served, db_path)).summary.articles_new == len(ARTICLE_FILES)
    url = f"{ORIGIN}/{VICTIM}"
    before = stored_article(db_path, VICTIM)
    raw_before = rows(db_path, "SELECT digest, warc_offset FROM raw_pages WHERE url = ?", [url])
    revisions = rows(db_path, "SELECT count(*) FROM article_revisions")

    (site_copy / VICTIM).write_text(SOFT_404, encoding="utf-8")
    again = crawl_site(recheck_all(served, db_path))
    s = again.summary
    assert s.status == "warning", s.error
    assert s.warning is not None and "1 stored article(s)" in s.warning and url in s.warning
    assert (s.suspect_pages, s.articles_updated, s.articles_failed) == (1, 0, 0)
    # The stored version stays, whole; no revision is added; search still has it.
    assert stored_article(db_path, VICTIM) == before
    assert rows(db_path, "SELECT count(*) FROM article_revisions") == revisions
    # The error page is archived (a capture), but the URL's row keeps its article's page.
    assert rows(db_path, "SELECT count(*) FROM captures WHERE url = ?", [url]) == [(2,)]
    assert (
        rows(db_path, "SELECT digest, warc_offset FROM raw_pages WHERE url = ?", [url])
        == raw_before
    )
    errors = rows(
        db_path,
        "SELECT stage, status, error FROM fetch_errors WHERE url = ? AND resolved_at IS NULL",
        [url],
    )
    assert len(errors) == 1 and errors[0][:2] == ("identity", 200)
    assert "error page" in errors[0][2] and "Trang không tồn tại" in errors[0][2]
    (conflicts,) = rows(db_path, "SELECT field_conflicts FROM articles WHERE url = ?", [url])[0]
    assert any("the stored version was kept" in c for c in conflicts)
    assert rows(
        db_path, "SELECT suspect_pages FROM crawl_runs WHERE run_id = ?", [again.run_id]
    ) == [(1,)]

    # The article comes back: read again, the error resolved, no new version.
    shutil.copy(SITE_DIR / VICTIM, site_copy / VICTIM)
    back = crawl_site(recheck_all(served, db_path)).summary
    assert (back.status, back.suspect_pages, back.articles_updated) == ("completed", 0, 0)
    assert stored_article(db_path, VICTIM) == before
    assert rows(
        db_path, "SELECT count(*) FROM fetch_errors WHERE url = ? AND resolved_at IS NULL", [url]
    ) == [(0,)]


@pytest.mark.parametrize(
    ("page", "batch_size"),
    [(SOFT_404, 1), (PLACEHOLDER, 25)],
    ids=["the-sites-error-text-one-by-one", "one-page-for-every-address"],
)
def test_addresses_answering_an_error_page_are_no_articles(
    site_copy: Path, db_path: str, page: str, batch_size: int
) -> None:
    with serve_site(site_copy) as served:
        assert crawl_site(settings_for(served, db_path)).summary.status == "completed"
        link_from_home(site_copy, [f"/{name}" for name in UNKNOWN])
        served.override = FaultPlan(
            {
                re.escape(f"/{name}"): [Fault("status", 200, body=page.encode())] * 5
                for name in UNKNOWN
            }
        )
        run = crawl_site(settings_for(served, db_path, batch_size=batch_size)).summary
        assert (run.articles_new, run.articles_failed) == (0, len(UNKNOWN)), run.failures
        assert rows(db_path, "SELECT count(*) FROM articles WHERE url LIKE '%post90999%'") == [(0,)]
        stages = rows(
            db_path,
            "SELECT DISTINCT stage FROM fetch_errors WHERE url LIKE '%post90999%'"
            " AND resolved_at IS NULL",
        )
        assert stages == [("identity",)]
        # Parked: the next run does not ask for them again.
        asked = len(served.requests)
        rerun = crawl_site(settings_for(served, db_path, batch_size=batch_size)).summary
        assert rerun.status == "completed" and rerun.articles_failed == 0
        assert not [r for r in served.requests[asked:] if "post90999" in r.path]


def test_a_redirect_to_another_article_is_recorded_never_stored_under_the_first_id(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    assert crawl_site(settings_for(served, db_path)).summary.status == "completed"
    victim, other = f"{ORIGIN}/{VICTIM}", f"{ORIGIN}/{OTHER}"
    before = stored_article(db_path, VICTIM)
    moved = UNKNOWN[0]
    link_from_home(site_copy, [f"/{moved}"])
    served.override = FaultPlan(
        {
            re.escape(f"/{VICTIM}"): [status(301, Location=f"/{OTHER}")] * 5,
            re.escape(f"/{moved}"): [status(302, Location=f"/{OTHER}")] * 5,
        }
    )
    s = crawl_site(recheck_all(served, db_path)).summary
    assert s.status == "warning" and s.suspect_pages == 1, s.warning
    assert (s.articles_new, s.articles_updated, s.articles_failed) == (0, 0, 1)
    # A keeps its own text; the new address is no article; B is stored once.
    assert stored_article(db_path, VICTIM) == before
    assert rows(db_path, "SELECT count(*) FROM articles WHERE url LIKE '%post90999%'") == [(0,)]
    bodies = rows(db_path, "SELECT body, count(*) FROM articles GROUP BY body HAVING count(*) > 1")
    assert bodies == []
    errors = dict(
        rows(
            db_path,
            "SELECT url, error FROM fetch_errors WHERE stage = 'identity' AND resolved_at IS NULL",
        )
    )
    assert set(errors) == {victim, f"{ORIGIN}/{moved}"}
    assert all(f"redirected to {other} (article 904702)" in e for e in errors.values())
    # What was fetched is archived as the answer of B's address, not A's.
    assert rows(
        db_path,
        "SELECT count(*) FROM captures WHERE url = ? AND run_id = ? AND record_type = 'response'",
        [other, rows(db_path, "SELECT max(run_id) FROM crawl_runs WHERE suspect_pages = 1")[0][0]],
    ) == [(2,)]


def test_a_link_whose_id_no_bigint_holds_costs_nothing(
    site_copy: Path, served: SiteServer, db_path: str
) -> None:
    article = site_copy / OTHER
    html = article.read_text(encoding="utf-8")
    # A date past the end of the calendar in the page's JSON-LD, a poison link on the home.
    article.write_text(
        re.sub(r'"datePublished":\s*"[^"]*"', '"datePublished": "9999-12-31T23:59:59-12:00"', html),
        encoding="utf-8",
    )
    link_from_home(
        site_copy,
        ["/x-post9223372036854775808.html", "/y-post99999999999999999999999.html", "/z-post0.html"],
    )
    for _ in range(2):  # and the next run just the same
        s = crawl_site(settings_for(served, db_path)).summary
        assert s.status == "completed", s.error
    assert rows(db_path, "SELECT count(*) FROM articles") == [(len(ARTICLE_FILES),)]
    published = rows(
        db_path, "SELECT published_at FROM articles WHERE url = ?", [f"{ORIGIN}/{OTHER}"]
    )
    assert published[0][0] is None or published[0][0].year < 9999


def _staged(article_id: int, url: str) -> StagedArticle:
    article = Article(
        url=url,
        article_id=article_id,
        title="Tin ngắn về phiên chợ vùng cao",
        sapo=None,
        body="Phiên chợ cuối tuần đông vui, người dân mang nông sản xuống chợ trao đổi.",
        author=None,
        published_at=datetime(2026, 11, 1, 3, 0, tzinfo=UTC),
        category="Xã hội",
    )
    return StagedArticle(article, content_hash(article))


NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def session(db_path: str) -> Iterator[WarehouseSession]:
    site = default_site()
    wh = WarehouseSession(db_path, site, run_id="r1", kind="crawl")
    try:
        wh.begin()
        with wh.writing() as con:
            start_run(
                con, site=site, run_id="r1", started_at=NOW, base_url=ORIGIN, flow_run_id=None
            )
        yield wh
    finally:
        wh.close()


def test_a_record_the_warehouse_refuses_costs_its_own_page(session: WarehouseSession) -> None:
    site = default_site()
    good, poison = f"{ORIGIN}/tin-tot-post1001.html", f"{ORIGIN}/tin-doc-post1002.html"
    pages = [FetchedPage(u, u, 200, NOW, "<html></html>") for u in (good, poison)]
    # An id past BIGINT, as a record built by any reader could carry: DuckDB refuses it.
    staged = [_staged(1001, good), _staged(2**63, poison)]
    counts, failures, unloaded = load_isolating(session, site, "r1", NOW, pages, staged, [])
    assert (counts.new, counts.failed) == (1, 1)
    assert unloaded == {poison}
    assert [(f.url, f.stage) for f in failures] == [(poison, "load")]
    assert "internal error" in failures[0].error
    with session.reading() as con:
        assert con.execute("SELECT url FROM articles").fetchall() == [(good,)]
        state = read_crawl_state(con, site=site, policy=NO_RECHECKS, now=NOW)
    assert poison in state.gone  # parked: a later run does not fetch it again


def test_a_batch_whose_every_record_is_refused_fails_the_run_not_its_pages(
    session: WarehouseSession,
) -> None:
    urls = [f"{ORIGIN}/tin-doc-post{i}.html" for i in (1003, 1004)]
    pages = [FetchedPage(u, u, 200, NOW, "<html></html>") for u in urls]
    staged = [_staged(2**63 + i, u) for i, u in enumerate(urls)]
    with pytest.raises(duckdb.Error):  # the warehouse or the code: loud, nothing parked
        load_isolating(session, default_site(), "r1", NOW, pages, staged, [])
    with session.reading() as con:
        assert con.execute("SELECT count(*) FROM fetch_errors").fetchall() == [(0,)]


def test_an_answer_no_article_can_be_is_parked_not_asked_again(
    site_copy: Path, db_path: str
) -> None:
    """Bigger than the size cap, or redirects in circles: the page's own failure."""
    big, loop = UNKNOWN[1], UNKNOWN[2]
    link_from_home(site_copy, [f"/{big}", f"/{loop}"])
    with serve_site(site_copy) as served:
        served.override = FaultPlan(
            {
                re.escape(f"/{big}"): [Fault("status", 200, body=b"<p>x</p>" * 300_000)],
                re.escape(f"/{loop}"): [status(302, Location=f"/{loop}")] * 20,
            }
        )
        settings = settings_for(served, db_path, max_response_bytes=1024 * 1024)
        first = crawl_site(settings).summary
        assert first.status == "completed" and first.articles_failed == 2, first.failures
        assert first.articles_new == len(ARTICLE_FILES)
        stages = rows(
            db_path,
            "SELECT DISTINCT stage FROM fetch_errors WHERE url LIKE '%post90999%'",
        )
        assert stages == [("unusable",)]
        asked = len(served.requests)
        again = crawl_site(settings).summary
        assert (again.status, again.articles_failed) == ("completed", 0)
        assert not [r for r in served.requests[asked:] if "post90999" in r.path]


def without_address(html: str) -> str:
    """The page with no canonical link and no og:url (it names no address of its own)."""
    html = re.sub(r'<link rel="canonical"[^>]*>', "", html)
    return re.sub(r'<meta property="og:url"[^>]*>', "", html)


MAINTENANCE = (
    "Nội dung bài viết đang được tòa soạn biên tập lại và sẽ sớm được đăng tải trở lại."
    " Kính mong quý bạn đọc thông cảm và quay lại sau."
)


@pytest.mark.parametrize("case", ["another-articles-text", "a-notice-under-its-title"])
def test_a_page_holding_another_text_is_not_a_new_version(
    site_copy: Path, served: SiteServer, db_path: str, case: str
) -> None:
    assert crawl_site(settings_for(served, db_path)).summary.status == "completed"
    before = stored_article(db_path, VICTIM)
    if case == "another-articles-text":  # B's page served at A's address, no address in it
        page = without_address((SITE_DIR / OTHER).read_text(encoding="utf-8"))
    else:  # A's title kept, its text replaced by a notice (not a listed error text)
        page = re.sub(
            r'(<div class="article__body cms-body"[^>]*>).*?(</div>)',
            lambda m: f"{m.group(1)}<p>{MAINTENANCE}</p><p>{MAINTENANCE}</p>{m.group(2)}",
            (SITE_DIR / VICTIM).read_text(encoding="utf-8"),
            count=1,
            flags=re.DOTALL,
        )
    (site_copy / VICTIM).write_text(page, encoding="utf-8")
    s = crawl_site(recheck_all(served, db_path)).summary
    assert (s.status, s.suspect_pages, s.articles_updated) == ("warning", 1, 0), s.warning
    assert stored_article(db_path, VICTIM) == before
    (error,) = rows(
        db_path,
        "SELECT error FROM fetch_errors WHERE stage = 'identity' AND resolved_at IS NULL",
    )[0]
    assert "not an edit" in error
    # An ordinary edit still is one: a sentence changed, the rest kept.
    edited = (
        (SITE_DIR / VICTIM)
        .read_text(encoding="utf-8")
        .replace("Mỗi tháng hai lần", "Mỗi tháng ba lần", 1)
    )
    (site_copy / VICTIM).write_text(edited, encoding="utf-8")
    again = crawl_site(recheck_all(served, db_path)).summary
    assert (again.status, again.articles_updated, again.suspect_pages) == ("completed", 1, 0)


def placeholder(article_id: int) -> str:
    """A placeholder that echoes the address's id (no error text the site file lists)."""
    return error_page(
        "Thông báo của tòa soạn",
        f"Không có dữ liệu cho mã {article_id}. Nội dung bạn tìm đang được hệ thống cập nhật"
        " lại, xin vui lòng quay lại sau ít phút. Tòa soạn chân thành cảm ơn bạn đọc.",
    )


def test_a_placeholder_is_known_again_in_a_later_run_even_one_address_at_a_time(
    site_copy: Path, db_path: str
) -> None:
    first, later = UNKNOWN[:3], UNKNOWN[3]
    with serve_site(site_copy) as served:
        assert crawl_site(settings_for(served, db_path)).summary.status == "completed"
        link_from_home(site_copy, [f"/{name}" for name in first])
        served.override = FaultPlan(
            {
                re.escape(f"/{name}"): [
                    Fault("status", 200, body=placeholder(int(name[-11:-5])).encode())
                ]
                * 5
                for name in UNKNOWN
            }
        )
        run = crawl_site(settings_for(served, db_path)).summary
        assert (run.articles_new, run.articles_failed) == (0, 3), run.failures
        # Next run: one more address answers it, alone in its batch.
        link_from_home(site_copy, [f"/{later}"])
        run = crawl_site(settings_for(served, db_path, batch_size=1)).summary
        assert (run.articles_new, run.articles_failed) == (0, 1), run.failures
        assert "placeholder" in run.failures[0]
    assert rows(db_path, "SELECT count(*) FROM articles WHERE url LIKE '%post90999%'") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM placeholder_pages") == [(1,)]
