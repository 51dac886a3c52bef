"""The fast tree (:func:`transforms.tree.soup_of`) is BeautifulSoup's own tree: node for
node the same classes, names, attributes, text and links, on every gold page and on
markup that tests the edges (whitespace, ``<pre>``, scripts, doctypes, bare text)."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup

from tests.parsing.gold import all_cases
from transforms.prune import strip_inert
from transforms.select import DocIndex
from transforms.tree import soup_of

_LINKS = ("parent", "previous_element", "next_element", "next_sibling", "previous_sibling")
_OURS = {"_most_recent_element", "_baolaocai_index"}
"""Fields only one of the trees has: BeautifulSoup's parse state, our index."""


def _nodes(soup: BeautifulSoup) -> list[Any]:
    return [soup, *soup.descendants]


def same_tree(ours: BeautifulSoup, theirs: BeautifulSoup) -> None:
    """Every node the same, in the same document order, linked the same way."""
    a, b = _nodes(ours), _nodes(theirs)
    assert [type(n) for n in a] == [type(n) for n in b]
    where_a = {id(n): i for i, n in enumerate(a)}
    where_b = {id(n): i for i, n in enumerate(b)}
    for x, y in zip(a, b, strict=True):
        if isinstance(x, str):
            assert str(x) == str(y)
        assert set(x.__dict__) - _OURS == set(y.__dict__) - _OURS
        for key, value in x.__dict__.items():
            if key in _OURS:
                continue
            other = y.__dict__[key]
            if key in _LINKS:
                assert (value is None) == (other is None), key
                if value is not None:
                    assert where_a.get(id(value)) == where_b.get(id(other)), key
            elif key == "contents":
                assert [where_a[id(c)] for c in value] == [where_b[id(c)] for c in other]
            elif key == "attrs":
                assert value == other and type(value) is type(other)
                assert [type(v) for v in value.values()] == [type(v) for v in other.values()]
            elif key not in ("builder", "currentTag", "tagStack"):
                assert value == other, key
    assert ours.decode() == theirs.decode()
    same_index(ours)


def same_index(soup: BeautifulSoup) -> None:
    """The index made while building is the one a walk over the finished tree makes."""
    made = soup.__dict__.get("_baolaocai_index")
    if made is None:  # built by BeautifulSoup itself (a page the builder leaves to it)
        return
    walked = DocIndex(soup)
    assert made.pos == walked.pos and made.end == walked.end
    assert [id(e) for e in made.elements] == [id(e) for e in walked.elements]
    assert made.depth == walked.depth
    for postings in ("by_tag", "by_class", "by_id", "by_attr"):
        ours, theirs = getattr(made, postings), getattr(walked, postings)
        assert {k: [id(e) for e in v] for k, v in ours.items()} == {
            k: [id(e) for e in v] for k, v in theirs.items()
        }, postings
    assert all(el.__dict__.get("_baolaocai_index") is made for el in made.elements)


EDGES = [
    "<!DOCTYPE html><html><head><title>t</title></head><body><p class='a  b'>x</p></body></html>",
    "<p>one</p>\n\n  <p> two </p>\t<pre>  \n </pre><textarea> </textarea>",
    "<html><head><script>var a = '<p>';</script><style>p{}</style></head><body>x</body></html>",
    '<html><body><script type="application/ld+json">{"a": 1}</script><template><p>t</p>'
    "</template><ruby>漢<rt>kan</rt><rp>(</rp></ruby></body></html>",
    '<meta charset="utf-8"><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    "<a rel='nofollow noopener' href=x>l</a><td headers='a b'>c</td>",
    "just text, no tags at all &amp; an entity &nbsp;",
    "<div><p>unclosed <b>bold <i>both</div> after",
    "<?php echo 1 ?><html><body><!-- kept --><p>x</p></body></html><!-- after -->",
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><html xmlns="http://www.w3.org/1999/xhtml">'
    '<body xml:lang="vi"><fb:like href="x"></fb:like><svg><use xlink:href="#i"/></svg></body></html>',
    "\ufeff<html><body><p>bom</p></body></html>",
    "<table><tr><td>a<td>b</table><ul><li>1<li>2</ul>",
    "<body>\r\n<p>crlf</p>\x0c</body>",
]


@pytest.mark.parametrize("html", EDGES)
def test_edges(html: str) -> None:
    same_tree(soup_of(html), BeautifulSoup(html, "lxml"))


def test_gold_pages() -> None:
    """Every gold page, as the parser hands it over (after :func:`strip_inert`)."""
    for case in all_cases():
        if case.page.exists():
            html = strip_inert(case.html())
            same_tree(soup_of(html), BeautifulSoup(html, "lxml"))
