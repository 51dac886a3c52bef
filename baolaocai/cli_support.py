"""What every ``baolaocai`` command shares: consoles, exit codes, one-line errors, days.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings).
Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from baolaocai.errors import BaoLaoCaiError, ConfigError, InputError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

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
