"""strip_inert: one pass over the page, whatever it leaves open."""

from __future__ import annotations

import time

import pytest

from transforms.prune import strip_inert


@pytest.mark.parametrize(
    "page",
    [
        "<!--" * 5_000 + "x" * 200_000,
        "<script>" * 20_000 + "x" * 100_000,
        "<style>" * 20_000 + "<p>y</p>" * 10_000,
        "<svg>" * 20_000,
    ],
    ids=["unclosed-comments", "unclosed-scripts", "unclosed-styles", "unclosed-svgs"],
)
def test_what_is_left_open_runs_to_the_end_and_costs_one_pass(page: str) -> None:
    started = time.process_time()
    assert strip_inert(page) == page  # open to the end: nothing to strip, kept as it is
    # A loose bound (the quadratic pass took 35 s on the first page): not a benchmark.
    assert time.process_time() - started < 5


def test_closed_ones_are_emptied_json_ld_kept() -> None:
    page = (
        "<p>a</p><!-- c --><script>var s = '</p>';</script>"
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
        "<style>p { color: red }</style><svg><path d='M0'/></svg><p>b</p>"
    )
    assert strip_inert(page) == (
        "<p>a</p><script></script>"
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
        "<style></style><svg></svg><p>b</p>"
    )


def test_a_self_closed_svg_does_not_swallow_the_text_after_it() -> None:
    page = '<p>Lào Cai <svg class="icon" /> mùa lúa chín</p><p>tiếp</p><svg><path/></svg>'
    assert strip_inert(page) == (
        '<p>Lào Cai <svg class="icon" /> mùa lúa chín</p><p>tiếp</p><svg></svg>'
    )
