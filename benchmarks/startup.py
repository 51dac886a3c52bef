"""How long the ``baolaocai`` commands take to start (issue #21, "start-up").

Runs the real command as a user does, each in a process of its own, and measures for each:

* **first line**: seconds from the start of the process to its first line of output
  (stdout or stderr), what a user waits for before knowing anything happens;
* **wall**: seconds until it ended;
* **CPU**: its user + system time (``wait4``: itself and what it waited for).

Commands: ``status``, ``sql "select 1"``, ``search x`` and ``--help`` on a crawled
warehouse; ``crawl`` of a one-article site (generated, served on 127.0.0.1 in this
process, the default politeness: 1 request/s) **cold** (the first command of a folder:
it starts the local Prefect server) and **warm** (a second one: the server is kept,
``BAOLAOCAI_PREFECT_IDLE``); ``demo`` (cold). A crawl's *overhead* is its wall time less
its politeness time, the time the pacer alone makes the run take: ``requests - 1``
intervals of ``1/rate`` (as :func:`scrapers.politeness.pacing_interval` stretches them).

Python writes no bytecode on this machine (``PYTHONDONTWRITEBYTECODE=1``: every module is
compiled again at every start, which a user's installation does not do): the commands run
with a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, warmed first), as a user's
would; ``--no-cache`` measures them as this machine runs Python. The quick commands are
measured both ways either way (the ``CPU, no .pyc`` column).

    uv run python benchmarks/startup.py [--repeat 3] [--before DIR]

Prints a table of medians, then one line::

    STARTUP first_line_max_s=… sql_cpu_s=… search_cpu_s=… status_cpu_s=…
        crawl_warm_overhead_s=… crawl_cold_overhead_s=…

Targets: first line ≤ 1 s for every command; a one-article crawl ≤ its politeness time
+ 3 s warm, + 15 s cold; ``sql``, ``search``, ``status`` ≤ 0.3 s CPU each. Timings only,
no assertions. Every Prefect server it starts is stopped at the end (its folder is
removed: the server's watchdog stops it; this script makes sure).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BAOLAOCAI = str(Path(sys.executable).with_name("baolaocai"))
KEPT_S = 300
"""The Prefect idle time of the benchmark's commands: the warm crawls find the server."""


