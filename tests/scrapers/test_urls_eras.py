"""Article addresses of every era, from the site profile's [urls] patterns."""

from __future__ import annotations

import pytest

from scrapers.urls import article_id, canonical_article_url, is_tag_page
from transforms.profile import load_profile


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://baolaocai.vn/bai-viet/352554-ho-3-chan", 352554),
        ("http://www.baolaocai.vn/bai-viet/352554-ho-3-chan?utm_source=x", 352554),
        ("https://baolaocai.vn/bai-viet/352554", 352554),
        ("https://baolaocai.vn/ho-3-chan-post352554.html", 352554),
        ("https://baolaocai.vn/sa-pa-tag40076.html", None),
        ("https://baolaocai.vn/tu-khoa/sa-pa-tag40076.html", None),
        ("https://baolaocai.vn/chuyen-muc/3-kinh-te", None),
        ("https://baolaocai.vn/kinh-te/", None),
    ],
)
def test_article_ids_of_every_era(url: str, expected: int | None) -> None:
    assert article_id(url) == expected
    assert article_id(url, load_profile()) == expected


def test_era_one_canonical_url_keeps_its_path() -> None:
    assert canonical_article_url("http://www.baolaocai.vn/bai-viet/352554-ho-3-chan#x") == (
        "https://baolaocai.vn/bai-viet/352554-ho-3-chan"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://baolaocai.vn/sa-pa-tag40076.html", True),
        ("https://baolaocai.vn/tu-khoa/sa-pa-tag40076.html", True),
        ("https://baolaocai.vn/sa-pa-post40076.html", False),
        ("https://baolaocai.vn/du-lich/", False),
    ],
)
def test_tag_pages_are_recognised(url: str, expected: bool) -> None:
    assert is_tag_page(url) is expected


def test_tag_pages_are_not_sections_and_old_categories_are() -> None:
    from scrapers.discovery import extract_links

    html = (
        '<html><body><nav class="menu">'
        '<a href="/kinh-te/">Kinh tế</a>'
        '<a href="/chuyen-muc/3-thoi-su">Thời sự</a>'
        '<a href="/sa-pa-tag12345.html">#Sa Pa</a>'
        '<a href="/tu-khoa/bac-ha-tag678.html">Bắc Hà</a>'
        "</nav></body></html>"
    )
    links = extract_links(html, "https://baolaocai.vn/")
    assert links.sections == [
        "https://baolaocai.vn/kinh-te/",
        "https://baolaocai.vn/chuyen-muc/3-thoi-su",
    ]


def test_discovery_takes_the_profile_it_is_handed() -> None:
    """Another newspaper on another CMS passes its own profile: its article addresses."""
    import dataclasses
    import re

    from scrapers.discovery import extract_links
    from transforms.profile import load_profile

    html = '<html><body><a href="/tin-moi-a123.html">A</a><a href="/x-post9.html">B</a></body></html>'
    other = dataclasses.replace(
        load_profile(), article_res=(re.compile(r"^/[\w-]*-a(?P<id>\d+)\.html$"),), not_article_res=()
    )
    assert extract_links(html, "https://baolaocai.vn/").articles == [
        "https://baolaocai.vn/x-post9.html"
    ]
    assert extract_links(html, "https://baolaocai.vn/", profile=other).articles == [
        "https://baolaocai.vn/tin-moi-a123.html"
    ]
