"""Shared fixtures: nothing leaves the machine; servers run on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

# Never reach the internet by accident: no proxies, no Prefect telemetry.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# No BAOLAOCAI_* setting of the shell reaches a test, except the browser tests' own two
# (tests/web/conftest.py: which chromium, where screenshots go), which configure no app.
_HARNESS = ("BAOLAOCAI_CHROMIUM", "BAOLAOCAI_SCREENSHOTS")
for _var in [k for k in os.environ if k.startswith("BAOLAOCAI_") and k not in _HARNESS]:
    os.environ.pop(_var)

from sitecopy import SITE_DIR, SiteServer, serve_site  # noqa: E402

TESTS_DIR = Path(__file__).resolve().parent
SLOW_FOLDERS = ("cli", "flows", "orchestration")
"""Folders whose tests start a Prefect server (tests/flows' session harness, serve) or run
the ``baolaocai`` command as a separate process: the ``slow`` tier, whatever each test
says. The fast tier (``-m "not slow"``) is everything else: no subprocess, no Prefect."""


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.resolve().relative_to(TESTS_DIR).parts
        if parts and parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen",
        action="store_true",
        default=False,
        help="rewrite the expected JSON of every gold page from the parser's output instead"
        " of comparing (tests/parsing/gold.py); review the change with git diff",
    )


@pytest.fixture
def site() -> Iterator[SiteServer]:
    """The bundled copy of the site, served on a free loopback port."""
    with serve_site(SITE_DIR) as server:
        yield server


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse" / "test.duckdb")


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A copy of the bundled site that a test may change (take a page down, edit one)."""
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    return root


@pytest.fixture
def served(site_copy: Path) -> Iterator[SiteServer]:
    """:func:`site_copy`, served on a free loopback port."""
    with serve_site(site_copy) as server:
        yield server
