from __future__ import annotations

import pytest

from baolaocai.identity import article_id, canonical_article_url, canonicalize, to_fetch_url
from baolaocai.site import default_site

SITE = default_site()

CANON = "https://baolaocai.vn/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html"


@pytest.mark.parametrize(
    "href",
    [
        "/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html",
        "http://baolaocai.vn/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html",
        "https://www.baolaocai.vn/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html#comments",
        "https://baolaocai.vn/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html?utm_source=fb&utm_medium=x",
        "/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html?fbclid=IwAR0&zarsrc=30",
        "http://127.0.0.1:8123/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html",
    ],
)
def test_article_links_canonicalise_to_one_url(href: str) -> None:
    page = "http://127.0.0.1:8123/"
    assert (
        canonical_article_url(canonicalize(href, SITE, page, "http://127.0.0.1:8123") or "", SITE)
        == CANON
    )
    assert article_id(CANON, SITE) == 375830


@pytest.mark.parametrize(
    "href", ["https://example.com/x-post1.html", "mailto:a@b.vn", "#top", "javascript:void(0)"]
)
def test_off_site_links_are_dropped(href: str) -> None:
    assert canonicalize(href, SITE, "https://baolaocai.vn/") is None


def test_listing_query_kept_but_tracking_dropped() -> None:
    assert (
        canonicalize("/kinh-te/?page=2&utm_campaign=a", SITE)
        == "https://baolaocai.vn/kinh-te/?page=2"
    )


def test_non_article_paths_have_no_id() -> None:
    assert article_id("https://baolaocai.vn/kinh-te/", SITE) is None
    assert article_id("https://baolaocai.vn/tag/sa-pa-12.html", SITE) is None


def test_fetch_url_maps_onto_a_copy_of_the_site() -> None:
    assert to_fetch_url(CANON, "http://127.0.0.1:9000/mirror") == (
        "http://127.0.0.1:9000/mirror/pa-chu-ty-mua-hoa-tam-giac-mach-post375830.html"
    )
