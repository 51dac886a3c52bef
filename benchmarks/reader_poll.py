"""Can the user's own DuckDB read the warehouse while a run writes it?

A plain ``duckdb.connect(db, read_only=True)`` -- what the README tells pandas and DuckDB
CLI users to do, with no waiting of ours -- is tried every 0.5 s while the real
``baolaocai`` command runs in a subprocess: a polite ``crawl`` of a synthetic site, a
``backfill`` of one month of it, then a ``reparse`` of every stored page. Prints, per
phase, the share of tries that succeeded at once and the longest run of refusals:

    uv run python benchmarks/reader_poll.py                    # 200 articles, 2,000 reparsed
    uv run python benchmarks/reader_poll.py --articles 50 --reparse 500 --rate 5

The reparse's 2,000 pages are stored first by a fast crawl (not measured).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POLL_EVERY_S = 0.5


@dataclass
class Poll:
    tries: int = 0
    ok: int = 0
    longest_refusal_s: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)
    _refused_since: float | None = None

    def record(self, ok: bool, error: str = "") -> None:
        now = time.monotonic()
        self.tries += 1
        if ok:
            self.ok += 1
            if self._refused_since is not None:
                self.longest_refusal_s = max(self.longest_refusal_s, now - self._refused_since)
            self._refused_since = None
            return
        key = error.splitlines()[0][:80] if error else "?"
        self.errors[key] = self.errors.get(key, 0) + 1
        if self._refused_since is None:
            self._refused_since = now

    def finish(self) -> None:
        if self._refused_since is not None:
            gap = time.monotonic() - self._refused_since
            self.longest_refusal_s = max(self.longest_refusal_s, gap)


def poll_while(db: Path, process: subprocess.Popen[bytes]) -> Poll:
    """Try a plain read-only connection every 0.5 s until ``process`` ends."""
    poll = Poll()
    while process.poll() is None:
        started = time.monotonic()
        if db.exists():
            try:
                con = duckdb.connect(str(db), read_only=True)
                try:
                    con.execute("SELECT count(*) FROM information_schema.tables").fetchone()
                finally:
                    con.close()
                poll.record(True)
            except duckdb.Error as exc:
                poll.record(False, str(exc))
        time.sleep(max(0.0, POLL_EVERY_S - (time.monotonic() - started)))
    poll.finish()
    return poll


def run_polled(name: str, command: list[str], db: Path, env: dict[str, str]) -> tuple[str, Poll]:
    began = time.monotonic()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
    )
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    poll = poll_while(db, process)
    reader.join(timeout=10)
    elapsed = time.monotonic() - began
    if process.returncode != 0:
        sys.stderr.write(b"".join(output).decode(errors="replace")[-3000:])
        raise SystemExit(f"{name}: exit {process.returncode}")
    return f"{name} ({elapsed:.0f} s)", poll


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200, help="articles of the polite crawl")
    parser.add_argument("--reparse", type=int, default=2000, help="pages stored, then reparsed")
    parser.add_argument("--rate", type=float, default=1.0, help="requests/s of crawl, backfill")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from sitecopy import serve_site
    from sitecopy.generate import make_articles, write_site

    work = Path(tempfile.mkdtemp(prefix="baolaocai-readers-"))
    cli = [sys.executable, "-m", "cli"]
    env = dict(os.environ)
    env.pop("PREFECT_API_URL", None)
    rows: list[tuple[str, Poll]] = []

    # A crawl of the newest articles, then a backfill of one older month, one site copy.
    articles = make_articles(args.articles * 2, seed=args.seed, start=date(2026, 5, 1))
    newest = articles[args.articles :]
    site = work / "site"
    write_site(site, newest)
    db = work / "polite.duckdb"
    with serve_site(site) as server:
        base = [f"--base-url={server.url}", f"--db={db}", f"--rate={args.rate}", "--quiet"]
        rows.append(run_polled("crawl", [*cli, "crawl", *base], db, env))
    month = articles[0].published_at.date().replace(day=1)
    write_site(site, articles)
    with serve_site(site) as server:
        base = [f"--base-url={server.url}", f"--db={db}", f"--rate={args.rate}", "--quiet"]
        last = (month.replace(day=28)).isoformat()
        rows.append(
            run_polled(
                f"backfill {month:%Y-%m}",
                [*cli, "backfill", f"--from={month.isoformat()}", f"--to={last}", *base],
                db,
                env,
            )
        )

    # A reparse of a larger archive, stored by a fast crawl first.
    big = work / "big-site"
    write_site(big, make_articles(args.reparse, seed=args.seed + 1))
    big_db = work / "reparse.duckdb"
    with serve_site(big) as server:
        subprocess.run(
            [*cli, "crawl", f"--base-url={server.url}", f"--db={big_db}", "--rate=1000",
             "--concurrency=8", "--quiet", f"--max-articles={args.reparse}"],
            env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    rows.append(run_polled("reparse", [*cli, "reparse", f"--db={big_db}", "--quiet"], big_db, env))

    print("| run | tries | succeeded at once | longest refusal | refusals |")
    print("|---|---|---|---|---|")
    for name, poll in rows:
        share = 100.0 * poll.ok / poll.tries if poll.tries else 0.0
        why = "; ".join(f"{k} ×{v}" for k, v in poll.errors.items()) or "-"
        print(f"| {name} | {poll.tries} | {share:.1f} % | {poll.longest_refusal_s:.1f} s | {why} |")


if __name__ == "__main__":
    main()
