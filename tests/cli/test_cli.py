"""The ``baolaocai`` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import fill_bundled, run_cli

from baolaocai.models import CONTRACT_KEYS
from sitecopy import SITE_DIR, SiteServer

GOOD_PAGE = next(SITE_DIR.glob("*-post902277.html"))


def test_parse_prints_the_contract(tmp_path: Path) -> None:
    result = run_cli("parse", str(GOOD_PAGE), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert tuple(record)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert record["article_id"] == 902277 and record["published_at"].endswith("+07:00")


def test_parse_bad_files_one_line_each_and_others_still_parsed(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    (tmp_path / "binary.html").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "notes.txt").write_text(
        "Chỉ là vài dòng ghi chú, không phải trang web.", encoding="utf-8"
    )
    (tmp_path / "folder").mkdir()
    bad = ["missing.html", "empty.html", "binary.html", "notes.txt", "folder"]
    result = run_cli("parse", *bad[:2], str(GOOD_PAGE), *bad[2:], cwd=tmp_path)
    assert result.returncode == 2
    assert (
        len(result.stdout.splitlines()) == 1 and json.loads(result.stdout)["article_id"] == 902277
    )
    errors = result.stderr.strip().splitlines()
    assert len(errors) == len(bad)
    for name, line in zip(bad, errors, strict=True):
        assert line.startswith("error:") and name in line
    assert "Traceback" not in result.stderr


def test_parse_url_option(tmp_path: Path) -> None:
    result = run_cli(
        "parse",
        str(GOOD_PAGE),
        "--url",
        "https://www.baolaocai.vn/ten-khac-post902277.html?utm_source=x",
        cwd=tmp_path,
    )
    assert json.loads(result.stdout)["url"] == "https://baolaocai.vn/ten-khac-post902277.html"


@pytest.fixture
def small_warehouse(tmp_path: Path) -> Path:
    """A warehouse filled through the real loader, without running a crawl."""
    return fill_bundled(tmp_path / "w.duckdb", 6)


def test_sql_formats(tmp_path: Path, small_warehouse: Path) -> None:
    query = "SELECT article_id, title, tags FROM articles ORDER BY article_id LIMIT 2"
    as_json = run_cli("sql", query, "--db", str(small_warehouse), "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert len(rows) == 2 and set(rows[0]) == {"article_id", "title", "tags"}
    as_csv = run_cli("sql", query, "--db", str(small_warehouse), "-f", "csv", cwd=tmp_path)
    assert as_csv.stdout.splitlines()[0] == "article_id,title,tags"
    table = run_cli(
        "sql", "SELECT count(*) AS n FROM articles", "--db", str(small_warehouse), cwd=tmp_path
    )
    assert "6" in table.stdout and table.returncode == 0


def test_sql_is_read_only_and_errors_are_one_line(tmp_path: Path, small_warehouse: Path) -> None:
    result = run_cli("sql", "DELETE FROM articles", "--db", str(small_warehouse), cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.startswith("error:")
    assert len(result.stderr.strip().splitlines()) == 1
    count = run_cli(
        "sql",
        "SELECT count(*) FROM articles",
        "--db",
        str(small_warehouse),
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert json.loads(count.stdout)[0]["count_star()"] == 6
    missing = run_cli("sql", "SELECT 1", "--db", str(tmp_path / "nope.duckdb"), cwd=tmp_path)
    assert missing.returncode == 1 and "no warehouse" in missing.stderr


def test_bad_settings_are_exit_2(tmp_path: Path) -> None:
    result = run_cli("crawl", "--base-url", "ftp://example", "--db", "x.duckdb", cwd=tmp_path)
    assert (
        result.returncode == 2 and "base URL" in result.stderr and "Traceback" not in result.stderr
    )


@pytest.mark.slow
def test_crawl_unreachable_site(tmp_path: Path, site: SiteServer) -> None:
    url = site.url
    site.stop()
    result = run_cli("crawl", "--base-url", url, "--db", "w.duckdb", "--rate", "50", cwd=tmp_path)
    assert result.returncode == 1
    assert "could not be reached" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_parse_without_any_article_url_warns(tmp_path: Path) -> None:
    page = tmp_path / "saved.html"
    html = (
        SITE_DIR
        / "kham-sang-loc-benh-khong-lay-nhiem-mien-phi-cho-nguoi-cao-tuoi-bat-xat-post375102.html"
    )
    page.write_text(html.read_text("utf-8").replace('rel="canonical"', 'rel="x"'), encoding="utf-8")
    result = run_cli("parse", str(page), cwd=tmp_path)
    assert result.returncode == 0
    record = json.loads(result.stdout)
    assert record["article_id"] is None and record["title"]
    assert "warning:" in result.stderr and "saved.html" in result.stderr


def test_sql_write_needs_the_flag(tmp_path: Path, small_warehouse: Path) -> None:
    delete = "DELETE FROM articles WHERE article_id = (SELECT min(article_id) FROM articles)"
    refused = run_cli("sql", delete, "--db", str(small_warehouse), cwd=tmp_path)
    assert refused.returncode == 1 and "read-only" in refused.stderr.lower()
    done = run_cli("sql", delete, "--db", str(small_warehouse), "--write", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    left = run_cli(
        "sql",
        "SELECT count(*) AS n FROM articles",
        "--db",
        str(small_warehouse),
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert json.loads(left.stdout) == [{"n": 5}]
