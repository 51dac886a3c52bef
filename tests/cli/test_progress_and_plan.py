"""What a crawl shows while it runs (a terminal, a log), ``crawl --plan``, plain CSV."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env

from sitecopy import SITE_DIR, SiteServer

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def run_on_a_terminal(args: list[str], cwd: Path, timeout: float = 240) -> tuple[int, str]:
    """Run the command with stdout and stderr on a pseudo-terminal; return its output."""
    master, slave = pty.openpty()
    env = clean_env(COLUMNS="120", LINES="40", TERM="xterm-256color")
    proc = subprocess.Popen(
        [BAOLAOCAI, *args], cwd=cwd, env=env, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_crawl_on_a_terminal_shows_live_progress(tmp_path: Path, site: SiteServer) -> None:
    code, output = run_on_a_terminal(
        ["crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50"], tmp_path
    )
    assert code == 0, output
    assert "\x1b[" in output  # a live display redraws the terminal
    assert "fetching" in output and f"{N_ARTICLES}/{N_ARTICLES}" in output
    assert "ETA" in output and "articles found" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_without_a_terminal_progress_is_plain_lines(tmp_path: Path, site: SiteServer) -> None:
    result = subprocess.run(
        [BAOLAOCAI, "crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert not [line for line in lines if CONTROL.search(line)]
    assert any(re.search(r"planned: \d+ pages read, 22 articles found", ln) for ln in lines)
    assert any(f"fetching: {N_ARTICLES} of {N_ARTICLES} done" in line for line in lines)
    assert any(line.endswith("robots …") for line in lines)

    quiet = subprocess.run(
        [BAOLAOCAI, "crawl", "-q", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert quiet.returncode == 0 and "fetching" not in quiet.stderr


@pytest.mark.slow
def test_a_slow_down_asked_by_the_site_is_said(tmp_path: Path, site: SiteServer) -> None:
    from sitecopy.faults import FaultPlan, status

    site.override = FaultPlan({r"-post\d+\.html": [status(429, Retry_After="1")]})
    result = subprocess.run(
        [BAOLAOCAI, "crawl", "--max-articles", "2", "--base-url", site.url, "--db", "w.duckdb"],
        cwd=tmp_path,
        env=clean_env(BAOLAOCAI_RATE="50"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert "slowed by the site: HTTP 429, Retry-After, 1.0 s" in result.stderr


def test_plan_fetches_no_article_and_says_what_a_crawl_would_do(
    tmp_path: Path, site: SiteServer
) -> None:
    result = subprocess.run(
        [BAOLAOCAI, "crawl", "--plan", "--base-url", site.url, "--db", "w.duckdb", "--rate", "2"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not [r.path for r in site.requests if "-post" in r.path]  # from the server's log
    out = result.stdout
    assert re.search(r"new\s+22\b", out) and re.search(r"discovered\s+22\b", out)
    # 22 requests at 2 per second (+3 % + 5 ms): about 11 s.
    assert re.search(r"estimated fetch time\s+0 min 1[1-2] s", out), out
    assert not (tmp_path / "w.duckdb").exists()  # nothing stored


def test_csv_lines_end_with_lf(tmp_path: Path) -> None:
    from warehouse.db import write_connection

    db = tmp_path / "w.duckdb"
    with write_connection(db):
        pass
    result = subprocess.run(
        [BAOLAOCAI, "sql", "SELECT 1 AS n UNION ALL SELECT 22", "--db", str(db), "-f", "csv"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"n\n1\n22\n"
