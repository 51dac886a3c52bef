"""What a run is doing, for whoever watches: the CLI's progress display or its log lines.

Every layer may report (discovery pages read, a ``Retry-After`` hold, a batch stored);
nobody has to listen. The observer is per process, not a parameter: a run's steps may be
Prefect tasks in other threads, and Prefect parameters must be serialisable.
:func:`observing` installs one for a ``with`` block; :func:`current` is what reporters
call. The default observer does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Protocol


class RunObserver(Protocol):
    def phase(self, name: str) -> None:
        """A phase begins: ``robots``, ``discovery``, ``fetching``, ``closing``."""

    def page_read(self, articles_found: int) -> None:
        """Discovery read one more page (sitemap, feed, listing); ``articles_found`` so far."""

    def planned(self, new: int, retries: int, rechecks: int, interval_s: float) -> None:
        """The fetch plan; ``interval_s`` is the pacing interval (for an ETA)."""

    def fetched(self, pages: int, stored: int, failed: int) -> None:
        """One more batch of ``pages`` fetched and loaded."""

    def slowed(self, reason: str, seconds: float) -> None:
        """The site slows the run down (``Retry-After``, ``Crawl-delay``)."""

    def months(self, total: int) -> None: ...
    def month_started(self, month: date, articles: int) -> None: ...
    def month_done(self, month: date) -> None: ...


class Silent:
    """The default: nobody watches."""

    def phase(self, name: str) -> None:
        pass

    def page_read(self, articles_found: int) -> None:
        pass

    def planned(self, new: int, retries: int, rechecks: int, interval_s: float) -> None:
        pass

    def fetched(self, pages: int, stored: int, failed: int) -> None:
        pass

    def slowed(self, reason: str, seconds: float) -> None:
        pass

    def months(self, total: int) -> None:
        pass

    def month_started(self, month: date, articles: int) -> None:
        pass

    def month_done(self, month: date) -> None:
        pass


_current: RunObserver = Silent()


def current() -> RunObserver:
    return _current


@contextmanager
def observing(observer: RunObserver) -> Iterator[RunObserver]:
    global _current
    previous, _current = _current, observer
    try:
        yield observer
    finally:
        _current = previous
