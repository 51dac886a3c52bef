"""The archive in a real browser (issue #23): Debian's chromium, driven by Playwright,
reads the real ``baolaocai web`` serving the real demo warehouse, as a reader would.

It searches with and without accents and in each mode, filters, pages and downloads the
results; opens an article from a result, its versions and a diff, its archived page and
the takedowns; and checks that no script of an archived page runs, on a warehouse whose
archived page carries every kind of script (``hostile_db``, tests/web/conftest.py), both
layers: the sanitised ``/raw`` answer holds none, and the browser runs none even when
the page is opened on its own. Bad addresses get a 4xx page, never a traceback (the
server's stderr is checked when it stops).

The search words are the demo copy's own (sitecopy/site/*.html): "lúa chín" is in the Y Tý
article only; "mận … Bắc Hà" are words of one article but not a phrase of any.
Every test saves screenshots (``BAOLAOCAI_SCREENSHOTS=docs/screenshots`` makes the
README's).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest

if TYPE_CHECKING:
    from conftest import Hostile, Tab, WebServer

# Each test starts ``baolaocai web`` (and the session ``baolaocai demo``) as processes.
pytestmark = pytest.mark.slow

SITE = "baolaocai"
LUA_CHIN = 398207
"""Y Tý vào mùa lúa chín trên những thửa ruộng bậc thang: the only "lúa chín"."""
MAN_BAC_HA = 373910
"""Nông dân Bắc Hà trúng mùa mận tam hoa: "mận" and "Bắc Hà", never "mận bắc hà"."""
MU_CANG_CHAI = 907925
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
RESULTS = "ol#results > li.hit"


def fold(text: str) -> str:
    """Lower case without diacritics (đ as d): how a reader types on a plain keyboard."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def hit_paths(tab: Tab) -> list[str]:
    """The article address of each result, in order."""
    hrefs = tab.page.locator(f"{RESULTS} a.hit-title").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return [urlsplit(h).path for h in hrefs]


def article(article_id: int) -> str:
    return f"/a/{SITE}/{article_id}"


def search(tab: Tab, web: WebServer, text: str, mode: str | None = None) -> list[str]:
    """Type ``text`` into the search form (choosing ``mode``) and submit it, as a reader."""
    tab.goto(web.url + "/search")
    form = tab.page.locator("form#search-form")
    form.locator("input[name=q]").fill(text)
    if mode is not None:
        form.locator("select[name=mode]").select_option(mode)
    with tab.page.expect_navigation(wait_until="load"):
        form.locator("input[name=q]").press("Enter")
    assert urlsplit(tab.page.url).path == "/search"
    asked = parse_qs(urlsplit(tab.page.url).query)
    assert asked.get("q") == [text] and asked.get("mode", ["phrase"]) == [mode or "phrase"]
    assert tab.page.locator("#result-count").count() == 1
    return hit_paths(tab)


def offline(tab: Tab, web: WebServer) -> None:
    """Everything the pages loaded came from the app itself: no CDN, no newspaper host."""
    elsewhere = [u for u in tab.requests if not u.startswith((web.url + "/", "data:"))]
    assert not elsewhere, elsewhere


def revision_text(web: WebServer, article_id: int, version: int) -> str:
    """Every field of one version as one text, times as the pages may print them."""
    (row,) = web.query(
        "SELECT title, sapo, body, author, category, array_to_string(tags, ' '), source,"
        " published_at, modified_at FROM article_revisions"
        " WHERE site = ? AND article_id = ? AND version = ?",
        [SITE, article_id, version],
    )
    parts: list[str] = []
    for value in row:
        if isinstance(value, datetime):
            shown = value.astimezone(VIETNAM)
            parts += [str(shown), shown.isoformat(), shown.strftime("%d/%m/%Y %H:%M")]
        elif value is not None:
            parts.append(str(value))
    return squeeze(" ".join(parts))


def squeeze(text: str) -> str:
    return " ".join(text.split())


# -- home, search ------------------------------------------------------------------------------


