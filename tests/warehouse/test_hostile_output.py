"""What a site sends is data, never instructions: not to a spreadsheet, not to a terminal.

A title ``=HYPERLINK("http://x","y")`` exported to CSV (``export --format csv``, ``sql
--format csv``) gets a leading ``'`` so that no spreadsheet runs it (OWASP, CSV
injection), while a negative number stays a number. A title with ESC/BEL sequences
(``\\x1b]0;pwned\\x07`` retitles a terminal, ``\\x1b[31m`` recolours it), a bidi override
(U+202E) or rich markup (``[bold red]``, ``[link=…]``) is printed by ``sql``, ``search``
and ``status`` as visible text: the terminal obeys none of it. JSON stays JSON and parses
back to the stored text. Nothing stored changes.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import shutil
import unicodedata
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from baolaocai.text import csv_safe, for_terminal, json_for_terminal
from warehouse.db import connect
from warehouse.search import rebuild_search_index, search_index_dir

FORMULA = '=HYPERLINK("http://x","y")'
TERMINAL = (
    "Lào Cai \x1b]0;pwned\x07\x1b[31m đỏ \u202eevil [bold red]x[/bold red] [link=http://e]y[/link]"
)
CAPTION = "+cmd|' /C calc'!A0"
AUTHOR = "-2+3"
CATEGORY = "@SUM(A1)"
OBEYED = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200f", "\u061c")
"""Characters a terminal would act on: none may reach it raw."""


@pytest.fixture(scope="module")
def hostile(filled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the test warehouse with hostile texts in three articles, and its index."""
    path = tmp_path_factory.mktemp("hostile") / "w.duckdb"
    shutil.copy(filled, path)
    con = connect(path)
    try:
        con.execute(
            "UPDATE articles SET title = $t, author = $a, category = $c WHERE article_id = 101",
            {"t": FORMULA, "a": AUTHOR, "c": CATEGORY},
        )
        con.execute("UPDATE articles SET title = $t WHERE article_id = 102", {"t": TERMINAL})
        con.execute(
            "UPDATE article_images SET caption = $c WHERE article_id = 101 AND position = 0",
            {"c": CAPTION},
        )
        rebuild_search_index(con, search_index_dir(path))
    finally:
        con.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(path: Path, article_id: int) -> tuple[object, ...]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "SELECT title, author, category, word_count FROM articles WHERE article_id = ?",
            [article_id],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return tuple(row)


def run(app: object, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))  # type: ignore[arg-type]
    return result.exit_code, result.stdout, result.stderr


def main_app() -> object:
    from cli.main import app

    return app


def assert_nothing_obeyed(text: str) -> None:
    assert not [c for c in OBEYED if c in text], repr(text)


# -- the functions -----------------------------------------------------------------------------


def test_every_control_and_bidi_character_is_shown_not_obeyed() -> None:
    bidi = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    for code in [*range(0x00, 0xA0), *bidi]:
        ch = chr(code)
        shown = for_terminal(f"a{ch}b")
        if ch in "\t\n":
            assert shown == f"a{ch}b"
            assert ch not in for_terminal(f"a{ch}b", one_line=True)
            continue
        if 0x20 <= code < 0x7F:
            assert shown == f"a{ch}b"
            continue
        assert ch not in shown and shown.startswith("a\\") and shown.endswith("b"), (code, shown)
        assert unicodedata.category(ch) in ("Cc", "Cf"), code
    # Vietnamese text is left alone.
    assert for_terminal("Đường biên giới Lào Cai") == "Đường biên giới Lào Cai"


def test_json_keeps_its_value_and_loses_what_a_terminal_obeys() -> None:
    value = {"title": TERMINAL + "\x9b\x7f"}
    encoded = json_for_terminal(json.dumps(value, ensure_ascii=False))
    assert json.loads(encoded) == value
    assert_nothing_obeyed(encoded)
    assert "Lào Cai" in encoded  # not \u-escaped: only what a terminal would act on


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_text_cell_that_a_spreadsheet_would_run_gets_a_quote(start: str) -> None:
    assert csv_safe(f"{start}1+1") == f"'{start}1+1"
    assert csv_safe(f"x{start}1") == f"x{start}1"
    assert csv_safe("") == ""


# -- CSV: export and sql ------------------------------------------------------------------------


def test_export_csv_neutralises_formulas_and_keeps_numbers(
    hostile: Path, tmp_path: Path, cli_app
) -> None:
    before = digest(hostile)
    out = tmp_path / "csv"
    code, _, stderr = run(cli_app, "export", "-f", "csv", "--out", str(out), "--db", str(hostile))
    assert code == 0, stderr
    articles = list(csv.DictReader(io.StringIO((out / "articles.csv").read_text("utf-8"))))
    row = next(r for r in articles if r["article_id"] == "101")
    assert row["title"] == "'" + FORMULA
    assert row["author"] == "'" + AUTHOR
    assert row["category"] == "'" + CATEGORY
    assert row["tags"].startswith("[")  # a JSON array: never a formula
    for r in articles:  # no text cell may start a formula; numbers are numbers
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in r.values()), r
        assert int(r["word_count"]) >= 0 and int(r["version"]) >= 1
    images = list(csv.DictReader(io.StringIO((out / "article_images.csv").read_text("utf-8"))))
    caption = next(r for r in images if r["article_id"] == "101" and r["position"] == "0")
    assert caption["caption"] == "'" + CAPTION
    # Parquet and JSON Lines keep the text as stored.
    jsonl = tmp_path / "jsonl"
    assert run(cli_app, "export", "-f", "jsonl", "--out", str(jsonl), "--db", str(hostile))[0] == 0
    lines = [json.loads(x) for x in (jsonl / "articles.jsonl").read_text("utf-8").splitlines()]
    assert next(x for x in lines if x["article_id"] == 101)["title"] == FORMULA
    assert digest(hostile) == before and stored(hostile, 101)[:3] == (FORMULA, AUTHOR, CATEGORY)


