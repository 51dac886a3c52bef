"""Runs of a lake whose worker died: found, ended in Prefect, and (if asked) run again.

A worker killed with ``kill -9`` takes its flow run's process with it and tells nobody:
the Prefect server shows the run *Running* and keeps its deployment's concurrency slot
(the next scheduled run of the site is cancelled as an overlap), and ``prefect flow-run
cancel`` waits minutes for a worker that will never answer. The lake knows better: a run
holds its site's writer lock (a part of a reparse, a lock of its own) on a PostgreSQL
session for its whole life, and the server drops it the moment the process dies. So a
``crawl_runs`` row that says *running* while nobody holds its lock is a dead run
(:func:`dead_runs`); :func:`recover` marks its flow run *Crashed* (which frees the
deployment's slot at once) and its row ``interrupted``, and with ``rerun`` starts its
deployment again with the same parameters. ``baolaocai recover`` runs it;
``benchmarks/scale_out.py`` shows it (``killed_worker_recovered=yes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import duckdb

from baolaocai.errors import InputError
from warehouse.db import connect, transaction
from warehouse.lake import LakeSpec, LakeWriterLock, retry_on_conflict
from warehouse.spec import is_lake

DIED = "its worker died (its lock went with its process): ended by baolaocai recover"


@dataclass(frozen=True)
class DeadRun:
    site: str
    run_id: str
    kind: str
    flow_run_id: str | None
    started_at: datetime


def _lock_key(site: str, run_id: str) -> str:
    """The lock a run holds: its site's, or a part's own (``<site>#<run id>``)."""
    return f"{site}#{run_id}" if "-part" in run_id else site


def dead_runs(spec: str) -> list[DeadRun]:
    """The runs of the lake ``spec`` recorded as running whose lock nobody holds."""
    if not is_lake(spec):
        raise InputError(
            "recover is for a lake (runs on workers); on a file the next run marks a dead"
            " run interrupted itself"
        )
    lake = LakeSpec.parse(spec)
    con = connect(spec, read_only=True)
    try:
        rows = con.execute(
            "SELECT site, run_id, kind, flow_run_id, started_at FROM crawl_runs"
            " WHERE status = 'running' ORDER BY started_at"
        ).fetchall()
    finally:
        con.close()
    dead = []
    for site, run_id, kind, flow_run_id, started_at in rows:
        holder = LakeWriterLock(lake, _lock_key(str(site), str(run_id))).holder()
        if holder is not None and (not holder.run_id or str(run_id).startswith(holder.run_id)):
            continue  # its own lock is held: alive
        dead.append(DeadRun(str(site), str(run_id), str(kind), flow_run_id, started_at))
    return dead


@retry_on_conflict
def _mark_interrupted(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> None:
    with transaction(con):
        con.execute(
            "UPDATE crawl_runs SET status = 'interrupted', finished_at = ?,"
            " error = coalesce(error, ?) WHERE status = 'running'"
            " AND run_id IN (SELECT unnest(?::VARCHAR[]))",
            [datetime.now(UTC), DIED, run_ids],
        )


def recover(spec: str, *, rerun: bool) -> list[tuple[DeadRun, str]]:
    """End every dead run (see the module docstring); returns each with what was done."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    found = dead_runs(spec)
    done: list[tuple[DeadRun, str]] = []
    if not found:
        return done
    con = connect(spec)
    try:
        _mark_interrupted(con, [d.run_id for d in found])
    finally:
        con.close()
    with get_client(sync_client=True) as client:
        for d in found:
            if not d.flow_run_id:
                done.append((d, "marked interrupted (no flow run)"))
                continue
            flow_run = client.read_flow_run(UUID(d.flow_run_id))
            said = "marked interrupted"
            if flow_run.state is None or not flow_run.state.is_final():
                client.set_flow_run_state(flow_run.id, Crashed(message=DIED), force=True)
                said += ", its flow run Crashed"
            if rerun and flow_run.deployment_id is not None and "-part" not in d.run_id:
                again = client.create_flow_run_from_deployment(
                    flow_run.deployment_id, parameters=dict(flow_run.parameters)
                )
                said += f", run again as flow run {again.id}"
            done.append((d, said))
    return done
