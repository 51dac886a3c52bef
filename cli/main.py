"""``baolaocai``: the command line. Composition only; the work is in the packages.

Exit codes: 0 success, 1 a run or query failed, 2 bad input (files, flags, settings).
Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import stat
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from baolaocai import __version__
from baolaocai.errors import (
    BaoLaoCaiError,
    ConfigError,
    InputError,
    WarehouseBusyError,
    internal_error,
)
from baolaocai.site import DEFAULT_SITE
from cli.support import (
    DAY_RANGE,
    DEFAULT_MAX_ROWS,
    DEMO_DB,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_SIGINT,
    FORMAT_HELP,
    MAX_MAX_ROWS,
    RUN_OK,
    SITE_HELP,
    WAREHOUSE_HELP,
    check_format,
    check_number,
    err,
    friendly_errors,
    out,
    parse_day,
    prefect_api,
    print_error,
    print_note,
    print_rows,
    print_summary,
    print_warning,
    query_settings,
    settings_from,
    sigterm_as_interrupt,
    warehouse_missing,
)
from cli.warehouse_commands import MemoryLimitOption, TimeoutOption
from cli.writers import WaitOption, claim_warehouse

if TYPE_CHECKING:
    from collections.abc import Iterator

    from baolaocai.settings import Settings
    from baolaocai.site import Site
    from sitecopy.overlay import Overlay
    from warehouse.writer import Holder

# Heavy modules (Prefect, the warehouse, rich's tables and live display, parsing) are
# imported in the commands that use them, not here: every command, ``--help`` included,
# pays for what this module imports (tests/cli/test_startup.py keeps it so).

app = typer.Typer(
    name="baolaocai",
    help="Polite scraper and ETL pipeline for Báo Lào Cai (baolaocai.vn) and other papers on"
    " its CMS into DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
MAX_LOCK_TIMEOUT = 86400.0
"""The longest ``sql --lock-timeout``: a day."""
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
    quiet: bool = False,
) -> dict[str, Any]:
    """Run the Prefect ``crawl`` flow once, in this process (the manual trigger), with a
    progress display on a terminal, plain lines elsewhere, nothing with ``quiet``."""
    from cli.progress import watching

    with prefect_api(settings, verbose=verbose, quiet=quiet, check_site=True, flow="flows.crawl"):
        from flows.crawl import crawl  # imported late: Prefect reads its settings on import

        with watching(err, quiet=quiet):
            state = crawl(
                site=settings.site.path,
                base_url=settings.base_url,
                db_path=settings.db_path,
                max_articles=settings.max_articles,
                concurrency=settings.concurrency,
                rate=settings.rate,
                max_listing_pages=settings.max_listing_pages,
                recheck_days=settings.recheck_days,
                since=since,
                retry_failed=retry_failed,
                writer_wait=settings.writer_wait,
                return_state=True,
            )
        data = state.result(raise_on_failure=False)
    if isinstance(data, dict) and data.get("status") == "busy":
        raise WarehouseBusyError(str(data.get("error")))
    if not isinstance(data, dict):
        raise BaoLaoCaiError(f"the crawl flow ended in state {state.name}: {state.message}")
    return data


@app.command()
@friendly_errors
def crawl(
    site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Fetch from this copy of the site (env BAOLAOCAI_BASE_URL; default the"
            " site's origin, e.g. https://baolaocai.vn)."
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            "--warehouse",
            help="Warehouse: a file, or a lake 'ducklake:postgres:<connection>' (env"
            " BAOLAOCAI_DB or BAOLAOCAI_WAREHOUSE; default warehouse/<site>.duckdb).",
        ),
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
            help="Do not follow listings or sitemap entries older than this day (YYYY-MM-DD,"
            f" {DAY_RANGE})."
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
    plan: Annotated[
        bool,
        typer.Option(
            "--plan",
            help="Discover only (politely) and print what a crawl would fetch and how long"
            " it would take; fetch no article, store nothing.",
        ),
    ] = False,
    wait: WaitOption = True,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or progress lines.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Run the crawl flow once: discover, fetch, parse, clean and load new articles.

    On a terminal a live display shows the phase, pages read and articles found, then
    articles done of the total with an ETA from the politeness rate, and every slow-down
    the site asks for (Retry-After, Crawl-delay); without a terminal, one plain line per
    phase and batch on stderr.

    The warehouse is opened (created or migrated) before the flow starts: a file that is not a DuckDB warehouse, a folder, an unwritable file, or a warehouse written by a newer baolaocai is one error line (exit 1) and nothing is fetched. Another run writing it is waited for (--wait) or refused (--no-wait, exit 75) first.
    """
    from warehouse.db import check_warehouse

    settings = settings_from(
        site=site,
        base_url=base_url,
        db_path=db,
        max_articles=max_articles,
        concurrency=concurrency,
        rate=rate,
        max_listing_pages=max_listing_pages,
        recheck_days=recheck_days,
    )
    since_day = parse_day(since, "--since")
    if plan:
        print_plan(settings, since=since_day, retry_failed=retry_failed, quiet=quiet)
        return
    check_warehouse(settings.db_path)
    settings = claim_warehouse(settings, wait)
    summary = run_crawl_flow(
        settings, verbose=verbose, since=since_day, retry_failed=retry_failed, quiet=quiet
    )
    print_summary(summary, settings.db_path)
    if summary["status"] not in RUN_OK:
        raise typer.Exit(EXIT_FAILED)


