"""What every ``baolaocai`` command shares: consoles, exit codes, one-line errors, days.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings).
Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import functools
import io
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from baolaocai.errors import BaoLaoCaiError, ConfigError, InputError
from baolaocai.settings import Settings, load_settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
RUN_OK = ("completed", "warning")  # a warning (layout drift) is reported, not an error

F = TypeVar("F", bound=Callable[..., Any])


def exit_code(exc: BaoLaoCaiError) -> int:
    return EXIT_BAD_INPUT if isinstance(exc, ConfigError | InputError) else EXIT_FAILED


def friendly_errors(func: F) -> F:
    """One line on stderr and a non-zero exit for every expected error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BaoLaoCaiError as exc:
            err.print(f"[red]error:[/red] {exc.message}", markup=True)
            raise typer.Exit(exit_code(exc)) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def parse_day(value: str | None, flag: str) -> dt.date | None:
    """``2023-01-01`` -> a date; anything else is a one-line ConfigError naming the flag."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} must be a day such as 2023-01-01, not {value!r}") from None


def settings_from(**flags: Any) -> Settings:
    """Defaults < ``BAOLAOCAI_*`` env vars < these flags (``None`` = not given)."""
    return load_settings().override(**flags)


def print_summary(summary: dict[str, Any], db_path: str) -> None:
    colour = {"completed": "green", "warning": "yellow"}.get(summary["status"], "red")
    out.print(
        f"[bold]Crawl {summary['run_id']}[/bold] of {summary['base_url']} "
        f"-> {db_path}: [{colour}]{summary['status']}[/{colour}]",
        markup=True,
    )
    table = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("discovered", summary["discovered"]),
        ("already stored", summary["already_stored"]),
        ("new", summary["articles_new"]),
        ("updated", summary["articles_updated"]),
        ("unchanged", summary["articles_unchanged"]),
        ("failed", summary["articles_failed"]),
        ("requests", summary["requests"]),
        ("retries", summary["retries"]),
        ("rechecked / retried", f"{summary['rechecked']} / {summary['retried_failures']}"),
        (
            "  of which relisted / unlisted / revisits",
            f"{summary.get('relisted', 0)} / {summary.get('unlisted', 0)}"
            f" / {summary.get('revisited', 0)}",
        ),
        ("gone (404/410)", summary["gone"]),
        ("removed from the site", summary.get("removed", 0)),
        ("429 / 304 answers", f"{summary['responses_429']} / {summary['responses_304']}"),
        (
            "held back (Retry-After)",
            f"{summary.get('held_back', 0)} times, {summary.get('held_back_s', 0)} s",
        ),
        ("downloaded", f"{summary['bytes_downloaded'] / 1024:.0f} KiB"),
        ("elapsed", f"{summary['elapsed_s']:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    out.print(table)
    for line in summary.get("failures") or []:
        out.print(f"  failed: {line}")
    if summary.get("warning"):
        err.print(f"[yellow]warning:[/yellow] {summary['warning']}", markup=True)
    if summary.get("error"):
        err.print(f"[red]error:[/red] {summary['error']}", markup=True)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "json":
        data = [{c: _jsonable(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")  # LF, as the duckdb CLI writes
        writer.writerow(columns)
        writer.writerows([[_csv_cell(v) for v in row] for row in rows])
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*columns, show_lines=False)
        for row in rows:
            table.add_row(*("" if v is None else str(_jsonable(v)) for v in row))
        out.print(table)
        out.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _csv_cell(value: Any) -> Any:
    value = _jsonable(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
