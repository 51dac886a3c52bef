"""Politeness held across workers: a host's rate, in-flight cap, Retry-After holds and
robots.txt Crawl-delay shared by every process that crawls it, on a Prefect server.

Each process paces its own requests (:class:`scrapers.politeness.RequestPacer`); W
workers crawling one host would each do so and the site would see W times the rate.
:class:`PrefectHostGate` (a :class:`scrapers.politeness.HostGate`) adds, per request,
after the local pacer and in this order:

* a slot of ``baolaocai-inflight:<host>`` (limit ``inflight``, i.e. the run's
  ``concurrency``; no decay), held with ``prefect.concurrency.asyncio.concurrency``
  under a lease of ``lease_s`` seconds (60, the server's minimum): the worker renews it
  while the request runs (the request deadline is 60 s) and frees it once the answer is
  read. A worker killed mid-request (SIGKILL, a lost machine) frees it by lease expiry:
  the server's repossessor reclaims expired leases every
  ``PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS`` (15 s), so within about 75 s.
* the shared hold, checked: a Prefect Variable per host holds ``{"until": <UTC epoch
  seconds>, "asked": <seconds>}``. A 429/503 (its ``Retry-After``, or its backoff) seen
  by any worker is written there (:meth:`PrefectHostGate.push_back`; holds only grow).
  Each gate reads the holds of its hosts every :data:`HOLD_POLL_S` (0.2 s; a view
  older than :data:`HOLD_STALE_S` is read afresh, or fails), and once more while it
  asks for the request's rate slot: a hold written before that slot was granted (a
  shared interval after the slot of the request that got the 429) stops the request.
  A held host gives its slot back and the hold to the fetcher, which puts it in the local pacer (the worker's
  other requests wait too) and waits it out there, or refuses it past
  ``retry_after_cap``. An old hold is simply in the past: nothing to clean up. Workers
  compare it with their clocks (UTC): keep them synchronised (NTP).
* a slot of ``baolaocai-rate:<host>`` (limit 1, decaying at ``1/shared_interval(rate)``
  slots per second), taken last, in ``rate_limit`` mode: the server grants one slot per
  :func:`shared_interval` whichever worker asks, and the request leaves as the grant's
  answer arrives. Two workers' requests therefore reach the site one shared interval
  apart less the difference in the time the API took to answer them; the shared
  interval is the local pacer's plus :data:`ANSWER_SPREAD_S` (0.15 s), so the site sees
  at least ``1/rate`` between requests as long as the API's answers to two workers
  differ by less than that (milliseconds on one machine or a LAN; a machine loaded far
  beyond its cores can do worse, and then only the schedule holds: the k-th request
  never reaches the site before k shared intervals after the first ask). A *denied*
  ask restarts the server's decay clock (Prefect stamps the limit's ``updated`` on
  every denial), so the gate does not use ``rate_limit``'s own waiting (which asks again
  at random moments after the server's ``Retry-After``): it asks one slot at a time per
  host, when the last granted slot has decayed (the limit's ``updated``, read first),
  and after a denial one shared interval later (see :meth:`PrefectHostGate._take_rate_slot`).
  Workers contending for one host get no more than ``rate`` together, often less.

* robots.txt's Crawl-delay, shared: each run reads robots.txt first and, through
  :meth:`PrefectHostGate.share_crawl_delay`, writes what it asks to a Variable per host
  and slows ``baolaocai-rate:<host>``'s decay to it (never faster than ``rate``): every
  gate paces its asks by the limit's decay, so the site sees the Crawl-delay between any
  two requests, whichever worker sends them. :func:`ensure_host_limits` reads the
  Variable: a run starting later does not speed the host up again.

Names: a global concurrency limit's name may hold anything but ``/ % & < >``, so the
host (``host[:port]``, as in the site's URLs) is used as it is:
``baolaocai-rate:www.baolaocai.vn``. A Variable name may only hold lowercase letters,
digits, ``-`` and ``_``: the hold of ``www.baolaocai.vn`` is
``baolaocai-hold-www_baolaocai_vn-<8 hex of the host's SHA-1>`` (every other character
becomes ``_``; the hash keeps ``a.b`` and ``a_b`` apart).

The limits must exist before a slot is asked for (``strict=True``: a missing limit is an
error, never a request sent unpaced): :func:`ensure_host_limits` creates or updates them
(``baolaocai deploy`` and each run's gate call it; the last caller's rate and cap win).

If the Prefect API cannot be reached, or refuses, the request is not sent: the gate
raises :class:`~baolaocai.errors.ServiceError` naming the reason, which the fetcher turns
into a failed fetch (retried, then recorded, then the run's failure stop). Politeness is
never skipped silently. (A lease renewal that fails while a request runs is logged and
the request finishes; a slot that cannot be freed frees by its lease's expiry.)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.concurrency.asyncio import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import get_current_settings
from prefect.utilities.asyncutils import run_coro_as_sync
from prefect.variables import Variable

from baolaocai.errors import ConfigError, ServiceError
from baolaocai.settings import Settings
from scrapers.politeness import pacing_interval

log = logging.getLogger(__name__)

MIN_LEASE_S = 60.0
"""The shortest lease the Prefect server grants (it refuses less)."""
ANSWER_SPREAD_S = 0.15
"""The margin of the shared interval over the local one: how much later than another
worker's the Prefect API's answer to one worker may come without their requests reaching
the site less than ``1/rate`` apart (see the module docstring; on a busy 2-core machine
running the server and two workers, up to 0.12 s was seen)."""


def shared_interval(rate: float) -> float:
    """Seconds between two rate slots of a host crawled at ``rate``: the local pacer's
    interval (:func:`~scrapers.politeness.pacing_interval`) plus
    :data:`ANSWER_SPREAD_S`."""
    return pacing_interval(1.0 / rate) + ANSWER_SPREAD_S


GRANT_SLACK_S = 0.005
"""A process asks for its next rate slot this long after ``1/rate`` from its previous
grant (the server's clock may run a little ahead of ours)."""
YIELD_S = ANSWER_SPREAD_S
"""How much later than the slot's decay a worker that had the last slot asks again while
another process waits for one (see :meth:`PrefectHostGate._take_rate_slot`): more than
the Prefect API's answers to two workers differ by, so that the other gets it."""
HOLD_POLL_S = 0.2
"""How often a gate reads the holds of the hosts it serves: a hold set by one worker
reaches the others within this plus an API answer."""
HOLD_STALE_S = 5.0
"""A hold read longer ago than this is read again before a request is let through."""
_VARIABLE_CHARS = re.compile(r"[^a-z0-9-]")


def rate_limit_name(host: str) -> str:
    """The global concurrency limit spacing request starts to ``host``."""
    return f"baolaocai-rate:{host}"


def inflight_limit_name(host: str) -> str:
    """The global concurrency limit capping requests in flight to ``host``."""
    return f"baolaocai-inflight:{host}"


def hold_variable_name(host: str) -> str:
    """The Prefect Variable holding ``host``'s shared Retry-After hold (see the module
    docstring for why it is not simply the host)."""
    return _variable_name("hold", host)


def delay_variable_name(host: str) -> str:
    """The Prefect Variable holding the Crawl-delay ``host``'s robots.txt asks for."""
    return _variable_name("delay", host)


def _variable_name(kind: str, host: str) -> str:
    digest = hashlib.sha1(host.encode("utf-8")).hexdigest()[:8]
    readable = _VARIABLE_CHARS.sub("_", host.lower())[:200]
    return f"baolaocai-{kind}-{readable}-{digest}"


def _check_caps(rate: float, inflight: int) -> None:
    if not rate > 0:
        raise ConfigError(f"a shared rate limit needs a rate above 0, not {rate!r}")
    if inflight < 1:
        raise ConfigError(f"a shared in-flight limit needs at least 1 slot, not {inflight!r}")


async def _upsert_limit(client: PrefectClient, name: str, limit: int, decay: float) -> None:
    try:
        current = await client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        try:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=name, limit=limit, slot_decay_per_second=decay, active=True
                )
            )
            return
        except ObjectAlreadyExists:  # another worker created it meanwhile
            current = await client.read_global_concurrency_limit_by_name(name)
    if (current.limit, current.slot_decay_per_second, current.active) != (limit, decay, True):
        await client.update_global_concurrency_limit(
            name,
            GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay, active=True),
        )