def test_the_home_page_shows_the_archive_at_a_glance(tab: Tab, demo_web: WebServer) -> None:
    response = tab.goto(demo_web.url + "/")
    assert response.status == 200
    assert tab.page.get_attribute("html", "lang") == "vi"
    ((stored, latest_title),) = demo_web.query(
        "SELECT count(*), arg_max(title, published_at) FILTER (WHERE removed_at IS NULL)"
        " FROM articles",
    )
    text = tab.page.inner_text("main")
    assert str(stored) in text
    assert squeeze(latest_title) in squeeze(text)
    assert tab.page.locator(f"main a[href^='/a/{SITE}/']").count() >= 1
    assert tab.page.locator("main svg").count() >= 1, "coverage chart (server-side SVG)"
    assert tab.page.locator("form#search-form, form[role=search]").count() >= 1
    offline(tab, demo_web)
    tab.snap("home")


def test_search_with_and_without_accents_finds_the_same_article(
    tab: Tab, demo_web: WebServer
) -> None:
    typed = search(tab, demo_web, "lúa chín")
    assert typed and typed[0] == article(LUA_CHIN)
    plain = search(tab, demo_web, "lua chin")
    assert plain and plain[0] == article(LUA_CHIN)

    # A phrase of the bodies: highlighted in the snippets, as typed or not.
    typed = search(tab, demo_web, "ruộng bậc thang")
    marks = tab.page.locator(f"{RESULTS} .snippet mark").all_inner_texts()
    assert marks and all(fold(m).strip() == "ruong bac thang" for m in marks), marks
    tab.snap("search")
    plain = search(tab, demo_web, "ruong bac thang")
    assert set(plain) == set(typed) and plain[0] == typed[0] == article(LUA_CHIN)
    marks = tab.page.locator(f"{RESULTS} .snippet mark").all_inner_texts()
    # Highlighted in the text as written, accents and all.
    assert marks and all(m.strip().lower() == "ruộng bậc thang" for m in marks), marks
    offline(tab, demo_web)


def test_phrase_words_and_exact_modes_differ(tab: Tab, demo_web: WebServer) -> None:
    assert search(tab, demo_web, "mận bắc hà") == []  # no article has that phrase
    words = search(tab, demo_web, "mận bắc hà", mode="words")
    assert words and words[0] == article(MAN_BAC_HA)
    assert tab.page.locator("select[name=mode]").input_value() == "words"
    tab.snap("search-words")
    # --exact: accents must match as typed.
    assert search(tab, demo_web, "lua chin", mode="exact") == []
    exact = search(tab, demo_web, "lúa chín", mode="exact")
    assert exact and exact[0] == article(LUA_CHIN)


def _downloads(tab: Tab, web: WebServer) -> tuple[list[dict[str, str]], list[Any]]:
    """The page's CSV and JSON download links, fetched (the browser context's own
    requests) and parsed."""
    csv_href = tab.page.locator("a[href^='/search.csv']").first.get_attribute("href")
    json_href = tab.page.locator("a[href^='/search.json']").first.get_attribute("href")
    assert csv_href and json_href, "download links on the results page"
    request = tab.page.context.request
    got_csv = request.get(web.url + csv_href)
    assert got_csv.status == 200 and "text/csv" in got_csv.headers["content-type"]
    rows = list(csv.DictReader(io.StringIO(got_csv.body().decode("utf-8-sig"))))
    got_json = request.get(web.url + json_href)
    assert got_json.status == 200 and "json" in got_json.headers["content-type"]
    data = json.loads(got_json.body())
    records = data if isinstance(data, list) else data.get("results", data.get("hits"))
    assert isinstance(records, list), data
    return rows, records


def test_a_category_filter_and_the_downloads(tab: Tab, demo_web: WebServer) -> None:
    everywhere = search(tab, demo_web, "chè")
    sections = dict(
        demo_web.query(
            "SELECT concat('/a/', site, '/', article_id), category FROM articles"
            " WHERE list_contains(?, concat('/a/', site, '/', article_id))",
            [everywhere],
        )
    )
    tea = [path for path in everywhere if sections[path] == "Kinh tế"]
    assert 2 <= len(tea) < len(everywhere)  # chè is in other sections too
    tab.page.locator("form#search-form select[name=category]").select_option("Kinh tế")
    with tab.page.expect_navigation(wait_until="load"):
        tab.page.locator("form#search-form input[name=q]").press("Enter")
    assert parse_qs(urlsplit(tab.page.url).query).get("category") == ["Kinh tế"]
    filtered = hit_paths(tab)
    assert filtered == tea
    tab.snap("search-category")
    rows, records = _downloads(tab, demo_web)
    # The files hold the same results as the page, filter included.
    assert [article(int(r["article_id"])) for r in rows] == filtered
    assert [article(int(r["article_id"])) for r in records] == filtered
    assert {r["category"] for r in rows} == {"Kinh tế"}
    offline(tab, demo_web)


