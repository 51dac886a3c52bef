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
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import BaoLaoCaiError, ConfigError, InputError, WarehouseError
from baolaocai.settings import load_settings, memory_bytes
from baolaocai.text import for_terminal, json_for_terminal
from cli.support import (
    DAY_RANGE,
    WAREHOUSE_HELP,
    QueryRows,
    check_number,
    friendly_errors,
    out,
    parse_day,
    query_settings,
    run_stoppable,
)

SITE_TZ = ZoneInfo(VIETNAM_TIME_ZONE)

DbOption = Annotated[str | None, typer.Option("--db", "--warehouse", help=WAREHOUSE_HELP)]
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


def _db_path(db: str | None, site: str | None = None, *, write: bool = False) -> str:
    """The warehouse ``--db`` or ``--site`` names (or their env vars, or the default);
    for a read (not ``write``), the demo's when only it exists and none was named
    (:func:`cli.support.read_path`, with its note line)."""
    from cli.support import read_path

    path = load_settings().override(site=site, db_path=db).db_path
    return path if write else read_path(path, db, site)


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


VN = "UTC+7"
"""How ``status`` marks its times (Vietnam time), so that none reads as UTC or local."""


def _local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(SITE_TZ).strftime(fmt) if value is not None else ""


def _marked(value: dt.datetime | None) -> str:
    """A time of ``status``'s overview: Vietnam time, said so."""
    return _local(value, f"%Y-%m-%d %H:%M {VN}")


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
    text: Annotated[
        str,
        typer.Argument(
            help="The query, quoted for the shell: words are a phrase ('sa pa'); several"
            """ phrases in double quotes ('"sa pa" "du lịch"'); OR between alternatives;"""
            """ -word or -"phrase" to leave out (a query that starts with - goes after"""
            " --). Accents optional."
        ),
    ],
    limit: Annotated[
        int, typer.Option("--limit", "-n", help=f"At most N results (1 to {MAX_SEARCH_LIMIT}).")
    ] = 20,
    since: Annotated[
        str | None,
        typer.Option(
            help=f"Only articles published on or after this day (YYYY-MM-DD, {DAY_RANGE})."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only articles published on or before this day (YYYY-MM-DD)."),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help='Only this section, e.g. "Kinh tế" or kinh-te (accents optional).'),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option(help='Only articles whose byline has these words, e.g. "minh huyen".'),
    ] = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact", help="Diacritics must match as typed ('hòa bình' is not 'hóa bình')."
        ),
    ] = False,
    words: Annotated[
        bool,
        typer.Option(
            "--words",
            help="Each word anywhere in the article, in any order (not as a phrase).",
        ),
    ] = False,
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    timeout: TimeoutOption = None,
) -> None:
    """Full-text search (BM25, accent-insensitive) over titles, sapos and bodies.

    Unquoted words must occur together, in this order, as a phrase; articles whose accents
    match the query as typed come first. Spelling variants listed in the site file
    ([search] variants: Sa Pa = Sapa) find each other: those of the --site searched, or
    with no --site of every bundled site the index holds. A search that runs longer than
    --timeout seconds (default 60) is stopped with one line.
    """
    from cli.support import err
    from warehouse.search import indexed_sites, plan_query, search, search_index_dir

    _choice(format, ("table", "json", "csv"), "--format")
    check_number(limit, "--limit", 1, MAX_SEARCH_LIMIT)
    since_day = parse_day(since, "--since")
    until_day = parse_day(until, "--until")
    plan = plan_query(text, words=words, exact=exact)  # a bad query: one line, no index read
    settings = query_settings(site=site, db_path=db, query_timeout=timeout)
    # Only the index folder next to the warehouse is read: the warehouse itself is never
    # opened, so a search does not wait for a crawl holding its write lock.
    path = settings.db_path  # a lake's spec is no path: never made a Path
    index_dir = search_index_dir(path)
    only_site = _site_filter(site)

    def work(_stopping: threading.Event, *, words: bool = words, limit: int = limit) -> list[Any]:
        if only_site is not None:
            variants = settings.site.variants
        else:
            variants = _bundled_variants(indexed_sites(index_dir))
        return search(
            index_dir,
            text,
            limit=limit,
            since=since_day,
            until=until_day,
            category=category,
            site=only_site,
            author=author,
            words=words,
            exact=exact,
            variants=variants,
        )

    try:
        hits = run_stoppable(
            work,
            timeout=settings.query_timeout,
            what="the search",
            grace=0.0,  # a tantivy search cannot be interrupted; the command just ends
        )
    except WarehouseError as exc:
        if exc.message.startswith("no search index yet"):
            raise _why_no_index(path) from None
        raise
    loose = plan.query.loose_phrases() if not hits and not words else []
    # The hint only when the words apart would find something with the same filters:
    # nothing found because of a date, a category or an exclusion is not the phrase's doing.
    if loose and run_stoppable(
        functools.partial(work, words=True, limit=1),
        timeout=settings.query_timeout,
        what="the search",
        grace=0.0,
    ):
        err.print(_escape(_apart_hint(loose[0].text())))
    if format == "json":
        _print_json([h.to_dict() for h in hits])
    elif format == "csv":
        _print_hits_csv(hits)
    else:
        _print_hits(hits)


