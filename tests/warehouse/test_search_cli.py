"""``baolaocai search`` as a user runs it, on a warehouse a real crawl (``demo``) built."""

from __future__ import annotations

import csv
import io
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


# -- the query syntax and the output formats (issue #22), on the hand-written warehouse -------


@pytest.fixture
def indexed(fresh: Path) -> Path:
    """``fresh`` with its search index built (by ``reindex``, as a user would)."""
    done = run_cli("reindex", "--db", str(fresh), "-q", cwd=fresh.parent)
    assert done.returncode == 0, done.stderr
    return fresh


def test_results_are_blocks_with_whole_urls_on_a_narrow_terminal(indexed: Path) -> None:
    for columns in ("60", "200"):
        shown = subprocess.run(
            [BAOLAOCAI, "search", "sa pa", "--db", str(indexed)],
            cwd=indexed.parent,
            env=clean_env(indexed.parent / ".prefect-home", COLUMNS=columns),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        urls = [line for line in lines if line.startswith("https://")]
        # Every URL whole, on a line of its own (the terminal wraps it, nothing is inserted).
        assert urls and all(
            u.startswith("https://baolaocai.vn/") and u.endswith(".html") for u in urls
        )
        assert "https://baolaocai.vn/bai-viet-105-post105.html" in urls
        assert any("Lò Văn Minh" in line and "Văn hóa - Du lịch" in line for line in lines)
        assert any("Sa Pa đón lượng khách kỷ lục" in line for line in lines)
        assert f"({len(urls)} results)" in shown.stdout


def test_flags_formats_and_the_hint_when_a_phrase_finds_nothing(indexed: Path) -> None:
    db = ("--db", str(indexed))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("search", *args, *db, cwd=indexed.parent, timeout=120)

    as_csv = run("lao cai", "-f", "csv", "--until", "2025-01-01", "--author", "lo van minh")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == [
        "site",
        "article_id",
        "published_at",
        "category",
        "author",
        "title",
        "url",
        "score",
        "accent_match",
        "snippet",
    ]
    assert "\r" not in as_csv.stdout  # LF line ends
    found = {int(r[1]) for r in rows[1:]}
    assert 109 in found and 101 not in found  # 101 is from March 2025
    assert all(r[4] == "Lò Văn Minh" for r in rows[1:])
    # Words apart: nothing as a phrase, and a loud line saying how to find them apart.
    apart = run("sa pa du khách", "-f", "json")
    assert apart.returncode == 0 and json.loads(apart.stdout) == []
    (hint,) = apart.stderr.strip().splitlines()
    assert '"sa pa du khách"' in hint and "--words" in hint and '"sa pa" "du khách"' in hint
    # Nothing found because of a filter is not the phrase's doing: no hint then.
    filtered = run("sa pa du khách", "--since", "2099-01-01", "-f", "json")
    assert filtered.returncode == 0 and json.loads(filtered.stdout) == []
    assert filtered.stderr.strip() == ""
    loose = run("sa pa du khách", "--words", "-f", "json")
    assert loose.returncode == 0 and loose.stderr == ""
    assert 106 in {h["article_id"] for h in json.loads(loose.stdout)}  # "du khách … Sa Pa"
    quoted = run('"sa pa" "du khách"', "-f", "json")
    assert 106 in {h["article_id"] for h in json.loads(quoted.stdout)}
    exact = run("hòa bình", "--exact", "-f", "json")
    assert exact.returncode == 0, exact.stderr
    assert all(h["accent_match"] for h in json.loads(exact.stdout))
    # A bad query: one line, exit 2, before the index is read.
    for bad, message in (('"sa pa', "unbalanced quote"), ("-mưa", "exclusions only")):
        # A query that starts with "-" goes after "--" (else it is taken for an option).
        refused = run_cli("search", *db, "--", bad, cwd=indexed.parent, timeout=120)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert message in refused.stderr and "Traceback" not in refused.stderr
