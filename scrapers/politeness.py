"""Being a good guest: a per-host request pacer and the site's robots.txt rules.

The pacer is shared by every task of a run (discovery, every batch; it is thread-safe and
not bound to an event loop), so whatever batch or task a request comes from:

* request *starts* to a host are spaced at least :func:`pacing_interval` seconds apart:
  ``PACING_MARGIN / rate`` plus a slack of ``PACING_SLACK_S`` (5 ms) that shrinks with the
  interval (at most 1 % of it), a little slower than asked, so the site never sees more
  than ``rate`` requests in any second, and never a fixed cost that caps a fast rate
  (a fixed 5 ms capped every rate at about 166 requests a second);
* a *hold* on a host (:meth:`RequestPacer.push_back`, set by the fetcher after a 429 or
  503: for its ``Retry-After``, or for the backoff when it has none) means no request to
  that host starts before the hold ends. That includes requests that had already reserved
  a start slot and are sleeping towards it: :meth:`RequestPacer.wait` checks the hold
  again when the slot comes and, if the slot falls inside the hold, takes a fresh slot
  after it. Fresh slots are handed out one interval apart from the hold's end (plus
  ``HOLD_SLACK_S``), so the requests held back resume at the usual pace, not all at once.
* :meth:`RequestPacer.wait` with ``max_hold`` refuses (returns the :class:`Hold`, takes
  no slot) instead of waiting out a hold that has longer than that left to run.

The pacer is one process's. When several processes (workers, machines) crawl one host, a
:class:`HostGate` handed to the fetcher shares the host's rate, in-flight cap, holds and
robots.txt Crawl-delay
among them (``flows.host_gate.PrefectHostGate``, on Prefect global concurrency limits;
this package knows only the Protocol): each request passes the local pacer first, then
the gate.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from protego import Protego

# The server sees our requests a few milliseconds later or earlier than we start them;
# pacing a little slower than asked keeps "at most `rate` per second" true at its end too.
PACING_MARGIN = 1.03
PACING_SLACK_S = 0.005
PACING_SLACK_SHARE = 0.01
# For the same reason a hold lasts a little longer than asked: requests resume
# HOLD_SLACK_S after the instant the site named, never a few milliseconds before it.
HOLD_SLACK_S = 0.025


def pacing_interval(seconds: float) -> float:
    """The spacing used for a wanted spacing of ``seconds`` (see the module docstring)."""
    return seconds * PACING_MARGIN + min(PACING_SLACK_S, seconds * PACING_SLACK_SHARE)


@dataclass(frozen=True)
class Hold:
    """No request to a host may start before ``until`` (an instant of the pacer's clock)."""

    until: float
    asked: float
    """How long the site asked us to wait (seconds), when the hold was set."""

    @property
    def release(self) -> float:
        """When requests may start again: ``until`` plus :data:`HOLD_SLACK_S`."""
        return self.until + HOLD_SLACK_S


class RequestPacer:
    """Spaces request *starts* per host and holds a host back when the site asks us to.

    ``clock`` (monotonic seconds) and ``sleep`` (an async sleep) are injectable for tests.
    ``gate``: the host politeness shared with other processes, which every fetcher using
    this pacer passes after it (None: this process is alone).
    """

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        *,
        gate: HostGate | None = None,
    ) -> None:
        self.gate = gate
        self.interval = pacing_interval(1.0 / rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}
        self._holds: dict[str, Hold] = {}

    def set_min_interval(self, seconds: float) -> None:
        """Slow down (e.g. to honour a robots.txt ``Crawl-delay``); never speed up.

        Slots already handed out keep their time; the next free slot of every host moves
        so that it, too, comes ``seconds`` after the last one (the request right after
        robots.txt is already spaced by its Crawl-delay)."""
        with self._lock:
            grown = seconds - self.interval
            if grown <= 0:
                return
            self.interval = seconds
            for host in self._next_slot:
                self._next_slot[host] += grown

    def _take_slot(self, host: str, now: float) -> float:
        """The next free start slot for ``host`` (an instant), not inside its hold."""
        hold = self._holds.get(host)
        slot = max(now, self._next_slot.get(host, now), hold.release if hold else now)
        self._next_slot[host] = slot + self.interval
        return slot

    def reserve(self, host: str) -> float:
        """Reserve the next start slot for ``host``; returns seconds to wait for it.

        A hold set later does not move this slot; :meth:`wait` checks for that."""
        with self._lock:
            now = self._clock()
            return self._take_slot(host, now) - now

    def push_back(self, host: str, seconds: float) -> float:
        """Hold ``host`` back: no request to it starts in the next ``seconds``.

        Holds only ever grow (a shorter one inside a longer one changes nothing). Slots
        reserved earlier that fall inside the hold are not released by :meth:`wait`.
        Returns how many seconds this call added to the time the host is held back."""
        with self._lock:
            now = self._clock()
            until = now + max(0.0, seconds)
            old = self._holds.get(host)
            held_until = max(now, old.until) if old else now
            if until <= held_until:
                return 0.0
            hold = self._holds[host] = Hold(until, seconds)
            self._next_slot[host] = max(self._next_slot.get(host, now), hold.release)
            return until - held_until

    def hold(self, host: str) -> Hold | None:
        """The hold on ``host`` if it has not ended yet."""
        with self._lock:
            hold = self._holds.get(host)
            return hold if hold is not None and hold.until > self._clock() else None

    def held_for(self, host: str) -> float:
        """Seconds left until the hold on ``host`` ends (0 if it is not held)."""
        with self._lock:
            hold = self._holds.get(host)
            return max(0.0, hold.until - self._clock()) if hold else 0.0

    async def wait(self, host: str, *, max_hold: float | None = None) -> Hold | None:
        """Sleep until this request may start; returns None then.

        The slot is checked again when it comes: if a hold set meanwhile covers it, a
        fresh slot after the hold is taken and waited for. With ``max_hold``, a hold that
        has more than ``max_hold`` seconds left is not waited out: the hold is returned at
        once (before or after sleeping to a slot) and nothing may be sent."""
        slot: float | None = None
        while True:
            with self._lock:
                now = self._clock()
                hold = self._holds.get(host)
                if hold is not None and max_hold is not None and hold.until - now > max_hold:
                    return hold
                if slot is None or (hold is not None and slot < hold.release):
                    slot = self._take_slot(host, now)
                delay = slot - now
            if delay <= 0:
                return None
            await self._sleep(delay)


