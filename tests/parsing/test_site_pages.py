"""Gold pages of a second site: the sister paper Báo Núi Mây parses with its own profile.

Pages under ``sites/<key>/pages`` parse (with ``load_site(key).profile``) to the
hand-written ``sites/<key>/expected`` JSON, field by field. A failure names every field
that differs, so a field that only another site's rules get right is seen at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from baolaocai.models import CONTRACT_KEYS
from baolaocai.site import load_site
from sitecopy import copy_dir
from transforms.parse import parse_article

SITES_ROOT = Path(__file__).parent / "sites"
CASES = sorted(SITES_ROOT.glob("*/expected/*.json"))


def _case_id(path: Path) -> str:
    return f"{path.parents[1].name}-{path.stem.rsplit('-', 1)[-1]}"


def _load(expected_file: Path) -> tuple[str, dict[str, Any], str]:
    key = expected_file.parents[1].name
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    page = expected_file.parents[1] / "pages" / f"{expected_file.stem}.html"
    return key, expected, page.read_text(encoding="utf-8")


def test_the_sister_paper_has_gold_pages() -> None:
    cases = [c for c in CASES if c.parents[1].name == "nuimay"]
    assert len(cases) >= 4
    pages = {p.stem for p in (SITES_ROOT / "nuimay" / "pages").glob("*.html")}
    assert pages == {c.stem for c in cases}


@pytest.mark.parametrize("expected_file", CASES, ids=_case_id)
def test_gold_page_is_the_bundled_copy(expected_file: Path) -> None:
    """A gold page is its site's bundled page, unchanged: regenerating the copy means
    looking at the expectations again."""
    key, expected, html = _load(expected_file)
    site = load_site(key)
    assert expected["url"].startswith(site.origin + "/")
    bundled = copy_dir(key) / expected["url"].removeprefix(site.origin + "/")
    assert bundled.read_text(encoding="utf-8") == html


@pytest.mark.parametrize("expected_file", CASES, ids=_case_id)
def test_gold_page_matches_expected(expected_file: Path) -> None:
    key, expected, html = _load(expected_file)
    got = parse_article(html, expected["url"], site=load_site(key)).to_contract()
    assert set(got) >= set(CONTRACT_KEYS)
    differ = {k: (got[k], expected[k]) for k in sorted(CONTRACT_KEYS) if got[k] != expected[k]}
    assert not differ, "fields that differ (got, expected): " + "; ".join(
        f"{k}: {g!r:.120} != {e!r:.120}" for k, (g, e) in differ.items()
    )
