"""The README's query examples work as written, right after the quick start.

A user runs ``baolaocai demo`` (the quick start) and then copies the README's examples:
``sql``, ``search``, ``export``, ``status``, ``tables`` and ``describe`` commands, the SQL
blocks of *Querying* and the Python snippets of *Querying* and *Exports*. Each is read
from README.md itself (not a copy in this test), run in a fresh folder where only the
demo has run, with the defaults: no ``--db`` unless the README gives one. Every one must
exit 0 without an error line, and the searches must find something.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from support import clean_env, run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
READ_COMMANDS = (
    "sql",
    "search",
    "status",
    "export",
    "tables",
    "describe",
    "show",
    "history",
    "page",
    "removed",
)
_FENCE_RE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _section(text: str, heading: str) -> str:
    """The text of the README section starting at ``heading`` (to the next of its level)."""
    level = heading.split(" ")[0]
    start = text.index(f"\n{heading}\n")
    after = re.search(rf"^{level} ", text[start + len(heading) + 2 :], re.MULTILINE)
    return text[start : start + len(heading) + 2 + after.start()] if after else text[start:]


def _blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in _FENCE_RE.findall(text) if lang == language]


def readme_commands() -> list[list[str]]:
    """Every ``uv run baolaocai <read command> …`` of the README's bash blocks, as argv
    (a command may go on over several lines inside its quotes; ``#`` comments dropped)."""
    found: list[list[str]] = []
    for block in _blocks(README.read_text(encoding="utf-8"), "bash"):
        pending = ""
        for line in block.splitlines():
            pending = f"{pending}\n{line}" if pending else line
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # an open quote: the command goes on
                continue
            pending = ""
            if words[:3] == ["uv", "run", "baolaocai"] and words[3:4] and words[3] in READ_COMMANDS:
                argv = words[3:]
                if ">" in argv:  # a shell redirection: the command is what comes before it
                    argv = argv[: argv.index(">")]
                found.append(argv)
    return found


def readme_sql() -> list[str]:
    """The statements of the SQL blocks of *Querying* and *Tables*."""
    text = README.read_text(encoding="utf-8")
    statements = []
    for heading in ("## Querying", "## Tables"):
        for block in _blocks(_section(text, heading), "sql"):
            body = "\n".join(ln for ln in block.splitlines() if not ln.lstrip().startswith("--"))
            statements += [s.strip() for s in body.split(";") if s.strip()]
    return statements


def readme_python() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [
        block
        for heading in ("## Querying", "## Exports")
        for block in _blocks(_section(text, heading), "python")
    ]


def test_the_readme_has_examples_to_check() -> None:
    """The readers below find what they look for (else the test would pass on nothing)."""
    commands = readme_commands()
    assert {c[0] for c in commands} >= {"sql", "search", "export", "status", "show", "page"}
    assert len(readme_sql()) >= 3 and readme_python()


@pytest.fixture(scope="module")
def after_quick_start(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where the quick start's first command has run (``demo``, its defaults)."""
    folder = tmp_path_factory.mktemp("quick-start")
    done = run_cli("demo", cwd=folder, timeout=180)
    assert done.returncode == 0, done.stderr
    assert (folder / "warehouse" / "demo.duckdb").exists()
    return folder


def _ok(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == 0, f"{what}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stdout + result.stderr, what
    assert "error:" not in result.stderr, f"{what}\n{result.stderr}"


@pytest.mark.slow
def test_every_readme_command_works_after_the_quick_start(after_quick_start: Path) -> None:
    for argv in readme_commands():
        result = run_cli(*argv, cwd=after_quick_start, timeout=120)
        _ok(result, " ".join(argv))
        if argv[0] == "search":  # each finds something in the demo, whatever its format
            if "csv" in argv:
                assert len(result.stdout.splitlines()) >= 2, argv
            elif "json" in argv:
                assert json.loads(result.stdout), argv
            else:
                count = re.search(r"^\((\d+) results?\)$", result.stdout, re.MULTILINE)
                assert count and int(count.group(1)) > 0, argv


@pytest.mark.slow
def test_every_readme_sql_statement_works_after_the_quick_start(after_quick_start: Path) -> None:
    for statement in readme_sql():
        _ok(run_cli("sql", statement, cwd=after_quick_start, timeout=120), statement)


@pytest.mark.slow
def test_every_readme_python_snippet_works_after_the_quick_start(after_quick_start: Path) -> None:
    """The snippets with this project's environment (pandas comes with the test group,
    as the README's extra gives it to a user): an export first, for the export snippets."""
    export = run_cli(
        "export", "--format", "parquet", "--out", "export/", cwd=after_quick_start, timeout=120
    )
    _ok(export, "export for the snippets")
    for snippet in readme_python():
        result = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=after_quick_start,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"{snippet}\n{result.stderr[-3000:]}"


@pytest.mark.slow
def test_the_demo_archive_exports_as_a_valid_wacz(after_quick_start: Path) -> None:
    """``export --format wacz`` on the quick start's warehouse: a file the real validator
    accepts, listing the demo's articles; a folder as --out is one line, exit 2."""
    import zipfile

    result = run_cli("export", "--format", "wacz", "--out", "demo.wacz", cwd=after_quick_start)
    _ok(result, "export --format wacz")
    assert "captures of 22 articles" in result.stdout, result.stdout
    wacz = Path(sys.executable).with_name("wacz")
    checked = subprocess.run(
        [str(wacz), "validate", "-f", str(after_quick_start / "demo.wacz")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(after_quick_start / "demo.wacz") as archive:
        pages = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()
    assert json.loads(pages[0])["format"] == "json-pages-1.0" and len(pages) == 1 + 22
    folder = run_cli("export", "--format", "wacz", "--out", "warehouse", cwd=after_quick_start)
    assert folder.returncode == 2 and "is a folder" in folder.stderr
    assert "Traceback" not in folder.stderr