def print_plan(
    settings: Settings, *, since: dt.date | None, retry_failed: bool, quiet: bool
) -> None:
    """``crawl --plan``: discovery only, then what a crawl would fetch and for how long."""
    from rich.table import Table

    from cli.progress import watching
    from pipeline.crawl import plan_site

    with sigterm_as_interrupt(), watching(err, quiet=quiet):
        preview = plan_site(settings, since=since, retry_failed=retry_failed)
    if preview.error:
        raise BaoLaoCaiError(preview.error)
    p = preview.plan
    table = Table(show_header=False, box=None, padding=(0, 2))
    for name, value in (
        ("discovered", preview.discovered),
        ("already stored", p.already_stored),
        ("new", len(p.new)),
        ("retries", len(p.retry)),
        (
            "rechecks (conditional)",
            f"{len(p.rechecks)}: {len(p.relisted)} relisted, {len(p.unlisted)} unlisted,"
            f" {len(p.recheck)} fresh, {len(p.revisit)} revisits",
        ),
        ("parked (gone or unreadable)", p.skipped_gone),
        ("discovery requests", preview.requests),
        ("pace", f"{preview.interval_s:.2f} s per request"),
        ("estimated fetch time", preview.estimate),
    ):
        table.add_row(name, str(value))
    out.print(f"Plan for {settings.base_url} -> {settings.db_path} (nothing fetched or stored):")
    out.print(table)
    for line in preview.notes:
        print_note(line)


DEMO_QUERIES = (
    (
        "Articles per category",
        "SELECT coalesce(category, '(none shown)') AS category, count(*) AS articles,"
        " min(published_at)::DATE AS oldest, max(published_at)::DATE AS newest FROM articles"
        " WHERE site = '{site}' GROUP BY category ORDER BY articles DESC",
    ),
    (
        "The five newest articles",
        "SELECT published_at::DATE AS day, category, title FROM articles"
        " WHERE site = '{site}' ORDER BY published_at DESC LIMIT 5",
    ),
    (
        "What the second pass found: edits (every version kept) and takedowns",
        "SELECT article_id, version AS versions, removed_at::DATE AS removed, title"
        " FROM articles WHERE site = '{site}' AND (version > 1 OR removed_at IS NOT NULL)"
        " ORDER BY article_id",
    ),
)
"""Queries the demo prints; ``{site}`` is the demo site's key (letters, digits, - and _)."""


def _shown(db: str) -> str:
    """The warehouse as a line may name it: a lake's spec without its password."""
    from warehouse.lake import LakeSpec, is_lake

    return LakeSpec.parse(db).shown if is_lake(db) else db


@contextmanager
def _demo_turn(db: str, patience: float) -> Iterator[None]:
    """One ``demo`` at a time on a warehouse, for all its passes: each pass takes the
    writer lock for itself only, and a second demo coming between two passes would find
    the site half-way (or crawl the bundled copy after the later one). Waits as long as
    a writer would (``--wait``/``--no-wait``). On a lake the turn is a lock in its
    catalog: a spec is no path to put a lock file beside."""
    from warehouse.lake import LakeSpec, catalog_lock, is_lake
    from warehouse.writer import WriterLock

    if is_lake(db):
        lake = LakeSpec.parse(db)
        with ExitStack() as held:
            try:
                held.enter_context(catalog_lock(lake, "demo", wait_s=patience))
            except WarehouseBusyError:
                raise WarehouseBusyError(
                    f"another demo is writing {lake.shown}; try again when it has finished"
                    " (or pass --wait)"
                ) from None
            yield
        return
    path = Path(db)
    turn = WriterLock(path.with_name(f"{path.name}.demo"), kind="demo")

    def say(holder: Holder) -> None:
        err.print(f"waiting for the {holder.describe()} on {db} to finish …", markup=False)

    try:
        turn.acquire(patience, say)
    except WarehouseBusyError as exc:
        raise WarehouseBusyError(
            f"another demo is writing {db}; try again when it has finished (or pass --wait)",
            holder=exc.holder,
        ) from None
    try:
        yield
    finally:
        turn.release()