def test_results_are_paged_and_the_downloads_hold_every_page(tab: Tab, demo_web: WebServer) -> None:
    first = search(tab, demo_web, "của")  # in nearly every article: more than a page
    rows, records = _downloads(tab, demo_web)
    assert len(rows) == len(records) > len(first) > 0
    every = [article(int(r["article_id"])) for r in rows]
    assert every[: len(first)] == first
    following = tab.page.locator("nav.pager a[rel=next]")
    assert following.count() == 1
    with tab.page.expect_navigation(wait_until="load"):
        following.click()
    second = hit_paths(tab)
    assert second and not set(second) & set(first)
    assert every[len(first) : len(first) + len(second)] == second
    assert parse_qs(urlsplit(tab.page.url).query).get("page") == ["2"]


# -- one article -------------------------------------------------------------------------------


def test_open_an_article_from_a_result(tab: Tab, demo_web: WebServer) -> None:
    found = search(tab, demo_web, "mu cang chai")
    assert found[0] == article(MU_CANG_CHAI)
    link = tab.page.locator(f"{RESULTS} a.hit-title").first
    title = squeeze(link.inner_text())
    with tab.page.expect_navigation(wait_until="load"):
        link.click()
    assert urlsplit(tab.page.url).path == article(MU_CANG_CHAI)
    assert squeeze(tab.page.inner_text("h1#article-title")) == title
    ((stored_title, body, published, author),) = demo_web.query(
        "SELECT title, body, published_at, author FROM articles WHERE site = ? AND article_id = ?",
        [SITE, MU_CANG_CHAI],
    )
    assert squeeze(stored_title) == title
    shown = squeeze(tab.page.inner_text("#article-body"))
    assert squeeze(body.split("\n")[0]) in shown and len(shown) >= len(squeeze(body)) * 0.9
    meta = tab.page.inner_text("#article-meta")
    assert published.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") in meta  # Vietnam time
    if author:
        assert squeeze(author) in squeeze(meta)
    assert tab.page.locator("#versions").count() == 1
    assert tab.page.locator("#removal").count() == 0
    captions = [
        r[0]
        for r in demo_web.query(
            "SELECT caption FROM article_images WHERE site = ? AND article_id = ?"
            " AND caption IS NOT NULL",
            [SITE, MU_CANG_CHAI],
        )
    ]
    page_text = squeeze(tab.page.inner_text("main"))
    assert all(squeeze(c) in page_text for c in captions), captions
    # Pictures come from the archive or not at all: never from the newspaper's host.
    sources = tab.page.locator("img").evaluate_all("imgs => imgs.map(i => i.src)")
    assert all(s.startswith((demo_web.url + "/", "data:")) for s in sources), sources
    offline(tab, demo_web)
    tab.snap("article")


def _edited(web: WebServer) -> tuple[int, int]:
    rows = web.query(
        "SELECT article_id, version FROM articles WHERE site = ? AND version > 1"
        " ORDER BY article_id LIMIT 1",
        [SITE],
    )
    if not rows:
        pytest.fail(
            "the demo warehouse has no edited article (version > 1): the demo's second pass"
            " over a changed copy (an edit, a takedown) is missing, so there is no diff to show"
        )
    return int(rows[0][0]), int(rows[0][1])


