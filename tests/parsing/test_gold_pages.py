"""Every gold page parses to its expected JSON, by the one rule of ``gold.py``.

One test per page of every set in ``gold.GOLD_SETS`` (ids ``<set>-<page stem>``); a
failure lists every field that differs. With ``--regen`` the expected JSON is rewritten
from the parser's output instead (review with ``git diff tests/parsing``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gold import GOLD_SETS, SITES_ROOT, GoldPage, all_cases, differences, explain, regenerate

KNOWN_FAILURES: dict[str, str] = {}
"""Test id -> the kind of failure, for a page the parser does not get right yet (strict
xfail: a fix makes it pass loudly and the entry must go). Empty: every page passes."""


def _param(case: GoldPage) -> object:
    reason = KNOWN_FAILURES.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in all_cases()])
def test_gold_page(case: GoldPage, regen: list[Path] | None) -> None:
    assert case.page.exists(), f"{case.id}: expected JSON without a page ({case.page})"
    got = case.parse()
    if regen is not None:
        if regenerate(case, got):
            regen.append(case.expected_file)
        return
    assert case.expected_file.exists(), (
        f"{case.id}: no expected JSON ({case.expected_file}); write it by hand, or run"
        " with --regen and check what it wrote"
    )
    wrong = differences(case.expected(), got)
    if wrong:
        pytest.fail(explain(case, wrong), pytrace=False)


def test_every_set_holds_its_pages() -> None:
    """No page lost, none added without the table knowing."""
    assert {s.name: len(s.cases()) for s in GOLD_SETS} == {s.name: s.size for s in GOLD_SETS}


def test_set_names_are_unique() -> None:
    assert len({s.name for s in GOLD_SETS}) == len(GOLD_SETS)


def test_every_per_site_folder_is_a_set() -> None:
    """A folder under ``sites/`` is a set, parsed with the site of its name."""
    folders = {p.name for p in SITES_ROOT.iterdir() if p.is_dir()}
    per_site = {s.name: s.site for s in GOLD_SETS if s.pages.parent.parent == SITES_ROOT}
    assert per_site == {key: key for key in folders}


def test_known_failures_are_cases() -> None:
    assert set(KNOWN_FAILURES) <= {c.id for c in all_cases()}
