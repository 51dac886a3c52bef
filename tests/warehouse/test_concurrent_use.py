"""Query the warehouse from another process while a crawl is writing it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env

from sitecopy import SITE_DIR, serve_site
from sitecopy.faults import FaultPlan, slow

N_ARTICLES = len(list(SITE_DIR.glob("*-post*.html")))


def cli_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path / ".prefect", BAOLAOCAI_BATCH_SIZE="3")


@pytest.mark.slow
def test_sql_works_while_a_crawl_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    env = cli_env(tmp_path)
    with serve_site(SITE_DIR) as site:
        site.override = FaultPlan(random_faults=[(slow(0.2), 1.0)], max_per_path=100)
        crawl = subprocess.Popen(
            [
                BAOLAOCAI,
                "crawl",
                "--base-url",
                site.url,
                "--db",
                db,
                "--rate",
                "50",
                "--concurrency",
                "2",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        counts: list[int] = []
        try:
            while crawl.poll() is None:
                if not Path(db).exists():
                    time.sleep(0.2)
                    continue
                query = subprocess.run(
                    [
                        BAOLAOCAI,
                        "sql",
                        "SELECT count(*) AS n FROM articles",
                        "--db",
                        db,
                        "--format",
                        "json",
                    ],
                    cwd=tmp_path,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=False,
                )
                assert query.returncode == 0, query.stderr
                assert "Traceback" not in query.stderr
                counts.append(json.loads(query.stdout)[0]["n"])
        finally:
            output = crawl.communicate(timeout=300)[0]
    assert crawl.returncode == 0, output
    assert len(counts) >= 3, "the crawl finished before the queries could overlap it"
    assert counts == sorted(counts)  # each query saw a consistent, growing warehouse
    assert any(0 < c < N_ARTICLES for c in counts)  # some ran mid-crawl
