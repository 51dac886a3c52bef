"""The 44 pages of issue #10 (written from SITE.md only) parse to their expected JSON.

Every contract field of every page is compared, so a failure names the page and the
field. Pages that still fail are listed in ``XFAIL`` with the kind of failure; the marks
are strict, so a fix makes them pass loudly and the entry must go.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baolaocai.models import CONTRACT_KEYS
from baolaocai.site import default_site
from scrapers.fetch import decode_html
from transforms.parse import parse_article

ROOT = Path(__file__).parent / "unseen"
CASES = sorted((ROOT / "expected").glob("*.json"))
XFAIL: dict[str, str] = {}
"""page stem -> the kind of failure (empty: every page passes)."""


def test_there_are_unseen_cases() -> None:
    assert len(CASES) >= 44


def _case(path: Path) -> object:
    reason = XFAIL.get(path.stem)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem[-24:], marks=marks)


@pytest.mark.parametrize("expected_file", [_case(p) for p in CASES])
def test_unseen_page(expected_file: Path) -> None:
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    page = ROOT / "pages" / f"{expected_file.stem}.html"
    html = decode_html(page.read_bytes(), None)  # as `baolaocai parse FILE` reads it
    contract = parse_article(html, fallback_url=default_site().url(page.name)).to_contract()
    wrong = [key for key in CONTRACT_KEYS if contract[key] != expected[key]]
    assert not wrong, {key: (contract[key], expected[key]) for key in wrong}
    assert contract["field_conflicts"] == []
