"""Being a good guest: a per-host request pacer and the site's robots.txt rules.

The pacer is shared by every task of a run (it is thread-safe and not bound to an event
loop), so a run never exceeds ``rate`` request starts per second per host, whatever
batch or task the requests come from.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

from protego import Protego

# The server sees our requests a few milliseconds later or earlier than we start them;
# pacing a little slower than asked keeps "at most `rate` per second" true at its end too.
PACING_MARGIN = 1.03
PACING_SLACK_S = 0.005


class RequestPacer:
    """Spaces request *starts* at least ``1 / rate`` seconds apart per host (plus a small
    margin, so the site never sees more than ``rate`` requests in any second)."""

    def __init__(self, rate: float, clock: object = time.monotonic) -> None:
        self.interval = PACING_MARGIN / rate + PACING_SLACK_S
        self._clock = clock
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def set_min_interval(self, seconds: float) -> None:
        """Slow down (e.g. to honour a robots.txt ``Crawl-delay``); never speed up."""
        with self._lock:
            self.interval = max(self.interval, seconds)

    def reserve(self, host: str) -> float:
        """Reserve the next start slot for ``host``; returns seconds to wait for it."""
        with self._lock:
            now = self._clock()  # type: ignore[operator]
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.interval
            return slot - now

    def push_back(self, host: str, seconds: float) -> None:
        """Delay every later request to ``host`` (a 429/503 with ``Retry-After``)."""
        with self._lock:
            now = self._clock()  # type: ignore[operator]
            self._next_slot[host] = max(self._next_slot.get(host, now), now + seconds)

    async def wait(self, host: str) -> None:
        delay = self.reserve(host)
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class RobotsRules:
    """Parsed robots.txt; an absent or unreadable file allows everything."""

    user_agent: str
    text: str = ""
    _parser: Protego | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._parser = Protego.parse(self.text) if self.text else None

    @property
    def token(self) -> str:
        """The product token robots.txt groups are matched against (``baolaocai-archiver``)."""
        return self.user_agent.split("/", 1)[0].split()[0]

    def allowed(self, url: str) -> bool:
        return True if self._parser is None else bool(self._parser.can_fetch(url, self.token))

    @property
    def crawl_delay(self) -> float | None:
        if self._parser is None:
            return None
        delay = self._parser.crawl_delay(self.token)
        return float(delay) if delay is not None else None

    @property
    def sitemaps(self) -> list[str]:
        return list(self._parser.sitemaps) if self._parser is not None else []
