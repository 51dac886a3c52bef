"""Many papers, many workers, one lake: the scale-out measured end to end on one machine.

Starts everything itself, on 127.0.0.1 only: a throwaway PostgreSQL cluster
(``initdb``/``pg_ctl``: the lake's catalog and the Prefect server's database), a Prefect
server on it, a process work pool with ``--workers`` workers (``prefect worker start``,
one flow run at a time each), and ``--sites`` synthetic copies of different papers on the
same CMS (Báo Lào Cai, Báo Núi Mây, Báo Đồi Chè), the first one answering some article
requests with ``429`` and ``Retry-After``. Then, through the real commands and
deployments (``baolaocai deploy``):

1. a crawl of every site, each a flow run of the site's deployment on the pool, into one
   DuckLake; while they run, the worker running one of them is killed with SIGKILL
   (with its flow run's process), a worker is started in its place, and the dead run is
   found (its lake writer lock gone, its row still *running*), marked *Crashed* and run
   again;
2. a reparse of the first site in ``--workers`` parts on the pool
   (``baolaocai reparse --parts N``), after the stored records were made to differ from
   what the parser makes (as after a parser fix), compared field by field with a
   single-process reparse of a copy of the same archive;

checks everything from the outside (the lake's rows; the copies' own request logs for
politeness), stops everything it started, and prints one line::

    SCALEOUT sites=3 workers=3 articles=… stored=… duplicates=0 lost=0 max_host_rps=…
    max_host_inflight=… retry_after_violations=0 killed_worker_recovered=yes
    reparse_identical=yes wall_s=… lake=<path>

``wall_s`` is the crawl phase (all sites, kill and retry included). ``lake`` is a copy of
the lake with its catalog in a DuckDB file (the PostgreSQL cluster is stopped at the end):
open it with plain DuckDB and the ducklake extension::

    ATTACH 'ducklake:<lake>' AS lake (READ_ONLY); SELECT count(*) FROM lake.articles;

Usage::

    uv run python benchmarks/scale_out.py --sites 3 --workers 3
    uv run python benchmarks/scale_out.py --sites 3 --workers 1 --no-kill   # the baseline
    uv run python benchmarks/scale_out.py --reparse-only --reparse-pages 20000 --workers 3
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.pg_cluster import PostgresCluster  # noqa: E402
from sitecopy.faults import FaultPlan, status  # noqa: E402
from sitecopy.generate import BAOLAOCAI, DOICHE, NUIMAY, PaperSpec, make_articles, write_site  # noqa: E402
from sitecopy.server import SiteServer  # noqa: E402

POOL = "scaleout"
NEVER = "0 0 1 1 *"
"""The crawl deployments' cron: not during a benchmark (runs are started by hand)."""
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Paper:
    spec: PaperSpec
    site: str
    """``--site``: a bundled key or a site file's path."""
    article_re: str


PAPERS = (
    Paper(BAOLAOCAI, "baolaocai", r"-post\d+\.html$"),
    Paper(NUIMAY, "nuimay", r"-b\d+\.htm$"),
    Paper(DOICHE, str(REPO / "tests" / "flows" / "sites" / "doiche.toml"), r"-a\d+\.html$"),
)


@dataclass(frozen=True)
class Request:
    """One request as the copy's server saw it (monotonic seconds, comparable between the
    processes of one machine)."""

    path: str
    started: float
    finished: float
    status: int
    retry_after: str | None