def _bundled_variants(site_keys: list[str]) -> tuple[tuple[str, ...], ...]:
    """:func:`baolaocai.site.bundled_variants` (kept under this name for the callers)."""
    from baolaocai.site import bundled_variants

    return bundled_variants(site_keys)


def _apart_hint(phrase: str) -> str:
    """The one line a phrase search that found nothing prints: how to find the words
    apart (each quoted on its own, or --words), with the user's own words."""
    parts = phrase.split()
    half = (len(parts) + 1) // 2
    apart = f'"{" ".join(parts[:half])}" "{" ".join(parts[half:])}"'
    return (
        f'no article has "{phrase}" as one phrase (these words together, in this order);'
        f" to find them apart, quote each phrase (e.g. {apart}) or add --words"
    )


def _print_hits_csv(hits: list[Any]) -> None:
    """The hits as CSV (:func:`warehouse.search.hits_csv`)."""
    from warehouse.search import hits_csv

    shown = for_terminal if sys.stdout.isatty() else str
    sys.stdout.write(shown(hits_csv(hits)))


def _print_hits(hits: list[Any]) -> None:
    """The hits as blocks, one per article: a line of date, category and author (and site
    when several), the title, the URL alone on its line, the snippet with the matches in
    bold. Not a table: a table folds a long URL over several lines with breaks inserted,
    and it can no longer be copied; here it is printed whole (the terminal wraps it)."""
    from rich.text import Text

    several = len({hit.site for hit in hits}) > 1
    for n, hit in enumerate(hits, 1):
        meta = [
            *([hit.site] if several else []),
            _local(hit.published_at, "%Y-%m-%d") or "(no date)",
            hit.category or "",
            hit.author or "",
        ]
        head = Text(f"{n}. ", style="bold")
        head.append(for_terminal(" · ".join(m for m in meta if m), one_line=True), style="cyan")
        out.print(head)
        out.print(
            Text("   " + for_terminal(hit.title or "(no title)", one_line=True), style="bold")
        )
        out.print(Text(for_terminal(hit.url, one_line=True)), soft_wrap=True)
        shown = for_terminal(hit.snippet, one_line=True)
        snippet = Text("   " + shown)
        for start, end in hit.highlights if shown == hit.snippet else ():
            snippet.stylize("bold yellow", start + 3, end + 3)
        out.print(snippet)
        out.print()
    out.print(f"({len(hits)} result{'s' if len(hits) != 1 else ''})")


NO_INDEX_LOCK_TIMEOUT = 2.0
"""Seconds a search without an index waits for the warehouse to say why there is none."""


def _why_no_index(path: str) -> WarehouseError:
    """Why there is no search index, in one line: no warehouse, a broken one (its own
    error), a run that builds the index now or will (a first crawl indexes its articles
    after its first 500 or 30 s), or none (then: run 'baolaocai reindex')."""
    from baolaocai.errors import WarehouseLockedError
    from cli.support import warehouse_missing
    from warehouse.db import connect
    from warehouse.search import index_being_built, missing_index, running_runs, search_index_dir

    if warehouse_missing(path):
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


