"""One worker of tests/orchestration/test_shared_politeness.py: a process of its own
fetching URLs through a :class:`~flows.host_gate.PrefectHostGate` on the Prefect server
of its ``PREFECT_API_URL``, as a flow run on a worker does.

Usage: ``python host_gate_worker.py '<json job>'``; prints one JSON line with each
page's status and error, and ``entered`` when told to (``{"say_entered": true}``) each
time it took the gate's slots (the kill test waits for it). With ``{"wait_for_go": true}``
it prints ``ready`` once Prefect is imported and waits for a line on its stdin before
fetching: workers started together then really crawl together. With
``{"read_robots": true}`` it reads robots.txt first, as a run does."""

from __future__ import annotations

import asyncio
import json
import sys

from baolaocai.settings import Settings
from flows.host_gate import PrefectHostGate
from scrapers.fetch import Fetcher, build_client
from scrapers.politeness import RequestPacer
from scrapers.robots import read_robots


class SayingGate(PrefectHostGate):
    async def enter(self, host: str) -> float | None:
        left = await super().enter(host)
        if left is None:
            print("entered", flush=True)
        return left


async def main(job: dict[str, object]) -> list[dict[str, object]]:
    rate = float(job["rate"])  # type: ignore[arg-type]
    inflight = int(job["inflight"])  # type: ignore[call-overload]
    settings = Settings(
        base_url=str(job["base_url"]),
        rate=rate,
        concurrency=int(job.get("concurrency", 2)),  # type: ignore[call-overload]
        retries=2,
    )
    gate_type = SayingGate if job.get("say_entered") else PrefectHostGate
    gate = gate_type(rate, inflight)
    if job.get("wait_for_go"):
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    async with build_client(settings) as client:
        fetcher = Fetcher(client, settings, RequestPacer(rate, gate=gate), backoff_base=0.2)
        if job.get("read_robots"):  # as a run starts: its rules and Crawl-delay in force
            await read_robots(fetcher)
        urls = [f"https://baolaocai.vn{path}" for path in job["paths"]]  # type: ignore[attr-defined]
        pages = await fetcher.fetch_many(urls)
    return [{"url": p.url, "status": p.status, "error": p.error} for p in pages]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))), flush=True)
