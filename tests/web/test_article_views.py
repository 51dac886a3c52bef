"""One article's pages over a real warehouse: the record, its versions and a diff, its
captures, the archived page in its sandbox (with the answer's own security headers), its
pictures; every bad address a 4xx page.

The warehouse is filled the way a crawl fills one (:func:`build_warehouse`): generated
pages parsed by the pipeline, archived as WARC captures by the session's writer, loaded
by :func:`warehouse.load.load_batch`, in two runs: the second finds one article edited
(a second version), one unchanged (a ``revisit`` record), one taken down (a 410), and
the first archived a page spiked with scripts in every form a browser runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from baolaocai.models import Failure, FetchedPage
from baolaocai.site import default_site
from sitecopy.generate import GeneratedArticle, make_articles, render_article
from transforms.pipeline import process_pages
from warehouse.db import connect
from warehouse.load import finish_run, kept_captures, load_batch, start_run
from warehouse.session import WarehouseSession, warc_dir
from web.app import create_app
from web.context import WebConfig

SITE = default_site()
FIRST = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
SECOND = datetime(2026, 11, 27, 2, 45, tzinfo=UTC)
"""The two runs (08:30 and 09:45 on those days in Vietnam)."""

HOSTILE_HEAD = """
<script>window.parent.ran = 1</script>
<SCRIPT SRC="https://evil.example/x.js"></SCRIPT>
<meta http-equiv="refresh" content="0; url=javascript:alert(1)">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://cdn.evil.example/a.css">
"""
HOSTILE_BODY = """
<div id="hostile">
<img src="https://cdn.evil.example/x.png" onerror="alert('onerror')" alt="ảnh độc">
<svg onload="alert('svg')"><script>alert('svg script')</script><circle r="1"/></svg>
<a id="js-link" href="jav&#x09;ascript:alert('link')">Xem thêm</a>
<iframe srcdoc="&lt;script&gt;alert('srcdoc')&lt;/script&gt;"></iframe>
<object data="https://evil.example/x.swf"></object>
<form action="https://evil.example/post"><input name="q"></form>
</div>
"""


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101005c3e1f5d0000000049454e44ae426082"
)
"""A 1x1 picture, as a paper's image server would send it."""
SVG = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><script>alert(2)</script></svg>"


def _page(
    url: str, html: str, at: datetime, *, body: bytes | None = None, kind: str = "text/html"
) -> FetchedPage:
    """A 200 answer as the crawler keeps it (``html``: what it decoded; ``body``: the
    bytes, for the archive)."""
    content_type = f"{kind}; charset=utf-8" if kind.startswith("text/") else kind
    headers = {"content-type": content_type, "etag": f'"{hash(html) ^ hash(body)}"'}
    return FetchedPage(
        url,
        url,
        200,
        at,
        html,
        headers,
        body=html.encode("utf-8") if body is None else body,
        response_headers=tuple((k.title(), v) for k, v in headers.items()),
    )


def spiked(html: str) -> str:
    """``html`` with :data:`HOSTILE_HEAD` and :data:`HOSTILE_BODY` put outside the
    article's own markup (the page still parses as its article)."""
    html = html.replace("</head>", HOSTILE_HEAD + "</head>", 1)
    at = html.index(">", html.index("<body")) + 1
    return html[:at] + HOSTILE_BODY + html[at:]


@dataclass(frozen=True)
class Built:
    db: Path
    edited: GeneratedArticle
    """Two versions (the second run's page is ``render_article(revision=1)``)."""
    unchanged: GeneratedArticle
    """Fetched again with the same answer: a response then a revisit capture. Its first
    picture is archived (a PNG), its second too (an SVG with scripts), not its third."""
    removed: GeneratedArticle
    """Answered 410 in the second run: ``removed_at`` set."""
    hostile: GeneratedArticle
    """Archived with scripts; its page links to :attr:`edited` and to an unknown article."""