def _say_waiting(holder: Any, path: str) -> None:
    from cli.support import err

    err.print(
        f"waiting for {holder.describe()} to finish writing {path} (Ctrl-C to give up) …",
        markup=False,
    )


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

    path = _db_path(db, site, write=True)
    from cli.support import warehouse_missing

    if warehouse_missing(path):
        from cli.support import DB_VARS, DEMO_DB

        named = db or site or any(os.environ.get(v, "").strip() for v in DB_VARS)
        demo = not named and Path(DEMO_DB).is_file()  # right after the quick start
        raise WarehouseError(
            f"no warehouse at {path}: run 'baolaocai crawl' first"
            + (f" (the demo's is {DEMO_DB}: --db {DEMO_DB})" if demo else " or 'baolaocai demo'")
        )
    from baolaocai import progress
    from cli.progress import watching
    from cli.support import err
    from warehouse.db import connect
    from warehouse.lake import is_lake
    from warehouse.session import writer_lock

    started = time.perf_counter()
    index_dir = search_index_dir(path)
    with write_connection(path):  # migrated to this code's schema first, if older
        pass
    if is_lake(path):  # a snapshot is read while writers commit: nobody waits
        from warehouse.lake import LakeSpec
        from warehouse.lake_search import rebuild_lake_index

        con = connect(path, read_only=True)
        try:
            with watching(err, quiet=quiet):
                progress.current().phase("indexing")
                documents = rebuild_lake_index(con, index_dir, LakeSpec.parse(path))
        finally:
            con.close()
        out.print(
            f"search index rebuilt: {documents} articles in {time.perf_counter() - started:.1f} s"
            f" ({index_dir})",
            markup=False,
        )
        return
    # Writers wait meanwhile (the articles are read in batches: one state of the
    # warehouse); readers, e.g. the web view, get the file between two batches.
    settings = load_settings().override(db_path=path)
    keys = [settings.site.key]
    held = []
    try:
        for key in keys:
            writer = writer_lock(path, key, kind="reindex")
            writer.acquire(settings.writer_wait, lambda holder: _say_waiting(holder, path))
            held.append(writer)
    except BaseException:
        for writer in held:
            writer.release()
        raise

    @contextlib.contextmanager
    def reading() -> Iterator[Any]:
        con = connect(path, read_only=True)
        try:
            yield con
        finally:
            con.close()

    try:
        with watching(err, quiet=quiet):
            progress.current().phase("indexing")
            documents = rebuild_search_index(None, index_dir, reading=reading)
    finally:
        for writer in held:
            writer.release()
    out.print(
        f"search index rebuilt: {documents} articles in {time.perf_counter() - started:.1f} s"
        f" ({index_dir})",
        markup=False,
    )


# -- sql: how the query runs -------------------------------------------------------------------

SQL_FETCH_ROWS = 2048
"""Rows taken from DuckDB at a time (between two, a stopped query is seen)."""


def run_sql(
    con: Any,
    query: str,
    *,
    write: bool,
    timeout: float,
    memory_limit: str | None,
    max_rows: int | None = None,
) -> QueryRows:
    """Run ``query`` on ``con`` (one transaction when ``write``) and close ``con``; returns
    the column names and the rows: every row, or with ``max_rows`` only the first
    ``max_rows``, the others counted as they stream past and let go (up to
    :data:`cli.support.COUNTED_VALUES` values; then "at least"), so that a table of 100
    rows of a 10-million-row answer holds 100 rows.

    Stopped after ``timeout`` seconds (``the query ran longer than N s (--timeout);
    stopped``) or at Ctrl-C (exit 130), see :func:`cli.support.run_stoppable`. With a
    ``memory_limit`` (the sandbox's, :func:`warehouse.db.lock_down`), a query DuckDB
    cannot run in that memory, or whose rows would take more than that in this process,
    is stopped with ``the query needs more than <limit> of memory (--memory-limit)``.
    Any other DuckDB error is ``query failed: <its first line>``, its other lines (``Did
    you mean …``, ``LINE 1:`` and the caret) kept as the error's details
    (:class:`cli.support.QueryError`). All :class:`BaoLaoCaiError`.
    """
    import duckdb

    from cli.support import COUNTED_VALUES, QueryError
    from warehouse.db import transaction

    budget = memory_bytes(memory_limit) if memory_limit is not None else None

    def count_rest(cursor: Any, stopping: threading.Event, width: int, more: int) -> QueryRows:
        values = more * width
        while values < COUNTED_VALUES:
            chunk = cursor.fetchmany(SQL_FETCH_ROWS)
            if stopping.is_set():
                raise _Stopped
            if not chunk:
                return QueryRows([], [], more, True)
            more += len(chunk)
            values += len(chunk) * width
        return QueryRows([], [], more, cursor.fetchone() is None)

    def work(stopping: threading.Event) -> QueryRows:
        try:  # the worker owns the connection: the main thread may have gone on
            with transaction(con) if write else contextlib.nullcontext():
                cursor = con.execute(query)
                if cursor is None:  # only comments or semicolons: DuckDB ran nothing
                    raise InputError("nothing to run: the query has no statement")
                columns = [d[0] for d in cursor.description or []]
                rows: list[tuple[Any, ...]] = []
                held = 0
                while columns and (chunk := cursor.fetchmany(SQL_FETCH_ROWS)):
                    if stopping.is_set():
                        raise _Stopped
                    if max_rows is not None and len(rows) + len(chunk) > max_rows:
                        keep = max_rows - len(rows)
                        rows.extend(chunk[:keep])
                        rest = count_rest(cursor, stopping, len(columns), len(chunk) - keep)
                        return QueryRows(columns, rows, rest.more, rest.counted)
                    rows.extend(chunk)
                    if budget is not None:
                        held += _rows_size(chunk)
                        if held > budget:
                            raise _TooBig
                return QueryRows(columns, rows)
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
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        # A query that fails while its rows stream is reported by DuckDB as this line
        # first, the cause after it: the cause leads.
        if len(lines) > 1 and _PENDING_FAILED in lines[0]:
            lines = [lines[1].removeprefix("Error: "), *lines[2:]]
        first, *rest = lines or [type(exc).__name__]
        details = tuple(line.rstrip() for line in rest)
        raise QueryError(f"query failed: {first}", details) from None


