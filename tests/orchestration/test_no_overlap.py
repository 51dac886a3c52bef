"""Runs of ``crawl/scheduled-baolaocai`` never overlap: a run due while one is going is cancelled.

The deployment has a concurrency limit of one with ``CANCEL_NEW``
(:data:`flows.deployments.NO_OVERLAP`). Prefect's server enforces it when the runner
proposes ``Pending`` for a due run (a full limit turns it ``Cancelled``) and when its
late-runs service would mark one ``Late`` (cancelled as well): nothing queues up. Here
``serve`` ticks every 5 s while a polite ``--rate 1`` makes each run last several ticks;
the Prefect API and the warehouse then show one run at a time and the runs in between
cancelled.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from serving import Serve, deployment, flow_runs, parse_time, rows, run_states, wait_until
from support import clean_env

from sitecopy import SITE_DIR, serve_site

CRAWL = "crawl/scheduled-baolaocai"
INTERVAL_S = 5
# The runner polls every 10 s (+-30 %) for runs due in the next 10 s; the server marks a
# run late 15 s after it was due. A due run still waiting after this is piling up.
PILING_UP_AFTER = timedelta(seconds=45)
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "CRASHED"}


def running_span(history: list[dict[str, Any]], now: datetime) -> tuple[datetime, datetime] | None:
    """From the run's first RUNNING state to the state that ended it (or now)."""
    start = None
    for state in history:
        if start is None and state["type"] == "RUNNING":
            start = parse_time(state["timestamp"])
        elif start is not None and state["type"] in TERMINAL:
            return start, parse_time(state["timestamp"]) or now
    return (start, now) if start is not None else None


def assert_disjoint(spans: list[tuple[Any, Any]], what: str, report: str = "") -> None:
    for (start_a, end_a), (start_b, end_b) in itertools.pairwise(spans):
        assert end_a <= start_b, (
            f"{what} overlap: {start_a}..{end_a} and {start_b}..{end_b}\n{report}"
        )


@pytest.mark.slow
def test_a_run_due_while_one_is_going_is_cancelled_not_queued(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    # A polite rate makes every run last several ticks of the schedule.
    args = ["--interval", str(INTERVAL_S), "--rate", "1", "--concurrency", "1", "--db", str(db)]
    with (
        serve_site(SITE_DIR) as site,
        Serve(
            [*args, "--base-url", site.url],
            env=clean_env(),
            cwd=tmp_path,
            server_home=tmp_path / ".prefect-server",
        ) as serve,
    ):
        api = serve.api_url()
        wait_until(lambda: deployment(api, CRAWL) is not None, 60, CRAWL, serve.describe)
        crawl = deployment(api, CRAWL)
        assert crawl is not None
        assert crawl["global_concurrency_limit"]["limit"] == 1
        assert crawl["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"

        def two_runs_done_and_one_cancelled() -> bool:
            states = [r["state_type"] for r in flow_runs(api, crawl["id"])]
            return states.count("COMPLETED") >= 2 and "CANCELLED" in states

        wait_until(
            two_runs_done_and_one_cancelled, 210, "two runs and a cancelled one", serve.describe
        )
        now = datetime.now(UTC)
        runs = flow_runs(api, crawl["id"])
        history = {r["id"]: run_states(api, r["id"]) for r in runs}
        assert serve.stop() == 0, serve.describe()

    report = "\n".join(
        f"{r['name']} due {r['expected_start_time']}: "
        + " -> ".join(f"{s['name']} {s['timestamp'][11:23]}" for s in history[r["id"]])
        + f" {r['state']['message'] or ''}"
        for r in runs
    )
    # 1. Prefect: one run at a time.
    spans = [running_span(history[r["id"]], now) for r in runs]
    assert_disjoint(sorted(s for s in spans if s is not None), "flow runs", report)
    assert [r["state_type"] for r in runs].count("COMPLETED") >= 2, report
    # 2. The runs due meanwhile were cancelled by the limit, straight from Scheduled ...
    cancelled = [r for r in runs if r["state_type"] == "CANCELLED"]
    assert cancelled, report
    for run in cancelled:
        assert [s["type"] for s in history[run["id"]]] == ["SCHEDULED", "CANCELLED"], report
        assert "concurrency limit" in (run["state"]["message"] or ""), report
    # ... not queued: none waited for a slot, none piles up late.
    assert not [s for h in history.values() for s in h if s["name"] == "AwaitingConcurrencySlot"]
    waiting = [
        r
        for r in runs
        if r["state_type"] in ("SCHEDULED", "PENDING")
        and now - parse_time(r["expected_start_time"]) > PILING_UP_AFTER
    ]
    assert not waiting, report
    # 3. The warehouse agrees: its crawl runs never overlap.
    recorded = rows(db, "SELECT started_at, finished_at FROM crawl_runs ORDER BY started_at")
    assert len(recorded) >= 2
    # A run stopped with serve has no finish yet: it must be the last one.
    assert_disjoint(
        [(start, end or datetime.max.replace(tzinfo=UTC)) for start, end in recorded], "crawl_runs"
    )
