"""Progress of long runs, for whoever watches (the CLI's progress bar; nobody by default).

Not a flow parameter: a reporter lives in the process that runs the flow, and Prefect
parameters must be serialisable. :func:`reporting` installs one for a ``with`` block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Protocol


class ProgressReporter(Protocol):
    def months(self, total: int) -> None: ...
    def month_started(self, month: date, articles: int) -> None: ...
    def articles_done(self, n: int) -> None: ...
    def month_done(self, month: date) -> None: ...


class _Silent:
    def months(self, total: int) -> None:
        pass

    def month_started(self, month: date, articles: int) -> None:
        pass

    def articles_done(self, n: int) -> None:
        pass

    def month_done(self, month: date) -> None:
        pass


_current: ProgressReporter = _Silent()


def reporter() -> ProgressReporter:
    return _current


@contextmanager
def reporting(progress: ProgressReporter) -> Iterator[ProgressReporter]:
    global _current
    previous, _current = _current, progress
    try:
        yield progress
    finally:
        _current = previous
