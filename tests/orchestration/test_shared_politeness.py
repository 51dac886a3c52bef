"""Politeness held across worker processes, on a real Prefect server.

Worker processes (tests/orchestration/host_gate_worker.py, each a Python process of its
own, as flow runs on ``prefect worker`` are) fetch from one loopback site through
:class:`flows.host_gate.PrefectHostGate`; the site logs when each request arrived and
when its answer was sent (``time.time()``: one clock for every process on the machine).
The assertions read that log, not the workers' opinion of themselves.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import clean_env

from baolaocai.errors import ConfigError
from flows.host_gate import (
    ANSWER_SPREAD_S,
    MIN_LEASE_S,
    ensure_host_limits,
    hold_variable_name,
    inflight_limit_name,
    rate_limit_name,
    shared_interval,
    shared_politeness_wanted,
)
from flows.prefect_server import LocalPrefectServer
from scrapers.politeness import pacing_interval

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("host_gate_worker.py")
PAGE = (
    "<html><head><meta charset='utf-8'><title>Lễ hội xuống đồng ở Bản Lầu</title></head>"
    "<body><p>Người Giáy ở Bản Lầu mở hội xuống đồng đầu xuân.</p></body></html>"
).encode()
RETRY_AFTER_S = 3
SLOW_S = 0.4


@dataclass(frozen=True)
class Hit:
    path: str
    started: float
    finished: float
    status: int


class LoggingSite:
    """A loopback site that logs every request; ``/busy`` answers its first request with
    a 429 (``Retry-After: 3``), ``/slow-…`` takes :data:`SLOW_S` to answer, ``/hang``
    answers only when the site stops, ``/robots.txt`` is ``robots``."""

    def __init__(self, robots: str = "User-agent: *\nDisallow:\n") -> None:
        self.robots = robots
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.busy_answered = False
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                started = time.time()
                status, headers = 200, {"content-type": "text/html; charset=utf-8"}
                if self.path == "/busy":
                    with site.lock:
                        first, site.busy_answered = not site.busy_answered, True
                    if first:
                        status, headers = 429, {"retry-after": str(RETRY_AFTER_S)}
                elif self.path.startswith("/slow-"):
                    time.sleep(SLOW_S)
                elif self.path == "/robots.txt":
                    headers = {"content-type": "text/plain"}
                elif self.path == "/hang":
                    with site.lock:
                        site.hits.append(Hit(self.path, started, float("inf"), 0))
                    site.stopping.wait(600)
                    return
                body = PAGE if status == 200 else b""
                if self.path == "/robots.txt":
                    body = site.robots.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                with site.lock:
                    site.hits.append(Hit(self.path, started, time.time(), status))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def log(self) -> list[Hit]:
        with self.lock:
            return sorted(self.hits, key=lambda h: h.started)

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[LoggingSite]:
    server = LoggingSite()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrefectServer]:
    """A Prefect server with its services: the repossessor frees expired leases every
    second here (15 s by default)."""
    saved = os.environ.get("PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS")
    os.environ["PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS"] = "1"
    try:
        server = LocalPrefectServer(tmp_path_factory.mktemp("prefect-server")).start()
    finally:
        if saved is None:
            os.environ.pop("PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS")
        else:
            os.environ["PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS"] = saved
    try:
        yield server
    finally:
        server.stop()


def start_worker(
    api_url: str, home: Path, site: LoggingSite, paths: list[str], **job: object
) -> subprocess.Popen[str]:
    job = {"base_url": site.url, "paths": paths, **job}
    env = clean_env(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    return subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(job)],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def together(workers: list[subprocess.Popen[str]]) -> float:
    """Let workers started with ``wait_for_go`` go at once, when all are ready; returns
    the instant (``time.time()``) before which none of them asked the gate for a slot."""
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    go = time.time()
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return go


def results(worker: subprocess.Popen[str], timeout: float = 300) -> list[dict[str, object]]:
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err[-3000:]
    pages: list[dict[str, object]] = json.loads(out.strip().splitlines()[-1])
    return pages


def max_overlap(hits: list[Hit]) -> int:
    """The most requests the site was answering at once."""
    edges = sorted([(h.started, 1) for h in hits] + [(h.finished, -1) for h in hits])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


@pytest.mark.slow
def test_two_workers_keep_one_hosts_rate_and_in_flight_cap(
    prefect: LocalPrefectServer, tmp_path: Path
) -> None:
    rate = 2.0
    site = LoggingSite()
    try:
        workers = [
            start_worker(
                prefect.api_url,
                tmp_path / f"home-{name}",
                site,
                [f"/{name}-tin-{n}" for n in range(8)],
                rate=rate,
                inflight=4,
                concurrency=2,
                wait_for_go=True,
            )
            for name in ("a", "b")
        ]
        go = together(workers)
        pages = [p for w in workers for p in results(w)]
        hits = site.log()
    finally:
        site.stop()
    assert all(p["status"] == 200 for p in pages), pages
    assert len(hits) == 16
    # The server grants the host's rate slots one shared interval apart, and a request
    # reaches the site after its grant, which came after "go": so the k-th request of
    # the two workers together never arrives before go + k intervals, however loaded the
    # machine. Unshared, each worker keeps only its own pace and the pair runs ahead of
    # this schedule by half (4 requests a second where 2 are allowed).
    # (The server keeps times to the millisecond: each interval may look 1 ms short.)
    interval = shared_interval(rate) - 0.001
    assert shared_interval(rate) == pytest.approx(pacing_interval(1 / rate) + ANSWER_SPREAD_S)
    early = [
        (k, round(h.started - go, 3)) for k, h in enumerate(hits) if h.started < go + k * interval
    ]
    assert not early, f"ahead of the shared schedule ({interval:.3f} s a slot): {early}"
    gaps = [later.started - h.started for h, later in itertools.pairwise(hits)]
    print(f"gaps: min {min(gaps):.3f} s, mean {sum(gaps) / len(gaps):.3f} s (1/rate 0.5 s)")
    # They take turns: unfair, the worker that had the rhythm got every slot until it was
    # done (all 8 of one, then all 8 of the other).
    first_half = [h.path.split("-")[0] for h in hits[:8]]
    assert min(first_half.count("/a"), first_half.count("/b")) >= 3, [h.path for h in hits]

    site = LoggingSite()
    try:
        workers = [
            start_worker(
                prefect.api_url,
                tmp_path / f"home-{name}",
                site,
                [f"/slow-{name}-{n}" for n in range(4)],
                rate=50.0,
                inflight=1,
                concurrency=2,
                wait_for_go=True,
            )
            for name in ("a", "b")
        ]
        together(workers)
        pages = [p for w in workers for p in results(w)]
        hits = site.log()
    finally:
        site.stop()
    assert all(p["status"] == 200 for p in pages), pages
    # Unshared, each worker would have 2 in flight (4 at the site): the cap is 1.
    assert len(hits) == 8 and max_overlap(hits) == 1


@pytest.mark.slow
def test_a_retry_after_seen_by_one_worker_holds_the_other(
    prefect: LocalPrefectServer, site: LoggingSite, tmp_path: Path
) -> None:
    common: dict[str, object] = {
        "rate": 2.0,
        "inflight": 4,
        "concurrency": 2,
        "wait_for_go": True,
    }
    b = start_worker(
        prefect.api_url, tmp_path / "b", site, [f"/b-tin-{n}" for n in range(60)], **common
    )
    a = start_worker(prefect.api_url, tmp_path / "a", site, ["/busy"], **common)
    together([b])
    deadline = time.monotonic() + 120
    while sum(h.path.startswith("/b-") for h in site.log()) < 2:
        assert time.monotonic() < deadline and b.poll() is None, "worker B never started"
        time.sleep(0.05)
    together([a])  # A's 429 comes in the middle of B's crawl
    a_pages, b_pages = results(a), results(b)
    assert a_pages[0]["status"] == 200 and all(p["status"] == 200 for p in b_pages)
    hits = site.log()
    busy = [h for h in hits if h.status == 429]
    assert len(busy) == 1
    held_from, held_to = busy[0].finished, busy[0].finished + RETRY_AFTER_S
    inside = [h for h in hits if held_from < h.started < held_to]
    assert not inside, [(h.path, round(h.started - held_from, 3)) for h in inside]
    b_starts = [h.started for h in hits if h.path.startswith("/b-")]
    assert min(b_starts) < held_from and max(b_starts) > held_to, "B was not crawling then"


CRAWL_DELAY_S = 1.0


@pytest.mark.slow
def test_a_crawl_delay_read_by_one_worker_spaces_every_workers_requests(
    prefect: LocalPrefectServer, tmp_path: Path
) -> None:
    """robots.txt asks for a Crawl-delay far longer than the run's rate: each worker's
    pacer obeys it, and so do both together (unshared, the site saw two requests per
    Crawl-delay). B starts once A has read robots.txt: B's own first request, its
    robots.txt, already keeps to what A shared."""
    site = LoggingSite(robots=f"User-agent: *\nCrawl-delay: {CRAWL_DELAY_S:g}\n")
    common: dict[str, object] = {
        "rate": 10.0,
        "inflight": 4,
        "concurrency": 2,
        "wait_for_go": True,
        "read_robots": True,
    }
    try:
        # A crawls long enough (10 requests, 12 s or more) for B, started once A is
        # crawling, to be crawling too whatever the load on the machine.
        a = start_worker(
            prefect.api_url, tmp_path / "a", site, [f"/a-tin-{n}" for n in range(10)], **common
        )
        b = start_worker(
            prefect.api_url, tmp_path / "b", site, [f"/b-tin-{n}" for n in range(5)], **common
        )
        together([a])
        deadline = time.monotonic() + 120
        while not any(h.path.startswith("/a-") for h in site.log()):
            assert time.monotonic() < deadline and a.poll() is None, "worker A never started"
            time.sleep(0.05)
        together([b])
        pages = results(a) + results(b)
        hits = site.log()
    finally:
        site.stop()
    assert all(p["status"] == 200 for p in pages), pages
    assert [h.path for h in hits].count("/robots.txt") == 2 and len(hits) == 17
    a_starts = [h.started for h in hits if h.path.startswith("/a-")]
    b_starts = [h.started for h in hits if h.path.startswith("/b-")]
    assert min(b_starts) < max(a_starts), "the two workers did not crawl together"
    # (The server keeps times to the millisecond: a gap may look 1 ms short.)
    gaps = [
        (later.path, round(later.started - h.started, 3)) for h, later in itertools.pairwise(hits)
    ]
    short = [(path, gap) for path, gap in gaps if gap < CRAWL_DELAY_S - 0.001]
    assert not short, f"requests closer than the Crawl-delay of {CRAWL_DELAY_S:g} s: {short}"


@pytest.mark.slow
def test_a_killed_workers_in_flight_slot_frees_by_lease_expiry(
    prefect: LocalPrefectServer, site: LoggingSite, tmp_path: Path
) -> None:
    common: dict[str, object] = {"rate": 10.0, "inflight": 1, "concurrency": 1}
    a = start_worker(prefect.api_url, tmp_path / "a", site, ["/hang"], say_entered=True, **common)
    assert a.stdout is not None
    assert a.stdout.readline().strip() == "entered", a.stderr.read() if a.stderr else ""
    deadline = time.monotonic() + 60
    while not any(h.path == "/hang" for h in site.log()):
        assert time.monotonic() < deadline, "the held request never reached the site"
        time.sleep(0.05)
    os.killpg(a.pid, signal.SIGKILL)  # mid-request, its in-flight slot taken
    a.wait(timeout=30)
    hang = site.log()[0]
    b = start_worker(prefect.api_url, tmp_path / "b", site, ["/after-tin"], **common)
    pages = results(b, timeout=MIN_LEASE_S + 120)
    assert pages[0]["status"] == 200, pages
    after = [h for h in site.log() if h.path == "/after-tin"]
    assert len(after) == 1
    # The slot was held until the lease (60 s from A's last renewal, at its start) ran
    # out, then given to B: unshared, B's request would have come within seconds.
    assert after[0].started - hang.started >= MIN_LEASE_S - 5, after[0].started - hang.started


@pytest.mark.slow
def test_an_unreachable_prefect_api_fails_the_fetch_naming_it(
    site: LoggingSite, tmp_path: Path
) -> None:
    dead = "http://127.0.0.1:9/api"
    w = start_worker(dead, tmp_path / "w", site, ["/tin-1"], rate=5.0, inflight=1)
    pages = results(w)
    assert site.log() == [], "a request went out without the shared politeness"
    error = str(pages[0]["error"])
    assert "shared politeness for" in error and dead in error, error


@pytest.mark.slow
def test_ensure_host_limits_creates_then_updates(prefect: LocalPrefectServer) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    host = "bao.example.vn:8443"

    async def limits(rate: float, inflight: int) -> list[tuple[int, float, bool]]:
        async with get_client() as client:
            await ensure_host_limits(client, host, rate=rate, inflight=inflight)
            await ensure_host_limits(client, host, rate=rate, inflight=inflight)
            got = [
                await client.read_global_concurrency_limit_by_name(name)
                for name in (rate_limit_name(host), inflight_limit_name(host))
            ]
            return [(g.limit, g.slot_decay_per_second, g.active) for g in got]

    with temporary_settings({PREFECT_API_URL: prefect.api_url}):
        decay = 1 / shared_interval(1.5)
        assert asyncio.run(limits(1.5, 3)) == [(1, pytest.approx(decay), True), (3, 0.0, True)]
        decay = 1 / shared_interval(0.5)
        assert asyncio.run(limits(0.5, 2)) == [(1, pytest.approx(decay), True), (2, 0.0, True)]


def test_names_follow_prefects_rules() -> None:
    assert rate_limit_name("baolaocai.vn") == "baolaocai-rate:baolaocai.vn"
    assert inflight_limit_name("127.0.0.1:8000") == "baolaocai-inflight:127.0.0.1:8000"
    name = hold_variable_name("www.BaoLaoCai.vn:8000")
    assert name.startswith("baolaocai-hold-www_baolaocai_vn_8000-")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    assert hold_variable_name("a.b") != hold_variable_name("a_b")


def test_when_politeness_is_shared() -> None:
    url = "http://127.0.0.1:4200/api"
    assert shared_politeness_wanted("auto", api_url=url, deployment_id="d-1")
    assert not shared_politeness_wanted("auto", api_url=url, deployment_id=None)
    assert not shared_politeness_wanted("auto", api_url=None, deployment_id=None)
    assert shared_politeness_wanted("on", api_url=url, deployment_id=None)
    assert not shared_politeness_wanted("off", api_url=url, deployment_id="d-1")
    with pytest.raises(ConfigError, match="PREFECT_API_URL"):
        shared_politeness_wanted("on", api_url=None, deployment_id=None)