@dataclass
class Served:
    """A paper's copy served by a process of its own (``--serve``): its clock readings
    are not delayed by this process's work (a server thread here, competing for the GIL
    with the checks, logged requests late by up to 0.3 s on a busy machine)."""

    paper: Paper
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    articles: int
    requests: list[Request] = field(default_factory=list)
    max_in_flight: int = 0

    @property
    def key(self) -> str:
        return self.paper.spec.key

    def stop(self) -> None:
        """Stop the server; its log of requests is read."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        if self.requests or not self.log.exists():
            return
        data = json.loads(self.log.read_text(encoding="utf-8"))
        self.requests = [Request(**r) for r in data["requests"]]
        self.max_in_flight = int(data["max_in_flight"])


@dataclass
class Env:
    root: Path
    spec: str
    env: dict[str, str]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)


def log(*parts: object) -> None:
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


# -- the world ----------------------------------------------------------------------------


def serve_papers(root: Path, n: int, count: int, retry_after: float) -> list[Served]:
    served = []
    for i, paper in enumerate(PAPERS[:count]):
        folder = root / "sites" / paper.spec.key
        articles = make_articles(n, seed=100 + i, spec=paper.spec)
        write_site(folder, articles, per_page=10, spec=paper.spec)
        log_file = root / "sites" / f"{paper.spec.key}.requests.json"
        # The first paper asks us to slow down now and then.
        faults = ["--retry-after", f"{retry_after:g}" if i == 0 else "0"]
        process = subprocess.Popen(
            [
                *(sys.executable, __file__, "--serve", str(folder), "--log", str(log_file)),
                *faults,
                f"--article-re={paper.article_re}",
            ],
            stdout=subprocess.PIPE,
            cwd=REPO,
        )
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the copy of {paper.spec.key} did not start")
        served.append(Served(paper, process, url, log_file, n))
    return served


def serve_one(folder: Path, log_file: Path, retry_after: float, article_re: str) -> int:
    """``--serve``: serve one copy until SIGTERM, then write its request log."""
    server = SiteServer(folder)
    if retry_after > 0:
        server.override = FaultPlan(
            random_faults=[(status(429, **{"Retry-After": f"{retry_after:g}"}), 0.08)],
            random_paths=article_re,
            max_per_path=1,
            seed=7,
        )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server.start()
    print(server.url, flush=True)
    stop.wait()
    server.stop()
    log_file.write_text(
        json.dumps(
            {
                "max_in_flight": server.max_in_flight,
                "requests": [
                    {
                        "path": r.path,
                        "started": r.started,
                        "finished": r.finished,
                        "status": r.status,
                        "retry_after": r.response_headers.get("Retry-After"),
                    }
                    for r in server.requests
                ],
            }
        ),
        encoding="utf-8",
    )
    return 0


def start_worker(e: Env, index: int) -> subprocess.Popen[bytes]:
    out = e.root / f"worker-{index}-{len(e.logs)}.log"
    e.logs.append(out)
    process = subprocess.Popen(
        [
            *(str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--limit", "1"),
            *("--name", f"worker-{index}-{len(e.logs)}"),
        ],
        cwd=REPO,
        env=e.env,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process


def baolaocai(e: Env, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(BIN / "baolaocai"), *args],
        cwd=e.root,
        env=e.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"baolaocai {' '.join(args)} failed: {done.stderr.strip()[-2000:]}")
    return done


def lake_rows(spec: str, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    from warehouse.db import connect

    con = connect(spec, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


# -- crawls, a kill, a retry ------------------------------------------------------------------


def parent_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def crawl_all(
    e: Env, served: list[Served], kill_at: float | None, wanted_workers: int
) -> dict[str, Any]:
    """Crawl every site (a flow run of its deployment each) and wait for all; with
    ``kill_at``, kill the worker crawling the last site once that share of its articles is
    stored, start another worker, and run the dead crawl again."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    from flows.recovery import recover

    def submit(s: Served) -> Any:
        return run_deployment(
            name=f"crawl/scheduled-{s.key}",
            parameters={"base_url": s.url},
            timeout=0,
        ).id

    started = time.monotonic()
    runs = {s.key: submit(s) for s in served}
    done: set[str] = set()
    killed: dict[str, Any] = {}
    retried = 0
    from warehouse.db import connect

    watch = connect(e.spec, read_only=True)  # one connection: each query sees the newest commit

    def lake_rows(_spec: str, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return watch.execute(sql, list(params)).fetchall()

    with get_client(sync_client=True) as client, contextlib.closing(watch):
        while len(done) < len(served):
            time.sleep(1.0)
            for s in served:
                if s.key in done:
                    continue
                state = client.read_flow_run(runs[s.key]).state
                if state is not None and state.is_final():
                    if not state.is_completed():
                        raise SystemExit(
                            f"the crawl of {s.key} ended {state.name}: {state.message}"
                        )
                    done.add(s.key)
                    continue
                row = lake_rows(
                    e.spec,
                    "SELECT status, pid FROM crawl_runs WHERE site = ? AND flow_run_id = ?",
                    [s.key, str(runs[s.key])],
                )
                running = bool(row) and row[0][0] == "running"
                if kill_at is not None and not killed and running and s is served[-1]:
                    stored = lake_rows(
                        e.spec, "SELECT count(*) FROM articles WHERE site = ?", [s.key]
                    )
                    if stored[0][0] >= max(1, int(s.articles * kill_at)):
                        run_pid = int(row[0][1])
                        worker = parent_of(run_pid)
                        log(
                            f"killing the worker (pid {worker}) running the crawl of {s.key}"
                            f" (pid {run_pid}) at {stored[0][0]} of {s.articles} articles"
                        )
                        for pid in (worker, run_pid):
                            if pid:
                                os.kill(pid, signal.SIGKILL)
                        killed = {"site": s.key, "at": stored[0][0], "flow_run": runs[s.key]}
                        # in place: the list is the one whose workers are stopped at the end
                        e.workers[:] = [w for w in e.workers if w.pid != worker]
                        e.workers.append(start_worker(e, wanted_workers + 1))
                        continue
                if running and killed.get("site") == s.key and killed["flow_run"] == runs[s.key]:
                    # What `baolaocai recover` does: a run whose lock is gone is dead.
                    ended = [d for d, _ in recover(e.spec, rerun=False) if d.site == s.key]
                    if ended:
                        log(f"the crawl of {s.key} is dead (its lock is gone): run it again")
                        runs[s.key] = submit(s)
                        retried += 1
    return {
        "wall_s": time.monotonic() - started,
        "killed": killed,
        "retried": retried,
    }


# -- politeness from the servers' logs -----------------------------------------------------------


def politeness(served: list[Served], interval: float) -> dict[str, Any]:
    worst_rps, worst_inflight, violations, min_gaps = 0, 0, 0, {}
    close: list[str] = []
    broken: list[str] = []
    for s in served:
        records = sorted(s.requests, key=lambda r: r.started)
        starts = [r.started for r in records]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        min_gaps[s.key] = round(min(gaps, default=0.0), 3)
        for a, b in itertools.pairwise(records):
            if b.started - a.started < interval:
                close.append(
                    f"{s.key} {b.started - a.started:.3f}s {a.path} {a.status} -> {b.path}"
                )
        lo = 0
        for hi, t in enumerate(starts):
            while t - starts[lo] >= 1.0:
                lo += 1
            worst_rps = max(worst_rps, hi - lo + 1)
        worst_inflight = max(worst_inflight, s.max_in_flight)
        for r in records:
            after = r.retry_after
            if r.status not in (429, 503) or not after:
                continue
            until = r.finished + float(after)
            inside = [q for q in records if r.finished < q.started < until]
            violations += len(inside)
            broken += [f"{s.key} {r.path} +{q.started - r.finished:.3f}s {q.path}" for q in inside]
    below = {k: g for k, g in min_gaps.items() if g < interval}
    return {
        "max_host_rps": worst_rps,
        "max_host_inflight": worst_inflight,
        "retry_after_violations": violations,
        "min_gap_s": min_gaps,
        "gaps_below_interval": below,
        "close_pairs": close[:10],
        "violations": broken[:10],
        "retry_after_answers": sum(1 for s in served for r in s.requests if r.status == 429),
    }


# -- the reparse in parts, against one process --------------------------------------------------

COMPARED = (
    "SELECT site, article_id, url, title, sapo, body, author, published_at, modified_at,"
    " category, tags, source, extraction_method, body_chars, paragraph_count, missing_fields,"
    " word_count, image_count, content_hash, version, removed_at, field_conflicts, page_kind,"
    " category_source, published_date FROM articles WHERE site = ? ORDER BY article_id"
)
COMPARED_REVISIONS = (
    "SELECT site, article_id, version, content_hash, title, sapo, body, author, published_at,"
    " modified_at, category, tags, source FROM article_revisions WHERE site = ?"
    " ORDER BY article_id, version"
)


def copy_to_file(spec: str, target: Path, warc: Path) -> None:
    """The lake's tables into a new DuckDB warehouse file (the same archive: its WARC
    folder links to the lake's)."""
    from warehouse.db import connect

    con = connect(target)  # migrated, empty
    try:
        tables = [
            str(t)
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                " AND table_name <> 'schema_version'"
            ).fetchall()
        ]
    finally:
        con.close()
    lake = connect(spec, read_only=True)
    try:
        literal = str(target).replace("'", "''")
        lake.execute(f"ATTACH '{literal}' AS copy")
        for table in tables:
            lake.execute(f"INSERT INTO copy.{table} SELECT * FROM warehouse.{table}")
        lake.execute("DETACH copy")
    finally:
        lake.close()
    target.with_name(f"{target.stem}.warc").symlink_to(warc, target_is_directory=True)


