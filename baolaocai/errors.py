"""The project's single exception hierarchy.

::

    BaoLaoCaiError                      every error we raise on purpose
    ├── ConfigError                     a bad setting, env var or flag         (terminal)
    ├── InputError                      a file or argument we cannot use       (terminal)
    │   └── NotFoundError               no such article, version or capture
    ├── FetchError                      an HTTP exchange went wrong; has .url
    │   ├── TransientFetchError         worth retrying: timeout, reset, 429, 5xx
    │   └── TerminalFetchError          not worth retrying: 404, 410, off-site redirect
    ├── ParseError                      a page is not an article we can read; has .url
    ├── WarehouseError                  the DuckDB file cannot be opened or written
    │   ├── WarehouseLockedError        another process holds the write lock
    │   └── WarehouseBusyError          another run is writing the warehouse
    ├── CrawlError                      a whole run failed (e.g. the site is unreachable)
    └── ServiceError                    a service we start is missing or will not start
                                        (PostgreSQL for a throwaway cluster)

Each error says whether it is *transient* (retrying may help) or *terminal*. Exactly one
layer owns retries: :mod:`scrapers.fetch` for HTTP; nothing else retries.

Anything else that escapes (a bug) is reported by the CLI and the page pipeline as one
line made by :func:`internal_error`, never as a traceback.
"""

from __future__ import annotations


class BaoLaoCaiError(Exception):
    """Base class of every error the project raises on purpose."""

    transient: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(BaoLaoCaiError):
    """A setting (default, env var or CLI flag) has an unusable value."""


class InputError(BaoLaoCaiError):
    """A user-supplied file or argument cannot be used."""


class NotFoundError(InputError):
    """No such article, version or capture: the CLI says so in one line (exit 2, as any
    bad input), the web app answers 404."""


class FetchError(BaoLaoCaiError):
    """An HTTP exchange failed."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status
        self.reason = message
        """The message without the URL (for records that already carry the URL)."""


class TransientFetchError(FetchError):
    """Timeouts, connection errors, 429 and 5xx: retrying later may succeed."""

    transient = True

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after: float | None = None,
        held: float | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after
        self.held = held
        """Seconds this answer held its whole host back (429/503), set by the fetcher the
        moment the answer was read; None if it held back only its own request."""


class TerminalFetchError(FetchError):
    """404, 410, a redirect off the site, a non-HTML answer: do not retry."""


class ParseError(BaoLaoCaiError):
    """A page cannot be read as an article."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(f"{url}: {message}" if url else message)
        self.url = url


class WarehouseError(BaoLaoCaiError):
    """The DuckDB warehouse cannot be opened, migrated or written."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the DuckDB file for writing."""

    transient = True


class WarehouseBusyError(WarehouseError):
    """Another run holds the warehouse's writer lock (:mod:`warehouse.writer`); ``holder``
    says which (its pid, run id, kind)."""

    transient = True

    def __init__(self, message: str, *, holder: object = None) -> None:
        super().__init__(message)
        self.holder = holder


class CrawlError(BaoLaoCaiError):
    """A crawl run failed as a whole."""


class ServiceError(BaoLaoCaiError):
    """A server we start ourselves (:mod:`flows.pg_cluster`'s PostgreSQL) is not installed
    or does not start: one line saying what to install, or the server's last log line."""


MAX_REASON_CHARS = 300
"""An unexpected error is reported in one line of at most about this many characters."""


def internal_error(exc: BaseException) -> str:
    """``internal error: <Type>: <first line of the message>``: one bounded line for an
    exception nobody raised on purpose (a bug, ``RecursionError``, ``MemoryError`` …)."""
    text = str(exc).strip()
    first = text.splitlines()[0].strip() if text else ""
    if len(first) > MAX_REASON_CHARS:
        first = first[: MAX_REASON_CHARS - 1] + "…"
    name = type(exc).__name__
    return f"internal error: {name}: {first}" if first else f"internal error: {name}"
