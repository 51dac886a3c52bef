"""Article addresses of every era, from the site profile's [urls] patterns."""

from __future__ import annotations

import pytest

from baolaocai.identity import article_id, canonical_article_url, is_tag_page
from baolaocai.site import default_site


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
    assert article_id(url, default_site()) == expected


def test_era_one_canonical_url_keeps_its_path() -> None:
    assert canonical_article_url(
        "http://www.baolaocai.vn/bai-viet/352554-ho-3-chan#x", default_site()
    ) == ("https://baolaocai.vn/bai-viet/352554-ho-3-chan")


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
    assert is_tag_page(url, default_site()) is expected


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
    links = extract_links(html, "https://baolaocai.vn/", default_site())
    assert links.sections == [
        "https://baolaocai.vn/kinh-te/",
        "https://baolaocai.vn/chuyen-muc/3-thoi-su",
    ]
