"""``status``: last runs, totals, open errors, search index and file size."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from baolaocai.dates import SITE_TZ
from baolaocai.models import Failure
from baolaocai.site import default_site
from warehouse.db import connect, schema_version
from warehouse.load import finish_run, record_failures, start_run
from warehouse.search import refresh_search_index
from warehouse.status import status

T0 = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
SITE = default_site()


def add_runs(path: Path) -> None:
    """Six more runs after the fixture's ``t2``: five completed, then one failed."""
    con = connect(path)
    try:
        for i in range(6):
            run_id = f"r{i}"
            started = T0 + timedelta(hours=i)
            start_run(
                con, site=SITE, run_id=run_id, started_at=started, base_url="x", flow_run_id=None
            )
            failures = [Failure(f"https://baolaocai.vn/a-post{i}.html", "fetch", "HTTP 503", 503)]
            if i == 5:
                record_failures(con, site=SITE, run_id=run_id, at=started, failures=failures)
            finish_run(
                con,
                run_id=run_id,
                finished_at=started + timedelta(minutes=1),
                status="failed" if i == 5 else "completed",
                counters={"articles_new": i, "articles_updated": 1, "articles_failed": i % 2},
                error="the site could not be reached" if i == 5 else None,
            )
        # An error that a later batch resolved is not open any more.
        resolved = Failure("https://baolaocai.vn/b-post1.html", "parse", "no title")
        record_failures(con, site=SITE, run_id="r0", at=T0, failures=[resolved])
        con.execute("UPDATE fetch_errors SET resolved_at = ? WHERE url = ?", [T0, resolved.url])
    finally:
        con.close()


def test_status_fields(fresh: Path) -> None:
    add_runs(fresh)
    con = connect(fresh, read_only=True)
    try:
        info = status(con, fresh)
        total, newest = con.execute("SELECT count(*), max(published_at) FROM articles").fetchone()  # type: ignore[misc]
        assert info["articles"] == total == 33
        assert info["newest_published_at"] == newest
        assert info["open_fetch_errors"] == 1
        assert info["schema_version"] == schema_version(con)
        assert info["search_index"] is None
    finally:
        con.close()
    assert info["db_path"] == str(fresh)
    assert info["db_size_bytes"] >= fresh.stat().st_size > 0
    runs = info["runs"]
    assert [r["run_id"] for r in runs] == ["r5", "r4", "r3", "r2", "r1"]  # last 5, newest first
    assert runs[0]["status"] == "failed" and runs[0]["error"] == "the site could not be reached"
    assert (runs[1]["new"], runs[1]["updated"], runs[1]["failed"]) == (4, 1, 0)
    assert runs[1]["started_at"] == T0 + timedelta(hours=4)
    assert set(runs[0]) >= {"run_id", "started_at", "status", "new", "updated", "failed"}


def test_status_reports_the_search_index(fresh: Path) -> None:
    con = connect(fresh)
    try:
        refresh_search_index(con)
        info = status(con, fresh)
    finally:
        con.close()
    index = info["search_index"]
    assert index["documents"] == 33 and index["stale"] == 0
    assert isinstance(index["built_at"], datetime)


def test_status_command(fresh: Path, cli_app) -> None:
    add_runs(fresh)
    runner = CliRunner()
    table = runner.invoke(cli_app, ["status", "--db", str(fresh)])
    assert table.exit_code == 0, table.stderr
    for text in ("articles", "33", "open fetch errors", "not built", "r5", "failed", "Last runs"):
        assert text in table.stdout, text
    # Times are Vietnam time and say so: r4 started at T0 + 4 h (UTC), 7 h later there.
    r4_started = (T0 + timedelta(hours=4)).astimezone(SITE_TZ).strftime("%Y-%m-%d %H:%M")
    assert r4_started in table.stdout and "started (UTC+7)" in table.stdout
    assert re.search(r"newest published +\d{4}-\d\d-\d\d \d\d:\d\d UTC\+7", table.stdout)
    as_json = runner.invoke(cli_app, ["status", "--db", str(fresh), "--format", "json"])
    assert as_json.exit_code == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["articles"] == 33 and len(data["runs"]) == 5
    assert data["newest_published_at"].startswith("2025-")
    missing = runner.invoke(cli_app, ["status", "--db", str(fresh.with_name("none.duckdb"))])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: no warehouse") and "Traceback" not in missing.output


def test_status_names_the_run_writing_the_warehouse(fresh: Path, cli_app) -> None:
    from warehouse.writer import WriterLock

    runner = CliRunner()
    idle = json.loads(runner.invoke(cli_app, ["status", "--db", str(fresh), "-f", "json"]).stdout)
    assert idle["writer"] is None
    lock = WriterLock(fresh, run_id="abc123", kind="backfill")
    lock.acquire()
    try:
        busy = runner.invoke(cli_app, ["status", "--db", str(fresh)])
        as_json = runner.invoke(cli_app, ["status", "--db", str(fresh), "-f", "json"])
    finally:
        lock.release()
    assert busy.exit_code == 0, busy.stderr
    assert "being written by" in busy.stdout and "backfill run abc123 (pid " in busy.stdout
    writer = json.loads(as_json.stdout)["writer"]
    assert writer["run_id"] == "abc123" and writer["kind"] == "backfill" and writer["pid"] > 0