async def ensure_host_limits(
    client: PrefectClient, host: str, *, rate: float, inflight: int
) -> None:
    """Create or update (idempotent) ``host``'s two limits on the Prefect server behind
    ``client``: ``baolaocai-rate:<host>`` (limit 1, one slot decaying per
    :func:`shared_interval` of ``rate``: 0.84 a second at 1 request a second) and
    ``baolaocai-inflight:<host>`` (limit ``inflight``, no decay). Both are made active.
    ``host`` is ``host[:port]`` as in the site's URLs (``urlsplit(url).netloc``). A
    Crawl-delay shared for the host (:meth:`PrefectHostGate.share_crawl_delay`) longer
    than ``1/rate`` slows the rate limit to it: a run starting never speeds the host up
    past what its robots.txt asked of another run."""
    _check_caps(rate, inflight)
    interval = shared_interval(rate)
    delay = _seconds(await Variable.aget(delay_variable_name(host), default=None))
    if delay is not None:  # robots.txt's Crawl-delay, as the last run that read it shared
        interval = max(interval, pacing_interval(delay) + ANSWER_SPREAD_S)
    await _upsert_limit(client, rate_limit_name(host), 1, 1.0 / interval)
    await _upsert_limit(client, inflight_limit_name(host), inflight, 0.0)


