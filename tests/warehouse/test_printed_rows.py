"""What ``sql`` prints: a table (or one record at a time, when a table would not fit)
shows the first rows and says how many there are; CSV and JSON print every row, written
as they go, the same as one dump of the whole result."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from cli import support
from cli.support import DEFAULT_MAX_ROWS, MIN_COLUMN_WIDTH, grid_fits, markdown_table, print_rows

COLUMNS = ["id", "title", "tags"]
ROWS = [(i, f"=Tin số {i}", ["Sa Pa", "du lịch"]) for i in range(2 * DEFAULT_MAX_ROWS + 7)]


def printed(fmt: str, rows: list[tuple[Any, ...]]) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        print_rows(COLUMNS, rows, fmt)
    return buffer.getvalue()


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    """The terminal ``sql`` prints to, 120 columns wide."""
    console = Console(file=io.StringIO(), width=120, highlight=False)
    monkeypatch.setattr(support, "out", console)
    yield console


def shown(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_json_is_every_row_as_one_dump() -> None:
    for rows in (ROWS, ROWS[:1], []):
        data = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        assert printed("json", rows) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_csv_is_every_row() -> None:
    got = list(csv.reader(io.StringIO(printed("csv", ROWS))))
    assert got[0] == COLUMNS and len(got) == len(ROWS) + 1
    assert got[1] == ["0", "'=Tin số 0", '["Sa Pa", "du lịch"]']
    assert got[-1][0] == str(len(ROWS) - 1)


def test_a_table_shows_the_first_rows_and_the_count(screen: Console) -> None:
    print_rows(COLUMNS, ROWS, "auto")
    text = shown(screen)
    assert "┏" in text  # three short columns fit: a table
    assert f"Tin số {DEFAULT_MAX_ROWS - 1} " in text and f"Tin số {DEFAULT_MAX_ROWS} " not in text
    rest = len(ROWS) - DEFAULT_MAX_ROWS
    assert (
        f"({DEFAULT_MAX_ROWS} of {len(ROWS)} rows shown; {rest} more rows: --max-rows N shows"
        " more, LIMIT/OFFSET pages through them, --format csv or json prints every row)"
    ) in " ".join(text.split())


def test_rows_counted_but_not_fetched_are_told(screen: Console) -> None:
    print_rows(COLUMNS, ROWS[:5], "table", max_rows=5, more=12_345)
    assert "(5 of 12,350 rows shown; 12,345 more rows:" in " ".join(shown(screen).split())
    print_rows(COLUMNS, ROWS[:5], "vertical", max_rows=5, more=1, counted=False)
    assert "(5 rows shown; at least 1 more row (not counted to the end):" in " ".join(
        shown(screen).split()
    )


def test_max_rows_0_shows_every_row(screen: Console) -> None:
    print_rows(COLUMNS, ROWS, "table", max_rows=0)
    assert f"Tin số {len(ROWS) - 1} " in shown(screen)
    assert shown(screen).rstrip().endswith(f"({len(ROWS)} rows)")


def test_a_wide_row_is_one_record_at_a_time_within_the_width(screen: Console) -> None:
    columns = [f"cot_{i}" for i in range(26)]
    long = "Đường biên giới Lào Cai " * 20 + "https://baolaocai.vn/" + "a" * 150
    row = tuple([long, *range(25)])
    print_rows(columns, [row, row], "auto")
    lines = shown(screen).splitlines()
    assert lines[0].startswith("-[ RECORD 1 ]---") and "┏" not in shown(screen)
    assert sum(line.startswith("-[ RECORD ") for line in lines) == 2
    assert all(cell_len(line) <= 120 for line in lines)
    named = [line.split(" |")[0].strip() for line in lines if line[:1] not in (" ", "-", "(")]
    assert named == columns * 2
    # Nothing is cut: the value's lines, joined, are the value (the URL folded, not cut).
    first = lines[1 : lines.index(next(x for x in lines if x.startswith("cot_1 ")))]
    value = " ".join(line.split("| ", 1)[1] for line in first)
    assert value.replace(" ", "") == long.replace(" ", "")
    assert lines[-1] == "(2 rows)"


def test_the_table_is_chosen_only_if_every_column_gets_its_width() -> None:
    three = (["a", "b", "c"], [["x" * 30, "y", "z"]])
    assert grid_fits(*three, width=40)
    wide = ([f"c{i}" for i in range(26)], [["v" * 40] * 26])
    assert not grid_fits(*wide, width=200)  # 26 x 10 + 79 borders
    assert grid_fits(*wide, width=26 * (MIN_COLUMN_WIDTH + 3) + 1)
    assert grid_fits([], [], width=10)


def test_markdown_escapes_what_would_end_a_cell_or_a_row() -> None:
    table = markdown_table(["a|b", "c"], [["x\\|y", "dòng 1\ndòng 2\tcuối"]])
    assert table.splitlines() == [
        "| a\\|b | c |",
        "| --- | --- |",
        "| x\\\\\\|y | dòng 1<br>dòng 2 cuối |",
    ]
