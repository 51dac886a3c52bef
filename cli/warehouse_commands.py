"""Warehouse commands: ``search``, ``reindex``, ``export`` and ``status``; how ``sql``
runs its query (:func:`run_sql`).

Plain typer command functions, attached to the main app by :func:`register`::

    from cli.warehouse_commands import register
    register(app)

Same conventions as :mod:`cli.main`: ``--db`` (env ``BAOLAOCAI_DB``), one-line
errors on stderr, exit code 1 when a query or write fails and 2 for bad input. This
module does not import :mod:`cli.main`, so it can be registered from anywhere in it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import BaoLaoCaiError, ConfigError, WarehouseError
from baolaocai.settings import load_settings, memory_bytes
from baolaocai.text import for_terminal, json_for_terminal
from cli.support import (
    DAY_RANGE,
    check_number,
    friendly_errors,
    out,
    parse_day,
    query_settings,
    run_stoppable,
)

SITE_TZ = ZoneInfo(VIETNAM_TIME_ZONE)

DbOption = Annotated[str | None, typer.Option("--db", help="Warehouse file (env BAOLAOCAI_DB).")]
SiteOption = Annotated[
    str | None,
    typer.Option(
        "--site",
        help="The newspaper (a bundled site's key or a site file's path; env BAOLAOCAI_SITE):"
        " its warehouse (warehouse/<site>.duckdb) unless --db is given.",
    ),
]


MAX_SEARCH_LIMIT = 10_000
"""The most results ``search --limit`` gives (:data:`warehouse.search.MAX_LIMIT`; tantivy
allocates room for every one of them before it searches)."""


TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Stop the query after this many seconds (env BAOLAOCAI_QUERY_TIMEOUT;"
        " default 60, at most 86400).",
        show_default=False,
    ),
]
MemoryLimitOption = Annotated[
    str | None,
    typer.Option(
        "--memory-limit",
        help="Memory the query may use, e.g. 512MB or 4GB (env BAOLAOCAI_QUERY_MEMORY;"
        " default 1GB): DuckDB's memory_limit, with no spilling to disk, and the rows it"
        " returns count too. Not for --write.",
        show_default=False,
    ),
]


def _db_path(db: str | None, site: str | None = None) -> str:
    return load_settings().override(site=site, db_path=db).db_path


def _site_filter(site: str | None) -> str | None:
    """The site whose rows a read command shows: the one named with --site (or
    BAOLAOCAI_SITE); ``None`` (every site in the warehouse) when none is named."""
    if site is None and not os.environ.get("BAOLAOCAI_SITE", "").strip():
        return None
    return load_settings().override(site=site).site.key


def _choice(value: str, allowed: tuple[str, ...], flag: str) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{flag} must be {', '.join(allowed[:-1])} or {allowed[-1]}, not {value!r}"
        )
    return value


def _local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(SITE_TZ).strftime(fmt) if value is not None else ""


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _print_json(data: Any) -> None:
    encoded = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)
    sys.stdout.write(json_for_terminal(encoded) + "\n")


# -- search / reindex ---------------------------------------------------------------------------


@friendly_errors
def search_command(
    text: Annotated[str, typer.Argument(help='Words to find, accents optional: "lao cai".')],
    limit: Annotated[
        int, typer.Option("--limit", "-n", help=f"At most N results (1 to {MAX_SEARCH_LIMIT}).")
    ] = 20,
    since: Annotated[
        str | None,
        typer.Option(
            help=f"Only articles published on or after this day (YYYY-MM-DD, {DAY_RANGE})."
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help='Only this section, e.g. "Kinh tế" or kinh-te (accents optional).'),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    timeout: TimeoutOption = None,
) -> None:
    """Full-text search (BM25, accent-insensitive) over titles, sapos and bodies.

    A search that runs longer than --timeout seconds (default 60) is stopped with one line.
    """
    from warehouse.search import search, search_index_dir

    _choice(format, ("table", "json"), "--format")
    check_number(limit, "--limit", 1, MAX_SEARCH_LIMIT)
    since_day = parse_day(since, "--since")
    settings = query_settings(site=site, db_path=db, query_timeout=timeout)
    # Only the index folder next to the warehouse is read: the warehouse itself is never
    # opened, so a search does not wait for a crawl holding its write lock.
    path = Path(settings.db_path)
    only_site = _site_filter(site)
    try:
        hits = run_stoppable(
            lambda _stopping: search(
                search_index_dir(path),
                text,
                limit=limit,
                since=since_day,
                category=category,
                site=only_site,
            ),
            timeout=settings.query_timeout,
            what="the search",
            grace=0.0,  # a tantivy search cannot be interrupted; the command just ends
        )
    except WarehouseError as exc:
        if exc.message.startswith("no search index yet"):
            raise _why_no_index(path) from None
        raise
    if format == "json":
        _print_json([h.to_dict() for h in hits])
        return
    from rich.table import Table  # here: a JSON answer, or none, needs no table

    table = Table(show_lines=True)
    several = len({hit.site for hit in hits}) > 1
    if several:
        table.add_column("site", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("category")
    table.add_column("title / URL", overflow="fold")  # a URL is never cut short
    table.add_column("snippet")
    for hit in hits:
        table.add_row(
            *([_escape(hit.site)] if several else []),
            _local(hit.published_at, "%Y-%m-%d"),
            _escape(hit.category or ""),
            f"[bold]{_escape(hit.title or '')}[/bold]\n[dim]{_escape(hit.url)}[/dim]",
            _escape(hit.snippet),
        )
    out.print(table)
    out.print(f"({len(hits)} result{'s' if len(hits) != 1 else ''})")


NO_INDEX_LOCK_TIMEOUT = 2.0
"""Seconds a search without an index waits for the warehouse to say why there is none."""


def _why_no_index(path: Path) -> WarehouseError:
    """Why there is no search index, in one line: no warehouse, a broken one (its own
    error), a run that builds the index now or will (a first crawl indexes its articles
    after its first 500 or 30 s), or none (then: run 'baolaocai reindex')."""
    from baolaocai.errors import WarehouseLockedError
    from warehouse.db import connect
    from warehouse.search import index_being_built, missing_index, running_runs, search_index_dir

    if not path.exists():
        return WarehouseError(
            f"no warehouse at {path}: run 'baolaocai crawl' or 'baolaocai demo' first"
        )
    index_dir = search_index_dir(path)
    building = index_being_built(index_dir)
    try:
        con = connect(path, read_only=True, lock_timeout=NO_INDEX_LOCK_TIMEOUT)
    except WarehouseLockedError:  # a writer holds it: most likely the crawl that indexes
        return missing_index(index_dir, None, building=building)
    try:
        runs = running_runs(con)
    finally:
        con.close()
    return missing_index(index_dir, runs, building=building)


def _escape(text: str) -> str:
    """Text from the warehouse or a site, for rich markup: its ``[`` is not markup and its
    control and bidi characters are shown, not obeyed (:func:`for_terminal`)."""
    from rich.markup import escape

    return escape(for_terminal(text))


@friendly_errors
def reindex_command(
    db: DbOption = None,
    site: SiteOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or progress lines.")
    ] = False,
) -> None:
    """Rebuild the full-text search index from the stored articles (a live display on a
    terminal, a plain line on stderr otherwise)."""
    from warehouse.db import write_connection
    from warehouse.search import rebuild_search_index, search_index_dir

    path = _db_path(db, site)
    if not Path(path).exists():
        raise WarehouseError(
            f"no warehouse at {path}: run 'baolaocai crawl' or 'baolaocai demo' first"
        )
    from baolaocai import progress
    from cli.progress import watching
    from cli.support import err

    started = time.perf_counter()
    index_dir = search_index_dir(path)
    with watching(err, quiet=quiet), write_connection(path) as con:
        progress.current().phase("indexing")
        documents = rebuild_search_index(con, index_dir)
    out.print(
        f"search index rebuilt: {documents} articles in {time.perf_counter() - started:.1f} s"
        f" ({index_dir})",
        markup=False,
    )


# -- sql: how the query runs -------------------------------------------------------------------

SQL_FETCH_ROWS = 2048
"""Rows taken from DuckDB at a time (between two, a stopped query is seen)."""


def run_sql(
    con: Any, query: str, *, write: bool, timeout: float, memory_limit: str | None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``query`` on ``con`` (one transaction when ``write``) and close ``con``; returns
    the column names and the rows.

    Stopped after ``timeout`` seconds (``the query ran longer than N s (--timeout);
    stopped``) or at Ctrl-C (exit 130), see :func:`cli.support.run_stoppable`. With a
    ``memory_limit`` (the sandbox's, :func:`warehouse.db.lock_down`), a query DuckDB
    cannot run in that memory, or whose rows would take more than that in this process,
    is stopped with ``the query needs more than <limit> of memory (--memory-limit)``.
    Any other DuckDB error is ``query failed: <its first line>``. All :class:`BaoLaoCaiError`.
    """
    import duckdb

    from warehouse.db import transaction

    budget = memory_bytes(memory_limit) if memory_limit is not None else None

    def work(stopping: threading.Event) -> tuple[list[str], list[tuple[Any, ...]]]:
        try:  # the worker owns the connection: the main thread may have gone on
            with transaction(con) if write else contextlib.nullcontext():
                cursor = con.execute(query)
                columns = [d[0] for d in cursor.description or []]
                rows: list[tuple[Any, ...]] = []
                held = 0
                while columns and (chunk := cursor.fetchmany(SQL_FETCH_ROWS)):
                    if stopping.is_set():
                        raise _Stopped
                    rows.extend(chunk)
                    if budget is not None:
                        held += _rows_size(chunk)
                        if held > budget:
                            raise _TooBig
                return columns, rows
        finally:
            con.close()

    try:
        return run_stoppable(work, timeout=timeout, interrupt=con.interrupt)
    except (duckdb.OutOfMemoryException, _TooBig):
        if memory_limit is None:
            raise BaoLaoCaiError("query failed: out of memory") from None
        raise BaoLaoCaiError(
            f"the query needs more than {memory_limit.strip()} of memory (--memory-limit);"
            " stopped: give it more with --memory-limit, or ask for fewer rows or columns"
        ) from None
    except duckdb.Error as exc:
        raise BaoLaoCaiError(f"query failed: {str(exc).strip().splitlines()[0]}") from None


class _Stopped(Exception):
    """The main thread stopped the query while its rows were being fetched."""


class _TooBig(Exception):
    """The rows fetched so far take more memory than the query may use."""


def _rows_size(rows: list[tuple[Any, ...]]) -> int:
    """About the bytes ``rows`` take as Python objects (about 32 of them measured)."""
    step = max(1, len(rows) // 32)
    sample = rows[::step]
    measured = sum(sys.getsizeof(row) + sum(map(_value_size, row)) for row in sample)
    return measured * len(rows) // max(1, len(sample)) + 8 * len(rows)


def _value_size(value: Any) -> int:
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        size += sum(sys.getsizeof(v) for v in value)
    return size


# -- export ---------------------------------------------------------------------------------------


@friendly_errors
def export_command(
    format: Annotated[str, typer.Option("--format", "-f", help="parquet, csv or jsonl.")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write: missing (created), empty, or an earlier baolaocai export.",
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(help=f"Articles published on or after this day (YYYY-MM-DD, {DAY_RANGE})."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help=f"Articles published on or before this day (YYYY-MM-DD, {DAY_RANGE})."),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Export articles (with pictures) to Parquet (by year/month), CSV or JSON Lines.

    In CSV, a text cell starting with =, +, -, @, tab or CR gets a leading ' so that no spreadsheet runs it as a formula; numbers stay numbers. Parquet and JSON Lines keep the text exactly.

    --out must be missing, empty, or hold an earlier export (its manifest.json, written by baolaocai export). Only the files that export listed are replaced or deleted, and only inside --out: your own files there are kept, and nothing outside --out is ever touched. Any other folder that is not empty is refused (exit 2); choose another --out.
    """
    from warehouse.db import connect
    from warehouse.export import FORMATS, export

    _choice(format, FORMATS, "--format")
    since_day, until_day = parse_day(since, "--since"), parse_day(until, "--until")
    con = connect(_db_path(db, site), read_only=True)
    try:
        manifest = export(
            con, out_dir, format, since=since_day, until=until_day, site=_site_filter(site)
        )
    finally:
        con.close()
    counts = ", ".join(f"{rows} {table}" for table, rows in manifest.tables.items())
    n = len(manifest.files)
    files = f"{n} {format} file{'s' if n != 1 else ''}"
    out.print(f"exported {counts} to {out_dir} ({files})", markup=False)
    out.print(f"manifest: {out_dir / 'manifest.json'}", markup=False)


# -- status ---------------------------------------------------------------------------------------


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


@friendly_errors
def status_command(
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """The warehouse at a glance: last runs, articles, open errors, search index, size."""
    from warehouse.db import connect
    from warehouse.status import status

    _choice(format, ("table", "json"), "--format")
    path = _db_path(db, site)
    con = connect(path, read_only=True)
    try:
        info = status(con, path, site=_site_filter(site))
        info["search_index"] = _search_index_status(path, con)
    finally:
        con.close()
    from warehouse.writer import read_holder

    holder = read_holder(path)
    info["writer"] = None if holder is None else {**asdict(holder), "describe": holder.describe()}
    if format == "json":
        _print_json(info)
        return
    from rich.table import Table  # here: ``--format json`` needs none

    index = info["search_index"]
    overview = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("warehouse", f"{_escape(info['db_path'])} ({_size(info['db_size_bytes'])})"),
        ("schema version", str(info["schema_version"])),
        ("articles", str(info["articles"])),
        *(
            [
                (
                    "  by site",
                    ", ".join(f"{_escape(k)} {n}" for k, n in sorted(info["sites"].items())),
                )
            ]
            if len(info.get("sites") or {}) > 1
            else []
        ),
        ("newest published", _local(info["newest_published_at"]) or "-"),
        ("open fetch errors", str(info["open_fetch_errors"])),
        ("being written by", _escape(info["writer"]["describe"]) if info["writer"] else "-"),
        ("search index", _search_index_line(index)),
        (
            "web archive",
            f"{info['web_archive']['captures']} captures in {info['web_archive']['files']}"
            f" WARC files ({_size(info['web_archive']['size_bytes'])},"
            f" {_escape(info['web_archive']['path'])})",
        ),
    ]
    for name, value in rows:
        overview.add_row(name, value)
    out.print(overview)
    runs = Table("run", "started", "status", "new", "updated", "failed", title="Last runs")
    for run in info["runs"]:
        colour = {"completed": "green", "failed": "red"}.get(run["status"], "yellow")
        runs.add_row(
            _escape(str(run["run_id"])),
            _local(run["started_at"]),
            f"[{colour}]{_escape(str(run['status']))}[/{colour}]",
            str(run["new"]),
            str(run["updated"]),
            str(run["failed"]),
        )
    if info["runs"]:
        out.print(runs)
    else:
        out.print("no crawl runs yet")


def _search_index_status(path: str, con: Any) -> dict[str, Any] | None:
    """The index folder next to the warehouse: ``None`` when never built, else its
    ``path``, ``documents``, ``built_at``, ``updated_at``, ``watermark`` and ``stale``
    (articles changed since the watermark), or ``path`` and ``error``."""
    from warehouse.search import index_info, search_index_dir

    index_dir = search_index_dir(path)
    try:
        found = index_info(index_dir, con)
    except WarehouseError as exc:
        return {"path": str(index_dir), "error": exc.message}
    if found is None:
        return None
    return {
        "path": str(index_dir),
        "documents": found.documents,
        "built_at": found.built_at,
        "updated_at": found.updated_at,
        "watermark": found.watermark,
        "stale": found.stale,
    }


def _search_index_line(index: dict[str, Any] | None) -> str:
    if index is None:
        return "not built (run 'baolaocai reindex')"
    if "error" in index:
        return _escape(index["error"])
    line = f"{index['documents']} articles, built {_local(index['built_at'])}"
    if index["updated_at"]:
        line += f", updated {_local(index['updated_at'])}"
    if index["stale"]:
        line += f", {index['stale']} changed since"
    return line + f" ({_escape(index['path'])})"


def register(app: typer.Typer) -> None:
    """Add ``search``, ``reindex``, ``export`` and ``status`` to ``app``."""
    app.command("search")(search_command)
    app.command("reindex")(reindex_command)
    app.command("export")(export_command)
    app.command("status")(status_command)
