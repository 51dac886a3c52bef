"""The bundled site's gold pages, beyond the rule every gold page meets (``gold.py``)."""

from __future__ import annotations

import pytest
from gold import GoldPage, gold_set

from transforms.parse import parse_article

CASES = gold_set("bundled").cases()


@pytest.mark.parametrize("case", CASES[:5], ids=lambda c: c.id)
def test_url_is_found_in_the_page_when_not_given(case: GoldPage) -> None:
    """No URL and no file name to fall back on: the page alone gives it."""
    expected = case.expected()
    got = parse_article(case.html(), site=case.site).to_contract()
    assert (got["url"], got["article_id"]) == (expected["url"], expected["article_id"])


def test_both_layouts_are_bundled() -> None:
    methods = {parse_article(c.html(), site=c.site).extraction_method for c in CASES}
    assert methods == {"epi", "legacy"}
