"""Two papers, two workers, one lake: the scale-out benchmark run small, as a user runs it
(``benchmarks/scale_out.py``), and its result checked from the outside: its one line, and
the lake it leaves opened with plain DuckDB and the ducklake extension.

Everything is real and started by the benchmark itself: a PostgreSQL cluster, a Prefect
server on it, a process work pool with two ``prefect worker start`` processes, the copies
of two papers on loopback (one answering 429 + Retry-After now and then), ``baolaocai
deploy``, a crawl of each as a flow run on the pool, a worker killed with SIGKILL mid-run
and the dead run run again, a reparse in two parts on the pool compared with a
single-process reparse.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.lake.conftest import require_postgres

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_two_workers_two_papers_one_lake(tmp_path: Path) -> None:
    require_postgres()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAOLAOCAI_", "PREFECT_"))}
    try:
        _run_and_check(tmp_path, env)
    finally:  # the benchmark keeps its stopped cluster (the lake's catalog): not here
        from flows.pg_cluster import PostgresCluster

        PostgresCluster(tmp_path / "run" / "pg").remove()


def _run_and_check(tmp_path: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        [
            *(sys.executable, str(REPO / "benchmarks" / "scale_out.py")),
            *("--sites", "2", "--workers", "2", "--articles", "24", "--rate", "8"),
            *("--kill-at", "0.1", "--keep", str(tmp_path / "run")),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("SCALEOUT ")]
    assert lines, f"no SCALEOUT line (exit {done.returncode}): {done.stderr[-3000:]}"
    fields = dict(part.split("=", 1) for part in lines[-1].split()[1:])
    assert fields["sites"] == "2" and fields["workers"] == "2"
    assert fields["articles"] == fields["stored"] == "48", lines[-1]
    assert fields["duplicates"] == "0" and fields["lost"] == "0", lines[-1]
    assert fields["retry_after_violations"] == "0", done.stderr[-3000:]
    assert fields["killed_worker_recovered"] == "yes", done.stderr[-3000:]
    assert fields["reparse_identical"] == "yes", done.stderr[-3000:]
    assert int(fields["max_host_inflight"]) <= 2
    assert done.returncode == 0, done.stderr[-3000:]

    # The lake it leaves, opened with nothing of ours: plain DuckDB + the ducklake extension.
    import duckdb_extension_ducklake

    folder = Path(duckdb_extension_ducklake.__file__).parent / "extensions"
    extension = next(folder.glob(f"v{duckdb.__version__}/ducklake.duckdb_extension"))
    con = duckdb.connect()
    try:
        con.load_extension(str(extension))
        con.execute(f"ATTACH 'ducklake:{fields['lake']}' AS lake (READ_ONLY)")
        rows = con.execute(
            "SELECT site, count(*), count(DISTINCT article_id) FROM lake.articles"
            " GROUP BY site ORDER BY site"
        ).fetchall()
        assert rows == [("baolaocai", 24, 24), ("nuimay", 24, 24)]
        # The dead crawl is on record as interrupted; the run that replaced it completed.
        runs = con.execute(
            "SELECT status, count(*) FROM lake.crawl_runs WHERE kind = 'crawl'"
            " GROUP BY status ORDER BY status"
        ).fetchall()
        assert runs == [("completed", 2), ("interrupted", 1)], runs
    finally:
        con.close()