@app.command()
@friendly_errors
def demo(
    site: Annotated[
        str,
        typer.Option(help="Which bundled copy to serve: a bundled site's key ('baolaocai sites')."),
    ] = DEFAULT_SITE,
    db: Annotated[str, typer.Option(help="Warehouse file for the demo.")] = DEMO_DB,
    wait: WaitOption = True,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Crawl the bundled offline copy of the site (served on 127.0.0.1) into DB twice, then query it.

    Pass 1 crawls the copy as bundled; pass 2 the same site a few days later (an article
    edited, one taken down: ``sitecopy/changes/<site>.toml``), so the warehouse shows
    versions and removals. Pass 2 is an ordinary incremental crawl: the sitemap's later
    ``<lastmod>`` makes it recheck the edited article, the sitemap that no longer lists
    the other makes it recheck that one, and its 404 marks it removed. A warehouse that
    already holds the site gets pass 2 only: the site as it is now, so a rerun stores
    nothing new and never turns the edit or the takedown back. Like ``crawl``, the
    warehouse is checked before anything starts.
    """
    try:
        from sitecopy import copy_dir
        from sitecopy.overlay import changed_copy
    except ImportError:
        raise InputError(
            "demo needs a clone of the repository: the bundled copies of the sites"
            " (sitecopy/) are not part of the installed package"
        ) from None
    from warehouse.db import check_warehouse

    chosen = settings_from(site=site).site
    try:
        root = copy_dir(chosen.key)
    except LookupError as exc:
        raise InputError(str(exc).strip("'\"")) from None
    later = changed_copy(chosen.key, root)
    check_warehouse(db)
    patience = claim_warehouse(settings_from(site=chosen, db_path=db), wait).writer_wait
    with _demo_turn(db, patience):
        _demo_passes(chosen, root, later, db, patience, verbose=verbose)


def _demo_passes(
    chosen: Site, root: Path, later: Overlay | None, db: str, patience: float, *, verbose: bool
) -> None:
    """``demo`` once it has its turn: the passes, then the example queries."""
    from sitecopy import serve_site
    from warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM articles WHERE site = ?", [chosen.key]).fetchone()
    finally:
        con.close()
    passes: list[tuple[int, str, Overlay | None]] = []
    if later is None or not (row and row[0]):
        passes.append((1, "the site as bundled", None))
    if later is not None:
        passes.append((2, later.changes.summary, later))
    with serve_site(root) as server:
        out.print(f"Serving the bundled copy of {chosen.name} ({chosen.host}) at {server.url}")
        if len(passes) == 1 and later is not None:
            out.print(
                "Pass 1 skipped: the warehouse holds this site already;"
                " a rerun crawls the site as it is now."
            )
        settings = settings_from(
            site=chosen,
            base_url=server.url,
            db_path=db,
            rate=DEMO_RATE,
            concurrency=DEMO_CONCURRENCY,
            writer_wait=patience,
        )
        # One Prefect API for both passes: pass 2 never waits for a server of its own.
        with prefect_api(
            settings, verbose=verbose, quiet=False, check_site=False, flow="flows.crawl"
        ):
            for number, title, changes in passes:
                server.changes = changes
                if later is not None:
                    out.print(f"\n[bold]Pass {number}: {title}[/bold]", markup=True)
                summary = run_crawl_flow(settings, verbose=verbose)
                print_summary(summary, settings.db_path)
                if summary["status"] not in RUN_OK:
                    raise typer.Exit(EXIT_FAILED)
    con = connect(settings.db_path, read_only=True)
    try:
        for title, template in DEMO_QUERIES:
            query = template.replace("{site}", chosen.key)
            out.print(f"\n[bold]{title}[/bold]", markup=True)
            out.print(f'$ baolaocai sql "{query}" --db {db}', markup=False)
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description or []]
            print_rows(columns, cursor.fetchall(), "table")
    finally:
        con.close()
    out.print(
        f"\nRead it in a browser: baolaocai web --db {shlex.quote(_shown(db))}"
        "  (then http://127.0.0.1:8765/; Ctrl-C stops it)",
        markup=False,
    )


@app.command()
@friendly_errors
def reparse(
    site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
    db: Annotated[str | None, typer.Option("--db", "--warehouse", help=WAREHOUSE_HELP)] = None,
    wait: WaitOption = True,
    parts: Annotated[
        int,
        typer.Option(
            help="Reparse in this many parts side by side: on a lake with a Prefect server"
            " and the site's reparse-part deployment (baolaocai deploy), one flow run per"
            " part on the work pool's workers; otherwise the parts run here one after another"
            " (the same result). 1 to 64."
        ),
    ] = 1,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress display or progress lines.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run log.")
    ] = False,
) -> None:
    """Parse the stored raw pages again (no network); store what changed as new versions.

    Refused (one error line) when there is no warehouse, it cannot be opened, or it was written by a newer baolaocai.
    """
    check_number(parts, "--parts", 1, MAX_REPARSE_PARTS)
    settings = settings_from(site=site, db_path=db)
    from warehouse.db import check_warehouse, connect

    connect(settings.db_path, read_only=True).close()  # a clear error if there is no warehouse
    check_warehouse(settings.db_path)  # writable, and a schema this version knows
    settings = claim_warehouse(settings, wait)
    from cli.progress import watching

    with prefect_api(
        settings, verbose=verbose, quiet=quiet, check_site=False, flow="flows.reparse"
    ):
        from flows.reparse import reparse as reparse_flow

        with watching(err, quiet=quiet):
            result = reparse_flow(
                db_path=settings.db_path,
                site=settings.site.path,
                writer_wait=settings.writer_wait,
                parts=parts,
            )
    if result.get("status") == "busy":
        raise WarehouseBusyError(str(result.get("error")))
    in_parts = f" in {result['parts']} parts" if result.get("parts", 1) > 1 else ""
    out.print(
        f"Reparsed {result['pages']} stored pages{in_parts} in {result['elapsed_s']:.1f} s: "
        f"{result['changed']} changed (new versions), {result['unchanged']} unchanged, "
        f"{result['failed']} failed, {result['fallback']} of unknown layout (read by the fallback extractor)."
    )


MAX_REPARSE_PARTS = 64

# -- parse ----------------------------------------------------------------------------------------


MAX_PAGE_BYTES = 20 * 1024 * 1024
"""A saved page larger than this (20 MiB) is refused: article pages are about 100 KiB."""

_FILE_KINDS = (
    (stat.S_ISDIR, "is a directory"),
    (stat.S_ISFIFO, "is a named pipe (FIFO)"),
    (stat.S_ISSOCK, "is a socket"),
    (stat.S_ISCHR, "is a character device"),
    (stat.S_ISBLK, "is a block device"),
)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _not_regular(path: Path, mode: int) -> InputError | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((text for test, text in _FILE_KINDS if test(mode)), "is not a regular file")
    return InputError(f"{path}: {kind}, not a saved page")


def _too_big(path: Path, size: int | None) -> InputError:
    what = f"{_size(size)}; " if size is not None else "it grew while read; "
    return InputError(f"{path}: too big for a page ({what}the limit is {_size(MAX_PAGE_BYTES)})")


def read_page_file(path: Path) -> str:
    """Read a saved page as text; a clear InputError for anything that is not one.

    Only a regular file up to :data:`MAX_PAGE_BYTES` is read. The file is examined with
    ``stat`` first, so a FIFO, a device, a socket or a folder is refused without being
    opened (reading a FIFO would block for ever), and a huge file is refused without
    being read. The file is opened with ``O_NONBLOCK`` and checked again (it may have
    been swapped in between); at most the limit plus one byte is ever read.
    """
    from scrapers.fetch import decode_html
    from transforms.parse import looks_like_html

    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    problem = _not_regular(path, info.st_mode)
    if problem is not None:
        raise problem
    if info.st_size > MAX_PAGE_BYTES:
        raise _too_big(path, info.st_size)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        problem = _not_regular(path, info.st_mode)
        if problem is not None:
            raise problem
        chunks, total = [], 0
        while total <= MAX_PAGE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_PAGE_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if total > MAX_PAGE_BYTES:  # it grew after the stat
        raise _too_big(path, None)
    raw = b"".join(chunks)
    if not raw.strip():
        raise InputError(f"{path}: empty file")
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: binary file, not an HTML page")
    text = decode_html(raw, None)
    if not looks_like_html(text):
        raise InputError(f"{path}: not an HTML page")
    return text


@app.command()
@friendly_errors
def parse(
    files: Annotated[list[Path], typer.Argument(help="Saved article pages (.html).")],
    url: Annotated[
        str | None, typer.Option(help="The page's URL, if it is not in the page (one FILE only).")
    ] = None,
    site: Annotated[str | None, typer.Option(help=SITE_HELP)] = None,
) -> None:
    """Parse saved pages; print one JSON object per page, one per line.

    Keys: url, article_id, title, sapo, body, author, published_at, category, tags, images, source, page_kind (the kind of page: article, live, e-magazine, gallery, video, podcast, interview, infographic, print, amp or unknown), and the quality keys modified_at, extraction_method (which reader of the fallback cascade gave the body), missing_fields, field_conflicts (sources of one field that disagreed), images_dropped.

    A bad file costs only itself: one error line on stderr, the others are still parsed, and the exit code is 2. Only regular files up to 20 MiB are read (a FIFO, device or folder is refused without being opened); a page nested more than 500 elements deep, or of more elements than BAOLAOCAI_MAX_PAGE_ELEMENTS (100000), is refused.
    """
    from baolaocai.text import json_for_terminal
    from transforms.parse import parse_article

    if url is not None and len(files) > 1:
        raise ConfigError("--url applies to one FILE only")
    settings = settings_from(site=site)
    chosen = settings.site
    failed = False
    for path in files:
        try:
            article = parse_article(
                read_page_file(path),
                url,
                site=chosen,
                fallback_url=chosen.url(path.name),
                max_elements=settings.max_page_elements,
            )
            record = json_for_terminal(json.dumps(article.to_contract(), ensure_ascii=False))
        except BaoLaoCaiError as exc:
            message = exc.message if str(path) in exc.message else f"{path}: {exc.message}"
            print_error(message)
            failed = True
            continue
        except Exception as exc:  # a poison page must not stop the others
            print_error(f"{path}: {internal_error(exc)}")
            failed = True
            continue
        if article.article_id is None:
            print_warning(
                f"{path}: no article URL in the page or its file name;"
                " url and article_id are null (pass --url)"
            )
        sys.stdout.write(record + "\n")
    sys.stdout.flush()
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


# -- sql ------------------------------------------------------------------------------------------


@app.command()
@friendly_errors
def sql(
    query: Annotated[str, typer.Argument(help='SQL to run, e.g. "SELECT count(*) FROM articles".')],
    site: Annotated[
        str | None,
        typer.Option(help=SITE_HELP + " Chooses the default warehouse (warehouse/<site>.duckdb)."),
    ] = None,
    db: Annotated[str | None, typer.Option("--db", "--warehouse", help=WAREHOUSE_HELP)] = None,
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)] = "auto",
    max_rows: Annotated[
        int,
        typer.Option(
            help=f"Rows a table, vertical or markdown answer shows (0 = all, at most"
            f" {MAX_MAX_ROWS:,}); only these are fetched, the rest counted. csv and json"
            " print every row."
        ),
    ] = DEFAULT_MAX_ROWS,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Open the warehouse for writing (one transaction), with DuckDB's full power:"
            " files, COPY, ATTACH, extensions. Your explicit choice; without it the query is"
            " sandboxed.",
        ),
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(help=f"Seconds to wait while a crawl is writing (0 to {MAX_LOCK_TIMEOUT:g})."),
    ] = 30.0,
    timeout: TimeoutOption = None,
    memory_limit: MemoryLimitOption = None,
) -> None:
    """Run a SQL query against the warehouse (read-only unless --write) and print the result.

    Without --write the query runs in a sandbox: the warehouse is read-only and the query cannot read or write any other file (read_text, glob, read_csv, COPY ... TO), ATTACH another database, reach the network, install or load extensions, or change settings (SET). SELECTs, views and temporary tables work as usual. --write opens the warehouse for writing with none of these limits: that is your explicit choice.

    A warehouse written by a newer baolaocai can be read, but not written (--write is refused).

    While a crawl writes a batch the file is locked; the query waits up to --lock-timeout seconds for it, then gives up with a clear message.

    Limits: a query is stopped after --timeout seconds (default 60; Ctrl-C stops it at once), and a sandboxed query may use --memory-limit of memory (default 1GB; it never spills to disk, and the rows it returns count too). Either is one error line (exit 1) saying which limit it hit. A query DuckDB refuses is one error line followed by DuckDB's own hints ("Did you mean ...") and the place in the query.

    Output: a table of the first --max-rows rows (default 100; the rest are counted, not fetched), or one record at a time (column | value) when a table would not fit the terminal; --format table or vertical chooses, markdown makes a GitHub table, csv and json print every row.

    Without --db, --site, BAOLAOCAI_DB or BAOLAOCAI_SITE, and with no warehouse/baolaocai.duckdb yet, the demo's warehouse/demo.duckdb is read (one note line says so); --write never does that.
    """
    from cli.warehouse_commands import run_sql
    from warehouse.db import connect
    from warehouse.spec import is_lake

    check_format(format)
    check_number(max_rows, "--max-rows", 0, MAX_MAX_ROWS)
    check_number(lock_timeout, "--lock-timeout", 0, MAX_LOCK_TIMEOUT)
    settings = query_settings(
        write=write, site=site, db_path=db, query_timeout=timeout, query_memory=memory_limit
    )
    if write and memory_limit is not None:
        raise ConfigError("--memory-limit is for sandboxed queries; --write has no limit")
    if write and warehouse_missing(settings.db_path):
        env = (os.environ.get(f"BAOLAOCAI_{v}", "").strip() for v in ("DB", "SITE"))
        named = db or site or any(env)
        demo = not named and Path(DEMO_DB).is_file()
        hint = f" (the demo's is {DEMO_DB}: --db {DEMO_DB})" if demo else ""
        raise InputError(f"no warehouse at {settings.db_path}{hint}")
    limit = None if write else settings.query_memory
    if not write and is_lake(settings.db_path):
        from warehouse.lake import check_sandboxed_query

        check_sandboxed_query(query)
    con = connect(
        settings.db_path,
        read_only=not write,
        lock_timeout=lock_timeout,
        sandbox=not write,
        memory_limit=limit,
    )
    statements = _statements(query)
    capped = format not in ("csv", "json") and max_rows > 0
    answer = run_sql(
        con,
        query,
        write=write,
        timeout=settings.query_timeout,
        memory_limit=limit,
        max_rows=max_rows if capped else None,
    )
    if statements > 1:  # DuckDB ran them all and answered with the last one's rows
        print_note(f"{statements} statements: the rows shown are the last one's")
    print_rows(
        answer.columns,
        answer.rows,
        format,
        max_rows=max_rows,
        more=answer.more,
        counted=answer.counted,
    )


def _statements(query: str) -> int:
    """How many statements ``query`` holds (0 when DuckDB cannot parse it: running it
    then says why)."""
    import duckdb

    try:
        return len(duckdb.extract_statements(query))
    except duckdb.Error:
        return 0


def _register_more() -> None:
    """Commands kept in their own modules (search/export/status; serve/backfill; deploy;
    tables/describe; show/history/page/removed)."""
    from cli import (
        deploy_command,
        orchestration,
        reading_commands,
        schema_commands,
        sites,
        warehouse_commands,
        web_command,
    )

    warehouse_commands.register(app)
    orchestration.register(app)
    deploy_command.register(app)
    sites.register(app)
    schema_commands.register(app)
    web_command.register(app)
    reading_commands.register(app)


_register_more()


def main() -> None:
    """The ``baolaocai`` command. A mistyped command line (an unknown option, a value of
    the wrong type, a missing argument) is one ``error:`` line naming the help to read,
    exit 2, like every other bad input; ``--help`` and the commands' own exits as ever."""
    # typer 0.29 runs on its own copy of click: its exceptions are these, not click's.
    from typer._click.exceptions import UsageError

    try:
        code = app(standalone_mode=False)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "baolaocai"
        message = exc.format_message()
        if message.startswith("No such option") and where.endswith(" search"):
            # `search -"du lịch" sa pa`: an exclusion first reads as an option
            message += "; a query that starts with - goes after --: search -- '-x y'"
        if message:  # none when the help was shown instead (no arguments)
            print_error(f"{message} (see '{where} --help')")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(EXIT_SIGINT)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