def test_the_versions_of_an_edited_article_and_a_word_diff(tab: Tab, demo_web: WebServer) -> None:
    article_id, latest = _edited(demo_web)
    tab.goto(demo_web.url + article(article_id))
    assert str(latest) in tab.page.inner_text("#versions")
    tab.goto(demo_web.url + article(article_id) + "/versions")
    tab.snap("versions")
    diff_links = tab.page.locator(f"a[href*='{article(article_id)}/diff?']")
    if diff_links.count():
        with tab.page.expect_navigation(wait_until="load"):
            diff_links.last.click()
    else:  # the page picks two with a form: the same address it would submit
        tab.goto(demo_web.url + article(article_id) + f"/diff?from=1&to={latest}")
    assert urlsplit(tab.page.url).path == article(article_id) + "/diff"
    asked = parse_qs(urlsplit(tab.page.url).query)
    old, new = int(asked["from"][0]), int(asked["to"][0])
    assert old != new
    old_text = revision_text(demo_web, article_id, min(old, new))
    new_text = revision_text(demo_web, article_id, max(old, new))
    inserted = [squeeze(t) for t in tab.page.locator("#diff ins").all_inner_texts()]
    deleted = [squeeze(t) for t in tab.page.locator("#diff del").all_inner_texts()]
    assert inserted or deleted
    assert all(t in new_text for t in inserted if t), inserted
    assert all(t in old_text for t in deleted if t), deleted
    # What changed is exactly what the diff marks: the new text has words the old has not.
    assert any(t and t not in old_text for t in inserted + deleted)
    offline(tab, demo_web)
    tab.snap("diff")


def test_the_archived_page_is_shown_sandboxed(tab: Tab, demo_web: WebServer) -> None:
    tab.goto(demo_web.url + article(LUA_CHIN))
    title = squeeze(tab.page.inner_text("h1#article-title"))
    to_page = tab.page.locator(f"a[href^='{article(LUA_CHIN)}/page']")
    assert to_page.count() >= 1, "the article links to its archived page"
    with tab.page.expect_navigation(wait_until="load"):
        to_page.first.click()
    frame_element = tab.page.locator("iframe#archived")
    assert frame_element.count() == 1
    sandbox = frame_element.get_attribute("sandbox")
    assert sandbox is not None and "allow-scripts" not in sandbox
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    assert title in squeeze(frame.inner_text("body"))
    raw = tab.page.context.request.get(urljoin(tab.page.url, frame_element.get_attribute("src")))
    assert raw.status == 200
    policy = raw.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["referrer-policy"] == "no-referrer"
    offline(tab, demo_web)
    tab.snap("archived")
    # Every capture by date, each opening its archived page.
    tab.goto(demo_web.url + article(LUA_CHIN) + "/captures")
    captures = tab.page.locator(f"a[href*='{article(LUA_CHIN)}/page?at=']")
    assert captures.count() >= 1
    stamp = parse_qs(urlsplit(captures.first.get_attribute("href")).query)["at"][0]
    assert re.fullmatch(r"\d{14}", stamp)


# -- the archived page's scripts never run -----------------------------------------------------


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "xlink:href", "poster")


