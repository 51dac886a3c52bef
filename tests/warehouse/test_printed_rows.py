"""What ``sql`` prints: a table shows the first rows and says how many there are; CSV and
JSON print every row, written as they go, the same as one dump of the whole result."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from typing import Any

from rich.console import Console

from cli import support
from cli.support import MAX_TABLE_ROWS, print_rows

COLUMNS = ["id", "title", "tags"]
ROWS = [(i, f"=Tin số {i}", ["Sa Pa", "du lịch"]) for i in range(2 * MAX_TABLE_ROWS + 7)]


def printed(fmt: str, rows: list[tuple[Any, ...]], monkeypatch: Any = None) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        print_rows(COLUMNS, rows, fmt)
    return buffer.getvalue()


def test_json_is_every_row_as_one_dump() -> None:
    for rows in (ROWS, ROWS[:1], []):
        data = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        assert printed("json", rows) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def test_csv_is_every_row() -> None:
    got = list(csv.reader(io.StringIO(printed("csv", ROWS))))
    assert got[0] == COLUMNS and len(got) == len(ROWS) + 1
    assert got[1] == ["0", "'=Tin số 0", '["Sa Pa", "du lịch"]']
    assert got[-1][0] == str(len(ROWS) - 1)


def test_a_table_shows_the_first_rows_and_the_count(monkeypatch: Any) -> None:
    console = Console(file=io.StringIO(), width=120, highlight=False)
    monkeypatch.setattr(support, "out", console)
    print_rows(COLUMNS, ROWS, "table")
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert f"Tin số {MAX_TABLE_ROWS - 1}" in shown and f"Tin số {MAX_TABLE_ROWS} " not in shown
    assert f"({len(ROWS):,} rows; the first {MAX_TABLE_ROWS:,} shown:" in shown
