"""Can the site be reached? Asked while the Prefect server starts, so that a crawl of an
unreachable site fails in seconds, not after the server's start-up.

A run's first request is robots.txt; when nothing answers it, the run fails with
``the site at … could not be reached (robots.txt: connection error: …); RFC 9309: …``
after the fetcher's retries (:mod:`scrapers.robots`, :mod:`scrapers.fetch`). This check
makes the connection that request would make (name lookup and TCP connect to the base
URL's host and port, no proxy: the run's client does not use one either), retried as the
fetcher retries a connection error (``settings.retries`` times, the same backoff), and
fails with that same line. It sends **no HTTP request**: the site's request log, the
pacer's accounting and every politeness figure stay what they were; the run then reads
robots.txt itself, as ever.

Imports nothing heavy (it runs beside the server's start-up, before Prefect).
"""

from __future__ import annotations

import asyncio
import random
import threading
from urllib.parse import urlsplit

from baolaocai.errors import BaoLaoCaiError, CrawlError
from baolaocai.settings import Settings

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
"""The fetcher's backoff (:class:`scrapers.fetch.Fetcher` defaults): a check that gives
up sooner than the run would call a site unreachable that the run would have reached."""


class SiteCheck:
    """The check, on a thread of its own: :meth:`start`, then :meth:`failure` (at once:
    the error if the check has failed by now) or :meth:`wait` (raises it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._done = threading.Event()
        self._error: BaoLaoCaiError | None = None
        self._thread = threading.Thread(target=self._run, name="baolaocai-site-check", daemon=True)

    def start(self) -> SiteCheck:
        self._thread.start()
        return self

    def failure(self) -> BaoLaoCaiError | None:
        return self._error if self._done.is_set() else None

    def abort(self) -> None:
        """Raise the check's error if it has failed by now (called while the Prefect
        server starts: the command gives up on it at once)."""
        error = self.failure()
        if error is not None:
            raise error

    def wait(self, timeout: float | None = None) -> None:
        """Until the check is done; raises its error if the site cannot be reached."""
        self._done.wait(timeout)
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            reason = asyncio.run(reach(self.settings))
            if reason is not None:
                self._error = CrawlError(
                    f"the site at {self.settings.base_url} could not be reached (robots.txt:"
                    f" {reason}); RFC 9309: assume everything is disallowed; not crawling"
                )
        except Exception:  # a check that breaks leaves the verdict to the run
            self._error = None
        finally:
            self._done.set()


async def reach(settings: Settings, rng: random.Random | None = None) -> str | None:
    """``None`` when a TCP connection to the site opens (then closed at once), else the
    reason the fetcher would give, after as many attempts as it makes."""
    import httpcore  # httpx's own transport: its error texts are the run's

    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    backend = httpcore.AnyIOBackend()
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            stream = await asyncio.wait_for(
                backend.connect_tcp(host, port, timeout=settings.connect_timeout),
                settings.request_deadline,
            )
        except TimeoutError:
            reason = (
                f"no complete answer within the {settings.request_deadline:g} s deadline"
                " (BAOLAOCAI_REQUEST_DEADLINE)"
            )
        except httpcore.TimeoutException as exc:
            reason = f"timeout ({type(exc).__name__})"
        except (httpcore.NetworkError, OSError) as exc:
            reason = f"connection error: {exc or type(exc).__name__}"
        else:
            await stream.aclose()
            return None
        if attempt > settings.retries:
            return reason
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
        await asyncio.sleep(ceiling / 2 + rng.uniform(0, ceiling / 2))