def _run(
    wh: WarehouseSession,
    run_id: str,
    at: datetime,
    pages: list[FetchedPage],
    failures: list[Failure],
) -> None:
    html = [p for p in pages if p.ok and "html" in p.headers.get("content-type", "")]
    staged, bad = process_pages(html, SITE)
    assert not bad, bad
    with wh.writing() as con:
        start_run(con, site=SITE, run_id=run_id, started_at=at, base_url=SITE.origin, flow_run_id=None)  # fmt: skip
    with wh.reading() as con:
        kept = kept_captures(con, SITE, pages)
    captures = wh.archive(pages, kept=kept)
    with wh.writing() as con:
        load_batch(
            con,
            site=SITE,
            run_id=run_id,
            seen_at=at,
            pages=pages,
            articles=staged,
            failures=failures,
            captures=captures,
            kept=kept,
        )
        finish_run(
            con,
            run_id=run_id,
            finished_at=at + timedelta(minutes=1),
            status="completed",
            counters={},
            error=None,
        )


def build_warehouse(folder: Path) -> Built:
    """``folder/w.duckdb`` (and its ``w.warc/``) holding the four articles of
    :class:`Built` after two runs."""
    db = folder / "w.duckdb"
    edited, unchanged, removed, hostile, unknown = make_articles(5, seed=23)
    hostile_html = spiked(render_article(hostile, related=[edited, unknown]))
    first = [
        _page(a.url, html, FIRST)
        for a, html in (
            (edited, render_article(edited)),
            (unchanged, render_article(unchanged)),
            (removed, render_article(removed)),
            (hostile, hostile_html),
        )
    ]
    # The crawler fetches no pictures today; a later one may (image/* captures of the
    # pictures' exact addresses): the app serves those from the archive.
    first += [
        _page(unchanged.images[0][0], "", FIRST, body=PNG, kind="image/png"),
        _page(unchanged.images[1][0], "", FIRST, body=SVG, kind="image/svg+xml"),
    ]
    gone = FetchedPage(removed.url, removed.url, 410, SECOND, None, error="HTTP 410")
    second = [
        _page(edited.url, render_article(edited, revision=1), SECOND),
        replace(first[1], fetched_at=SECOND),
        gone,
    ]
    wh = WarehouseSession(db, SITE, run_id="r1", kind="crawl")
    wh.begin()
    try:
        _run(wh, "r1", FIRST, first, [])
        _run(wh, "r2", SECOND, second, [Failure(removed.url, "fetch", "HTTP 410", status=410)])
    finally:
        wh.close()
    return Built(db, edited, unchanged, removed, hostile)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_warehouse(tmp_path_factory.mktemp("article-views"))


@pytest.fixture(scope="module")
def client(built: Built) -> TestClient:
    config = WebConfig(
        db_path=built.db, index_dir=built.db.with_suffix(".search"), warc_dir=warc_dir(built.db)
    )
    return TestClient(create_app(config), base_url="http://127.0.0.1")


