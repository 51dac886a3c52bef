"""What every ``baolaocai`` command shares: consoles, exit codes, one-line errors, days.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings),
75 another run is writing the warehouse (refused, or waited for in vain).
Errors are one line on stderr, never a traceback: expected errors say what went wrong,
anything unexpected is ``error: internal error: <Type>: <message>`` with exit code 1.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import functools
import io
import itertools
import json
import math
import os
import signal
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from baolaocai import interrupts
from baolaocai.errors import (
    BaoLaoCaiError,
    ConfigError,
    InputError,
    WarehouseBusyError,
    internal_error,
)
from baolaocai.settings import Settings, load_settings
from baolaocai.text import csv_lines, csv_safe, for_terminal, json_for_terminal

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUSY = 75
"""Another run is writing the warehouse (``--no-wait``, or waited in vain): try again
later (``EX_TEMPFAIL`` of sysexits.h, what cron wrappers and systemd understand)."""
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
RUN_OK = ("completed", "warning")  # a warning (layout drift) is reported, not an error

F = TypeVar("F", bound=Callable[..., Any])


def exit_code(exc: BaoLaoCaiError) -> int:
    if isinstance(exc, WarehouseBusyError):
        return EXIT_BUSY
    return EXIT_BAD_INPUT if isinstance(exc, ConfigError | InputError) else EXIT_FAILED


def _pass_through() -> tuple[type[BaseException], ...]:
    """Exits that typer and click handle themselves. typer 0.29 runs on a copy of click
    of its own; the click package's exits are named only if something imported it (only
    then can one be raised): importing it for this cost every command some 30 ms."""
    click = sys.modules.get("click")
    theirs = (
        (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort)
        if click is not None
        else ()
    )
    return (SystemExit, typer.Exit, typer.Abort, *theirs)


def file_system_error(exc: OSError) -> str:
    """What the file system said, as one true line: ``cannot write /x/.build.lock:
    Read-only file system`` (not an "internal error": nothing is wrong with the program)."""
    where = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot use {where}: {reason}"


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, one line; the message is printed as it is (a
    ``[`` in a path or a SQL error is not taken for rich markup) and its control
    characters are shown, not obeyed (a site's error text cannot drive the terminal)."""
    err.print(f"[red]error:[/red] {escape(_one_line(message))}", markup=True)


def print_warning(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(_one_line(message))}", markup=True)


def print_note(message: str) -> None:
    """``note: <message>`` on stderr: a limit a run hit, though it went on."""
    err.print(f"[yellow]note:[/yellow] {escape(_one_line(message))}", markup=True)


