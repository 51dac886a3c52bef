"""The collection pages as a browser gets them (Starlette's TestClient over the real app
and a warehouse filled by the real write path): home, search and its downloads, browse,
removed; every bad parameter a 4xx page, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient

from tests.web.pages_warehouse import (
    EDITED_ID,
    EDITED_TITLE,
    FIRST_RUN,
    ODD_TAG,
    build,
)
from warehouse.search import SearchHit, fold, search_index_dir
from warehouse.session import warc_dir
from web.app import create_app
from web.context import MAX_QUERY_CHARS, WebConfig, make_templates
from web.messages import ENGLISH_LEAD
from web.pages import highlighted


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    return build(tmp_path_factory.mktemp("pages"))


def client_for(db: Path, **config: Any) -> TestClient:
    settings = {"index_dir": search_index_dir(db), "warc_dir": warc_dir(db), **config}
    app = create_app(WebConfig(db_path=db, **settings))
    return TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(built: tuple[Path, dict[str, Any]]) -> TestClient:
    return client_for(built[0])


@pytest.fixture(scope="module")
def small_pages(built: tuple[Path, dict[str, Any]]) -> TestClient:
    """Three rows a page, started for one paper (as ``baolaocai web --site baolaocai``)."""
    return client_for(built[0], page_size=3, site="baolaocai")


def soup(response: Any) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def error_of(client: TestClient, url: str, status: int) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    page = soup(response)
    assert page.select_one("#error") is not None, url
    assert "Traceback" not in response.text
    return page.select_one("#error").get_text(" ", strip=True)  # type: ignore[union-attr]


# -- home -------------------------------------------------------------------------------------


def test_home_shows_the_counts_latest_chart_runs_and_takedowns(
    client: TestClient, built: tuple[Path, dict[str, Any]]
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = soup(response)
    assert page.html is not None and page.html.get("lang") == "vi"
    counts = {
        div.dt.get_text(" ", strip=True).split()[0]: div.dd.get_text(strip=True)  # type: ignore[union-attr]
        for div in page.select("#counts dl > div")
    }
    assert counts["Bài"] == "41" and counts["Phiên"] == "42" and counts["Đã"] == "1"
    assert counts["Bản"] == "30" and counts["Trang"] == "2"
    latest = page.select("#latest li.article-item a.article-title")
    assert len(latest) == 10 and all(re.fullmatch(r"/a/\w+/\d+", a["href"]) for a in latest)
    svg = page.select_one("#coverage svg[role=img]")
    assert svg is not None and svg.find("title") is not None and svg.find("desc") is not None
    assert page.select("#coverage details table tbody tr")
    runs = page.select("#runs tbody tr")
    assert [r["class"][1] for r in runs] == ["run-warning", "run-completed"]
    assert "có cảnh báo" in runs[0].get_text()
    taken = built[1]["taken_down"]
    links = page.select("#takedowns a")
    assert [a["href"] for a in links] == [f"/a/baolaocai/{taken.article_id}"]
    assert not page.select("[style]")  # the CSP allows no inline style attribute


def test_home_of_one_paper_and_of_an_unknown_one(client: TestClient) -> None:
    page = soup(client.get("/?site=baoyenbai"))
    assert len(page.select("#latest li.article-item")) == 2
    assert page.select_one("#takedowns a") is None
    assert "Chưa có lần chạy" in page.select_one("#runs").get_text()  # type: ignore[union-attr]
    assert "nope" in error_of(client, "/?site=nope", 404)


# -- search -----------------------------------------------------------------------------------


def hits_of(response: Any) -> list[Any]:
    return soup(response).select("ol#results > li.hit")


@pytest.mark.parametrize("q", ["hoa binh", "Hòa Bình", "HOÀ BÌNH"])
def test_search_with_and_without_accents_highlights_the_match(client: TestClient, q: str) -> None:
    response = client.get("/search", params={"q": q})
    assert response.status_code == 200
    hits = hits_of(response)
    ids = [h.select_one("a.hit-title")["href"] for h in hits]  # type: ignore[index]
    assert f"/a/baolaocai/{EDITED_ID}" in ids and "/a/baolaocai/102" in ids
    marks = [fold(m.get_text()) for h in hits for m in h.select(".snippet mark")]
    assert marks and all(m == "hoa binh" for m in marks)
    count = soup(response).select_one("#result-count")
    assert count is not None and count["data-count"] == str(len(hits))
    form = soup(response).select_one("form#search-form")
    assert form is not None and form.select_one("input[name=q]")["value"] == q  # type: ignore[index]
    # "matched without its accents" only when the query has accents to match
    notes = [bool(h.select_one(".accent-note")) for h in hits]
    body = client.get("/search.json", params={"q": q}).json()
    folded_only = [not h["accent_match"] for h in body["hits"][: len(hits)]]
    assert notes == ([False] * len(hits) if q == "hoa binh" else folded_only)


def test_search_filters_by_category_site_author_and_dates(client: TestClient) -> None:
    def ids(**params: str) -> set[str]:
        response = client.get("/search", params={"q": "hoa binh", **params})
        assert response.status_code == 200, response.text
        return {h.select_one("a.hit-title")["href"] for h in hits_of(response)}  # type: ignore[index]

    every = ids()
    assert ids(category="Thời sự") == {"/a/baolaocai/102", "/a/baoyenbai/102"}
    assert ids(site="baoyenbai") == {"/a/baoyenbai/101", "/a/baoyenbai/102"}
    assert ids(author="minh huyen") == {f"/a/baolaocai/{EDITED_ID}"}
    in_2025 = client.get(
        "/search", params={"q": "hoa binh", "since": "2025-01-01", "until": "2025-12-31"}
    )
    times = [h.select_one("time")["datetime"] for h in hits_of(in_2025)]  # type: ignore[index]
    assert times and all(str(t).startswith("2025-") for t in times)
    assert len(times) < len(every) and "/a/baolaocai/102" in every  # 102: June 2024
    assert ids(mode="exact", q="Hoà Bình") == ids(mode="exact", q="hòa bình")
    assert ids(mode="words", q="bình hòa") >= {"/a/baolaocai/102"}


@pytest.mark.parametrize(
    ("params", "status", "said"),
    [
        ({"q": '"sa pa'}, 400, "sa pa"),
        ({"q": "sa pa", "mode": "fuzzy"}, 400, "fuzzy"),
        ({"q": "sa pa", "since": "2025-13-01"}, 400, "2025-13-01"),
        ({"q": "sa pa", "since": "2025-03-01", "until": "2025-02-01"}, 400, "01/02/2025"),
        ({"q": "sa pa", "category": "Không có mục này"}, 400, "Không có mục này"),
    ],
)
def test_a_query_the_user_can_fix_is_said_on_the_search_page(
    client: TestClient, params: dict[str, str], status: int, said: str
) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == status
    page = soup(response)
    error = page.select_one("#search-error")
    assert error is not None and said in error.get_text()
    assert page.select_one("form#search-form input[name=q]")["value"] == params["q"]  # type: ignore[index]
    assert page.select_one("ol#results") is None


def test_an_empty_query_is_the_form_with_tips(client: TestClient) -> None:
    for url in ("/search", "/search?q=", "/search?q=++"):
        response = client.get(url)
        assert response.status_code == 200
        page = soup(response)
        assert page.select_one("#search-tips") is not None
        assert page.select_one("#result-count") is None
        assert page.select_one("select[name=mode]") is not None


def test_a_query_too_long_is_refused_before_any_work(client: TestClient) -> None:
    text = error_of(client, "/search?q=" + "a" * (MAX_QUERY_CHARS + 1), 414)
    assert str(MAX_QUERY_CHARS) in text
    error_of(client, "/search.csv?q=" + "a" * 5000, 414)
    assert client.get("/search?q=" + "a" * MAX_QUERY_CHARS).status_code == 200


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "99999999999", "٣"])
def test_a_bad_page_number_is_a_400(client: TestClient, page: str) -> None:
    error_of(client, f"/search?q=sa+pa&page={quote(page)}", 400)
    error_of(client, f"/removed?page={quote(page)}", 400)


def test_search_pages_through_the_hits(small_pages: TestClient, client: TestClient) -> None:
    body = client.get("/search.json", params={"q": "tỉnh", "site": "baolaocai"}).json()
    everything = {f"/a/{h['site']}/{h['article_id']}" for h in body["hits"]}
    assert len(everything) == body["count"] > 3
    seen: list[str] = []
    url: str | None = "/search?q=t%E1%BB%89nh"
    while url:
        response = small_pages.get(url)
        assert response.status_code == 200
        seen += [h.select_one("a.hit-title")["href"] for h in hits_of(response)]  # type: ignore[index]
        following = soup(response).select_one("nav.pager a[rel=next]")
        url = str(following["href"]) if following else None
    assert len(seen) == len(set(seen)) and set(seen) == everything
    assert small_pages.get("/search?q=t%E1%BB%89nh&page=50").status_code == 404
    beyond = small_pages.get("/search?q=t%E1%BB%89nh&page=400")  # past the 1,000 hits
    assert beyond.status_code == 400
    assert "1.000" in soup(beyond).select_one("#search-error").get_text()  # type: ignore[union-attr]


def test_no_index_says_how_to_build_one(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(built[0], db)
    response = client_for(db).get("/search?q=sa+pa")
    assert response.status_code == 503
    assert "baolaocai reindex" in soup(response).select_one("#search-error").get_text()  # type: ignore[union-attr]


def test_snippets_are_escaped_and_marked_where_the_engine_says() -> None:
    hit = SearchHit(
        site="baolaocai",
        article_id=1,
        published_at=None,
        category=None,
        title=None,
        url="https://baolaocai.vn/x-post1.html",
        score=1.0,
        snippet="<b>Sa Pa</b> và Sa Pa",
        highlights=((3, 8), (4, 6), (16, 21), (30, 40)),
    )
    assert highlighted(hit) == [
        ("<b>", False),
        ("Sa Pa", True),
        ("</b> và ", False),
        ("Sa Pa", True),
    ]


# -- downloads --------------------------------------------------------------------------------


def test_csv_download_has_every_hit_and_a_file_name(client: TestClient) -> None:
    page = client.get("/search", params={"q": "Hòa Bình", "mode": "words"})
    shown = int(soup(page).select_one("#result-count")["data-count"])  # type: ignore[index]
    link = soup(page).select_one("#result-count a[href^='/search.csv']")
    assert link is not None
    response = client.get(str(link["href"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert 'filename="search-hoa-binh.csv"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "search-hòa-bình.csv"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["site", "article_id", "published_at"]
    assert len(rows) - 1 == shown


def test_json_download_says_the_query_filters_and_hits(client: TestClient) -> None:
    response = client.get("/search.json", params={"q": "hoa binh", "category": "Thời sự"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = json.loads(response.text)
    assert body["query"] == "hoa binh" and body["filters"]["category"] == "Thời sự"
    assert body["count"] == len(body["hits"]) == 2 and body["more"] is False
    assert {h["site"] for h in body["hits"]} == {"baolaocai", "baoyenbai"}
    assert all(isinstance(h["highlights"], list) for h in body["hits"])


def test_a_download_without_a_query_or_with_a_bad_one_is_an_error_page(
    client: TestClient,
) -> None:
    error_of(client, "/search.csv", 400)
    error_of(client, "/search.json?q=%22x", 400)
    error_of(client, "/search.json?q=x&until=2020-02-30", 400)


# -- browse -----------------------------------------------------------------------------------


def test_browse_index_links_to_pages_that_exist(client: TestClient) -> None:
    page = soup(client.get("/browse"))
    sections = ("#browse-categories", "#browse-authors", "#browse-tags", "#browse-days")
    links = [a["href"] for s in sections for a in page.select(f"{s} a")]
    assert all(page.select(f"{s} a") for s in sections)
    for href in links[:10] + links[-5:]:
        assert client.get(str(href)).status_code == 200, href
    tag = next(a for a in page.select("#browse-tags a") if a.get_text() == ODD_TAG)
    response = client.get(str(tag["href"]))
    assert response.status_code == 200
    assert soup(response).select_one("#collection-title").get_text().endswith(ODD_TAG)  # type: ignore[union-attr]


def test_an_author_of_a_shared_byline_has_a_page(client: TestClient) -> None:
    response = client.get("/browse/author/" + quote("Minh Huyền"))
    titles = [a.get_text() for a in soup(response).select("li.article-item a.article-title")]
    assert titles == [EDITED_TITLE]


def test_browse_pages_through_a_collection_newest_first(small_pages: TestClient) -> None:
    url: str | None = "/browse/tag/" + quote("Lào Cai")
    seen: list[str] = []
    while url:
        response = small_pages.get(url)
        assert response.status_code == 200
        seen += [a["href"] for a in soup(response).select("a.article-title")]
        following = soup(response).select_one("nav.pager a[rel=next]")
        url = str(following["href"]) if following else None
    assert len(seen) == len(set(seen)) == 9  # baolaocai's, the site it was started for
    assert small_pages.get("/browse/tag/" + quote("Lào Cai") + "?site=").status_code == 200
    error_of(small_pages, "/browse/tag/" + quote("Lào Cai") + "?page=9", 404)


def test_a_day_page_links_its_neighbours(client: TestClient) -> None:
    page = soup(client.get("/browse/day/2025-01-01"))
    assert "109" in " ".join(a["href"] for a in page.select("a.article-title"))
    assert page.select_one(".day-nav a") is not None
    said = error_of(client, "/browse/day/2025-01-02", 404)
    assert "gần nhất" in said


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/browse/category/Kh%C3%B4ng%20c%C3%B3", 404),
        ("/browse/category/..%2F..%2F..%2Fetc%2Fpasswd", 404),
        ("/browse/category/../../etc/passwd", 404),
        ("/browse/tag/a%00b", 404),
        ("/browse/author/%0A", 404),
        ("/browse/author/" + "x" * 5000, 414),
        ("/browse/tag/" + quote("ế" * 400), 414),
        ("/browse/day/2025-02-30", 400),
        ("/browse/day/yesterday", 400),
        ("/browse/day/" + "1" * 5000, 414),
        ("/browse/category/x'%20OR%20'1'='1", 404),
        ("/removed?site=..%2F", 404),
    ],
)
def test_hostile_addresses_get_a_4xx_page(client: TestClient, path: str, status: int) -> None:
    error_of(client, path, status)


def test_only_get_is_answered(client: TestClient) -> None:
    assert client.post("/search", data={"q": "x"}).status_code == 405


# -- removed ----------------------------------------------------------------------------------


def test_removed_lists_takedowns_with_their_last_capture(
    client: TestClient, built: tuple[Path, dict[str, Any]]
) -> None:
    taken = built[1]["taken_down"]
    response = client.get("/removed")
    assert response.status_code == 200
    rows = soup(response).select("tr.takedown")
    assert len(rows) == 1
    link = rows[0].select_one("a.last-capture")
    stamp = FIRST_RUN.strftime("%Y%m%d%H%M%S")
    assert link is not None and link["href"] == f"/a/baolaocai/{taken.article_id}/page?at={stamp}"
    assert rows[0].select_one("a")["href"] == f"/a/baolaocai/{taken.article_id}"  # type: ignore[index]
    empty = soup(client.get("/removed?site=baoyenbai"))
    assert not empty.select("tr.takedown") and "Chưa có" in empty.get_text()


def test_past_the_cap_the_count_is_true_and_says_how_many_can_be_seen(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.pages.MAX_HITS", 5)  # the real cap is 1,000
    page = soup(client.get("/search", params={"q": "tỉnh"}))
    count = page.select_one("#result-count")
    assert count is not None and count.get("data-more") == "true"
    everything = client.get("/search.json", params={"q": "tỉnh"}).json()["total"]
    assert everything > 5 and int(str(count.get("data-count"))) == everything
    assert "xem và tải về được 5 kết quả đầu" in count.get_text()
    assert len(page.select("ol#results > li.hit")) == 5
    body = client.get("/search.json", params={"q": "tỉnh"}).json()
    assert body["count"] == 5 and body["more"] is True and body["total"] == everything
    rows = list(csv.reader(io.StringIO(client.get("/search.csv", params={"q": "tỉnh"}).text)))
    assert len(rows) == 6  # the header and the first 5 hits


# -- errors in Vietnamese, one value per parameter ---------------------------------------------


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"q": "sa pa", "mode": "nhanh"}, "nhanh"),
        ({"q": "sa pa", "since": "2025-13-01"}, "2025-13-01"),
        ({"q": '"sa pa'}, "Dấu ngoặc kép chưa đóng"),
    ],
)
def test_a_refused_search_carries_the_error_hook_as_well(
    client: TestClient, params: dict[str, str], said: str
) -> None:
    response = client.get("/search", params=params)
    assert response.status_code == 400
    page = soup(response)
    hook = page.select_one("#error")
    assert hook is not None and said in hook.get_text()
    assert page.select_one("#error #search-error") is not None
    assert len(page.select("#search-error")) == 1
    assert page.select_one("form#search-form") is not None


@pytest.mark.parametrize(
    ("query", "said", "english"),
    [
        ('"sa pa', "Dấu ngoặc kép chưa đóng trong", "unbalanced quote"),
        ("漢字", "Không có gì để tìm trong '漢字'", "nothing to search for"),
        ("-mưa", "chỉ có từ loại trừ", "exclusions only"),
        ('"sa pa" OR', "OR cần một cụm từ", "needs a phrase"),
    ],
)
def test_an_engine_error_on_the_search_page_is_in_vietnamese(
    client: TestClient, query: str, said: str, english: str
) -> None:
    response = client.get("/search", params={"q": query})
    assert response.status_code == 400
    text = soup(response).select_one("#search-error").get_text(" ")  # type: ignore[union-attr]
    assert said in text and english not in text


def test_an_unknown_category_is_said_in_vietnamese_on_search_and_downloads(
    client: TestClient,
) -> None:
    response = client.get("/search", params={"q": "sa pa", "category": "Không có mục này"})
    text = soup(response).select_one("#search-error").get_text(" ")  # type: ignore[union-attr]
    assert "Không có chuyên mục 'Không có mục này'" in text and "known" not in text
    download = error_of(client, "/search.json?q=%22x", 400)
    assert "Dấu ngoặc kép chưa đóng" in download and "unbalanced" not in download


@pytest.mark.parametrize(
    ("method", "path", "status", "english"),
    [
        ("GET", "/a/baolaocai/1", 404, "in the warehouse"),
        ("GET", "/nope", 404, "Not Found"),
        ("POST", "/", 405, "Method Not Allowed"),
        ("DELETE", "/search", 405, "Method Not Allowed"),
    ],
)
def test_error_pages_say_nothing_in_english(
    client: TestClient, method: str, path: str, status: int, english: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    error = soup(response).select_one("#error")
    assert error is not None
    text = error.get_text(" ", strip=True)
    assert english not in text and ENGLISH_LEAD not in text, text
    if path == "/a/baolaocai/1":
        assert "Kho lưu trữ không có bài baolaocai/1" in text


@pytest.mark.parametrize(
    ("url", "repeated"),
    [
        ("/search?q=sa+pa&mode=phrase&mode=exact", "'mode'"),
        ("/search?q=a&q=b", "'q'"),
        ("/a/baolaocai/101/diff?from=1&to=2&from=2", "'from'"),
        ("/removed?page=1&page=1", "'page'"),
        ("/?site=&site=baolaocai", "'site'"),
        ("/browse?x=1&x", "'x'"),
        ("/search?q=sa+pa&%6Dode=exact&mode=phrase", "'mode'"),
    ],
)
def test_a_repeated_parameter_is_a_400_naming_it(
    client: TestClient, url: str, repeated: str
) -> None:
    text = error_of(client, url, 400)
    assert repeated in text and "nhiều lần" in text
    response = client.get(url)
    assert "nosniff" in response.headers["x-content-type-options"]


def test_one_value_each_is_still_answered(client: TestClient) -> None:
    assert client.get("/search?q=sa+pa&mode=exact&page=1").status_code == 200
    assert client.get("/a/baolaocai/101/diff?from=1&to=2").status_code == 200


def test_a_day_only_publication_shows_no_made_up_time() -> None:
    vietnam = timezone(timedelta(hours=7))
    rows = [
        SimpleNamespace(
            site="baolaocai",
            article_id=1,
            title="Bài chỉ có ngày",
            removed_at=None,
            published_at=datetime(2023, 8, 26, tzinfo=vietnam),
            category=None,
            author=None,
        ),
        SimpleNamespace(
            site="baolaocai",
            article_id=2,
            title="Bài có giờ",
            removed_at=None,
            published_at=datetime(2023, 8, 26, 9, 10, tzinfo=vietnam),
            category=None,
            author=None,
        ),
    ]
    macro = make_templates().get_template("_lists.html").module.article_list  # type: ignore[attr-defined]
    items = BeautifulSoup(str(macro(rows, lambda kind, value: "/")), "html.parser").select("li")
    day_only, timed = (item.select_one("time") for item in items)
    assert day_only is not None and day_only.get_text() == "26/08/2023"
    assert "00:00" not in items[0].get_text()
    assert timed is not None and timed.get_text() == "26/08/2023 09:10"


@pytest.mark.parametrize("name", ["home.html", "search.html", "_lists.html", "removed.html"])
def test_published_times_go_through_the_day_only_rule(name: str) -> None:
    source = (Path(__file__).resolve().parents[2] / "web" / "templates" / name).read_text()
    shown = re.findall(r"published_at\|(\w+)", source)
    assert all(f == "vn_published" for f in shown), (name, shown)