_PENDING_FAILED = "Attempting to execute an unsuccessful or closed pending query result"


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
    format: Annotated[str, typer.Option("--format", "-f", help="parquet, csv, jsonl or wacz.")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder to write: missing (created), empty, or an earlier baolaocai export;"
            " for wacz, the file to write (e.g. archive.wacz).",
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
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="CSV for Excel: UTF-8 with a BOM and CRLF line ends (default: no BOM, LF).",
        ),
    ] = False,
) -> None:
    """Export articles (every column, with pictures), their pictures and versions, fetch errors and runs to Parquet (articles by year/month), CSV or JSON Lines.

    Times are in Vietnam time: ISO 8601 with +07:00 in CSV and JSON Lines, Parquet timestamps tagged Asia/Ho_Chi_Minh, and published_date is the Vietnam day. --since/--until select articles by their Vietnam publication day (their pictures and versions with them); fetch errors and runs are the site's, whatever their day.

    In CSV, a text cell starting with =, +, -, @, tab or CR gets a leading ' so that no spreadsheet runs it as a formula; numbers stay numbers. Parquet and JSON Lines keep the text exactly. Double-clicked into Excel, a plain CSV file shows Vietnamese as mojibake: use --excel.

    --out must be missing, empty, or hold an earlier export (its manifest.json, written by baolaocai export). Only the files that export listed are replaced or deleted, and only inside --out: your own files there are kept, and nothing outside --out is ever touched. Any other folder that is not empty is refused (exit 2); choose another --out.

    wacz: the web archive (the WARC captures, their CDXJ index, pages.jsonl of the articles, sha256 of every file) as one WACZ file for ReplayWeb.page or pywb; --since/--until select captures by their Vietnam fetch day. --out is the file, replaced only if it is a WACZ that baolaocai wrote.
    """
    from baolaocai.errors import InputError
    from warehouse.db import connect
    from warehouse.export import FORMATS, export

    _choice(format, (*FORMATS, "wacz"), "--format")
    if excel and format != "csv":
        raise InputError(f"--excel is for --format csv, not {format}")
    since_day, until_day = parse_day(since, "--since"), parse_day(until, "--until")
    db_path = _db_path(db, site)
    if format == "wacz":
        _export_wacz(db_path, out_dir, site, since_day, until_day)
        return
    con = connect(db_path, read_only=True)
    try:
        manifest = export(
            con,
            out_dir,
            format,
            since=since_day,
            until=until_day,
            site=_site_filter(site),
            excel=excel,
        )
    finally:
        con.close()
    counts = ", ".join(f"{rows} {table}" for table, rows in manifest.tables.items())
    n = len(manifest.files)
    files = f"{n} {format} file{'s' if n != 1 else ''}"
    out.print(f"exported {counts} to {out_dir} ({files})", markup=False)
    out.print(f"manifest: {out_dir / 'manifest.json'}", markup=False)