STALE = (
    "UPDATE articles SET content_hash = 'before-the-parser-fix',"
    " body = body || ' (đọc bằng bộ phân tích cũ)' WHERE site = ?"
)
"""What the records look like before a parser fix: different from what the parser makes."""


def reparse_compare(e: Env, key: str, site: str, parts: int) -> dict[str, Any]:
    from warehouse.db import connect

    for target in (e.spec,):
        con = connect(target)
        try:
            con.execute(STALE, [key])
        finally:
            con.close()
    reference = e.root / "reference" / "one-process.duckdb"
    reference.parent.mkdir(parents=True, exist_ok=True)
    from warehouse.lake import warc_folder

    copy_to_file(e.spec, reference, warc_folder(e.spec))
    t0 = time.monotonic()
    baolaocai(e, "reparse", "--site", site, "--parts", str(parts), "--db", e.spec, "--quiet")
    parts_s = time.monotonic() - t0
    t0 = time.monotonic()
    baolaocai(e, "reparse", "--site", site, "--db", str(reference), "--quiet")
    one_s = time.monotonic() - t0
    same = all(
        lake_rows(e.spec, sql, [key]) == lake_rows(str(reference), sql, [key])
        for sql in (COMPARED, COMPARED_REVISIONS)
    )
    changed = lake_rows(
        e.spec, "SELECT count(*) FROM articles WHERE site = ? AND version > 1", [key]
    )
    runs = lake_rows(
        e.spec,
        "SELECT count(*) FROM crawl_runs WHERE site = ? AND run_id LIKE 'reparse-%-part%'",
        [key],
    )
    return {
        "identical": same,
        "versions_made": changed[0][0],
        "parts_run": runs[0][0],
        "parts_s": round(parts_s, 1),
        "one_process_s": round(one_s, 1),
    }


