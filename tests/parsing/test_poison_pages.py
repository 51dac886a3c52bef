"""Poison pages: one absurd page costs only itself, with a one-line reason, never a crash.

A page whose elements nest thousands of levels deep used to raise ``RecursionError``
(the document index walked the tree recursively). Walks over the document are now
iterative where they are ours to change, and a page deeper than
:data:`transforms.parse.MAX_DEPTH` is refused with a :class:`ParseError` before any
recursive helper sees it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from gold import gold_set
from support import BAOLAOCAI, clean_env

from baolaocai.errors import ParseError
from baolaocai.models import CONTRACT_KEYS, FetchedPage
from baolaocai.site import default_site
from transforms import pipeline
from transforms.parse import MAX_DEPTH, parse_article
from transforms.select import DocIndex, select

CASES = gold_set("bundled").cases()
NOW = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
DEPTH_MESSAGE = re.compile(rf"document nested (\d+) levels deep \(limit {MAX_DEPTH}\)$")


def page_and_expected(index: int = 0) -> tuple[str, dict]:
    return CASES[index].html(), CASES[index].expected()


def nest_body(html: str, levels: int, tag: str = "div") -> str:
    """The page with everything inside ``<body>`` wrapped in ``levels`` nested tags."""
    start = re.search(r"<body[^>]*>", html)
    assert start is not None
    end = html.rindex("</body>")
    return (
        html[: start.end()]
        + f"<{tag}>" * levels
        + html[start.end() : end]
        + f"</{tag}>" * levels
        + html[end:]
    )


def fetched(url: str, html: str) -> FetchedPage:
    return FetchedPage(url, url, 200, NOW, html)


@pytest.mark.parametrize("levels", [1, 100, 450, MAX_DEPTH, 1_000, 5_000, 20_000])
@pytest.mark.parametrize("case", [0, 1, 9], ids=lambda i: CASES[i].stem[-10:])
def test_deep_pages_parse_correctly_or_fail_in_one_line(case: int, levels: int) -> None:
    html, expected = page_and_expected(case)
    try:
        got = parse_article(nest_body(html, levels), expected["url"]).to_contract()
    except ParseError as exc:
        assert levels >= MAX_DEPTH - 20  # only absurd pages are refused
        match = DEPTH_MESSAGE.search(exc.message)
        assert match and int(match.group(1)) > MAX_DEPTH, exc.message
        assert "\n" not in exc.message and exc.message.startswith(expected["url"])
        return
    assert levels < MAX_DEPTH
    for key in sorted(CONTRACT_KEYS):
        assert got[key] == expected[key], f"{key} differs at {levels} levels"


def test_both_layouts_survive_the_depth_limit() -> None:
    """Just under the limit, the EPI and the legacy layout still read the same article."""
    methods = set()
    for case in range(len(CASES)):
        html, expected = page_and_expected(case)
        article = parse_article(nest_body(html, MAX_DEPTH - 40), expected["url"])
        assert article.body == expected["body"], CASES[case].stem
        methods.add(article.extraction_method)
    assert methods == {"epi", "legacy"}


def test_the_limit_leaves_room_on_the_stack() -> None:
    """A page at the limit parses even when the caller is already deep in its own stack
    (a Prefect task inside a flow inside the CLI)."""
    html, expected = page_and_expected(0)
    page = nest_body(html, MAX_DEPTH - 15)

    def deeper(frames: int) -> str:
        if frames:
            return deeper(frames - 1)
        return parse_article(page, expected["url"]).body

    assert deeper(200) == expected["body"]


@pytest.mark.parametrize("tag", ["span", "b", "section", "li", "table"])
def test_deep_nesting_of_any_tag_is_never_a_recursion_error(tag: str) -> None:
    html, expected = page_and_expected(0)
    try:
        parse_article(nest_body(html, 20_000, tag), expected["url"])
    except ParseError as exc:
        assert DEPTH_MESSAGE.search(exc.message), exc.message


def test_the_document_index_is_iterative() -> None:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup("<html><body>" + "<div>" * 30_000 + "<p class=x>deep</p>", "lxml")
    index = DocIndex(soup)
    assert index.depth > 30_000
    assert [p.get_text() for p in select(soup, "div p.x")] == ["deep"]
    # Document order and subtree ranges as the recursive walk had them.
    small = BeautifulSoup("<div id=a><p>1</p><div id=b><p>2</p></div></div><p>3</p>", "lxml")
    small_index = DocIndex(small)
    names = [el.name for el in small_index.elements]
    assert names == ["[document]", "html", "body", "div", "p", "div", "p", "p"]
    b = small.find(id="b")
    assert [p.get_text() for p in select(b, "p")] == ["2"]
    assert [p.get_text() for p in select(small.find(id="a"), "p")] == ["1", "2"]


def test_deeply_nested_json_ld_is_a_parse_error() -> None:
    html, expected = page_and_expected(0)
    poison = "[" * 100_000 + "]" * 100_000
    page = html.replace(
        "</head>", f'<script type="application/ld+json">{poison}</script></head>', 1
    )
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_article(page, expected["url"])


def good_pages(n: int) -> list[FetchedPage]:
    pages = []
    for case in CASES[:n]:
        expected, html = case.expected(), case.html()
        pages.append(fetched(expected["url"], html))
    return pages


def test_a_batch_with_one_poison_page_loses_only_that_page() -> None:
    pages = good_pages(21)
    html, _ = page_and_expected(3)
    poison_url = "https://baolaocai.vn/trang-doc-post999999.html"
    pages.insert(7, fetched(poison_url, nest_body(html, 5_000)))
    staged, failures = pipeline.process_pages(pages, default_site())
    assert len(staged) == 21 and len(failures) == 1
    failure = failures[0]
    assert (failure.url, failure.stage) == (poison_url, "parse")
    assert DEPTH_MESSAGE.search(failure.error), failure.error
    assert poison_url not in {s.article.url for s in staged}


def test_any_unexpected_error_is_a_failure_of_that_page_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pages = good_pages(5)
    real = pipeline.parse_article

    def flaky(html: str, url: str | None = None, **kwargs: object):
        if url == pages[1].url:
            raise RuntimeError("boom\nsecond line")
        if url == pages[3].url:
            raise MemoryError()
        return real(html, url, **kwargs)

    monkeypatch.setattr(pipeline, "parse_article", flaky)
    staged, failures = pipeline.process_pages(pages, default_site())
    assert len(staged) == 3
    assert [(f.url, f.stage, f.error) for f in failures] == [
        (pages[1].url, "parse", "internal error: RuntimeError: boom"),
        (pages[3].url, "parse", "internal error: MemoryError"),
    ]


def test_validation_errors_are_caught_too(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = good_pages(3)

    def broken(article: object) -> list[str]:
        raise ValueError("validator bug")

    monkeypatch.setattr(pipeline, "problems", broken)
    staged, failures = pipeline.process_pages(pages, default_site())
    assert staged == [] and {f.error for f in failures} == {
        "internal error: ValueError: validator bug"
    }


def test_ctrl_c_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "parse_article", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.process_pages(good_pages(2), default_site())


def test_parse_command_reports_the_poison_page_and_prints_the_good_one(tmp_path: Path) -> None:
    html, expected = page_and_expected(0)
    poison = tmp_path / "poison.html"
    poison.write_text(nest_body(html, 20_000), encoding="utf-8")
    good = tmp_path / "good.html"
    good.write_text(html, encoding="utf-8")
    result = subprocess.run(
        [BAOLAOCAI, "parse", str(poison), str(good)],
        cwd=tmp_path,
        env=clean_env(tmp_path / ".prefect-home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["article_id"] for r in records] == [expected["article_id"]]
    assert records[0]["body"] == expected["body"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("error:") and "poison.html" in errors[0]
    assert re.search(rf"nested \d+ levels deep \(limit {MAX_DEPTH}\)", errors[0])


def test_recursion_limit_is_the_default() -> None:
    """The tests above prove safety at Python's default limit, not a raised one."""
    assert sys.getrecursionlimit() <= 1_000


