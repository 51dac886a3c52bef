"""``baolaocai sites`` and ``sites check``, as a user runs them (the installed command)."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

from support import BAOLAOCAI, clean_env

from sitecopy import copy_dir

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BAOLAOCAI, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120
    )


def test_sites_lists_the_bundled_sites(tmp_path: Path) -> None:
    done = run("sites", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "baolaocai" in done.stdout and "(default)" in done.stdout
    assert "nuimay" in done.stdout and "https://nuimay.vn" in done.stdout


def test_check_classifies_urls_and_parses_a_saved_page(tmp_path: Path) -> None:
    page = next(copy_dir("nuimay").glob("*/*-b*.htm"))
    done = run(
        "sites",
        "check",
        "nuimay",
        "--url",
        "http://www.nuimay.vn/kinh-te/x-b123456.htm?utm_source=a",
        "--url",
        "https://nuimay.vn/chuyen-trang/kinh-te/trang-2.htm",
        "--url",
        "https://nuimay.vn/sitemap/bai-viet-2025-03.xml",
        "--url",
        "https://baolaocai.vn/x-post1.html",
        "--page",
        str(page),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    kinds = {line["url"]: line for line in lines if "kind" in line}
    article = kinds["http://www.nuimay.vn/kinh-te/x-b123456.htm?utm_source=a"]
    assert article["canonical"] == "https://nuimay.vn/kinh-te/x-b123456.htm"
    assert article["article_id"] == 123456
    assert kinds["https://nuimay.vn/chuyen-trang/kinh-te/trang-2.htm"]["kind"].startswith("listing")
    assert kinds["https://nuimay.vn/sitemap/bai-viet-2025-03.xml"]["kind"] == (
        "monthly sitemap (2025-03)"
    )
    assert kinds["https://baolaocai.vn/x-post1.html"]["kind"].startswith("off-site")
    parsed = next(line for line in lines if "page" in line)
    assert parsed["article_id"] and parsed["title"] and parsed["published_at"]
    assert "urls.article:" in done.stdout  # every pattern in force is shown


def test_a_wrong_site_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'key = "bad"\nname = "Báo Sai"\nextends = "epi"\norigin = "https://sai.vn"\n'
        '[urls]\narticle = ["^/(\\\\d+)\\\\.html$"]\n',
        encoding="utf-8",
    )
    for args in (("sites", "check", str(bad)), ("crawl", "--site", str(bad), "--plan")):
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(errors) == 1, done.stderr
        assert "urls.article[0]" in errors[0] and "(?P<id>" in errors[0]


def test_every_command_takes_site(tmp_path: Path) -> None:
    for command in (
        "crawl",
        "backfill",
        "reparse",
        "serve",
        "demo",
        "parse",
        "sql",
        "search",
        "export",
        "status",
        "reindex",
    ):
        done = run(command, "--help", cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        assert "--site" in done.stdout, command


def test_read_commands_filter_a_shared_warehouse_by_site(tmp_path: Path) -> None:
    """Two papers in one warehouse (loaded through the real loader): status, search and
    export as a user types them show both without --site and one with it."""
    from datetime import UTC, datetime

    from baolaocai.models import FetchedPage
    from baolaocai.site import load_site
    from transforms.pipeline import process_pages
    from warehouse.db import connect
    from warehouse.load import load_batch

    db = tmp_path / "shared.duckdb"
    now = datetime.now(UTC)
    con = connect(db)
    counts = {}
    for key, pattern in (("baolaocai", "*-post*.html"), ("nuimay", "*/*-b*.htm")):
        site = load_site(key)
        pages = [
            FetchedPage(
                site.url("/" + p.relative_to(copy_dir(key)).as_posix()),
                str(p),
                200,
                now,
                p.read_text("utf-8"),
            )
            for p in sorted(copy_dir(key).glob(pattern))
        ]
        staged, failures = process_pages(pages, site)
        assert not failures
        load_batch(
            con, site=site, run_id=key, seen_at=now, pages=pages, articles=staged, failures=failures
        )
        counts[key] = len(staged)
    con.close()
    assert run("reindex", "--db", str(db), cwd=tmp_path).returncode == 0

    both = json.loads(run("status", "--db", str(db), "--format", "json", cwd=tmp_path).stdout)
    assert both["articles"] == sum(counts.values()) and both["sites"] == counts
    one = json.loads(
        run("status", "--db", str(db), "--site", "nuimay", "--format", "json", cwd=tmp_path).stdout
    )
    assert one["articles"] == counts["nuimay"]

    found = run("search", "Lào Cai", "--db", str(db), "-n", "200", "--format", "json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert {h["site"] for h in json.loads(found.stdout)} == {"baolaocai", "nuimay"}
    only = run(
        "search",
        "Lào Cai",
        "--db",
        str(db),
        "--site",
        "nuimay",
        "-n",
        "200",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert {h["site"] for h in json.loads(only.stdout)} == {"nuimay"}

    out = tmp_path / "export"
    done = run(
        "export",
        "--db",
        str(db),
        "--site",
        "nuimay",
        "--out",
        str(out),
        "--format",
        "csv",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    with next(out.rglob("articles*.csv")).open(encoding="utf-8", newline="") as f:
        exported = list(csv.DictReader(f))
    assert len(exported) == counts["nuimay"]
    assert {row["site"] for row in exported} == {"nuimay"}
