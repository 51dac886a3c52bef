"""``baolaocai demo`` as the quick start runs it: two passes (the bundled copy, then the
same site a few days later: an edit, a takedown), so the demo warehouse shows versions
and removals; run again, it stores nothing and turns nothing back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from support import run_cli

from sitecopy import copy_dir
from sitecopy.overlay import changed_copy
from warehouse.session import warc_dir
from warehouse.warc import CaptureRef, read_capture

pytestmark = pytest.mark.slow


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def summary_value(block: str, name: str) -> str:
    """A counter of a printed run summary: ``new  22`` -> ``22``."""
    line = next(line for line in block.splitlines() if line.strip().startswith(name + "  "))
    return line.split()[-1]


def test_demo_shows_an_edit_and_a_takedown_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    overlay = changed_copy("baolaocai", copy_dir("baolaocai"))
    assert overlay is not None
    [edit], [takedown] = overlay.changes.edits, overlay.changes.takedowns
    db = tmp_path / "demo.duckdb"

    first = run_cli("demo", "--db", "demo.duckdb", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    output = first.stdout + first.stderr
    assert "Traceback" not in output and "ERROR" not in first.stderr
    assert "Pass 1: the site as bundled" in first.stdout
    heading = "Pass 2: the same site three days later (1 article edited, 1 taken down)"
    pass1, rest = first.stdout.split(heading)
    pass2 = rest.split("Articles per category")[0]
    assert summary_value(pass1, "new") == "22"
    assert [summary_value(pass2, n) for n in ("new", "updated", "removed from the site")] == [
        "0",
        "1",
        "1",
    ]
    relisted = next(line for line in pass2.splitlines() if "of which relisted" in line)
    assert relisted.split()[-5:] == ["1", "/", "1", "/", "0"]  # the sitemap said so, both
    assert "What the second pass found" in first.stdout
    # pass 2 used the Prefect API pass 1 started: one start-up line, never a second.
    assert first.stderr.count("Starting the local Prefect API") == 1

    # The edit: two versions, the later one with the planned changes.
    [(article_id, title)] = rows(db, "SELECT article_id, title FROM articles WHERE version = 2")
    assert edit.page.endswith(f"post{article_id}.html")
    old, new = rows(
        db,
        "SELECT title, sapo, body, modified_at FROM article_revisions"
        f" WHERE article_id = {article_id} ORDER BY version",
    )
    assert title == new[0] != old[0]
    assert old[1].replace("thủy sản", "thuỷ sản") == new[1] != old[1]  # diacritics only
    assert "12.000 ha cây vụ đông" in new[2] and "12.000 ha" not in old[2]
    assert new[3] == overlay.changes.last_modified > old[3]

    # The takedown: its row and version kept, removed_at set, its last page in the WARC.
    [(removed_id, url)] = rows(db, "SELECT article_id, url FROM removed_articles")
    assert url.endswith("/" + takedown.page)
    [capture] = rows(
        db,
        "SELECT warc_file, warc_offset, warc_length, digest, record_id, refers_to"
        f" FROM captures WHERE article_id = {removed_id} AND status = 200"
        " ORDER BY fetched_at DESC LIMIT 1",
    )
    page = read_capture(warc_dir(db), CaptureRef(*capture))
    assert page.status == 200 and page.url == url
    assert "Sôi nổi giải bóng đá thiếu niên" in page.body.decode("utf-8")

    counts = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_revisions)"
    before = rows(db, counts)
    assert before == [(22, 23)]

    # Again: the site as it is now, once; nothing new, the edit and the takedown stay.
    second = run_cli("demo", "--db", "demo.duckdb", cwd=tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Traceback" not in second.stdout + second.stderr
    assert "Pass 1 skipped" in second.stdout and "Pass 1:" not in second.stdout
    block = second.stdout.split(heading)[1].split("Articles per category")[0]
    assert [summary_value(block, n) for n in ("new", "updated", "removed from the site")] == [
        "0",
        "0",
        "0",
    ]
    assert rows(db, counts) == before
    assert rows(db, f"SELECT version, title FROM articles WHERE article_id = {article_id}") == [
        (2, new[0])
    ]
    assert rows(db, "SELECT article_id FROM removed_articles") == [(removed_id,)]
    assert rows(db, "SELECT status FROM crawl_runs ORDER BY started_at") == [("completed",)] * 3