class HostGate(Protocol):
    """A host's politeness shared by every process crawling it: its request rate, its
    in-flight cap and its holds (``Retry-After``), whatever the number of workers."""

    async def enter(self, host: str) -> float | None:
        """Wait for a shared rate slot and a shared in-flight slot for one request to
        ``host``; None once both are taken. If the host is under a shared hold, take
        nothing and return the seconds left of it: the caller waits them out in its
        pacer (which then holds its other requests too) or refuses, and enters again.

        Raises :class:`~baolaocai.errors.ServiceError` when the shared state cannot be
        reached: the request must not be sent unpaced."""
        ...

    async def leave(self, host: str) -> None:
        """Free the in-flight slot this task took for ``host`` (the answer is read)."""
        ...

    def push_back(self, host: str, seconds: float) -> None:
        """Share a hold: no request to ``host`` starts, in any process, for ``seconds``."""
        ...

    async def share_crawl_delay(self, host: str, seconds: float | None) -> None:
        """Share what ``host``'s robots.txt asks: request starts at least ``seconds``
        apart in all processes together (None: it asks for no Crawl-delay)."""
        ...


DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


@dataclass
class RobotsRules:
    """Parsed robots.txt; empty text (no file: a 4xx answer) allows everything.

    What an *unreachable* robots.txt means is decided by :mod:`scrapers.robots` (RFC 9309:
    everything is disallowed, :meth:`disallow_all`)."""

    user_agent: str
    text: str = ""
    warning: str | None = None
    """Something a user should hear about the file (a 401/403 answer), for the summary."""
    _parser: Protego | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._parser = Protego.parse(self.text) if self.text else None

    @classmethod
    def disallow_all(cls, user_agent: str) -> RobotsRules:
        """Rules that allow nothing: what an unreachable robots.txt stands for."""
        return cls(user_agent, DISALLOW_ALL)

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