def _export_wacz(
    db_path: str, out_file: Path, site: str | None, since: dt.date | None, until: dt.date | None
) -> None:
    """``export --format wacz``: the captures of the warehouse's web archive as one file."""
    from baolaocai.errors import InputError
    from warehouse.db import connect
    from warehouse.session import warc_dir
    from warehouse.wacz import export_wacz

    if out_file.is_dir():
        raise InputError(
            f"--out {out_file} is a folder: give the WACZ file to write, e.g. archive.wacz"
        )
    con = connect(db_path, read_only=True)
    try:
        summary = export_wacz(
            con, warc_dir(db_path), out_file, site=_site_filter(site), since=since, until=until
        )
    finally:
        con.close()
    out.print(
        f"exported {summary.captures} captures of {summary.pages} articles"
        f" ({summary.files} WARC file{'s' if summary.files != 1 else ''},"
        f" {_size(summary.bytes)}) to {out_file}",
        markup=False,
    )


# -- status ---------------------------------------------------------------------------------------


def _storage(info: dict[str, Any]) -> str:
    """The file's size; a lake's Parquet files (the lake is no file to measure)."""
    lake = info.get("lake")
    if lake is None:
        return _size(info["db_size_bytes"])
    files = f"{lake['files']} Parquet file{'s' if lake['files'] != 1 else ''}"
    return f"lake: {_size(lake['size_bytes'])} in {files} under {_escape(lake['data_path'])}"


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
    only_site = _site_filter(site)
    con = connect(path, read_only=True)
    try:
        info = status(con, path, site=only_site)
        info["search_index"] = _search_index_status(path, con)
        run_sites = {
            str(s) for (s,) in con.execute("SELECT DISTINCT site FROM crawl_runs").fetchall()
        }
    finally:
        con.close()
    info["writers"] = _writers(path, only_site or {*info["sites"], *run_sites})
    info["writer"] = info["writers"][0] if info["writers"] else None
    if format == "json":
        _print_json(info)
        return
    from rich.table import Table  # here: ``--format json`` needs none

    index = info["search_index"]
    overview = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("warehouse", f"{_escape(info['db_path'])} ({_storage(info)})"),
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
        ("newest published", _marked(info["newest_published_at"]) or "-"),
        ("open fetch errors", str(info["open_fetch_errors"])),
        ("being written by", _writers_line(info["writers"])),
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
    runs = Table("run", f"started ({VN})", "status", "new", "updated", "failed", title="Last runs")
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


def _writers(path: str, sites: str | set[str]) -> list[dict[str, Any]]:
    """Who writes the warehouse now. A file has one writer at a time (its ``site`` is
    ``None``: it holds the whole file); a lake one per site, each holding its site's lock
    in the catalog (:class:`warehouse.lake.LakeWriterLock`): asked for ``sites`` (one
    site, or those stored or run so far and the bundled ones: a first run of a site
    writes before it has stored anything)."""
    from warehouse.lake import LakeSpec, LakeWriterLock, is_lake
    from warehouse.writer import Holder

    if not is_lake(path):
        from warehouse.writer import read_holder

        holder = read_holder(path)
        found: list[tuple[str | None, Holder]] = [] if holder is None else [(None, holder)]
    else:
        from baolaocai.site import bundled_sites

        keys = {sites} if isinstance(sites, str) else {*sites, *(k for k, _ in bundled_sites())}
        lake = LakeSpec.parse(path)
        held = ((key, LakeWriterLock(lake, key).holder()) for key in sorted(keys))
        found = [(key, holder) for key, holder in held if holder is not None]
    return [{"site": key, **asdict(holder), "describe": holder.describe()} for key, holder in found]


def _writers_line(writers: list[dict[str, Any]]) -> str:
    """``status``'s "being written by": the writer, or each site's on a lake."""
    if not writers:
        return "-"
    return "; ".join(
        _escape(f"{w['site']}: {w['describe']}" if w["site"] else w["describe"]) for w in writers
    )


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
    line = f"{index['documents']} articles, built {_marked(index['built_at'])}"
    if index["updated_at"]:
        line += f", updated {_marked(index['updated_at'])}"
    if index["stale"]:
        line += f", {index['stale']} changed since"
    return line + f" ({_escape(index['path'])})"


def register(app: typer.Typer) -> None:
    """Add ``search``, ``reindex``, ``export`` and ``status`` to ``app``."""
    app.command("search")(search_command)
    app.command("reindex")(reindex_command)
    app.command("export")(export_command)
    app.command("status")(status_command)