def test_a_page_with_5000_pictures_keeps_the_first_ones_and_counts_the_rest() -> None:
    """Pictures are capped per article (:data:`transforms.parse.MAX_IMAGES`): the record
    stays bounded, keeps the first pictures in body order, and says how many it left out;
    the run counts such records and notes them; the content hash does not move."""
    from transforms.parse import MAX_IMAGES
    from transforms.quality import assess
    from transforms.validate import content_hash

    html, expected = page_and_expected(0)
    plain = parse_article(html, expected["url"])
    figures = "".join(
        f'<figure><img src="/uploads/anh-{n}.jpg" alt="Ảnh {n}"><figcaption>Ảnh số {n} ở Sa Pa'
        "</figcaption></figure>"
        for n in range(5_000)
    )
    paragraphs = plain.paragraphs
    marker = paragraphs[-1]
    first = html.index(marker[:40]) if marker[:40] in html else -1
    assert first > 0
    flooded = html[:first] + figures + html[first:]
    article = parse_article(flooded, expected["url"])
    assert len(article.images) == MAX_IMAGES
    assert article.images_dropped == 5_000 + len(plain.images) - MAX_IMAGES
    assert article.to_contract()["images_dropped"] == article.images_dropped
    report = assess([article, plain])
    assert (report.images_capped, report.degraded) == (1, 0)
    assert plain.images_dropped == 0
    assert content_hash(plain) == content_hash(plain.replace(images_dropped=0))