class QueryError(BaoLaoCaiError):
    """A query DuckDB refused: the first line of its message is the error line
    (``error: query failed: Catalog Error: …``), and its other lines (``Did you mean
    "articles"?``, the ``LINE 1:`` context and its caret) follow it, two spaces in
    (:func:`print_details`). Exit code 1."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = details


def print_details(lines: tuple[str, ...]) -> None:
    """Lines that follow an error line on stderr, as they are but two spaces in (a caret
    stays under its word; a line break in a quoted value cannot start a line that looks
    like an ``error:`` of its own), control and bidi characters shown, not obeyed, and
    no markup."""
    for line in lines:
        shown = "  " + for_terminal(line, one_line=True)
        err.print(shown, markup=False, emoji=False, highlight=False)


def _one_line(message: str) -> str:
    """One line of text for the terminal: line breaks become spaces, control and bidi
    characters are escaped (:func:`baolaocai.text.for_terminal`)."""
    if "\n" in message:
        message = " ".join(message.split("\n")).strip()
    return for_terminal(message)


def friendly_errors(func: F) -> F:
    """One line on stderr and a non-zero exit for every error, expected or not.

    :class:`BaoLaoCaiError`: its message, exit 2 for bad input, else 1. Ctrl-C: exit 130;
    SIGTERM: exit 143 (the shells' 128 + signal number).
    Any other exception (a bug): ``internal error: <Type>: <message>``, exit 1. typer's
    and click's own exits pass through untouched.

    Stop signals are handled for the whole command by :func:`baolaocai.interrupts.handling`:
    once one came, the command ends ``interrupted`` whatever it ends with (a library may
    swallow the interrupt or turn it into an error of its own), a second one ends it at
    once, and it is ended anyway :data:`~baolaocai.interrupts.EXIT_GRACE_S` s after the first.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with interrupts.handling():
            try:
                result = func(*args, **kwargs)
            except _pass_through() as exc:
                if interrupts.received() is not None and not _success(exc):
                    _stopped()
                raise
            except BaoLaoCaiError as exc:
                if interrupts.received() is not None:
                    _stopped()
                print_error(exc.message)
                print_details(getattr(exc, "details", ()))
                raise typer.Exit(exit_code(exc)) from None
            except BrokenPipeError:  # the reader went away (| head): nothing to say
                _quiet_stdout()
                raise typer.Exit(EXIT_BROKEN_PIPE) from None
            except OSError as exc:  # the file system refused (read-only, full, denied)
                if interrupts.received() is not None:
                    _stopped()
                print_error(file_system_error(exc))
                raise typer.Exit(EXIT_FAILED) from None
            except Exception as exc:
                if interrupts.received() is not None:
                    _stopped()
                print_error(internal_error(exc))
                raise typer.Exit(EXIT_FAILED) from None
            except BaseException as exc:  # stopped from outside: Ctrl-C, SIGTERM
                terminated = getattr(exc, "signal", None) == signal.SIGTERM
                _stopped(signal.SIGTERM if terminated else signal.SIGINT)
            if interrupts.received() is not None and not interrupts.normal_stop():
                _stopped()  # it ended all the same: say so
            return result

    return wrapper  # type: ignore[return-value]


EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""A command whose reader closed the pipe (``baolaocai sql … | head -1``) ends quietly
with the exit code of a process killed by SIGPIPE, as ``cat`` does: no error line."""


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is left in
    its buffer does not fail again on the closed pipe (Python's own advice)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _success(exc: BaseException) -> bool:
    code = getattr(exc, "exit_code", getattr(exc, "code", 1))
    return code in (0, None)


def _stopped(default: int = signal.SIGINT) -> NoReturn:
    """``interrupted`` (one line) and exit 130, or ``interrupted (SIGTERM)`` and 143."""
    signum = interrupts.received() or default
    terminated = signum == signal.SIGTERM
    with contextlib.suppress(Exception):
        err.print("interrupted (SIGTERM)" if terminated else "interrupted", markup=False)
    interrupts.announced()
    raise typer.Exit(interrupts.exit_code(signum)) from None


FIRST_DAY = dt.date(1000, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
"""The days a day flag (``--since``, ``--until``, ``--from``, ``--to``) takes: every
command can go a month past either end (the day after ``--until``, the month of a
backfill, midnight in Vietnam in UTC) without leaving Python's and DuckDB's calendars."""
DAY_RANGE = f"from {FIRST_DAY} to {LAST_DAY}"


def parse_day(value: str | None, flag: str) -> dt.date | None:
    """``2023-01-01`` -> a date; anything else, or a day outside :data:`FIRST_DAY` ..
    :data:`LAST_DAY`, is a one-line ConfigError naming the flag."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{flag} must be a day such as 2023-01-01 ({DAY_RANGE}), not {value!r}"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ConfigError(f"{flag} must be a day {DAY_RANGE}, not {value!r}")
    return day


def check_number(value: float | None, flag: str, low: float, high: float) -> None:
    """A number given with ``flag`` must be finite and from ``low`` to ``high``:
    else one ConfigError line naming the flag and the range (exit 2)."""
    if value is None:
        return
    finite = isinstance(value, int) or math.isfinite(value)
    if isinstance(value, bool) or not finite or not low <= value <= high:
        raise ConfigError(f"{flag} must be from {_number(low)} to {_number(high)}, not {value}")


def _number(value: float) -> str:
    """``1000000`` -> ``1,000,000`` (not ``1e+06``); ``0.5`` -> ``0.5``."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd, ``kill``) stops a run like Ctrl-C: the run is recorded as
    interrupted and the command exits with code 143, one line, no traceback (see
    :func:`baolaocai.interrupts.handling`; a no-op inside :func:`friendly_errors`,
    which handles both signals for the whole command)."""
    with interrupts.handling():
        yield


@contextlib.contextmanager
def prefect_api(
    settings: Settings, *, verbose: bool, quiet: bool, check_site: bool, flow: str
) -> Iterator[None]:
    """The Prefect API for one run of ``crawl``, ``demo``, ``backfill`` or ``reparse``
    (:func:`flows.prefect_server.prefect_api_for_cli`), stop signals handled as an
    interrupt. Its first line comes at once (unless ``quiet``): whether the local server
    is started (some 15 s) or used. With ``check_site``, the site is checked meanwhile
    (:mod:`flows.site_check`: one connection, no request): unreachable, the command fails
    in seconds with the run's own line, without waiting for the server. ``flow``, the
    module of the flow to run, is imported while the server starts."""
    from flows.prefect_server import prefect_api_for_cli

    check = None
    if check_site:
        from flows.site_check import SiteCheck

        check = SiteCheck(settings).start()

    def say(line: str) -> None:
        if not quiet:
            err.print(line, markup=False)

    with (
        sigterm_as_interrupt(),
        prefect_api_for_cli(
            settings.db_path,
            verbose=verbose,
            idle=settings.prefect_idle,
            say=say,
            abort=check.abort if check is not None else None,
            preload=flow,
        ),
    ):
        if check is not None:
            check.wait()
        with contextlib.nullcontext() if verbose else _no_run_tracebacks():
            yield


class _DropTracebacks:
    """A logging filter: no error record that carries a traceback."""

    def filter(self, record: Any) -> bool:
        return not (record.exc_info and record.levelno >= 40)  # logging.ERROR


RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
"""Prefect's loggers of flow and task runs: a run that raises is logged there as
"Encountered exception during execution" with its traceback."""


@contextlib.contextmanager
def _no_run_tracebacks() -> Iterator[None]:
    """Without ``--verbose``, a run that fails is said once, in the command's one line
    (and recorded on the run): Prefect's own report of it, a traceback on the user's
    terminal, is dropped (seen: 77 lines before the one line, for a damaged lake).
    Prefect's warnings and its errors without a traceback still show."""
    import logging

    dropping = _DropTracebacks()
    loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
    for logger in loggers:
        logger.addFilter(dropping)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(dropping)


SITE_HELP = (
    "The newspaper: a bundled site's key (list them with 'baolaocai sites') or a site"
    " file's path (env BAOLAOCAI_SITE; default baolaocai)."
)


def settings_from(**flags: Any) -> Settings:
    """Defaults < ``BAOLAOCAI_*`` env vars < these flags (``None`` = not given).

    A flag's value out of range is one ConfigError line naming the flag (``--max-articles
    must be …``), as an env var's names the variable."""
    settings = load_settings()
    try:
        return settings.override(**flags)
    except ConfigError as exc:
        for f in dataclasses.fields(Settings):
            flag = f.metadata.get("flag") or ""
            given = flags.get(f.name) is not None
            if given and flag.startswith("--") and exc.message.startswith(f"{f.name} must "):
                raise ConfigError(flag.split("/")[0] + exc.message[len(f.name) :]) from None
        raise


def print_summary(summary: dict[str, Any], db_path: str) -> None:
    from rich.table import Table  # not at the top: sql, search and status start faster

    from warehouse.lake import LakeSpec, is_lake

    if is_lake(db_path):
        db_path = LakeSpec.parse(db_path).shown  # never its password
    colour = {"completed": "green", "warning": "yellow"}.get(summary["status"], "red")
    out.print(
        f"[bold]Crawl {escape(_one_line(str(summary['run_id'])))}[/bold] of"
        f" {escape(_one_line(summary['base_url']))} -> {escape(_one_line(db_path))}:"
        f" [{colour}]{escape(_one_line(summary['status']))}[/{colour}]",
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
        ("not the article (kept)", summary.get("suspect_pages", 0)),
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
        out.print(f"  failed: {_one_line(str(line))}", markup=False)
    for line in summary.get("notes") or []:
        print_note(str(line))
    if summary.get("warning"):
        print_warning(str(summary["warning"]))
    if summary.get("error"):
        print_error(str(summary["error"]))


def _jsonable(value: Any) -> Any:
    """A value as JSON holds it: times in ISO 8601 (with their offset), an INTERVAL in
    ISO 8601 too (``P3DT4H``), a UUID as text, NaN and infinities as ``null`` (JSON has
    none: a strict parser refuses ``NaN``), bytes in hex."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _iso_duration(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _iso_duration(value: dt.timedelta) -> str:
    """``timedelta(days=3, hours=4, seconds=1.5)`` -> ``P3DT4H0M1.5S`` (ISO 8601)."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    second = f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".")
    return f"{sign}P{value.days}DT{hours}H{minutes}M{second}S"


DEFAULT_MAX_ROWS = 100
"""Rows a table, a vertical listing or a Markdown table shows unless ``--max-rows`` says
otherwise: a screenful or two. ``--format csv`` and ``json`` print every row, a
``LIMIT`` asks for fewer. Only these rows are fetched (:func:`cli.warehouse_commands.run_sql`)."""
MAX_MAX_ROWS = 1_000_000
"""The most rows ``--max-rows`` may ask a terminal layout for (a million rows of a table
take minutes to lay out; ``--format csv`` is the way to all of them)."""
COUNTED_VALUES = 1_000_000
"""Values (rows x columns) past the shown rows counted to say how many more there are:
about a second of DuckDB's conversion to Python, nothing kept. A result still going
after them is said to have "at least" so many more rows: counting on would cost the
whole query's time (a ``count(*)`` of the query would run it twice)."""
MIN_COLUMN_WIDTH = 10
"""A table (grid) is laid out only if every column gets at least this many characters (or
its whole width, if less) at the terminal's width; else one record at a time."""
OUTPUT_FORMATS = ("auto", "table", "vertical", "markdown", "csv", "json")
FORMAT_HELP = (
    "auto (default: a table, or one record at a time when the table would not fit the"
    " terminal), table, vertical, markdown (GitHub), csv or json."
)
_WRITE_ROWS = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class QueryRows:
    """A query's answer as fetched: its ``columns``, the ``rows`` taken, and ``more`` rows
    the result had past them (not fetched, only counted): exactly ``more`` when
    ``counted``, else at least ``more``."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: int = 0
    counted: bool = True


def check_format(value: str, allowed: tuple[str, ...] = OUTPUT_FORMATS) -> str:
    """``--format`` must be one of ``allowed``: else one line (exit 2)."""
    if value not in allowed:
        raise ConfigError(
            f"--format must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {value!r}"
        )
    return value


def print_rows(
    columns: list[str],
    rows: list[tuple[Any, ...]],
    fmt: str,
    *,
    max_rows: int = DEFAULT_MAX_ROWS,
    more: int = 0,
    counted: bool = True,
    summary: str | None = None,
) -> None:
    """``rows`` as CSV or JSON (every row, written as it goes: the output never holds the
    whole result a second time), or for a reader: the first ``max_rows`` (0: all) as a
    table (``table``), one record at a time (``vertical``), the one that fits the
    terminal (``auto``), or a GitHub Markdown table (``markdown``), followed by how many
    rows there are (``more`` past ``rows`` were counted, not fetched; ``summary``, if
    given, is said instead of the count when nothing was left out).

    Text is shown, not obeyed (control and bidi characters escaped) and never read as
    rich markup; CSV to a file or a pipe is the data as it is."""
    write = sys.stdout.write
    if fmt == "json":
        if not rows:
            write("[]\n")
            return
        write("[\n")
        for start in range(0, len(rows), _WRITE_ROWS):
            items = []
            for row in rows[start : start + _WRITE_ROWS]:
                item = {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                items.append(textwrap.indent(json.dumps(item, ensure_ascii=False, indent=2), "  "))
            last = start + _WRITE_ROWS >= len(rows)
            write(json_for_terminal(",\n".join(items)) + ("\n]\n" if last else ",\n"))
        return
    if fmt == "csv":
        # To a file or a pipe: the data as it is. To a terminal: shown, not obeyed.
        shown = for_terminal if sys.stdout.isatty() else str
        chunks = itertools.chain(
            [[columns]],
            (
                [[_csv_cell(v) for v in row] for row in rows[start : start + _WRITE_ROWS]]
                for start in range(0, len(rows), _WRITE_ROWS)
            ),
        )
        for chunk in chunks:
            write(shown(csv_lines(chunk)))  # LF, as duckdb's CLI; a CR in a field quoted
        return
    taken = rows[:max_rows] if max_rows else rows
    rest = len(rows) - len(taken) + more
    headers = [for_terminal(c) for c in columns]
    cells = [[_table_cell(v) for v in row] for row in taken]
    if fmt == "markdown":
        write(markdown_table(headers, cells))
        if rest:  # on stderr: the output stays one Markdown document
            print_note(_count_line(len(taken), rest, counted).strip("()"))
        return
    width = out.size.width
    if fmt == "vertical" or (fmt == "auto" and not grid_fits(headers, cells, width)):
        if cells:
            _print_vertical(headers, cells, width)
        else:  # no record to show the columns in: name them
            from rich.text import Text

            out.print(Text(f"columns: {', '.join(headers)}"), soft_wrap=True)
    else:
        _print_grid(headers, cells, width)
    line = summary if summary is not None and not rest else _count_line(len(taken), rest, counted)
    out.print(line, markup=False, emoji=False)


def _count_line(shown: int, rest: int, counted: bool) -> str:
    """``(5 rows)``, or how many were left out and how to see them."""
    if not rest:
        return f"({shown:,} row{'s' if shown != 1 else ''})"
    many = f"{rest:,} more row{'s' if rest != 1 else ''}"
    if counted:
        told = f"{shown:,} of {shown + rest:,} rows shown; {many}"
    else:
        told = f"{shown:,} rows shown; at least {many} (not counted to the end)"
    return (
        f"({told}: --max-rows N shows more, LIMIT/OFFSET pages through them,"
        " --format csv or json prints every row)"
    )


def _width(text: str) -> int:
    """Terminal cells the widest line of ``text`` takes."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def grid_fits(headers: list[str], cells: list[list[str]], width: int) -> bool:
    """Whether a table of these columns fits ``width``: every column gets at least
    :data:`MIN_COLUMN_WIDTH` characters, or its whole width if it needs less, besides
    the table's borders (3 per column and 1). 26 columns at 80 (or 200) do not: the
    table would be columns of 0 to 3 characters, thousands of lines of them."""
    if not headers:
        return True
    needs = 0
    for i, header in enumerate(headers):
        natural = max(_width(header), max((_width(row[i]) for row in cells), default=0))
        needs += min(max(natural, 1), MIN_COLUMN_WIDTH)
    return needs + 3 * len(headers) + 1 <= width


def _print_grid(headers: list[str], cells: list[list[str]], width: int) -> None:
    """A table whose every column gets :data:`MIN_COLUMN_WIDTH` characters (or its whole
    width if less): asked for with ``--format table`` where it does not fit, it is drawn
    wider than the terminal (which wraps its lines; ``less -S`` scrolls them) rather than
    squeezed into columns of no character."""
    from rich.table import Table  # not at the top: a CSV or JSON answer needs none
    from rich.text import Text

    table = Table(show_lines=False)
    needs = 3 * len(headers) + 1
    for i, header in enumerate(headers):
        natural = max(_width(header), max((_width(row[i]) for row in cells), default=0))
        least = min(max(natural, 1), MIN_COLUMN_WIDTH)
        needs += least
        # a URL is folded, never cut short
        table.add_column(Text(header), overflow="fold", min_width=least)
    for row in cells:  # Text: a "[" in the data is data, not markup
        table.add_row(*(Text(cell) for cell in row))
    out.print(table, width=max(width, needs))


def _print_vertical(headers: list[str], cells: list[list[str]], width: int) -> None:
    """One record at a time, as ``psql``'s ``\\x`` and DuckDB's ``.mode line``::

        -[ RECORD 1 ]------------------------------
        title      | Lào Cai đón khách du lịch
        body       | A long text, wrapped at the
                   | terminal's width

    Names longer than a third of the width are folded; values wrap at the width, at
    spaces, except a value of one word (a URL), printed whole for the terminal to wrap."""
    from rich.text import Text

    names = [_width(h) for h in headers]
    label = min(max(names, default=1), max(MIN_COLUMN_WIDTH, width // 3))
    value_width = max(MIN_COLUMN_WIDTH, width - label - 3)
    for n, row in enumerate(cells, 1):
        lines: list[str] = []
        for header, cell in zip(headers, row, strict=True):
            names_lines = _wrap(header, label)
            # One word (a URL, a hash) is printed whole: the terminal wraps it without a
            # line break of ours, so it is copied whole and a URL stays clickable.
            values = (
                [cell] if cell and not any(c.isspace() for c in cell) else _wrap(cell, value_width)
            )
            for i in range(max(len(names_lines), len(values))):
                name = names_lines[i] if i < len(names_lines) else ""
                value = values[i] if i < len(values) else ""
                pad = " " * (label - _width(name))
                lines.append(f"{name}{pad} | {value}".rstrip())
        widest = max((_width(line) for line in lines), default=0)
        rule = f"-[ RECORD {n:,} ]"
        rule += "-" * max(0, min(width, max(widest, label + 3 + MIN_COLUMN_WIDTH)) - len(rule))
        out.print(Text("\n".join([rule, *lines])), soft_wrap=True)


def _wrap(text: str, width: int) -> list[str]:
    """``text`` (already escaped for the terminal) as lines of at most ``width`` cells:
    at spaces where it can, else folded (a URL, a long word)."""
    from rich.text import Text

    if not text:
        return [""]
    console = _wrapping_console()
    lines: list[str] = []
    for part in text.expandtabs(4).split("\n"):
        if _width(part) <= width:
            lines.append(part)
            continue
        wrapped = Text(part).wrap(console, width, overflow="fold")
        lines.extend(line.plain.rstrip() for line in wrapped)
    return lines


@functools.cache
def _wrapping_console() -> Any:
    from rich.console import Console

    return Console(file=io.StringIO(), width=10_000, highlight=False)


def markdown_table(headers: list[str], cells: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table of these (already terminal-escaped) texts: ``\\``
    and ``|`` escaped, line breaks as ``<br>``, so each row stays one row of its table;
    emphasis, code, links and HTML shown as text (:data:`_MARKDOWN_ESCAPES`)."""
    if not headers:
        return ""
    lines = [
        "| " + " | ".join(_markdown_cell(h) for h in headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
        *("| " + " | ".join(_markdown_cell(c) for c in row) + " |" for row in cells),
    ]
    return "\n".join(lines) + "\n"


_MARKDOWN_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "*": "\\*",
        "`": "\\`",
        "[": "\\[",
        "]": "\\]",
        "~": "\\~",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
    }
)
"""What a Markdown renderer would obey in a cell: emphasis, code, links, strike-through
and raw HTML (``<b>``, ``<img onerror=…>``) are shown as the text they are. ``_`` is
left alone: GitHub does not emphasise inside a word, and URLs are full of them."""


def _markdown_cell(text: str) -> str:
    text = text.translate(_MARKDOWN_ESCAPES)
    return "<br>".join(line.strip() for line in text.replace("\t", " ").split("\n"))


def _table_cell(value: Any) -> str:
    """A value as a table shows it: control and bidi characters escaped, shown not obeyed."""
    return "" if value is None else for_terminal(str(_jsonable(value)))


def _csv_cell(value: Any) -> Any:
    """A value as a CSV cell. Text that a spreadsheet would run (``=``, ``+``, ``-``,
    ``@``, tab or CR first) gets a leading ``'`` (:func:`baolaocai.text.csv_safe`); numbers,
    times, lists (JSON arrays) are data and stay as they are: ``-5`` is minus five."""
    if isinstance(value, str):
        return csv_safe(value)
    value = _jsonable(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


# -- queries: a timeout, Ctrl-C, one line ---------------------------------------------------------

T = TypeVar("T")

STOP_GRACE_S = 10.0
"""Seconds a stopped query has to end (DuckDB sees an interrupt within milliseconds)."""
_POLL_S = 0.25


def query_settings(*, write: bool = False, **flags: Any) -> Settings:
    """:func:`settings_from` for ``sql`` and ``search``: a bad ``--timeout`` or
    ``--memory-limit`` is one line naming the flag (exit 2). A read (not ``write``) that
    names no warehouse reads the demo's when there is no other (:func:`read_path`)."""
    settings = settings_from(**flags)
    if write:
        return settings
    path = read_path(settings.db_path, flags.get("db_path"), flags.get("site"))
    return settings if path == settings.db_path else settings.override(db_path=path)


DEMO_DB = "warehouse/demo.duckdb"
"""The warehouse ``baolaocai demo`` fills (the quick start's)."""
WAREHOUSE_HELP = (
    "Warehouse: a file, or a lake 'ducklake:postgres:<connection>' (env BAOLAOCAI_DB or"
    " BAOLAOCAI_WAREHOUSE)."
)


def shown_warehouse(path: str | os.PathLike[str]) -> str:
    """A warehouse as printed: a lake's spec without its password, a file's path."""
    from warehouse.spec import is_lake

    if not is_lake(path):
        return str(path)
    from warehouse.lake import LakeSpec

    try:
        return LakeSpec.parse(str(path)).shown
    except BaoLaoCaiError:
        return "a lake"


DB_VARS = ("BAOLAOCAI_DB", "BAOLAOCAI_WAREHOUSE", "BAOLAOCAI_SITE")


def read_path(default: str, db: object, site: object) -> str:
    """The warehouse a read command (``sql``, ``search``, ``status``, ``export``,
    ``tables``, ``describe``) reads: ``default``, unless no warehouse was named (no
    ``--db``, ``--site``, ``BAOLAOCAI_DB`` or ``BAOLAOCAI_SITE``), there is no
    ``default`` file and there is the demo's (:data:`DEMO_DB`): right after the quick
    start, the README's queries read what ``demo`` stored, with one note line saying so.
    Write commands never come here: they write where they were told."""
    if db is not None or site is not None:
        return default
    if any(os.environ.get(var, "").strip() for var in DB_VARS):
        return default
    if os.path.lexists(default) or not os.path.isfile(DEMO_DB):
        return default
    # Each command resolves its warehouse once, so the note is said once.
    print_note(f"no {default} yet; reading the demo's {DEMO_DB} (--db to choose)")
    return DEMO_DB


def warehouse_missing(path: str) -> bool:
    """Whether there is no warehouse at ``path`` for a command that must not make one
    (``sql --write``, ``reindex``): no file. A lake is opened read-only to find out: one
    that cannot be opened, or whose catalog never held a lake, says so itself in one line
    (:func:`warehouse.db.connect`); a spec is never a path to test."""
    from warehouse.lake import is_lake

    if not is_lake(path):
        return not os.path.exists(path)
    from warehouse.db import connect

    connect(path, read_only=True).close()
    return False


def run_stoppable(
    work: Callable[[threading.Event], T],
    *,
    timeout: float,
    interrupt: Callable[[], object] | None = None,
    what: str = "the query",
    grace: float = STOP_GRACE_S,
) -> T:
    """``work(stopping)`` on a worker thread, stopped after ``timeout`` seconds or at Ctrl-C.

    DuckDB does not look at SIGINT while it runs a statement, and Python runs a signal
    handler only in the main thread, between two bytecodes: a query run by the main
    thread kept Ctrl-C waiting until it ended. So the main thread only waits (a wait that
    Ctrl-C ends at once) and a worker runs the query. To stop it, ``stopping`` is set (for
    ``work`` to look at between steps) and ``interrupt`` (``con.interrupt``) is called
    again and again until the worker has ended, for at most ``grace`` seconds.

    Returns what ``work`` returned, or raises what it raised. After ``timeout`` seconds:
    ``<what> ran longer than N s (--timeout); stopped`` (:class:`BaoLaoCaiError`, exit 1);
    at Ctrl-C the :class:`KeyboardInterrupt` goes on (:func:`friendly_errors`: exit 130).
    """
    done = threading.Event()
    stopping = threading.Event()
    outcome: list[tuple[bool, Any]] = []

    def target() -> None:
        try:
            outcome.append((True, work(stopping)))
        except BaseException as exc:  # handed to the main thread
            outcome.append((False, exc))
        finally:
            done.set()

    worker = threading.Thread(target=target, name="baolaocai-query", daemon=True)
    deadline = time.monotonic() + timeout
    worker.start()
    try:
        finished = _wait(done, deadline)
    except BaseException:  # Ctrl-C while waiting
        _stop(stopping, done, interrupt, grace)
        raise
    if not finished:
        _stop(stopping, done, interrupt, grace)
        raise BaoLaoCaiError(f"{what} ran longer than {timeout:g} s (--timeout); stopped")
    ok, value = outcome[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _wait(done: threading.Event, deadline: float) -> bool:
    """Whether ``done`` was set before ``deadline`` (short waits: Ctrl-C is seen at once)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return done.is_set()
        if done.wait(min(left, _POLL_S)):
            return True


def _stop(
    stopping: threading.Event,
    done: threading.Event,
    interrupt: Callable[[], object] | None,
    grace: float,
) -> None:
    """Ask the worker to stop until it has (an interrupt that came before the statement
    started would be forgotten by DuckDB, hence again and again), at most ``grace`` s."""
    stopping.set()
    until = time.monotonic() + grace
    while not done.is_set():
        if interrupt is not None:
            with contextlib.suppress(Exception):  # e.g. the worker closed the connection
                interrupt()
        if time.monotonic() >= until or done.wait(0.1):
            return
