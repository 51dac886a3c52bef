"""``baolaocai search`` as a user runs it, on a warehouse a real crawl (``demo``) built."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env

from warehouse.db import connect
from warehouse.search import index_info, search_index_dir


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=clean_env(cwd / ".prefect-home"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_search_on_a_demo_warehouse(tmp_path: Path) -> None:
    demo = run_cli("demo", "--db", "demo.duckdb", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    db = tmp_path / "demo.duckdb"
    index = search_index_dir(db)
    assert index == tmp_path / "demo.search" and (index / "CURRENT").is_file()
    con = connect(db, read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM articles").fetchone()[0]  # type: ignore[index]
        info = index_info(index, con)
    finally:
        con.close()
    # The crawl built the index at its close: every article, nothing stale.
    assert info is not None and info.documents == stored > 0 and info.stale == 0

    found = run_cli("search", "lao cai", "--db", "demo.duckdb", "-f", "json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits and all(set(h) >= {"article_id", "url", "title", "snippet"} for h in hits)
    assert "Lào Cai" in " ".join(f"{h['title']} {h['snippet']}" for h in hits)
    table = run_cli("search", "Lào Cai", "--db", "demo.duckdb", "-n", "2", cwd=tmp_path)
    assert table.returncode == 0 and "(2 results)" in table.stdout, table.stderr

    status = run_cli("status", "--db", "demo.duckdb", "-f", "json", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    index_status = json.loads(status.stdout)["search_index"]
    assert index_status["documents"] == stored and index_status["stale"] == 0
    assert (tmp_path / index_status["path"]).resolve() == index.resolve()  # next to --db

    # Without the index: one line that says what to do, and nothing is created.
    again = run_cli("reindex", "--db", "demo.duckdb", "-q", cwd=tmp_path)
    assert again.returncode == 0 and f"search index rebuilt: {stored} articles" in again.stdout
    import shutil

    shutil.rmtree(index)
    missing = run_cli("search", "lao cai", "--db", "demo.duckdb", cwd=tmp_path)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == [
        "error: no search index yet: run 'baolaocai reindex' (or a crawl) to build demo.search"
    ]
    assert not index.exists()
