"""``baolaocai``: the command line. Composition only; the work is in the packages.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings).
Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from baolaocai import __version__
from baolaocai.errors import BaoLaoCaiError, ConfigError, InputError
from baolaocai.settings import SITE_URL, Settings
from cli.support import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    RUN_OK,
    err,
    friendly_errors,
    out,
    parse_day,
    print_rows,
    print_summary,
    settings_from,
)

app = typer.Typer(
    name="baolaocai",
    help="Polite scraper and ETL pipeline for Báo Lào Cai (baolaocai.vn) into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
DEMO_DB = "warehouse/demo.duckdb"
DEMO_RATE = 50.0
DEMO_CONCURRENCY = 4
def _version(value: bool) -> None:
    if value:
        out.print(f"baolaocai {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Keep a clean, queryable archive of Báo Lào Cai in DuckDB."""


# -- crawl / demo -----------------------------------------------------------------------------


def run_crawl_flow(
    settings: Settings,
    *,
    verbose: bool,
    since: dt.date | None = None,
    retry_failed: bool = False,
) -> dict[str, Any]:
    """Run the Prefect ``crawl`` flow once, in this process (the manual trigger)."""
    from flows.prefect_env import prepare_prefect_env

    prepare_prefect_env(settings.db_path, verbose=verbose)
    from flows.crawl import crawl  # imported late: Prefect reads its settings on import

    state = crawl(
        base_url=settings.base_url,
        db_path=settings.db_path,
        max_articles=settings.max_articles,
        concurrency=settings.concurrency,
        rate=settings.rate,
        max_listing_pages=settings.max_listing_pages,
        recheck_days=settings.recheck_days,
        since=since,
        retry_failed=retry_failed,
        return_state=True,
    )
    data = state.result(raise_on_failure=False)
    if not isinstance(data, dict):
        raise BaoLaoCaiError(f"the crawl flow ended in state {state.name}: {state.message}")
    return data


