"""``--regen`` (registered in ``tests/conftest.py``): the files it rewrote, and a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

REWRITTEN = pytest.StashKey[list[Path]]()


@pytest.fixture
def regen(request: pytest.FixtureRequest) -> list[Path] | None:
    """With ``--regen``: the list of expected files rewritten so far (append to it)."""
    if not request.config.getoption("regen"):
        return None
    return request.config.stash.setdefault(REWRITTEN, [])


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if not config.getoption("regen"):
        return
    rewritten = config.stash.get(REWRITTEN, [])
    terminalreporter.section("gold --regen")
    terminalreporter.write_line(
        f"{len(rewritten)} expected file(s) rewritten; review with: git diff tests/parsing"
    )
    for path in rewritten:
        terminalreporter.write_line(f"  {path}")
