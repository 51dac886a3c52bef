"""``baolaocai sites`` and ``sites check``, as a user runs them (the installed command)."""

from __future__ import annotations

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