@app.command()
@friendly_errors
def crawl(
    base_url: Annotated[
        str | None,
        typer.Option(help="Site to crawl (env BAOLAOCAI_BASE_URL; default https://baolaocai.vn)."),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(help="Warehouse file (env BAOLAOCAI_DB; default warehouse/baolaocai.duckdb)."),
    ] = None,
    max_articles: Annotated[
        int | None, typer.Option(help="Fetch at most N new articles (0 = no limit).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight per host (default 2).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Requests per second per host (default 1).")
    ] = None,
    max_listing_pages: Annotated[
        int | None, typer.Option(help="Listing pages read per category (default 5).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Do not follow listings or sitemap entries older than this day (YYYY-MM-DD)."
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Fetch again every URL with an open fetch error.")
    ] = False,
    recheck_days: Annotated[
        float | None,
        typer.Option(
            help="Recheck (conditionally) articles published in the last N days (default 3)."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Run the crawl flow once: discover, fetch, parse, clean and load new articles."""
    settings = settings_from(
        base_url=base_url,
        db_path=db,
        max_articles=max_articles,
        concurrency=concurrency,
        rate=rate,
        max_listing_pages=max_listing_pages,
        recheck_days=recheck_days,
    )
    summary = run_crawl_flow(
        settings, verbose=verbose, since=parse_day(since, "--since"), retry_failed=retry_failed
    )
    print_summary(summary, settings.db_path)
    if summary["status"] not in RUN_OK:
        raise typer.Exit(EXIT_FAILED)


DEMO_QUERIES = (
    (
        "Articles per category",
        "SELECT coalesce(category, '(none shown)') AS category, count(*) AS articles, min(published_at)::DATE AS oldest,"
        " max(published_at)::DATE AS newest FROM articles GROUP BY category ORDER BY articles DESC",
    ),
    (
        "The five newest articles",
        "SELECT published_at::DATE AS day, category, title FROM articles"
        " ORDER BY published_at DESC LIMIT 5",
    ),
)


@app.command()
@friendly_errors
def demo(
    db: Annotated[str, typer.Option(help="Warehouse file for the demo.")] = DEMO_DB,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Crawl the bundled offline copy of the site (served on 127.0.0.1) into DB, then query it."""
    from sitecopy import serve_site

    with serve_site() as server:
        out.print(f"Serving the bundled copy of baolaocai.vn at {server.url}")
        settings = settings_from(
            base_url=server.url, db_path=db, rate=DEMO_RATE, concurrency=DEMO_CONCURRENCY
        )
        summary = run_crawl_flow(settings, verbose=verbose)
    print_summary(summary, settings.db_path)
    if summary["status"] not in RUN_OK:
        raise typer.Exit(EXIT_FAILED)
    from warehouse.db import connect

    con = connect(settings.db_path, read_only=True)
    try:
        for title, query in DEMO_QUERIES:
            out.print(f'\n[bold]{title}[/bold]\n$ baolaocai sql "{query}" --db {db}', markup=True)
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            print_rows(columns, cursor.fetchall(), "table")
    finally:
        con.close()


@app.command()
@friendly_errors
def reparse(
    db: Annotated[str | None, typer.Option(help="Warehouse file (env BAOLAOCAI_DB).")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Parse the stored raw pages again (no network); store what changed as new versions."""
    settings = settings_from(db_path=db)
    from warehouse.db import connect

    connect(settings.db_path, read_only=True).close()  # a clear error if there is no warehouse
    from flows.prefect_env import prepare_prefect_env

    prepare_prefect_env(settings.db_path, verbose=verbose)
    from flows.reparse import reparse as reparse_flow

    result = reparse_flow(db_path=settings.db_path)
    out.print(
        f"Reparsed {result['pages']} stored pages in {result['elapsed_s']:.1f} s: "
        f"{result['changed']} changed (new versions), {result['unchanged']} unchanged, "
        f"{result['failed']} failed, {result['fallback']} read by the fallback extractor."
    )


# -- parse ----------------------------------------------------------------------------------------


def read_page_file(path: Path) -> str:
    """Read a saved page as text; a clear InputError for anything that is not one."""
    from scrapers.fetch import decode_html
    from transforms.parse import looks_like_html

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: binary file, not an HTML page")
    text = decode_html(raw, None)
    if not looks_like_html(text):
        raise InputError(f"{path}: not an HTML page")
    return text


@app.command()
def parse(
    files: Annotated[list[Path], typer.Argument(help="Saved article pages (.html).")],
    url: Annotated[
        str | None, typer.Option(help="The page's URL, if it is not in the page (one FILE only).")
    ] = None,
) -> None:
    """Parse saved pages; print one JSON object per page, one per line.

    Keys: url, article_id, title, sapo, body, author, published_at, category, tags,
    images, source (and, added later, modified_at, extraction_method, missing_fields). Bad files are reported on
    stderr (exit code 2); the others are still parsed.
    """
    from transforms.parse import parse_article

    if url is not None and len(files) > 1:
        err.print("[red]error:[/red] --url applies to one FILE only", markup=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    failed = False
    for path in files:
        try:
            article = parse_article(
                read_page_file(path), url, fallback_url=f"{SITE_URL}/{path.name}"
            )
        except BaoLaoCaiError as exc:
            message = exc.message if str(path) in exc.message else f"{path}: {exc.message}"
            err.print(f"[red]error:[/red] {message}", markup=True)
            failed = True
            continue
        if article.article_id is None:
            err.print(
                f"[yellow]warning:[/yellow] {path}: no article URL in the page or its file name;"
                " url and article_id are null (pass --url)",
                markup=True,
            )
        sys.stdout.write(json.dumps(article.to_contract(), ensure_ascii=False) + "\n")
    sys.stdout.flush()
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


# -- sql ------------------------------------------------------------------------------------------


@app.command()
@friendly_errors
def sql(
    query: Annotated[str, typer.Argument(help='SQL to run, e.g. "SELECT count(*) FROM articles".')],
    db: Annotated[str | None, typer.Option(help="Warehouse file (env BAOLAOCAI_DB).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")] = "table",
    write: Annotated[
        bool, typer.Option("--write", help="Open the warehouse for writing (one transaction).")
    ] = False,
    lock_timeout: Annotated[
        float, typer.Option(help="Seconds to wait while a crawl is writing.")
    ] = 30.0,
) -> None:
    """Run a SQL query against the warehouse (read-only unless --write) and print the result.

    While a crawl writes a batch the file is locked; the query waits up to
    --lock-timeout seconds for it, then gives up with a clear message.
    """
    import duckdb

    from warehouse.db import connect, transaction

    if format not in ("table", "csv", "json"):
        raise ConfigError(f"--format must be table, csv or json, not {format!r}")
    settings = settings_from(db_path=db)
    if write and not Path(settings.db_path).exists():
        raise InputError(f"no warehouse at {settings.db_path}")
    con = connect(settings.db_path, read_only=not write, lock_timeout=lock_timeout)
    try:
        with transaction(con) if write else contextlib.nullcontext():
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            rows = cursor.fetchall() if columns else []
    except duckdb.Error as exc:
        raise BaoLaoCaiError(f"query failed: {str(exc).strip().splitlines()[0]}") from None
    finally:
        con.close()
    print_rows(columns, rows, format)


def _register_more() -> None:
    """Commands kept in their own modules (search/export/status; serve/backfill)."""
    from cli import orchestration, warehouse_commands

    warehouse_commands.register(app)
    orchestration.register(app)


_register_more()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