def soup_of(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def path(a: GeneratedArticle, tail: str = "") -> str:
    return f"/a/baolaocai/{a.article_id}{tail}"


def captures_of(built: Built, a: GeneratedArticle) -> list[tuple[str, str, int]]:
    con = connect(built.db, read_only=True)
    try:
        rows = con.execute(
            "SELECT strftime(fetched_at AT TIME ZONE 'UTC', '%Y%m%d%H%M%S'), record_type, status"
            " FROM captures WHERE article_id = ? ORDER BY fetched_at",
            [a.article_id],
        ).fetchall()
    finally:
        con.close()
    return [(str(t), str(k), int(s)) for t, k, s in rows]


# ------------------------------------------------------------------------ article page


def test_the_article_page_shows_every_field(client: TestClient, built: Built) -> None:
    a = built.edited
    answer = client.get(path(a))
    assert answer.status_code == 200
    page = soup_of(answer.text)
    assert page.html is not None and page.html["lang"] == "vi"
    assert page.select_one("h1#article-title").get_text(strip=True) == a.title
    body = page.select_one("#article-body")
    shown = [p.get_text() for p in body.find_all("p")]
    assert shown[0] == a.paragraphs[0] and len(shown) == len(a.paragraphs)
    assert shown[-1].endswith(".") and shown[-1] != a.paragraphs[-1]  # the edited text
    meta = page.select_one("#article-meta")
    text = meta.get_text(" ", strip=True)
    published = a.published_at.astimezone(UTC).astimezone(a.published_at.tzinfo)
    assert published.strftime("%d/%m/%Y %H:%M") in text  # Vietnam time
    category = meta.find("a", href=re.compile(r"^/browse/category/"))
    assert category is not None and category.get_text() == a.category
    tags = [t.get_text() for t in meta.select("a[href^='/browse/tag/']")]
    assert tags == list(a.tags)
    if a.author:
        assert meta.find("a", href=re.compile(r"^/browse/author/")) is not None
    assert "bài viết" in text and "từ" in text and "đoạn" in text
    original = meta.select_one("a.external")
    assert original["href"] == a.url
    assert set(original["rel"]) == {"noopener", "noreferrer", "nofollow"}
    assert page.select_one("#removal") is None
    versions = page.select_one("#versions")
    assert versions.select_one(".version-count").get_text() == "2"
    assert versions.find("a", href=path(a, "/versions")) is not None
    assert "nội dung" in versions.select_one(".latest-change").get_text()


def test_pictures_are_never_hot_linked(client: TestClient, built: Built) -> None:
    a = built.edited
    assert a.images
    page = soup_of(client.get(path(a)).text)
    assert not [i for i in page.find_all("img") if "baolaocai" in i.get("src", "")]
    boxes = page.select("#pictures figure .picture-missing")
    assert len(boxes) == len(a.images)
    first_box = boxes[0].get_text(" ", strip=True)
    assert "Ảnh không có trong kho lưu trữ" in first_box and a.images[0][0] in first_box


def test_a_removed_article_says_so_and_links_its_last_capture(
    client: TestClient, built: Built
) -> None:
    page = soup_of(client.get(path(built.removed)).text)
    removal = page.select_one("#removal")
    assert removal is not None
    assert "20/11/2026 08:30" in removal.get_text()  # last seen, Vietnam time
    assert "27/11/2026 09:45" in removal.get_text()  # removed
    (good,) = [t for t, _, status in captures_of(built, built.removed) if status == 200]
    assert removal.select_one("a.last-capture")["href"] == path(built.removed, f"/page?at={good}")


@pytest.mark.parametrize(
    "bad",
    [
        "/a/baolaocai/abc",
        "/a/baolaocai/0",
        "/a/baolaocai/99999999999999999999",
        "/a/baolaocai/9223372036854775808",
        "/a/BAD!/1",
        "/a/" + "x" * 41 + "/1",
        "/a/baolaocai/424242",  # a good id the warehouse does not hold
        "/a/nosuchpaper/1",
    ],
)
def test_a_bad_article_address_is_a_404_page(client: TestClient, bad: str) -> None:
    answer = client.get(bad)
    assert answer.status_code == 404
    assert soup_of(answer.text).select_one("#error") is not None
    assert "Traceback" not in answer.text


# --------------------------------------------------------------------- versions, diffs


def test_the_versions_page_lists_both_and_picks_the_last_two(
    client: TestClient, built: Built
) -> None:
    page = soup_of(client.get(path(built.edited, "/versions")).text)
    rows = page.select("#version-list tbody tr")
    assert [r["id"] for r in rows] == ["v1", "v2"]
    assert "nội dung" in rows[1].get_text()
    form = page.select_one("form#diff-form")
    assert form["action"] == path(built.edited, "/diff")
    assert form.select_one("select[name=from] option[selected]")["value"] == "1"
    assert form.select_one("select[name=to] option[selected]")["value"] == "2"


def test_the_diff_shows_the_inserted_words(client: TestClient, built: Built) -> None:
    answer = client.get(path(built.edited, "/diff"), params={"from": "1", "to": "2"})
    assert answer.status_code == 200
    diff = soup_of(answer.text).select_one("#diff")
    body = diff.select_one("#field-body")
    inserted = " ".join(i.get_text() for i in body.find_all("ins")).strip()
    assert inserted and inserted in render_article(built.edited, revision=1)
    assert inserted not in render_article(built.edited)
    assert not body.find_all("del")  # a sentence added, nothing taken away
    assert diff.select_one("#field-modified_at") is not None  # dateModified moved too
    assert "Tiêu đề" in diff.select_one(".unchanged").get_text()
    backwards = soup_of(client.get(path(built.edited, "/diff?from=2&to=1")).text)
    assert backwards.select_one("#field-body del") is not None
    assert backwards.select_one("#field-body ins") is None


def test_the_diff_of_a_version_with_itself_says_so(client: TestClient, built: Built) -> None:
    answer = client.get(path(built.edited, "/diff?from=2&to=2"))
    assert answer.status_code == 200
    assert "cùng một phiên bản" in soup_of(answer.text).select_one("#diff").get_text()


def test_the_diff_of_an_article_with_one_version_says_so(client: TestClient, built: Built) -> None:
    answer = client.get(path(built.hostile, "/diff"))
    assert answer.status_code == 200
    assert "chỉ có một phiên bản" in soup_of(answer.text).select_one("#diff").get_text()
    versions = soup_of(client.get(path(built.hostile, "/versions")).text)
    assert versions.select_one("form#diff-form") is None


@pytest.mark.parametrize(
    ("query", "status"),
    [("from=1&to=7", 404), ("from=x&to=2", 400), ("from=1", 400), ("from=-1&to=2", 400)],
)
def test_a_bad_version_is_a_4xx_page_naming_those_that_exist(
    client: TestClient, built: Built, query: str, status: int
) -> None:
    answer = client.get(path(built.edited, f"/diff?{query}"))
    assert answer.status_code == status
    error = soup_of(answer.text).select_one("#error")
    assert error is not None
    if status == 404 or query == "from=1":
        assert "1" in error.get_text() and "2" in error.get_text()


def test_the_diff_escapes_what_it_shows() -> None:
    from web.article_views import tag_diff

    assert tag_diff(("Lào Cai", "Sa Pa"), ("Sa Pa", "Bắc Hà")) == (
        ("equal", "Sa Pa"),
        ("insert", "Bắc Hà"),
        ("delete", "Lào Cai"),
    )


# ------------------------------------------------------------------ captures, archive


def test_the_captures_page_lists_each_capture_with_its_kind(
    client: TestClient, built: Built
) -> None:
    page = soup_of(client.get(path(built.unchanged, "/captures")).text)
    rows = page.select("#capture-list tbody tr")
    stored = captures_of(built, built.unchanged)
    assert [k for _, k, _ in stored] == ["response", "revisit"]
    assert len(rows) == 2 and "revisit" in rows[0]["class"]  # newest first
    assert "20/11/2026 08:30" in rows[0].get_text()  # which response it repeats
    links = [r.find("a")["href"] for r in rows]
    assert links == [path(built.unchanged, f"/page?at={t}") for t, _, _ in reversed(stored)]


def test_the_wrapper_frames_the_raw_page_in_a_sandbox(client: TestClient, built: Built) -> None:
    (ts, _, _), (revisit, _, _) = captures_of(built, built.unchanged)
    answer = client.get(path(built.unchanged, f"/page?at={revisit}"))
    assert answer.status_code == 200
    page = soup_of(answer.text)
    frame = page.select_one("iframe#archived")
    assert frame["src"] == path(built.unchanged, f"/raw?at={revisit}")
    assert frame.has_attr("sandbox") and frame["sandbox"] in ("", [])
    assert frame.get("title")
    header = page.select_one(".archived-header").get_text(" ", strip=True)
    assert "27/11/2026 09:45" in header and "20/11/2026 08:30" in header  # repeats
    assert page.select_one("a[rel=prev]")["href"] == path(built.unchanged, f"/page?at={ts}")
    assert page.select_one("a[rel=next]") is None
    latest = soup_of(client.get(path(built.unchanged, "/page")).text)
    assert latest.select_one("iframe#archived")["src"].endswith(revisit)


def test_the_raw_page_is_sanitised_and_sandboxed(client: TestClient, built: Built) -> None:
    answer = client.get(path(built.hostile, "/raw"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    csp = answer.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp
    assert "img-src 'self' data:" in csp and "frame-ancestors 'self'" in csp
    assert "allow-scripts" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    page = soup_of(answer.text)
    assert not page.find_all(["script", "iframe", "object", "embed", "base", "link", "form"])
    assert not page.find_all("meta", attrs={"http-equiv": True})
    for tag in page.find_all(True):
        assert not [k for k in tag.attrs if k.lower().startswith("on")], tag
    assert "javascript" not in answer.text.lower()
    assert "evil.example/x.png" not in str([i.get("src") for i in page.find_all("img")])
    banner = page.select_one("#archive-banner").get_text()
    assert "20/11/2026 08:30" in banner and built.hostile.url in banner
    # The related link to a stored article stays in the archive; the unknown one goes nowhere.
    inside = page.find("a", href=path(built.edited))
    assert inside is not None and inside["target"] == "_top"
    hrefs = [a.get("href") for a in page.find_all("a")]
    assert all(h is None or h.startswith(("/a/baolaocai/", "#")) for h in hrefs), hrefs
    assert page.find(string=re.compile(re.escape(built.hostile.title))) is not None


def test_the_sandbox_does_not_depend_on_the_sanitiser(
    client: TestClient, built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second layer alone: with the sanitiser taken out, the archived page (scripts
    and all, as stored) still goes out under the sandboxing policy."""
    import web.article_views as views
    from web.archived import Rendered

    stored = client.get(path(built.hostile, "/raw")).text
    assert "<script" not in stored
    monkeypatch.setattr(
        views,
        "render_archived",
        lambda body, content_type, **_: Rendered("html", body.decode("utf-8")),
    )
    answer = client.get(path(built.hostile, "/raw"))
    assert "<script>window.parent.ran = 1</script>" in answer.text  # the page as archived
    policy = [d.strip() for d in answer.headers["content-security-policy"].split(";")]
    assert policy[0] == "sandbox" and "default-src 'none'" in policy
    assert not [d for d in policy if "script" in d]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_bad_capture_time_is_a_4xx_page(client: TestClient, built: Built) -> None:
    for tail, status in (
        ("/page?at=2026", 400),
        ("/raw?at=20261399000000", 400),
        ("/raw?at=abcdefghijklmn", 400),
        ("/page?at=" + "9" * 5000, 400),
        ("/page?at=20200101000000", 404),  # before the first capture
        ("/raw?at=20200101000000", 404),
    ):
        answer = client.get(path(built.unchanged, tail))
        assert answer.status_code == status, tail
        assert soup_of(answer.text).select_one("#error") is not None


def test_archived_pictures_come_from_the_archive(client: TestClient, built: Built) -> None:
    a = built.unchanged
    page = soup_of(client.get(path(a)).text)
    figures = page.select("#pictures figure")
    assert [f.find("img")["src"] if f.find("img") else None for f in figures] == [
        path(a, "/img/0"),
        path(a, "/img/1"),
        None,
    ]
    assert "Ảnh không có trong kho lưu trữ" in figures[2].get_text()
    picture = client.get(path(a, "/img/0"))
    assert picture.status_code == 200 and picture.content == PNG
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["x-content-type-options"] == "nosniff"
    # An SVG can carry script: opened by itself it is a download, never a page.
    svg = client.get(path(a, "/img/1"))
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["content-disposition"].startswith("attachment")
    assert svg.headers["content-security-policy"].startswith("sandbox")
    # In the archived page, the picture comes from the app as well.
    raw = soup_of(client.get(path(a, "/raw")).text)
    sources = [i.get("src") for i in raw.find_all("img")]
    assert path(a, "/img/0") in sources
    assert all(s is None or s.startswith(("/a/", "data:image/")) for s in sources), sources


def test_a_picture_not_in_the_archive_is_a_404_page(client: TestClient, built: Built) -> None:
    a = built.edited
    for tail in ("/img/0", "/img/99", "/img/x", "/img/-1"):
        answer = client.get(path(a, tail))
        assert answer.status_code == 404, tail
        assert soup_of(answer.text).select_one("#error") is not None


def test_only_get_is_answered(client: TestClient, built: Built) -> None:
    assert client.post(path(built.edited)).status_code == 405


# ------------------------------------------------------------- every field, every time


def test_the_record_table_shows_every_field_of_the_article(
    client: TestClient, built: Built
) -> None:
    """Generated from :meth:`ArticleView.to_dict`: a column added to the warehouse is on
    the page without anyone remembering to add it (the body and pictures have their own
    sections)."""
    from warehouse.reader import get_article

    con = connect(built.db, read_only=True)
    try:
        record = get_article(con, "baolaocai", built.edited.article_id).to_dict()
    finally:
        con.close()
    table = soup_of(client.get(path(built.edited)).text).select_one("#record")
    assert table is not None and table.name == "details"
    shown = {row["id"].removeprefix("record-"): row for row in table.select("tr[id^=record-]")}
    assert set(record) - set(shown) == {"body", "images"}
    for key in ("content_hash", "run_id", "version", "listed_lastmod", "updated_at"):
        assert shown[key].find("code").get_text() == key
    assert record["content_hash"] in shown["content_hash"].get_text()
    assert shown["version"].find("td").get_text(strip=True) == "2"
    assert shown["run_id"].find("td").get_text(strip=True) == "r2"
    assert record["updated_at"] in shown["updated_at"].get_text()  # as `show -f json` says
    assert shown["tags"].find("td").get_text(strip=True) == ", ".join(built.edited.tags)


def test_browse_links_of_an_article_stay_in_its_paper(client: TestClient, built: Built) -> None:
    page = soup_of(client.get(path(built.edited)).text)
    links = page.select("a[href^='/browse/']")
    assert {a["href"].split("/")[2] for a in links} == {"category", "tag", "author"}
    assert all(a["href"].endswith("?site=baolaocai") for a in links), links


def test_an_id_with_leading_zeros_redirects_to_the_stable_address(
    client: TestClient, built: Built
) -> None:
    aid = built.edited.article_id
    for tail in ("", "/diff?from=1&to=2", "/page?at=20261120013000"):
        answer = client.get(f"/a/baolaocai/00{aid}{tail}", follow_redirects=False)
        assert answer.status_code == 301, tail
        assert answer.headers["location"] == f"/a/baolaocai/{aid}{tail}"
    assert client.get(f"/a/baolaocai/0{aid}").status_code == 200  # followed
    assert client.get("/a/baolaocai/000", follow_redirects=False).status_code == 404


def test_capture_times_have_seconds_and_their_timestamp(client: TestClient, built: Built) -> None:
    (first, _, _), (revisit, _, _) = captures_of(built, built.unchanged)
    rows = soup_of(client.get(path(built.unchanged, "/captures")).text).select(
        "#capture-list tbody tr"
    )
    assert "27/11/2026 09:45:00" in rows[0].get_text() and revisit in rows[0].get_text()
    assert "20/11/2026 08:30:00" in rows[1].get_text() and first in rows[1].get_text()
    wrapper = soup_of(client.get(path(built.unchanged, f"/page?at={revisit}")).text)
    header = wrapper.select_one(".archived-header").get_text(" ", strip=True)
    assert "27/11/2026 09:45:00" in header and revisit in header
    assert f"27/11/2026 09:45:00 ({revisit})" in wrapper.title.get_text()
    removal = soup_of(client.get(path(built.removed)).text).select_one("#removal")
    (good,) = [t for t, _, status in captures_of(built, built.removed) if status == 200]
    assert "20/11/2026 08:30:00" in removal.get_text() and good in removal.get_text()


def test_the_diff_shows_changed_times_as_the_pages_do(client: TestClient, built: Built) -> None:
    field = soup_of(client.get(path(built.edited, "/diff?from=1&to=2")).text).select_one(
        "#field-modified_at"
    )
    old, new = field.find("del"), field.find("ins")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", old.get_text(strip=True)), field
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", new.get_text(strip=True)), field
    assert "+07:00" not in field.get_text(), field
    assert not re.search(r"\d{4}-\d\d-\d\d", field.get_text()), field


def test_a_day_only_date_is_never_shown_with_a_made_up_time(built: Built, tmp_path: Path) -> None:
    """A legacy page gives only the day: the warehouse stores 00:00 Vietnam time, the
    pages show the day, with a note, on the article, its versions and a diff."""
    import shutil

    db = tmp_path / "w.duckdb"
    shutil.copyfile(built.db, db)
    aid = built.edited.article_id
    midnight = "TIMESTAMPTZ '2026-11-19 00:00:00+07:00'"
    con = connect(db)
    try:
        con.execute(f"UPDATE articles SET published_at = {midnight} WHERE article_id = ?", [aid])
        con.execute(
            f"UPDATE article_revisions SET published_at = {midnight}, modified_at = {midnight}"
            " WHERE article_id = ? AND version = 2",
            [aid],
        )
    finally:
        con.close()
    config = WebConfig(db_path=db, index_dir=db.with_suffix(".search"), warc_dir=warc_dir(db))
    day_only = TestClient(create_app(config), base_url="http://127.0.0.1")
    pages = {
        "article": soup_of(day_only.get(path(built.edited)).text).select_one("#article-meta"),
        "versions": soup_of(day_only.get(path(built.edited, "/versions")).text).select_one("#v2"),
        "diff": soup_of(day_only.get(path(built.edited, "/diff?from=1&to=2")).text).select_one(
            "#field-published_at ins"
        ),
    }
    for name, part in pages.items():
        assert part is not None, name
        dates = [t for t in part.find_all("time") if t.get_text(strip=True) == "19/11/2026"]
        assert dates, (name, part)
        assert "trang chỉ ghi ngày" in dates[0]["title"], name
        assert "19/11/2026 00:00" not in part.get_text(), name
