"""What a long command shows while it runs: a live display on a terminal, plain log lines
elsewhere (cron, systemd, CI, a pipe), nothing with ``--quiet``.

The display (rich) shows the phase, discovery pages read and articles found, then
articles done of the total with stored/failed, the rate and an ETA from the politeness
rate (requests left x the pacing interval), and a line whenever the site slows the run
(``Retry-After``, ``Crawl-delay``). Without a terminal: one line per phase, per batch and
per slow-down, with a time stamp and no control characters.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from baolaocai.progress import RunObserver, Silent, observing


def _eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class RunCounts:
    """The numbers both displays show."""

    def __init__(self) -> None:
        self.pages_read = 0
        self.found = 0
        self.total = 0
        self.done = 0
        self.stored = 0
        self.failed = 0
        self.interval = 1.0
        self.started = time.monotonic()

    def eta(self) -> str:
        """Requests left x the pacing interval (the site's pace, not ours, is the limit)."""
        return _eta((self.total - self.done) * self.interval)


class LineObserver(Silent):
    """Plain lines for logs: one per phase, batch, month and slow-down."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.counts = RunCounts()
        self._last_discovery_line = 0.0
        self._work = "fetching"
        """What the batches do: ``fetching``, or ``reparsing`` (stored pages, no request)."""

    def _line(self, text: str) -> None:
        self.stream.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
        self.stream.flush()

    def _done(self) -> str:
        """``N of M done``, or ``N done`` when the total is not known (a reparse)."""
        c = self.counts
        return f"{c.done} of {c.total} done" if c.total else f"{c.done} done"

    def phase(self, name: str) -> None:
        c = self.counts
        if name == "reparsing":
            self._work = name
        if name == "closing" and (c.done or c.total):
            self._line(f"closing: {self._done()}, {c.stored} stored, {c.failed} failed")
        else:  # nothing counted here (a reparse whose parts ran elsewhere): no numbers
            self._line(f"{name} …")

    def page_read(self, articles_found: int) -> None:
        c = self.counts
        c.pages_read += 1
        c.found = articles_found
        now = time.monotonic()
        if now - self._last_discovery_line >= 30:  # a sign of life, not a flood
            self._last_discovery_line = now
            self._line(f"discovery: {c.pages_read} pages read, {c.found} articles found")

    def planned(self, new: int, retries: int, rechecks: int, interval_s: float) -> None:
        c = self.counts
        c.total += new + retries + rechecks
        c.interval = interval_s
        self._line(
            f"planned: {c.pages_read} pages read, {c.found} articles found; fetching"
            f" {new} new, {retries} retries, {rechecks} rechecks (about {c.eta()} at"
            f" {interval_s:.2f} s per request)"
        )

    def fetched(self, pages: int, stored: int, failed: int) -> None:
        c = self.counts
        c.done += pages
        c.stored += stored
        c.failed += failed
        self._line(
            f"{self._work}: {self._done()}, {c.stored} stored, {c.failed} failed"
            + (f", about {c.eta()} left" if c.total else "")
        )

    def slowed(self, reason: str, seconds: float) -> None:
        self._line(f"slowed by the site: {reason}, {seconds:.1f} s")

    def months(self, total: int) -> None:
        self._line(f"backfill: {total} months to fill")

    def month_started(self, month: date, articles: int) -> None:
        self.counts.total += articles
        self._line(f"month {month:%Y-%m}: {articles} articles to fetch")

    def month_done(self, month: date) -> None:
        self._line(f"month {month:%Y-%m} done")


class RichObserver(Silent):
    """A live display on a terminal."""

    def __init__(self, console: Console) -> None:
        self.counts = RunCounts()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task("starting", total=None, detail="")
        self.months_task: TaskID | None = None

    def _show(self, description: str | None = None) -> None:
        c = self.counts
        detail = (
            f"stored {c.stored}, failed {c.failed}, ETA {c.eta()}"
            if c.total
            else f"{c.pages_read} pages read, {c.found} articles found"
        )
        fields: dict[str, object] = {"detail": detail, "completed": c.done}
        if c.total:
            fields["total"] = c.total
        if description:
            fields["description"] = description
        self.progress.update(self.task, **fields)  # type: ignore[arg-type]

    def phase(self, name: str) -> None:
        self._show(name)

    def page_read(self, articles_found: int) -> None:
        self.counts.pages_read += 1
        self.counts.found = articles_found
        self._show()

    def planned(self, new: int, retries: int, rechecks: int, interval_s: float) -> None:
        c = self.counts
        c.total += new + retries + rechecks
        c.interval = interval_s
        self.progress.console.print(
            f"{c.found} articles found; fetching {new} new, {retries} retries,"
            f" {rechecks} rechecks (about {c.eta()} at {interval_s:.2f} s per request)"
        )
        self._show("fetching")

    def fetched(self, pages: int, stored: int, failed: int) -> None:
        c = self.counts
        c.done += pages
        c.stored += stored
        c.failed += failed
        self._show()

    def slowed(self, reason: str, seconds: float) -> None:
        self.progress.console.print(
            f"[yellow]slowed by the site:[/yellow] {reason}, {seconds:.1f} s"
        )

    def months(self, total: int) -> None:
        self.months_task = self.progress.add_task("months", total=total, detail="")

    def month_started(self, month: date, articles: int) -> None:
        self.counts.total += articles
        self._show(f"fetching {month:%Y-%m}")

    def month_done(self, month: date) -> None:
        if self.months_task is not None:
            self.progress.advance(self.months_task, 1)


@contextmanager
def watching(console: Console, *, quiet: bool = False) -> Iterator[RunObserver]:
    """Install the right observer for this terminal (or none) for a ``with`` block."""
    live: AbstractContextManager[object]
    if quiet:
        observer: RunObserver = Silent()
        live = nullcontext()
    elif console.is_terminal:
        rich_observer = RichObserver(console)
        observer, live = rich_observer, rich_observer.progress
    else:
        observer, live = LineObserver(), nullcontext()
    with live, observing(observer):
        yield observer