def keep_lake_copy(spec: str, root: Path) -> Path:
    """The lake's tables in a lake of its own whose catalog is a DuckDB file: plain DuckDB
    with the ducklake extension opens it after the PostgreSQL cluster is gone."""
    from warehouse.db import connect

    target = root / "lake-copy.ducklake"
    con = connect(spec, read_only=True)
    try:
        tables = [
            str(t)
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'warehouse'"
            ).fetchall()
        ]
        (root / "lake-copy-data").mkdir(exist_ok=True)
        data = str(root / "lake-copy-data").replace("'", "''")
        con.execute(f"ATTACH 'ducklake:{target}' AS lakecopy (DATA_PATH '{data}/')")
        for table in tables:
            con.execute(f"CREATE TABLE lakecopy.{table} AS SELECT * FROM warehouse.{table}")
        con.execute("DETACH lakecopy")
    finally:
        con.close()
    return target


# -- a reparse at scale: one process against the parts on the pool ------------------------------


def fill_lake_from_file(spec: str, file_db: Path) -> None:
    """Every table of the warehouse file ``file_db`` into the (new, empty) lake ``spec``,
    and its web archive as the lake's (a link: the captures name their WARC files)."""
    from warehouse.db import connect
    from warehouse.lake import warc_folder
    from warehouse.session import warc_dir

    connect(spec).close()  # made, with its schema
    con = connect(spec)
    try:
        literal = str(file_db).replace("'", "''")
        con.execute(f"ATTACH '{literal}' AS source (READ_ONLY)")
        tables = [
            str(t)
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'source'"
                " AND table_name <> 'schema_version'"
            ).fetchall()
        ]
        for table in tables:
            con.execute(f"INSERT INTO warehouse.{table} SELECT * FROM source.{table}")
        con.execute("DETACH source")
    finally:
        con.close()
    folder = warc_folder(spec)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.symlink_to(warc_dir(file_db).resolve(), target_is_directory=True)


