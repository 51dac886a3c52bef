"""Pages written independently of our fixtures parse to their expected JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baolaocai.site import default_site
from scrapers.fetch import decode_html
from transforms.parse import parse_article

ROOT = Path(__file__).parent / "independent"
CASES = sorted((ROOT / "expected").glob("*.json"))


def test_there_are_independent_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("expected_file", CASES, ids=lambda p: p.stem[-10:])
def test_independent_page(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    page = ROOT / "pages" / f"{expected_file.stem}.html"
    # As `baolaocai parse FILE` does: no URL given, the file name is the last resort.
    html = decode_html(page.read_bytes(), None)  # as `baolaocai parse` reads a saved page
    got = parse_article(html, fallback_url=default_site().url(page.name))
    contract = got.to_contract()
    for key, value in expected.items():
        assert contract[key] == value, f"{key} differs"