def prefect_api_url() -> str | None:
    """The Prefect API this process talks to (None: an ephemeral, in-process one)."""
    url = get_current_settings().api.url
    return str(url) if url else None


def _seconds(value: Any) -> float | None:
    """The ``seconds`` of a Crawl-delay Variable's value (None: none, or not ours)."""
    if isinstance(value, dict) and isinstance(value.get("seconds"), int | float):
        seconds = float(value["seconds"])
        return seconds if math.isfinite(seconds) and seconds > 0 else None
    return None


def _until(value: Any) -> float | None:
    """The ``until`` of a hold Variable's value (None: no hold, or not one of ours)."""
    if isinstance(value, dict) and isinstance(value.get("until"), int | float):
        return float(value["until"])
    return None


class PrefectHostGate:
    """A :class:`scrapers.politeness.HostGate` on the Prefect server of this process's
    settings (``PREFECT_API_URL``). One per run; used on the run's event loop.

    ``clock`` (UTC epoch seconds) is injectable for tests."""

    def __init__(
        self,
        rate: float,
        inflight: int,
        *,
        lease_s: float = MIN_LEASE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_caps(rate, inflight)
        if lease_s < MIN_LEASE_S:
            raise ConfigError(f"the Prefect server grants leases of {MIN_LEASE_S:g} s or more")
        self.rate = rate
        self.inflight = inflight
        self.interval = shared_interval(rate)
        self.lease_s = lease_s
        self._clock = clock
        self._ready: set[str] = set()
        self._slots: dict[tuple[str, int], list[AsyncExitStack]] = {}
        """The in-flight slots held, by host and by the asyncio task holding them: a
        slot's lease context is left in the task that entered it."""
        self._pushes: set[asyncio.Task[None]] = set()
        self._failure: str | None = None
        self._until: dict[str, float] = {}
        """Each host's hold as last read or set here (UTC epoch seconds)."""
        self._read_at: dict[str, float] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._granted: dict[str, float] = {}
        """When this process was last granted a rate slot per host (UTC epoch seconds)."""
        self._rate_locks: dict[tuple[str, int], asyncio.Lock] = {}

    @contextmanager
    def _api(self, what: str, host: str) -> Iterator[None]:
        """Any failure of the Prefect API as one :class:`ServiceError` naming it."""
        try:
            yield
        except ServiceError:
            raise
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise ServiceError(
                f"shared politeness for {host}: cannot {what} on the Prefect API at"
                f" {prefect_api_url() or '(ephemeral)'}: {reason or type(exc).__name__}"
            ) from exc

    async def ensure(self, host: str) -> None:
        """Create or update ``host``'s limits (once per gate and host)."""
        if host in self._ready:
            return
        with self._api("create its concurrency limits", host):
            async with get_client() as client:
                await ensure_host_limits(client, host, rate=self.rate, inflight=self.inflight)
        self._ready.add(host)

    async def read_hold(self, host: str) -> float:
        """Read ``host``'s shared hold from the server; the seconds left of it (0: none)."""
        with self._api("read its Retry-After hold", host):
            until = _until(await Variable.aget(hold_variable_name(host), default=None))
        self._until[host] = max(until or 0.0, self._until.get(host, 0.0))
        self._read_at[host] = time.monotonic()
        return self._left(host)

    def _left(self, host: str) -> float:
        return max(0.0, self._until.get(host, 0.0) - self._clock())

    async def _watch(self, host: str) -> None:
        """Keep ``host``'s hold as the server has it, every :data:`HOLD_POLL_S`: a
        request checks it just before it is sent without waiting for the API."""
        failing = False
        while True:
            await asyncio.sleep(HOLD_POLL_S)
            try:
                await self.read_hold(host)
                failing = False
            except ServiceError as exc:
                if not failing:  # once per outage; enter fails once the hold is stale
                    log.warning("%s", exc.message)
                failing = True

    async def _hold_left(self, host: str) -> float:
        """Seconds left of ``host``'s hold as last read, read afresh when that is older
        than :data:`HOLD_STALE_S` (the watcher cannot reach the API): a request is never
        sent on a stale view of the hold."""
        watcher = self._watchers.get(host)
        if watcher is None or watcher.done():
            self._watchers[host] = asyncio.get_running_loop().create_task(
                self._watch(host), name=f"baolaocai-hold-watch-{host}"
            )
        if time.monotonic() - self._read_at.get(host, -HOLD_STALE_S) >= HOLD_STALE_S:
            return await self.read_hold(host)
        return self._left(host)

    async def _take_rate_slot(self, host: str) -> None:
        """One slot of ``host``'s rate limit, asked for one at a time per process and
        host, and only when it can be granted: once the slot the server granted last has
        decayed (the limit's ``updated`` plus a shared interval, on the server's clock)
        and a shared interval after this process's own last grant; after a denial (another
        worker got that slot), a shared interval later.

        Not ``rate_limit``'s own waiting: it asks again after the ``Retry-After`` the
        server suggests, at a random moment, and a denied ask restarts the server's
        decay clock (see the module docstring): two workers on one host kept pushing each
        other's slots back, and the one that had the rhythm got every slot while the
        other waited for it to finish (measured: all 8 requests of one, then all 8 of the
        other, at 0.9 requests a second for a rate of 2).

        Taking turns: a worker that was granted a slot before and finds in-flight
        slots of the host held by other processes (each request takes its in-flight
        slot before it asks for a rate slot: someone else is waiting) asks
        :data:`YIELD_S` later than the slot decays, so the one waiting gets it. A denied
        ask does not move the limit's clock, so without that the worker that had the
        rhythm kept winning by the few milliseconds its grant came before the other's
        denial. Alone, a worker holds every in-flight slot itself and loses nothing."""
        name = rate_limit_name(host)
        loop = asyncio.get_running_loop()
        lock = self._rate_locks.setdefault((host, id(loop)), asyncio.Lock())
        async with lock, get_client() as client:
            with self._api("read its rate limit", host):
                limit = await client.read_global_concurrency_limit_by_name(name)
                inflight = await client.read_global_concurrency_limit_by_name(
                    inflight_limit_name(host)
                )
            # The limit's decay is the host's interval for every worker: slower than
            # this run's rate when a robots.txt Crawl-delay was shared.
            interval = self.interval
            if limit.slot_decay_per_second:
                interval = max(interval, 1.0 / limit.slot_decay_per_second)
            mine = self._granted.get(host)
            last = -math.inf if mine is None else mine
            if limit.active_slots and limit.updated is not None:
                last = max(last, limit.updated.timestamp())
            # In-flight slots of the host held by other processes: their requests are
            # waiting for a rate slot (or being answered). One that was granted the
            # last slot then lets them ask first. Without this, the worker that had the
            # rhythm got every slot and the other waited for it to finish (seen: a
            # worker's first request 43 s late, after all of the other's 60).
            held_here = 1 + sum(len(v) for (h, _), v in self._slots.items() if h == host)
            others = inflight.active_slots > held_here
            yielding = YIELD_S if others and mine is not None else 0.0
            wait = last + interval + GRANT_SLACK_S + yielding - self._clock()
            while True:
                if wait > 0:
                    await asyncio.sleep(wait)
                # The hold is read as the slot is asked for: a hold another worker
                # wrote before this grant (a shared interval after its own) is seen,
                # and the grant's answer is not kept waiting for it.
                reading = loop.create_task(self.read_hold(host))
                try:
                    with self._api("take a rate slot", host):
                        granted = await client.increment_concurrency_slots(
                            names=[name], slots=1, mode="rate_limit"
                        )
                except ServiceError as exc:
                    await asyncio.gather(reading, return_exceptions=True)
                    cause = exc.__cause__
                    if not (
                        isinstance(cause, httpx.HTTPStatusError)
                        and cause.response.status_code == 423  # Locked: not yet
                    ):
                        raise
                    wait = interval + GRANT_SLACK_S
                    continue
                await reading
                if not granted.json():
                    raise ServiceError(
                        f"shared politeness for {host}: the Prefect API has no concurrency"
                        f" limit {name} (deleted while the run went on?)"
                    )
                self._granted[host] = self._clock()
                return

    async def enter(self, host: str) -> float | None:
        """Take an in-flight slot, then a rate slot, for one request to ``host``; None
        then. The rate slot comes last, right before the request is sent: the time from
        the grant to the site is one API answer, the same for every worker.

        If the host is under a shared hold, the slots are given back and the seconds
        left of the hold are returned: the caller waits them out (or refuses) and enters
        again. Raises :class:`ServiceError` if the Prefect API fails."""
        if self._failure is not None:
            raise ServiceError(self._failure)
        if self._pushes:
            await asyncio.gather(*self._pushes, return_exceptions=True)
            if self._failure is not None:
                raise ServiceError(self._failure)
        await self.ensure(host)
        stack = AsyncExitStack()
        with self._api("take an in-flight slot", host):
            await stack.enter_async_context(
                concurrency(
                    inflight_limit_name(host),
                    lease_duration=self.lease_s,
                    strict=True,
                    # A renewal that fails cancels nothing: the request ends within its
                    # deadline (60 s, the lease) and the next one fails loudly here.
                    raise_on_lease_renewal_failure=False,
                )
            )
        try:
            left = await self._hold_left(host)
            if left <= 0:
                await self._take_rate_slot(host)
                left = self._left(host)  # a hold that came while we waited for the slot
        except BaseException:
            await stack.aclose()
            raise
        if left > 0:
            with self._api("give back an in-flight slot", host):
                await stack.aclose()
            return left
        self._slots.setdefault(self._key(host), []).append(stack)
        return None

    async def leave(self, host: str) -> None:
        """Free the in-flight slot the current task took for ``host``."""
        stacks = self._slots.get(self._key(host))
        if not stacks:
            return
        stack = stacks.pop()
        if not stacks:
            del self._slots[self._key(host)]
        with self._api("free an in-flight slot", host):
            await stack.aclose()

    async def share_crawl_delay(self, host: str, seconds: float | None) -> None:
        """Share what ``host``'s robots.txt asks: request starts ``seconds`` apart
        (None: no Crawl-delay). Written to the host's delay Variable, and the rate
        limit's decay follows it at once (every gate paces its asks by that decay, and
        every run starting later reads the Variable when it makes the limits), so the
        host sees the Crawl-delay whatever the number of workers. A robots.txt without
        one removes it: the last run to read the file speaks for it."""
        name = delay_variable_name(host)
        with self._api("share its robots.txt Crawl-delay", host):
            if seconds is not None and seconds > 0:
                await Variable.aset(name, {"seconds": seconds}, overwrite=True)
            else:
                await Variable.aunset(name)
            async with get_client() as client:
                await ensure_host_limits(client, host, rate=self.rate, inflight=self.inflight)
        self._ready.add(host)

    def push_back(self, host: str, seconds: float) -> None:
        """Share a hold of ``seconds`` on ``host`` (written in the background on the
        running event loop; the next :meth:`enter` waits for it, and fails if it could
        not be written)."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        task = asyncio.get_running_loop().create_task(self._push(host, until, seconds))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _push(self, host: str, until: float, asked: float) -> None:
        """Write the hold unless a longer one is known (as read at most
        :data:`HOLD_POLL_S` ago): one API call, so that the other workers see it before
        their next rate slot. Two workers writing within that time may leave the
        shorter of their two holds (a Variable has no compare-and-set); the site asked
        both, usually for the same time."""
        name = hold_variable_name(host)
        if self._until.get(host, 0.0) >= until:  # as last read (every HOLD_POLL_S)
            return
        try:
            with self._api("share a Retry-After hold", host):
                await Variable.aset(name, {"until": until, "asked": asked}, overwrite=True)
            self._until[host] = max(until, self._until.get(host, 0.0))
        except ServiceError as exc:
            log.error("%s", exc.message)
            self._failure = exc.message

    def _key(self, host: str) -> tuple[str, int]:
        task = asyncio.current_task()
        return host, id(task)


def shared_politeness_wanted(
    setting: str, *, api_url: str | None, deployment_id: str | None
) -> bool:
    """Whether a run shares its hosts' politeness (``settings.shared_politeness``).

    ``auto``: in a flow run of a deployment (``deployment_id``) on the Prefect server of
    ``PREFECT_API_URL`` (``api_url``): where workers meet. A command's own run is not one
    (the CLI sets ``PREFECT_API_URL`` to the warehouse folder's private API server, and
    Prefect's temporary server shares nothing). ``on`` without a server raises
    :class:`ConfigError`: nothing could be shared, and nothing has been fetched yet."""
    if setting == "off":
        return False
    if setting == "on":
        if not api_url:
            raise ConfigError(
                "shared politeness is on (BAOLAOCAI_SHARED_POLITENESS=on) but there is no"
                " Prefect server to share it through: set PREFECT_API_URL"
            )
        return True
    return bool(api_url) and deployment_id is not None


def host_gate_for(settings: Settings) -> PrefectHostGate | None:
    """The run's gate when shared politeness is wanted (None otherwise), its site's
    limits created or updated on the server before anything is fetched. Call it in a
    flow (it reads the flow run's deployment)."""
    from prefect.runtime import deployment

    wanted = shared_politeness_wanted(
        settings.shared_politeness,
        api_url=os.environ.get("PREFECT_API_URL"),
        deployment_id=deployment.id,
    )
    if not wanted:
        return None
    gate = PrefectHostGate(settings.rate, settings.concurrency)
    run_coro_as_sync(gate.ensure(urlsplit(settings.base_url).netloc))
    return gate
