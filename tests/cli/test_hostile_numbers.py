"""Numbers and days out of range, from flags: one ``error:`` line naming the flag, exit 2.

Never a traceback, an abort (``search --limit 2147483647`` once aborted the process in
tantivy) or an "internal error" (``export --until 9999-12-31`` once overflowed a date).
The options are found by walking every command of the app, so an option added later is
tried too; nothing starts (no warehouse is created, no server, no request) before the
refusal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.main import app
from cli.support import FIRST_DAY, LAST_DAY

REQUIRED: dict[str, list[str]] = {
    "search": ["lao cai"],
    "sql": ["SELECT 1"],
    "export": ["--format", "csv", "--out", "{tmp}/out"],
    "backfill": ["--from", "2024-01-01"],
    "parse": ["{tmp}/page.html"],
    "sites check": ["baolaocai"],
}
"""What each command needs besides the option under test."""

BAD_INTS = ("99999999999999999999999", "-99999999999999999999999", "2147483648")
BAD_FLOATS = ("1e400", "-1e400", "nan", "1e300", "-1")
BAD_DAYS = ("9999-12-31", "0001-01-01", f"{LAST_DAY + dt.timedelta(days=1)}")


def options() -> Iterator[tuple[str, str, str, bool]]:
    """(command, flag, type, is a day) for every int, float and day option of the app."""

    def walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield " ".join(path), command

    for name, command in walk(typer.main.get_command(app)):
        for param in command.params:
            flag = max(param.opts, key=len)
            if not flag.startswith("--"):
                continue
            kind = getattr(param.bare_type(), "__name__", str(param.bare_type()))
            day = "YYYY-MM-DD" in (param.help or "")
            if kind in ("int", "float") or day:
                yield name, flag, kind, day


CASES = [
    pytest.param(name, flag, value, id=f"{name} {flag} {value}")
    for name, flag, kind, day in options()
    for value in (BAD_DAYS if day else BAD_INTS if kind == "int" else BAD_FLOATS)
]


def test_the_walk_finds_the_options_of_the_issue() -> None:
    found = {(name, flag) for name, flag, _, _ in options()}
    for expected in [
        ("search", "--limit"),
        ("search", "--since"),
        ("export", "--until"),
        ("sql", "--lock-timeout"),
        ("crawl", "--max-articles"),
        ("backfill", "--to"),
        ("serve", "--port"),
        ("serve", "--interval"),
    ]:
        assert expected in found


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A value that got through would start a crawl or a server: fail at once instead."""
    import cli.orchestration
    import warehouse.db

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("a bad value was not refused before the command started")

    monkeypatch.setattr(warehouse.db, "check_warehouse", started)
    monkeypatch.setattr(cli.orchestration, "check_timezone", started)
    monkeypatch.setenv("BAOLAOCAI_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("BAOLAOCAI_DB", str(tmp_path / "w.duckdb"))
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(("command", "flag", "value"), CASES)
def test_an_out_of_range_value_is_one_line_and_exit_2(
    command: str, flag: str, value: str, tmp_path: Path
) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    args = [a.replace("{tmp}", str(tmp_path)) for a in REQUIRED.get(command, [])]
    result = CliRunner().invoke(app, [*command.split(), *args, f"{flag}={value}"])
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {flag} must "), lines[0]
    assert "internal error" not in lines[0] and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created


@pytest.fixture
def empty_warehouse(tmp_path: Path) -> Path:
    from warehouse.db import connect
    from warehouse.search import rebuild_search_index, search_index_dir

    path = tmp_path / "w.duckdb"
    con = connect(path)
    try:
        rebuild_search_index(con, search_index_dir(path))
    finally:
        con.close()
    return path


@pytest.mark.parametrize("day", [FIRST_DAY, LAST_DAY])
def test_the_days_at_either_end_of_the_range_work(empty_warehouse: Path, day: dt.date) -> None:
    """The documented range is accepted whole: the day after --until, midnight in Vietnam
    in UTC, stay inside every calendar."""
    db = ["--db", str(empty_warehouse)]
    for args in (
        ["export", "-f", "csv", "--out", f"out-{day}", "--since", str(day), "--until", str(day)],
        ["export", "-f", "parquet", "--out", f"pq-{day}", "--until", str(day)],
        ["search", "lao cai", "--since", str(day), "-f", "json"],
        ["search", "lao cai", "--limit", "10000", "-f", "json"],
    ):
        result = CliRunner().invoke(app, [*args, *db])
        assert result.exit_code == 0, (args, result.stderr)