def reparse_at_scale(e: Env, pages: int, workers: int) -> dict[str, Any]:
    """``pages`` synthetic pages archived through the real write path
    (``benchmarks/archive_scale.py``), copied into the lake, then reparsed after a
    "parser fix" (every record differs from what the parser makes) twice: by one process
    (``baolaocai reparse``) and in ``workers`` parts on the pool (``--parts``)."""
    from warehouse.db import connect

    build = e.root / "archive"
    if not (build / "scale.duckdb").exists():
        log(f"archiving {pages} pages through the real write path (archive_scale.py) …")
        subprocess.run(
            [
                sys.executable,
                str(REPO / "benchmarks" / "archive_scale.py"),
                "--articles",
                str(pages),
                "--keep",
                str(build),
                "--no-reparse",
                "--repeat",
                "1",
            ],
            cwd=REPO,
            env=e.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    fill_lake_from_file(e.spec, build / "scale.duckdb")
    times: dict[str, float] = {}
    for label, extra in (("one_process_s", []), (f"parts_{workers}_s", ["--parts", str(workers)])):
        con = connect(e.spec)
        try:
            con.execute(STALE, ["baolaocai"])
        finally:
            con.close()
        t0 = time.monotonic()
        baolaocai(e, "reparse", "--site", "baolaocai", "--db", e.spec, "--quiet", *extra)
        times[label] = round(time.monotonic() - t0, 1)
        log(f"reparse of {pages} pages, {label}: {times[label]} s")
    changed = lake_rows(
        e.spec, "SELECT count(*) FROM articles WHERE site = 'baolaocai' AND version = 3"
    )
    return {"pages": pages, **times, "rewritten_twice": changed[0][0]}


# -- main ---------------------------------------------------------------------------------------


@contextmanager
def running(processes: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    try:
        yield
    finally:
        for p in processes:
            if p.poll() is None:
                with _quiet():
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in processes:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with _quiet():
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _quiet() -> contextlib.suppress:
    return contextlib.suppress(ProcessLookupError)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=3, choices=range(1, len(PAPERS) + 1))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--articles", type=int, default=60, help="articles per site")
    parser.add_argument("--rate", type=float, default=4.0, help="requests/s per host")
    parser.add_argument("--concurrency", type=int, default=2, help="in flight per host")
    parser.add_argument("--retry-after", type=float, default=2.0)
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker")
    parser.add_argument(
        "--kill-at", type=float, default=0.3, help="share of the last site stored at the kill"
    )
    parser.add_argument(
        "--shared-politeness",
        choices=("on", "off"),
        default="on",
        help="off: each worker paces only itself (to see what the shared limits prevent)",
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this folder (default: a new one under /tmp, kept)"
    )
    parser.add_argument("--json", action="store_true", help="also print the details as JSON")
    parser.add_argument(
        "--reparse-pages",
        type=int,
        default=0,
        help="instead of the crawls: time a reparse of this many archived pages, by one"
        " process and in --workers parts on the pool (prints a REPARSE line)",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--article-re", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve_one(args.serve, args.log, args.retry_after, args.article_re)

    root = args.keep or Path(tempfile.mkdtemp(prefix="scaleout-"))
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        cluster = stack.enter_context(PostgresCluster(root / "pg"))
        cluster.create_database("lake")
        cluster.create_database("prefect")
        spec = "ducklake:postgres:" + cluster.conninfo("lake")
        env = dict(os.environ)
        for name in [n for n in env if n.startswith(("BAOLAOCAI_", "PREFECT_"))]:
            del env[name]
        env.update(
            {
                "BAOLAOCAI_DB": spec,
                "BAOLAOCAI_LAKE_DATA": str(root / "lake-data"),
                "BAOLAOCAI_SHARED_POLITENESS": args.shared_politeness,
                "BAOLAOCAI_RATE": f"{args.rate:g}",
                "BAOLAOCAI_CONCURRENCY": str(args.concurrency),
                "PREFECT_HOME": str(root / "prefect-client"),
                "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": "5",
                "PREFECT_LOGGING_LEVEL": "WARNING",
                # Workers look for runs every 2 s (default 10): parts start sooner.
                "PREFECT_WORKER_QUERY_SECONDS": "2",
            }
        )
        os.environ.update(env)
        from flows.prefect_server import LocalPrefectServer

        server = LocalPrefectServer(
            root / "prefect-server", database_url=cluster.sqlalchemy_url("prefect")
        )
        server.home.mkdir(parents=True, exist_ok=True)
        server.start()
        stack.callback(server.stop)
        env["PREFECT_API_URL"] = os.environ["PREFECT_API_URL"] = server.api_url
        e = Env(root, spec, env)
        if args.reparse_pages:
            sites = "baolaocai"
            baolaocai(
                e, "deploy", "--sites", sites, "--pool", POOL, "--warehouse", spec, "--cron", NEVER
            )
            e.workers = [start_worker(e, i) for i in range(1, args.workers + 1)]
            stack.enter_context(running(e.workers))
            result = reparse_at_scale(e, args.reparse_pages, args.workers)
            print(
                f"REPARSE pages={result['pages']} workers={args.workers}"
                f" one_process_s={result['one_process_s']}"
                f" parts_s={result[f'parts_{args.workers}_s']}"
                f" rewritten_twice={result['rewritten_twice']}",
                flush=True,
            )
            return 0
        from warehouse.db import connect

        connect(spec).close()  # the lake made (and its schema) before anyone reads it
        served = serve_papers(root, args.articles, args.sites, args.retry_after)
        for s in served:
            stack.callback(s.stop)
        log(f"{len(served)} sites served, Prefect at {server.ui_url}, lake {spec}")
        sites = ",".join(s.paper.site for s in served)
        deployed = baolaocai(
            e,
            "deploy",
            "--sites",
            sites,
            "--pool",
            POOL,
            "--warehouse",
            spec,
            "--cron",
            NEVER,
            "--rate",
            f"{args.rate:g}",
            "--concurrency",
            str(args.concurrency),
        )
        log(deployed.stdout.strip().splitlines()[-1] if deployed.stdout.strip() else "deployed")
        e.workers = [start_worker(e, i) for i in range(1, args.workers + 1)]
        stack.enter_context(running(e.workers))
        crawl = crawl_all(e, served, None if args.no_kill else args.kill_at, args.workers)
        log(f"crawls done in {crawl['wall_s']:.1f} s")
        counts = {
            key: (n, d)
            for key, n, d in lake_rows(
                spec,
                "SELECT site, count(*), count(DISTINCT article_id) FROM articles GROUP BY site",
            )
        }
        total = sum(s.articles for s in served)
        stored = sum(d for _, d in counts.values())
        duplicates = sum(n - d for n, d in counts.values())
        lost = sum(max(0, s.articles - counts.get(s.key, (0, 0))[1]) for s in served)
        for s in served:
            s.stop()
        polite = politeness(served, 1.0 / args.rate)
        first = served[0]
        reparse = reparse_compare(e, first.key, first.paper.site, max(2, args.workers))
        lake_copy = keep_lake_copy(spec, root)
        recovered = (
            "yes"
            if crawl["killed"] and crawl["retried"] and not lost
            else ("n/a" if not crawl["killed"] else "no")
        )
        line = (
            f"SCALEOUT sites={len(served)} workers={args.workers} articles={total}"
            f" stored={stored} duplicates={duplicates} lost={lost}"
            f" max_host_rps={polite['max_host_rps']} max_host_inflight={polite['max_host_inflight']}"
            f" retry_after_violations={polite['retry_after_violations']}"
            f" killed_worker_recovered={recovered}"
            f" reparse_identical={'yes' if reparse['identical'] else 'no'}"
            f" wall_s={crawl['wall_s']:.1f} lake={lake_copy}"
        )
        details = {"crawl": crawl, "politeness": polite, "reparse": reparse, "counts": counts}
        if args.json:
            print(json.dumps(details, default=str, ensure_ascii=False, indent=1))
        log(json.dumps({k: details[k] for k in ("politeness", "reparse")}, default=str))
    print(line, flush=True)
    bad = duplicates or lost or polite["retry_after_violations"] or not reparse["identical"]
    return 1 if bad or recovered == "no" else 0


if __name__ == "__main__":
    sys.exit(main())