@dataclass
class Timing:
    first_line_s: float
    wall_s: float
    cpu_s: float
    code: int
    output: str


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> Timing:
    """Run ``baolaocai ARGS``; when its first line came, when it ended, its CPU."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    first: list[float] = []
    chunks: list[str] = []
    lock = threading.Lock()

    def read(stream: object) -> None:
        for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
            with lock:
                if not first:
                    first.append(time.perf_counter() - started)
                chunks.append(raw.decode(errors="replace"))

    readers = [
        threading.Thread(target=read, args=(s,), daemon=True) for s in (proc.stdout, proc.stderr)
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(10)
    return Timing(
        first[0] if first else float("nan"),
        wall,
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        "".join(chunks),
    )


def politeness_s(output: str, rate: float) -> float:
    """The time the pacer alone makes a run take: ``requests - 1`` intervals."""
    from scrapers.politeness import pacing_interval

    found = re.search(r"^\s*requests\s+(\d+)", output, re.M)
    requests = int(found.group(1)) if found else 0
    return max(0, requests - 1) * pacing_interval(1 / rate)


def stop_servers(folder: Path) -> None:
    """Stop every kept Prefect server (and watchdog) under ``folder``."""
    for state in folder.rglob(".prefect/server.json"):
        try:
            pids = json.loads(state.read_text())
        except (OSError, ValueError):
            continue
        for key in ("watchdog", "pid"):
            if key in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(pids[key]), signal.SIGTERM)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Results:
    """The timings of one version of the code."""

    name: str
    env: dict[str, str]
    """The environment of its commands (the bytecode cache, the idle time, PYTHONPATH)."""
    no_pyc_env: dict[str, str]
    rows: dict[str, list[Timing]] = field(default_factory=dict)
    no_pyc: dict[str, list[Timing]] = field(default_factory=dict)
    overheads: dict[str, list[float]] = field(default_factory=lambda: {"cold": [], "warm": []})
    polite: list[float] = field(default_factory=list)

    def crawls(self, url: str, folder: Path) -> None:
        """A cold crawl (the folder's first command), then a warm one into a new warehouse."""
        folder.mkdir()
        for kind, db in (("cold", "cold.duckdb"), ("warm", "warm.duckdb")):
            t = timed(["crawl", "--base-url", url, "--db", db], folder, self.env)
            if t.code != 0:
                sys.exit(f"{self.name}: crawl failed ({t.code}):\n{t.output}")
            self.rows.setdefault(f"crawl, one article ({kind})", []).append(t)
            spent = politeness_s(t.output, 1.0)
            self.polite.append(spent)
            self.overheads[kind].append(t.wall_s - spent)
            print(
                f"{self.name} crawl {kind}: first line {t.first_line_s:.2f} s, wall"
                f" {t.wall_s:.1f} s, politeness {spent:.1f} s, overhead {t.wall_s - spent:.1f} s",
                flush=True,
            )
        stop_servers(folder)

    def quick(self, name: str, command: list[str], cwd: Path) -> None:
        self.rows.setdefault(name, []).append(timed(command, cwd, self.env))
        self.no_pyc.setdefault(name, []).append(timed(command, cwd, self.no_pyc_env))

    def demo(self, folder: Path) -> None:
        folder.mkdir()
        t = timed(["demo", "--db", "demo.duckdb"], folder, self.env)
        if t.code != 0:
            sys.exit(f"{self.name}: demo failed ({t.code}):\n{t.output}")
        self.rows.setdefault("demo (cold)", []).append(t)
        stop_servers(folder)

    def report(self) -> None:
        print(f"\n{self.name}")
        print(
            f"{'command':28} {'first line s':>12} {'wall s':>8} {'CPU s':>7} {'CPU, no .pyc':>13}"
        )
        for name, timings in self.rows.items():
            runs = self.no_pyc.get(name)
            no_pyc = f"{median([t.cpu_s for t in runs]):13.2f}" if runs else " " * 13
            print(
                f"{name:28} {median([t.first_line_s for t in timings]):12.2f}"
                f" {median([t.wall_s for t in timings]):8.2f}"
                f" {median([t.cpu_s for t in timings]):7.2f} {no_pyc}"
            )
        print(f"(politeness time of a one-article crawl: {median(self.polite):.1f} s at 1/s)")

        def cpu(name: str) -> float:
            return median([t.cpu_s for t in self.rows[name]])

        sql = 'sql "select 1"'
        first_max = max(median([t.first_line_s for t in ts]) for ts in self.rows.values())
        print(
            f"STARTUP first_line_max_s={first_max:.2f} sql_cpu_s={cpu(sql):.2f}"
            f" search_cpu_s={cpu('search x'):.2f} status_cpu_s={cpu('status'):.2f}"
            f" crawl_warm_overhead_s={median(self.overheads['warm']):.1f}"
            f" crawl_cold_overhead_s={median(self.overheads['cold']):.1f}"
            + (f" ({self.name})" if self.name != "this tree" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-cache", action="store_true", help="no bytecode cache (as here)")
    parser.add_argument(
        "--before",
        type=Path,
        help="also measure this copy of the code (e.g. git archive HEAD | tar -x -C DIR),"
        " command by command beside this tree's, through PYTHONPATH",
    )
    args = parser.parse_args()

    from sitecopy import serve_site
    from sitecopy.generate import make_articles, write_site

    work = Path(tempfile.mkdtemp(prefix="baolaocai-startup-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BAOLAOCAI_", "PREFECT_"))}
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    base["BAOLAOCAI_PREFECT_IDLE"] = str(KEPT_S)
    versions = [("this tree", "")]
    if args.before is not None:
        versions.append((f"before ({args.before})", str(args.before.resolve())))
    results: list[Results] = []
    for name, path in versions:
        cached = {**base, "PYTHONPYCACHEPREFIX": str(work / f"pycache{len(results)}")}
        uncached = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
        if path:
            cached["PYTHONPATH"] = uncached["PYTHONPATH"] = path
        results.append(Results(name, uncached if args.no_cache else cached, uncached))
    try:
        write_site(work / "site", make_articles(1, seed=21))
        with serve_site(work / "site") as site:
            for r in results:  # fill the bytecode caches, untimed
                timed(["--help"], work, r.env)
            # Each version in turn, command by command: the machine's noise hits both.
            for i in range(args.repeat):
                for n, r in enumerate(results):
                    r.crawls(site.url, work / f"crawl{n}-{i}")
            db = str(work / "crawl0-0" / "warm.duckdb")  # it has a search index
            quick = {
                "status": ["status", "--db", db],
                'sql "select 1"': ["sql", "select 1", "--db", db],
                "search x": ["search", "x", "--db", db],
                "--help": ["--help"],
            }
            for _ in range(args.repeat):
                for name, command in quick.items():
                    for r in results:
                        r.quick(name, command, work)
            for i in range(args.repeat):
                for n, r in enumerate(results):
                    r.demo(work / f"demo{n}-{i}")
    finally:
        stop_servers(work)
        shutil.rmtree(work, ignore_errors=True)
    for r in results:
        r.report()


if __name__ == "__main__":
    main()