class _Active(HTMLParser):
    """What in a page could run or load anything: scripts that a browser executes,
    event-handler attributes, script URLs, frames, plug-ins, refreshes, and links that
    leave ``origin``."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and values.get("type", "").lower() not in ("application/ld+json",):
            self.found.append(f"<script {values}>")
        if tag in ("iframe", "frame", "object", "embed", "applet", "base"):
            self.found.append(f"<{tag}>")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.found.append("<meta refresh>")
        for name, value in values.items():
            if name.startswith("on") or name == "srcdoc":
                self.found.append(f"{tag} {name}={value[:40]!r}")
            compact = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name in URL_ATTRIBUTES and compact.startswith(("javascript:", "vbscript:")):
                self.found.append(f"{tag} {name}={value[:40]!r}")
        href = values.get("href")
        if tag == "a" and href and not href.startswith("#"):
            target = urlsplit(urljoin(self.base, href))
            if f"{target.scheme}://{target.netloc}" != self.base:
                self.found.append(f"a link out of the archive: {href}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_no_script_of_an_archived_page_ever_runs(
    tab: Tab, hostile_web: WebServer, hostile: Hostile, browser: Any
) -> None:
    mark = hostile.mark
    # The control: the same markup, unsandboxed, does run its scripts in this browser,
    # so the checks below would see it if the archive let one through.
    control = browser.new_context(java_script_enabled=True)
    try:
        probe = control.new_page()
        probe.set_content(f"<html><head>{hostile.head_html}</head><body></body></html>")
        assert probe.evaluate(f"window.{mark}") == "head"
    finally:
        control.close()

    wrapper = f"{hostile_web.url}{article(hostile.article_id)}/page"
    tab.goto(wrapper)
    frame_element = tab.page.locator("iframe#archived")
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    tab.page.wait_for_load_state("networkidle")  # whatever the page would fetch, it has
    raw_url = urljoin(tab.page.url, frame_element.get_attribute("src"))
    assert urlsplit(frame.url).path == urlsplit(raw_url).path, "the page refreshed itself"
    assert frame.evaluate(f"typeof window.{mark}") == "undefined"
    assert frame.evaluate("document.title") != "SCRIPT RAN"
    assert tab.page.evaluate(f"typeof window.{mark}") == "undefined"
    assert not [u for u in tab.requests if mark in u], tab.requests
    # The article is still there to read, as archived.
    ((title,),) = hostile_web.query(
        "SELECT title FROM articles WHERE article_id = ?", [hostile.article_id]
    )
    assert squeeze(title) in squeeze(frame.inner_text("body"))
    # At most the browser's own complaints about what it blocked.
    noise = [
        text
        for kind, text in tab.console
        if kind == "error"
        and not re.search(r"Blocked|Content Security Policy|sandbox|Failed to load", text)
    ]
    assert not noise, tab.console
    tab.snap("archived-hostile")

    # Layer 1, the sanitiser: the answer itself holds nothing that could run or leave.
    raw = tab.page.context.request.get(raw_url)
    assert raw.status == 200
    policy = raw.headers["content-security-policy"]
    assert "sandbox" in policy and "allow-scripts" not in policy
    assert "default-src 'none'" in policy
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["referrer-policy"] == "no-referrer"
    scan = _Active(hostile_web.url)
    scan.feed(raw.text())
    assert not scan.found, scan.found
    assert squeeze(title) in squeeze(" ".join(scan.text))

    # Layer 2, the policy: opened on its own (a new tab on /raw), still nothing runs.
    before = len(tab.requests)
    tab.goto(raw_url)
    tab.page.wait_for_load_state("networkidle")
    assert tab.page.evaluate(f"typeof window.{mark}") == "undefined"
    assert not [u for u in tab.requests[before:] if mark in u]
    offline(tab, hostile_web)


# -- collections, takedowns, errors ------------------------------------------------------------


def test_browse_by_category_and_day(tab: Tab, demo_web: WebServer) -> None:
    tab.goto(demo_web.url + "/browse")
    category = tab.page.locator("a[href^='/browse/category/']", has_text="Kinh tế")
    assert category.count() >= 1
    for kind in ("author", "tag", "day"):
        assert tab.page.locator(f"a[href^='/browse/{kind}/']").count() >= 1, kind
    tab.snap("browse")
    with tab.page.expect_navigation(wait_until="load"):
        category.first.click()
    expected = {
        article(r[0])
        for r in demo_web.query(
            "SELECT article_id FROM articles WHERE site = ? AND category = 'Kinh tế'",
            [SITE],
        )
    }
    shown = {
        urlsplit(h).path
        for h in tab.page.locator(f"main a[href^='/a/{SITE}/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    }
    assert expected and expected <= shown  # fewer than a page of them
    tab.snap("browse-category")
    ((published,),) = demo_web.query(
        "SELECT published_at FROM articles WHERE article_id = ?", [MU_CANG_CHAI]
    )
    day = published.astimezone(VIETNAM).date().isoformat()
    tab.goto(f"{demo_web.url}/browse/day/{day}")
    assert tab.page.locator(f"main a[href='{article(MU_CANG_CHAI)}']").count() >= 1


def _removed(web: WebServer) -> tuple[int, str]:
    rows = web.query(
        "SELECT article_id, title FROM articles WHERE site = ? AND removed_at IS NOT NULL"
        " ORDER BY removed_at DESC LIMIT 1",
        [SITE],
    )
    if not rows:
        pytest.fail(
            "the demo warehouse has no taken-down article (removed_at set): the demo's"
            " second pass over a changed copy (an edit, a takedown) is missing"
        )
    return int(rows[0][0]), str(rows[0][1])


def test_the_removed_page_lists_the_takedown(tab: Tab, demo_web: WebServer) -> None:
    article_id, title = _removed(demo_web)
    tab.goto(demo_web.url + "/removed")
    listed = tab.page.locator(f"main a[href='{article(article_id)}']")
    assert listed.count() >= 1
    assert squeeze(title) in squeeze(tab.page.inner_text("main"))
    tab.snap("removed")
    with tab.page.expect_navigation(wait_until="load"):
        listed.first.click()
    assert tab.page.locator("#removal").count() == 1
    # The page as it was before it went: its last capture still opens.
    assert tab.page.locator(f"a[href^='{article(article_id)}/page']").count() >= 1
    offline(tab, demo_web)


def _error_page(status: int, body: str, what: str) -> None:
    assert 400 <= status < 500, f"{what}: {status}"
    # The search page says what is wrong above its form (the query kept, to fix it).
    hook = 'id="search-error"' if what.startswith("/search?") else 'id="error"'
    assert hook in body or 'id="error"' in body, what
    assert "Traceback" not in body and "root:x:0:0" not in body, what


def test_bad_addresses_get_a_4xx_page_never_a_traceback(tab: Tab, demo_web: WebServer) -> None:
    missing = tab.goto(demo_web.url + article(999_999_999))
    assert missing.status == 404
    assert tab.page.locator("#error").is_visible()
    assert tab.page.get_attribute("html", "lang") == "vi"
    tab.snap("error-404")
    long_query = tab.goto(demo_web.url + "/search?q=" + "lúa" * 1700)  # 5,100 characters
    assert 400 <= long_query.status < 500
    assert tab.page.locator("#error").count() == 1
    hostile_paths: Iterable[str] = (
        "/a/../../etc/passwd",
        "/a/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        f"/a/{SITE}/abc",
        f"/a/{SITE}/-1",
        f"/a/{SITE}/{'9' * 40}",
        f"/a/nosuchsite/{MU_CANG_CHAI}",
        f"/a/{SITE}/{MU_CANG_CHAI}/img/..%2f..%2f..%2fetc%2fpasswd",
        f"/a/{SITE}/{MU_CANG_CHAI}/img/99",
        f"/a/{SITE}/{MU_CANG_CHAI}/raw?at=../../etc/passwd",
        f"/a/{SITE}/{MU_CANG_CHAI}/page?at=19990101000000",
        f"/a/{SITE}/{MU_CANG_CHAI}/diff?from=1&to=abc",
        f"/a/{SITE}/{MU_CANG_CHAI}/diff?from=1&to=99",
        "/search?q=ch%C3%A8&page=-1",
        "/search?q=ch%C3%A8&page=99999999999999999999",
        "/search?q=ch%C3%A8&mode=regex",
        "/search?q=ch%C3%A8&since=2026-13-45",
        "/search.csv?q=" + "a" * 5000,
        "/browse/day/2026-02-30",
        "/browse/nothing/x",
        "/removed?page=0",
        "/%00",
        "/" + "x" * 5000,
    )
    for path in hostile_paths:
        status, _headers, body = demo_web.raw_get(path)
        _error_page(status, body, path)
    status, _headers, body = demo_web.raw_get("/", method="POST")
    assert status == 405 and 'id="error"' in body
    offline(tab, demo_web)


def test_times_are_shown_in_vietnam_time(tab: Tab, demo_web: WebServer) -> None:
    ((published,),) = demo_web.query(
        "SELECT published_at FROM articles WHERE article_id = ?", [LUA_CHIN]
    )
    assert isinstance(published, datetime)
    tab.goto(demo_web.url + article(LUA_CHIN))
    meta = tab.page.inner_text("#article-meta")
    assert published.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") in meta
    utc = published.astimezone(ZoneInfo("UTC")).strftime("%d/%m/%Y %H:%M")
    assert utc not in meta  # 7 hours apart: never the UTC clock
