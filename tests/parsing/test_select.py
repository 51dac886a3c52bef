"""The fast profile selector matcher agrees with soupsieve on the selectors we use."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from baolaocai.site import default_site
from sitecopy import SITE_DIR
from transforms.select import compile_selector, select, select_first

PAGES = [*sorted(SITE_DIR.glob("*-post*.html"))[:8], SITE_DIR / "index.html"]
EXTRA = [
    "time[datetime]",
    "a[href]",
    "div.article__body p",
    "[class*=author]",
    "link[rel~=alternate][href]",
    "script[src*='/_nuxt/']",
    "#__nuxt",
    "header a[href]",
]


def all_selectors() -> list[str]:
    profile = default_site().profile
    found = [s for group in profile.selectors.values() for s in group]
    return [*found, profile.remove, profile.remove_in_body, profile.page_furniture, *EXTRA]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem[-10:])
def test_same_results_as_soupsieve(page: Path) -> None:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
    for selector in all_selectors():
        assert compile_selector(selector) is not None, selector
        assert select(soup, selector) == soup.select(selector), selector
        assert select_first(soup, [selector]) == soup.select_one(selector), selector


def test_descendant_and_removed_elements() -> None:
    soup = BeautifulSoup("<div class='a'><p class='x'>1</p></div><p class='x'>2</p>", "lxml")
    assert [p.get_text() for p in select(soup, ".a .x")] == ["1"]
    div = select_first(soup, [".a"])
    assert div is not None
    assert [p.get_text() for p in select(div, "p")] == ["1"]
    div.decompose()
    assert [p.get_text() for p in select(soup, ".x")] == ["2"]
