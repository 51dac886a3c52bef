"""The selector engine's shortcuts through the document index give what walking the
tree gives: ``find_tags`` (elements below a root, from the index) is ``find_all``,
``text_nodes`` is the walk over ``descendants``, and ``select`` / ``exists`` with the
chains a page cannot match dropped beforehand (absent classes, tags and ``[class*=…]``
parts) agree with soupsieve — on gold pages as built, and after elements were removed
(``decompose``) or renamed, as the parser does to them."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString

from baolaocai.site import default_site
from tests.parsing.gold import all_cases
from transforms.prune import strip_inert
from transforms.select import exists, find_tags, first_tag, select, text_nodes
from transforms.tree import soup_of

NAMES: list[str | tuple[str, ...] | None] = [None, "p", "a", ("div", "p", "ul", "section"), "img"]
SELECTORS = [
    "[class*=date]",
    "[class*=time], [class*=nothing-like-it]",
    "div[class*=art]",
    "body[class*=amp-], main[class*=amp-], html[amp]",
    "[id*=e-magazine], [id*=emagazine], [id*=main]",
    "a[href*='window.close'], [onclick*='window.close']",
    "[class$=__body], [class^=article], [class=content]",
    ".no-such-class, nosuchtag, p, .article__body p",
]


def _pages() -> list[str]:
    return [strip_inert(c.html()) for c in all_cases() if c.page.exists()][::5]


def _mutate(soup: BeautifulSoup) -> None:
    """Remove every fifth box and rename an aside, as the parser's clean-ups do."""
    boxes = [el for el in soup.find_all(["div", "section", "ul", "figure"]) if el.parent]
    for el in boxes[::5]:
        if not el.__dict__.get("_decomposed"):
            el.decompose()
    aside = soup.find("aside")
    if aside is not None:
        aside.name = "section"


def _roots(soup: BeautifulSoup) -> list[Tag]:
    return [soup, *(soup.find_all(["body", "div", "article", "section"])[:12])]


@pytest.mark.parametrize("mutated", [False, True])
def test_find_tags_and_text_nodes_walk_the_tree(mutated: bool) -> None:
    for html in _pages():
        soup = soup_of(html)
        if mutated:
            _mutate(soup)
        for root in _roots(soup):
            for names in NAMES:
                for href in (False, True):
                    for limit in (0, 3):
                        every = (
                            root.find_all(names or True, href=True)
                            if href
                            else root.find_all(names or True)
                        )
                        want = list(every[:limit] if limit else every)
                        got = find_tags(root, names, href=href, limit=limit)
                        assert [id(x) for x in got] == [id(x) for x in want]
                if names is not None:
                    found = first_tag(root, names)
                    assert found is root.find(names)
            strings = [n for n in root.descendants if type(n) is NavigableString]
            assert [id(x) for x in text_nodes(root)] == [id(x) for x in strings]


@pytest.mark.parametrize("mutated", [False, True])
def test_select_skips_only_chains_that_cannot_match(mutated: bool) -> None:
    profile = default_site().profile
    selectors = [*SELECTORS, profile.remove_in_body, profile.other_articles]
    selectors += [rule.css for rule in profile.kinds if rule.css]
    for html in _pages():
        soup = soup_of(html)
        if mutated:
            # Removals only: a renamed element is still in its old name's postings.
            for el in soup.find_all(["div", "section", "ul"])[::5]:
                if not el.__dict__.get("_decomposed"):
                    el.decompose()
        for root in _roots(soup)[:4]:
            for selector in selectors:
                want = root.select(selector)
                assert [id(x) for x in select(root, selector)] == [id(x) for x in want]
                assert exists(root, selector) == bool(want), selector
