"""Warehouse commands: ``search``, ``reindex``, ``export`` and ``status``.

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
import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import ConfigError, WarehouseError
from baolaocai.settings import load_settings
from cli.support import friendly_errors, out, parse_day

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
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n")


# -- search / reindex ---------------------------------------------------------------------------


@friendly_errors
def search_command(
    text: Annotated[str, typer.Argument(help='Words to find, accents optional: "lao cai".')],
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most N results.")] = 20,
    since: Annotated[
        str | None, typer.Option(help="Only articles published on or after this day (YYYY-MM-DD).")
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(help='Only this section, e.g. "Kinh tế" or kinh-te (accents optional).'),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Full-text search (BM25, accent-insensitive) over titles, sapos and bodies."""
    from warehouse.search import search, search_index_dir

    _choice(format, ("table", "json"), "--format")
    since_day = parse_day(since, "--since")
    # Only the index folder next to the warehouse is read: the warehouse itself is never
    # opened, so a search does not wait for a crawl holding its write lock.
    path = Path(_db_path(db, site))
    try:
        hits = search(
            search_index_dir(path),
            text,
            limit=limit,
            since=since_day,
            category=category,
            site=_site_filter(site),
        )
    except WarehouseError as exc:
        if exc.message.startswith("no search index yet"):
            _check_warehouse_readable(path)  # a missing or broken warehouse says so instead
        raise
    if format == "json":
        _print_json([h.to_dict() for h in hits])
        return
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


def _check_warehouse_readable(path: Path) -> None:
    """Raise the warehouse's own error when it is missing or cannot be opened (only used
    when there is no search index, to say why)."""
    from baolaocai.errors import WarehouseLockedError
    from warehouse.db import connect

    if not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: run 'baolaocai crawl' or 'baolaocai demo' first"
        )
    # Locked by a crawl: the warehouse is fine, the index is what is missing.
    with contextlib.suppress(WarehouseLockedError):
        connect(path, read_only=True, lock_timeout=1.0).close()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


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
        str | None, typer.Option(help="Articles published on or after this day (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Articles published on or before this day (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """Export articles (with pictures) to Parquet (by year/month), CSV or JSON Lines.

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
    if format == "json":
        _print_json(info)
        return
    index = info["search_index"]
    overview = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("warehouse", f"{_escape(info['db_path'])} ({_size(info['db_size_bytes'])})"),
        ("schema version", str(info["schema_version"])),
        ("articles", str(info["articles"])),
        *(
            [("  by site", ", ".join(f"{k} {n}" for k, n in sorted(info["sites"].items())))]
            if len(info.get("sites") or {}) > 1
            else []
        ),
        ("newest published", _local(info["newest_published_at"]) or "-"),
        ("open fetch errors", str(info["open_fetch_errors"])),
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
            f"[{colour}]{run['status']}[/{colour}]",
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