def test_sql_csv_neutralises_text_cells_but_not_negative_numbers(hostile: Path) -> None:
    before = digest(hostile)
    query = (
        "SELECT title, author, -word_count AS minus, -1.5 AS half, [title] AS listed,"
        " '-3' AS text_number FROM articles WHERE article_id = 101"
    )
    code, stdout, stderr = run(main_app(), "sql", query, "-f", "csv", "--db", str(hostile))
    assert code == 0, stderr
    [row] = list(csv.DictReader(io.StringIO(stdout)))
    words = stored(hostile, 101)[3]
    assert row["title"] == "'" + FORMULA and row["author"] == "'" + AUTHOR
    assert row["minus"] == f"-{words}" and row["half"] == "-1.5"  # numbers are data
    assert json.loads(row["listed"]) == [FORMULA]  # a list is a JSON array, '[' first
    assert row["text_number"] == "'-3"  # text, even if it looks like a number
    assert digest(hostile) == before


# -- the terminal: sql, search, status, error lines ----------------------------------------------


def test_sql_table_shows_control_characters_and_markup_as_text(hostile: Path) -> None:
    before = digest(hostile)
    query = "SELECT title FROM articles WHERE article_id = 102"
    code, stdout, stderr = run(main_app(), "sql", query, "--db", str(hostile))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout)
    flat = "".join(line.strip("│ ") for line in stdout.splitlines())
    for shown in ("\\x1b]0;pwned\\x07\\x1b[31m", "\\u202eevil", "[bold", "[link=http://e]"):
        assert shown in flat, stdout
    code, stdout, stderr = run(main_app(), "sql", query, "-f", "json", "--db", str(hostile))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout)
    assert json.loads(stdout) == [{"title": TERMINAL}]
    assert digest(hostile) == before and stored(hostile, 102)[0] == TERMINAL


def test_search_shows_control_characters_and_markup_as_text(hostile: Path, cli_app) -> None:
    before = digest(hostile)
    code, stdout, stderr = run(cli_app, "search", "evil", "--db", str(hostile))
    assert code == 0, stderr
    assert "(1 result)" in stdout
    assert_nothing_obeyed(stdout)
    flat = "".join(line.strip("│ ") for line in stdout.splitlines())
    assert "[bold" in flat and "[link=http://e]" in flat and "\\u202eevil" in flat
    code, stdout, stderr = run(cli_app, "search", "evil", "-f", "json", "--db", str(hostile))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout)
    assert [hit["title"] for hit in json.loads(stdout)] == [TERMINAL]
    assert digest(hostile) == before


def test_status_shows_a_hostile_folder_name_as_text(
    hostile: Path, tmp_path: Path, cli_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path: the table does not cut it
    folder = Path("x\x1b]0;pwned\x07\u202e")
    folder.mkdir()
    copy = folder / "w.duckdb"
    shutil.copy(hostile, copy)
    before = digest(copy)
    code, stdout, stderr = run(cli_app, "status", "--db", str(copy))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout + stderr)
    assert "\\x1b]0;pwned\\x07\\u202e" in stdout
    code, stdout, stderr = run(cli_app, "status", "-f", "json", "--db", str(copy))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout)
    assert json.loads(stdout)["db_path"] == str(copy)
    assert digest(copy) == before


def test_an_error_line_shows_control_characters_as_text(hostile: Path) -> None:
    """The error line, then DuckDB's own lines (the query, a caret under the place): all
    of them shown, none obeyed; a line break in the query cannot start a line of its own."""
    query = "SELECT CAST('\x1b]0;pwned\x07\u202e\n[red]x' AS INTEGER)"  # DuckDB quotes it
    code, _stdout, stderr = run(main_app(), "sql", query, "--db", str(hostile))
    assert code == 1
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("error: query failed: Conversion Error:"), stderr
    assert all(line.startswith("  ") for line in lines[1:])  # no line of its own
    assert lines[-2].startswith("  LINE 1: SELECT CAST(") and lines[-1].strip() == "^"
    assert_nothing_obeyed(stderr)
    assert "\\x1b]0;pwned\\x07\\u202e" in lines[0] and "[red]x" in stderr


@pytest.mark.parametrize("fmt", ["vertical", "markdown", "auto"])
def test_every_layout_shows_control_characters_and_markup_as_text(hostile: Path, fmt: str) -> None:
    query = "SELECT * FROM articles WHERE article_id = 102"  # wide: auto is vertical
    code, stdout, stderr = run(main_app(), "sql", query, "-f", fmt, "--db", str(hostile))
    assert code == 0, stderr
    assert_nothing_obeyed(stdout)
    if fmt == "markdown":  # Markdown's escapes undone: what a renderer shows
        flat = html.unescape(re.sub(r"\\(.)", r"\1", stdout))
    else:  # the values of the records, their wrapped lines joined
        assert stdout.startswith("-[ RECORD 1 ]")
        flat = "".join(line.split("|", 1)[-1] for line in stdout.splitlines())
    flat = flat.replace(" ", "")
    for shown in ("\\x1b]0;pwned\\x07\\x1b[31m", "\\u202eevil", "[bold red]x[/bold red]"):
        assert shown.replace(" ", "") in flat, (fmt, stdout)
    assert "[link=http://e]y[/link]" in flat
