"""Every article page of the bundled site parses to its hand-written expected JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baolaocai.models import CONTRACT_KEYS
from sitecopy import SITE_DIR
from transforms.parse import parse_article

EXPECTED_DIR = Path(__file__).parent / "expected"
CASES = sorted(EXPECTED_DIR.glob("*.json"))


def test_every_bundled_article_has_an_expectation() -> None:
    pages = {p.stem for p in SITE_DIR.glob("*-post*.html")}
    assert pages and pages == {c.stem for c in CASES}


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: p.stem[-10:])
def test_page_matches_expected(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    html = (SITE_DIR / f"{expected_file.stem}.html").read_text(encoding="utf-8")
    got = parse_article(html, expected["url"]).to_contract()
    assert set(got) >= set(CONTRACT_KEYS)
    for key in sorted(CONTRACT_KEYS):
        assert got[key] == expected[key], f"{key} differs"


@pytest.mark.parametrize("expected_file", CASES[:5], ids=lambda p: p.stem[-10:])
def test_url_is_found_in_the_page_when_not_given(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    html = (SITE_DIR / f"{expected_file.stem}.html").read_text(encoding="utf-8")
    got = parse_article(html).to_contract()
    assert (got["url"], got["article_id"]) == (expected["url"], expected["article_id"])


def test_both_layouts_are_bundled() -> None:
    methods = {
        parse_article((SITE_DIR / f"{c.stem}.html").read_text(encoding="utf-8")).extraction_method
        for c in CASES
    }
    assert methods == {"epi", "legacy"}
