"""What every ``baolaocai`` command shares: consoles, exit codes, one-line errors, days.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings),
75 another run is writing the warehouse (refused, or waited for in vain).
Errors are one line on stderr, never a traceback: expected errors say what went wrong,
anything unexpected is ``error: internal error: <Type>: <message>`` with exit code 1.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import decimal
import functools
import io
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from baolaocai.errors import (
    BaoLaoCaiError,
    ConfigError,
    InputError,
    WarehouseBusyError,
    internal_error,
)
from baolaocai.settings import Settings, load_settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUSY = 75
"""Another run is writing the warehouse (``--no-wait``, or waited in vain): try again
later (``EX_TEMPFAIL`` of sysexits.h, what cron wrappers and systemd understand)."""
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
_terminated = threading.Event()
RUN_OK = ("completed", "warning")  # a warning (layout drift) is reported, not an error

F = TypeVar("F", bound=Callable[..., Any])


def exit_code(exc: BaoLaoCaiError) -> int:
    if isinstance(exc, WarehouseBusyError):
        return EXIT_BUSY
    return EXIT_BAD_INPUT if isinstance(exc, ConfigError | InputError) else EXIT_FAILED


_PASS_THROUGH: tuple[type[BaseException], ...] = (
    SystemExit,
    typer.Exit,
    typer.Abort,
    click.exceptions.Exit,
    click.exceptions.ClickException,
    click.exceptions.Abort,
)
"""Exits that typer and click handle themselves."""


def print_error(message: str) -> None:
    """``error: <message>`` on stderr, one line; the message is printed as it is (a
    ``[`` in a path or a SQL error is not taken for rich markup)."""
    err.print(f"[red]error:[/red] {escape(_one_line(message))}", markup=True)


def print_warning(message: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {escape(_one_line(message))}", markup=True)


def print_note(message: str) -> None:
    """``note: <message>`` on stderr: a limit a run hit, though it went on."""
    err.print(f"[yellow]note:[/yellow] {escape(_one_line(message))}", markup=True)


def _one_line(message: str) -> str:
    return " ".join(message.split("\n")).strip() if "\n" in message else message


def friendly_errors(func: F) -> F:
    """One line on stderr and a non-zero exit for every error, expected or not.

    :class:`BaoLaoCaiError`: its message, exit 2 for bad input, else 1. Ctrl-C: exit 130;
    SIGTERM: exit 143 (the shells' 128 + signal number).
    Any other exception (a bug): ``internal error: <Type>: <message>``, exit 1. typer's
    and click's own exits pass through untouched.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except BaoLaoCaiError as exc:
            print_error(exc.message)
            raise typer.Exit(exit_code(exc)) from None
        except Exception as exc:
            print_error(internal_error(exc))
            raise typer.Exit(EXIT_FAILED) from None
        except BaseException as exc:  # stopped from outside: Ctrl-C, SIGTERM
            terminated = _terminated.is_set() or getattr(exc, "signal", None) == signal.SIGTERM
            err.print("interrupted (SIGTERM)" if terminated else "interrupted")
            raise typer.Exit(EXIT_SIGTERM if terminated else EXIT_SIGINT) from None

    return wrapper  # type: ignore[return-value]


def parse_day(value: str | None, flag: str) -> dt.date | None:
    """``2023-01-01`` -> a date; anything else is a one-line ConfigError naming the flag."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{flag} must be a day such as 2023-01-01, not {value!r}") from None


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd, ``kill``) stops a run like Ctrl-C: the run is recorded as
    interrupted and the command exits with code 143, one line, no traceback."""

    def stop(signum: int, frame: FrameType | None) -> None:
        _terminated.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


SITE_HELP = (
    "The newspaper: a bundled site's key (list them with 'baolaocai sites') or a site"
    " file's path (env BAOLAOCAI_SITE; default baolaocai)."
)


def settings_from(**flags: Any) -> Settings:
    """Defaults < ``BAOLAOCAI_*`` env vars < these flags (``None`` = not given)."""
    return load_settings().override(**flags)


def print_summary(summary: dict[str, Any], db_path: str) -> None:
    colour = {"completed": "green", "warning": "yellow"}.get(summary["status"], "red")
    out.print(
        f"[bold]Crawl {escape(str(summary['run_id']))}[/bold] of {escape(summary['base_url'])} "
        f"-> {escape(db_path)}: [{colour}]{escape(summary['status'])}[/{colour}]",
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
        out.print(f"  failed: {line}", markup=False)
    for line in summary.get("notes") or []:
        print_note(str(line))
    if summary.get("warning"):
        print_warning(str(summary["warning"]))
    if summary.get("error"):
        print_error(str(summary["error"]))


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
        table = Table(show_lines=False)
        for column in columns:
            table.add_column(Text(column))
        for row in rows:  # Text: a "[" in the data is data, not rich markup
            table.add_row(*(Text("" if v is None else str(_jsonable(v))) for v in row))
        out.print(table)
        out.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _csv_cell(value: Any) -> Any:
    value = _jsonable(value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


# -- queries: a timeout, Ctrl-C, one line ---------------------------------------------------------

T = TypeVar("T")

_QUERY_FLAGS = (("query_timeout", "--timeout"), ("query_memory", "--memory-limit"))
STOP_GRACE_S = 10.0
"""Seconds a stopped query has to end (DuckDB sees an interrupt within milliseconds)."""
_POLL_S = 0.25


def query_settings(**flags: Any) -> Settings:
    """:func:`settings_from` for ``sql`` and ``search``: a bad ``--timeout`` or
    ``--memory-limit`` is one line naming the flag (exit 2)."""
    try:
        return settings_from(**flags)
    except ConfigError as exc:
        for name, flag in _QUERY_FLAGS:
            if flags.get(name) is not None and exc.message.startswith(f"{name} must "):
                raise ConfigError(flag + exc.message[len(name) :]) from None
        raise


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
