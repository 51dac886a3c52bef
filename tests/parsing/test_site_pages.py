"""Gold pages of other sites (``sites/<key>/pages``) are their bundled copy's pages.

They are compared with their expected JSON by the one rule of ``gold.py``
(``test_gold_pages.py``, parsed with the site of the folder's name); this checks only
that the saved pages are still what the generator serves.
"""

from __future__ import annotations

import pytest
from gold import GOLD_SETS, SITES_ROOT, GoldPage

from sitecopy import copy_dir

CASES = [c for s in GOLD_SETS if s.pages.parent.parent == SITES_ROOT for c in s.cases()]


def test_the_sister_paper_has_gold_pages() -> None:
    assert len([c for c in CASES if c.gold_set.site == "nuimay"]) >= 4


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gold_page_is_the_bundled_copy(case: GoldPage) -> None:
    """A gold page is its site's bundled page, unchanged: regenerating the copy means
    looking at the expectations again."""
    expected, site = case.expected(), case.site
    assert expected["url"].startswith(site.origin + "/")
    bundled = copy_dir(site.key) / expected["url"].removeprefix(site.origin + "/")
    assert bundled.read_bytes() == case.page.read_bytes()
