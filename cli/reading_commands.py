"""Reading one article from the command line: ``show``, ``history``, ``page``, ``removed``.

For scripts and for a reader at a terminal: ``show ID`` prints every field of the stored
article, ``history ID`` its versions (``--diff A B``: what changed, word by word), ``page
ID`` the page exactly as archived in the WARC files (``--at`` a day, a time or a capture's
timestamp), ``removed`` the takedowns. ``ID`` is an article number (``395512``) or
``site/number`` (``baolaocai/395512``). The work is done by :mod:`warehouse.reader` (the
web app's read model too) and :mod:`baolaocai.worddiff`; this module only lays it out.

Same conventions as the other read commands: ``--db`` / ``--site`` (the demo's warehouse
when none is named and only it exists), the warehouse opened read-only for the moment of
the read, one-line errors, exit 2 for bad input (a non-number id, an unknown article or
version, a time before the first capture, a bad day). Registered from :mod:`cli.main` by
:func:`register`; DuckDB and rich's tables are imported when a command runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from baolaocai.dates import SITE_TZ
from baolaocai.errors import ConfigError, InputError, NotFoundError
from baolaocai.text import for_terminal
from cli.support import (
    DEFAULT_MAX_ROWS,
    OUTPUT_FORMATS,
    check_format,
    err,
    friendly_errors,
    out,
    parse_day,
    print_rows,
    shown_warehouse,
)
from cli.warehouse_commands import DbOption, SiteOption, _print_json, _site_filter

if TYPE_CHECKING:
    from baolaocai.worddiff import DiffPiece, FieldChange
    from warehouse.reader import ArchivedPage, ArticleView, RemovedView, VersionView

MAX_ARTICLE_ID = 2**63 - 1
"""``article_id`` is a BIGINT."""
_ID = re.compile(r"(?:(?P<site>[^/\s]+)/)?(?P<id>[0-9]+)")
r"""ASCII digits only: ``\d`` would take ``١٢٣`` (Arabic-Indic) or full-width digits as 123,
an article the web address of the same text does not name."""

IdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help="The article: its number (395512) or site/number (baolaocai/395512).",
        show_default=False,
    ),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="text or json.")]


# -- which article, in which warehouse ---------------------------------------------------------


def parse_article_id(value: str) -> tuple[str | None, int]:
    """``395512`` -> ``(None, 395512)``; ``baolaocai/395512`` -> ``("baolaocai", 395512)``;
    anything else is one :class:`InputError` line."""
    match = _ID.fullmatch(value.strip())
    number = int(match["id"]) if match else 0
    if match is None or not 1 <= number <= MAX_ARTICLE_ID:
        raise InputError(
            "ID must be an article number such as 395512, or site/number such as"
            f" baolaocai/395512, not {value!r}"
        )
    return match["site"], number


def _site_key(site: str | None) -> str:
    from baolaocai.settings import load_settings

    return load_settings().override(site=site).site.key


def _target(article: str, db: str | None, site: str | None) -> tuple[str, str, int]:
    """The warehouse path, site key and article number that ``ID``, ``--db`` and
    ``--site`` name. ``site/number`` names the site as ``--site`` would; both given, they
    must agree. Without ``--db``, the warehouse is the site's, or the demo's when none was
    named and only it exists (:func:`cli.support.read_path`). A bare number with no site
    named (nor ``BAOLAOCAI_SITE``) is looked up in every paper of the warehouse: the one
    that has it, or one line naming them all when several do (never a silent pick)."""
    import os

    from baolaocai.settings import load_settings
    from cli.support import read_path

    named, number = parse_article_id(article)
    key = _site_key(site or named)
    if named is not None and site is not None and named != key:
        raise InputError(f"{article!r} is an article of {named}, but --site is {key}")
    settings = load_settings().override(site=site or named, db_path=db)
    path = read_path(settings.db_path, db, site)
    if named is None and site is None and not os.environ.get("BAOLAOCAI_SITE", "").strip():
        key = _only_paper_with(path, number, key)
    return path, key, number


def _only_paper_with(path: str, number: int, default: str) -> str:
    from warehouse.reader import sites_with

    with _reading(path) as con:
        found = sites_with(con, number)
    if len(found) > 1:
        names = ", ".join(f"{s}/{number}" for s in found)
        raise InputError(
            f"article {number} is in several papers of {path}: {names};"
            " name one (site/number or --site)"
        )
    return found[0] if found else default


@contextlib.contextmanager
def _reading(path: str) -> Iterator[Any]:
    """The warehouse open read-only for one read, closed at once (a crawl in another
    process needs the file); "not found" says which warehouse was read. A warehouse older
    than the reader (it cannot be migrated read-only) is one line saying how to upgrade
    it (:func:`warehouse.reader.require_readable`)."""
    from warehouse.db import connect
    from warehouse.reader import require_readable

    con = connect(path, read_only=True)
    try:
        require_readable(con, path)
        yield con
    except NotFoundError as exc:
        raise NotFoundError(
            exc.message.replace(" in the warehouse", "") + f" (in {shown_warehouse(path)})"
        ) from None
    finally:
        con.close()


# -- times and text ----------------------------------------------------------------------------


def _when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(SITE_TZ).strftime(fmt) if value is not None else ""


def _shown(value: object) -> str:
    """A value for the terminal: text as it is, control characters shown, not obeyed."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _when(value, "%Y-%m-%d %H:%M:%S %z")
    if isinstance(value, tuple | list):
        return ", ".join(for_terminal(str(v)) for v in value)
    return for_terminal(str(value))


def _print_text(text: str, style: str | None = None) -> None:
    from rich.text import Text

    out.print(Text(text, style=style or ""), soft_wrap=True)


# -- show ----------------------------------------------------------------------------------------


def _article_lines(a: ArticleView) -> list[tuple[str, str]]:
    """Every field of the article but title, sapo and body, as label and value."""
    words = f"{a.word_count:,} words, {a.paragraph_count:,} paragraphs, {a.body_chars:,} characters"
    category = a.category or ""
    if a.category and a.category_source:
        category += f" (from the {a.category_source})"
    return [
        ("article", f"{a.site}/{a.article_id}"),
        ("url", a.url),
        ("published", _shown(a.published_at)),
        ("published day", a.published_date.isoformat() if a.published_date else ""),
        ("modified", _shown(a.modified_at)),
        ("author", _shown(a.author)),
        ("category", _shown(category)),
        ("tags", _shown(a.tags)),
        ("source", _shown(a.source)),
        ("page kind", _shown(a.page_kind)),
        ("extraction", _shown(a.extraction_method)),
        ("size", words),
        ("pictures", f"{a.image_count:,}"),
        ("missing fields", _shown(a.missing_fields) or "none"),
        ("field conflicts", _shown(a.field_conflicts) or "none"),
        ("version", f"{a.version} ({a.versions} stored: 'baolaocai history {a.article_id}')"),
        ("content hash", a.content_hash),
        ("first seen", _shown(a.first_seen_at)),
        ("last seen", _shown(a.last_seen_at)),
        ("updated", _shown(a.updated_at)),
        ("listed lastmod", _shown(a.listed_lastmod)),
        ("removed", _shown(a.removed_at) if a.removed_at else "no"),
        ("captures", f"{a.captures} ('baolaocai page {a.article_id}' prints the page)"),
        ("run", _shown(a.run_id)),
    ]


def _print_article(a: ArticleView) -> None:
    _print_text(for_terminal(a.title or "(no title)"), "bold")
    if a.removed_at is not None:
        _print_text(f"REMOVED from the site: found gone {_when(a.removed_at)}", "bold red")
    lines = _article_lines(a)
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        _print_text(f"{label:<{width}}  {value}".rstrip())
    if a.sapo:
        out.print()
        _print_text(for_terminal(a.sapo), "bold")
    out.print()
    for paragraph in a.body.split("\n"):
        _print_text(for_terminal(paragraph))
    if a.images:
        out.print()
        _print_text("Pictures", "bold")
        for image in a.images:
            where = (
                f"archived {_when(image.archived.fetched_at)}"
                if image.archived is not None
                else "not in the archive"
            )
            caption = for_terminal(image.caption) if image.caption else "(no caption)"
            _print_text(f"{image.position:>3}. {caption}")
            _print_text(f"     {for_terminal(image.src)} ({where})", "dim")


@friendly_errors
def show_command(
    article: IdArgument,
    db: DbOption = None,
    site: SiteOption = None,
    format: FormatOption = "text",
) -> None:
    """Every field of one stored article: its text, dates, byline, section, tags, source,
    quality notes, pictures, versions and captures (Vietnam time)."""
    check_format(format, ("text", "json"))
    path, key, number = _target(article, db, site)
    from warehouse.reader import get_article

    with _reading(path) as con:
        view = get_article(con, key, number)
    if format == "json":
        _print_json(view.to_dict())
    else:
        _print_article(view)


# -- history -------------------------------------------------------------------------------------


def _changed(older: VersionView | None, newer: VersionView) -> list[str]:
    from baolaocai.worddiff import field_changes

    return ["first version"] if older is None else [c.field for c in field_changes(older, newer)]


def _diff_lines(pieces: tuple[DiffPiece, ...]) -> list[list[tuple[str, str]]]:
    """The pieces cut into lines, each a list of ``(op, text)`` segments."""
    lines: list[list[tuple[str, str]]] = [[]]
    for piece in pieces:
        parts = piece.text.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((piece.op, part))
    return lines


def _print_change(change: FieldChange, *, plain: bool) -> None:
    """One field's diff: its changed lines (paragraphs) whole, unchanged ones left out
    (``…``). ``plain``: ``[-deleted-]`` and ``{+inserted+}`` markers, as
    ``git diff --word-diff=plain``; else colours (red struck through, green)."""
    from rich.text import Text

    lines = _diff_lines(change.pieces)
    changed = [any(op != "equal" for op, _ in line) for line in lines]
    skipped = False
    for line, differs in zip(lines, changed, strict=True):
        if not differs:
            skipped = skipped or any(text.strip() for _, text in line)
            continue
        if skipped:
            out.print(Text("…", style="dim"), soft_wrap=True)
            skipped = False
        text = Text()
        for op, part in line:
            shown = for_terminal(part)
            if plain:
                marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
                text.append(marks[op].format(shown))
            else:
                style = {"equal": "", "delete": "red strike", "insert": "green"}[op]
                text.append(shown, style=style)
        out.print(text, soft_wrap=True)
    if skipped:
        out.print(Text("…", style="dim"), soft_wrap=True)


def _version_rows(versions: list[VersionView]) -> list[tuple[Any, ...]]:
    rows = []
    for i, v in enumerate(versions):
        older = versions[i - 1] if i else None
        rows.append(
            (v.version, _when(v.seen_at), v.title or "", ", ".join(_changed(older, v)), v.run_id)
        )
    return rows


@friendly_errors
def history_command(
    article: IdArgument,
    diff: Annotated[
        tuple[int, int] | None,
        typer.Option(
            "--diff",
            metavar="A B",
            help="What changed from version A to version B, word by word, field by field.",
            show_default=False,
        ),
    ] = None,
    captures: Annotated[
        bool,
        typer.Option(
            "--captures",
            help="Every capture of the page instead (when, what the site answered, its"
            " timestamp for 'baolaocai page ID --at TIMESTAMP').",
        ),
    ] = False,
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="auto, table, vertical, markdown, csv or json (with --diff: text or json).",
        ),
    ] = "auto",
) -> None:
    """The versions of an article (every edit the crawls caught): when each was stored,
    its title and the fields it changed. --diff A B shows the changes word by word;
    --captures lists every capture of its page."""
    path, key, number = _target(article, db, site)
    from warehouse.reader import get_version, get_versions

    if diff is not None and captures:
        raise InputError("--diff and --captures: one at a time")
    if captures:
        _print_captures(path, key, number, format)
        return
    if diff is not None:
        check_format(format, ("auto", "text", "json"))
        with _reading(path) as con:
            old = get_version(con, key, number, diff[0])
            new = get_version(con, key, number, diff[1])
        _print_diff(key, number, old, new, json_out=format == "json")
        return
    check_format(format, OUTPUT_FORMATS)
    with _reading(path) as con:
        versions = get_versions(con, key, number)
    if format == "json":
        # "changed": the fields this version changed ([] for the first)
        _print_json(
            [
                {**v.to_dict(), "changed": _changed(versions[i - 1], v) if i else []}
                for i, v in enumerate(versions)
            ]
        )
        return
    print_rows(
        ["version", "seen_at", "title", "changed", "run_id"],
        _version_rows(versions),
        format,
        max_rows=DEFAULT_MAX_ROWS,
    )


def _print_captures(path: str, key: str, number: int, format: str) -> None:
    from warehouse.reader import get_captures

    check_format(format, OUTPUT_FORMATS)
    with _reading(path) as con:
        found = get_captures(con, key, number)
        if not found:  # say whether the article itself is unknown
            from warehouse.reader import get_article

            get_article(con, key, number)
    if format == "json":
        _print_json([c.to_dict() for c in found])
        return
    by_id = {c.record_id: c for c in found}
    rows = []
    for c in found:
        original = by_id.get(c.refers_to) if c.refers_to else None
        note = f"unchanged since {_when(original.fetched_at)}" if original is not None else ""
        rows.append((c.timestamp, _when(c.fetched_at), c.status, c.record_type, note))
    print_rows(
        ["timestamp", "fetched_at", "status", "record", "note"],
        rows,
        format,
        max_rows=0,
    )


def _print_diff(
    site: str, number: int, old: VersionView, new: VersionView, *, json_out: bool
) -> None:
    from baolaocai.worddiff import field_changes

    changes = field_changes(old, new)
    if json_out:
        _print_json(
            {
                "site": site,
                "article_id": number,
                "from": {"version": old.version, "seen_at": old.seen_at.isoformat()},
                "to": {"version": new.version, "seen_at": new.seen_at.isoformat()},
                "changes": [
                    {
                        "field": c.field,
                        "old": c.old,
                        "new": c.new,
                        "pieces": [{"op": p.op, "text": p.text} for p in c.pieces],
                    }
                    for c in changes
                ],
            }
        )
        return
    plain = not out.is_terminal or out.no_color
    _print_text(
        f"{site}/{number}: version {old.version} ({_when(old.seen_at)})"
        f" -> version {new.version} ({_when(new.seen_at)})",
        "bold",
    )
    if not changes:
        _print_text("no field differs")
        return
    for change in changes:
        out.print()
        _print_text(f"{change.field}:", "bold")
        _print_change(change, plain=plain)


# -- page ----------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"\d{14}")
_AT_HELP = (
    "The page as it was then: a day (2025-03-10: the last capture of that day, Vietnam"
    " time), a time (2025-03-10T08:30 or '2025-03-10 08:30', Vietnam time unless it has an"
    " offset) or a capture's 14-digit timestamp (20250310013000, UTC, as in WARC and"
    " Wayback addresses). Default: the latest capture of the page as it was (a takedown:"
    " its last copy)."
)


def parse_at(value: str) -> tuple[dt.datetime, str | None]:
    """``--at``: the instant it names, and the capture timestamp if it is one. A day is
    its last instant in Vietnam time; a time without an offset is Vietnam time; 14 digits
    are a WARC timestamp (UTC). Anything else is one ConfigError line (exit 2)."""
    text = value.strip()
    problem = (
        "--at must be a day (2025-03-10), a time (2025-03-10T08:30, Vietnam time unless an"
        f" offset is given) or a 14-digit capture timestamp (20250310013000), not {value!r}"
    )
    if _TIMESTAMP.fullmatch(text):
        try:
            instant = dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
        except ValueError:
            raise ConfigError(problem) from None
        return instant, text
    if len(text) == 10:
        day = parse_day(text, "--at")
        assert day is not None
        start = dt.datetime.combine(day, dt.time(), SITE_TZ)
        return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1), None
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(problem) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=SITE_TZ)
    return instant, None


def _describe(page: ArchivedPage) -> str:
    """Which capture it is: its 14-digit timestamp (what ``--at`` and the web addresses
    take) and its time to the second (two captures of one minute are told apart)."""
    c, r = page.capture, page.response
    seconds = "%Y-%m-%d %H:%M:%S"
    what = (
        f"capture {c.timestamp} of {_when(c.fetched_at, seconds)} (Vietnam time), HTTP {c.status}"
    )
    if c.record_type == "revisit":
        what += (
            f": unchanged since the capture {r.timestamp} of {_when(r.fetched_at, seconds)},"
            f" HTTP {r.status}"
        )
    return f"{what}; {len(page.body):,} bytes, {page.content_type or 'no content type'}"


_NOT_REGULAR = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_out(target: Path, *, force: bool) -> None:
    """:class:`InputError` unless ``--out`` may be written: a new name, or with
    ``force`` an existing regular file. Anything else there (a folder, a link, a FIFO, a
    socket, a device) is never replaced, not even with ``force``: the page is put in
    place by a rename, which would swap ``/dev/null`` or a link's name for a regular
    file."""
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"--out {target}: {exc.strerror or exc}") from None
    if mode is not None:
        kind = next((name for test, name in _NOT_REGULAR if test(mode)), None)
        if kind is not None:
            raise InputError(
                f"--out {target} is {kind}, not a regular file; name a new file"
                " (--force replaces only a regular file)"
            )
        if not force:
            raise InputError(f"--out {target} exists; --force replaces it")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--out {target}: no folder {folder}")


def _write_new(target: Path, data: bytes, *, force: bool) -> None:
    """``data`` to ``target``, atomically (a temporary file in its folder, then put in
    place): a reader never sees half a page. An existing regular file is replaced only
    with ``force`` (:func:`check_out`, checked again just before); without it the file is
    put in place by a hard link, which fails if the name was taken meanwhile (no
    check-then-write race), or, where the file system has no hard links, by a rename
    after a last check."""
    check_out(target, force=force)
    folder = target.parent if str(target.parent) else Path(".")
    import tempfile  # here: every other command starts without it

    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temporary, 0o644 & ~_umask())
        if force:
            check_out(target, force=True)  # the last moment: not swapped for a link since
            os.replace(temporary, target)
            return
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise InputError(f"--out {target} exists; --force replaces it") from None
        except OSError:  # no hard links here (FAT, some network file systems)
            if target.exists() or target.is_symlink():
                raise InputError(f"--out {target} exists; --force replaces it") from None
            os.replace(temporary, target)
            return
        os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@friendly_errors
def page_command(
    article: IdArgument,
    at: Annotated[str | None, typer.Option("--at", help=_AT_HELP, show_default=False)] = None,
    out_name: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the page to this file (never over an existing one without --force).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --out replace a file.")] = False,
    db: DbOption = None,
    site: SiteOption = None,
) -> None:
    """The article's page exactly as archived (the HTML bytes the site sent), from the
    WARC files: to --out FILE, or to standard output when it is not a terminal
    (baolaocai page 395512 > page.html). Which capture it is goes to standard error."""
    instant, timestamp = parse_at(at) if at is not None else (None, None)
    parse_article_id(article)
    if out_name is not None and not out_name.strip():
        # typer would make "" the path "." (this folder): say what is wrong instead
        raise InputError("--out needs a file name")
    output = Path(out_name) if out_name is not None else None
    if output is None and sys.stdout.isatty():
        raise InputError(
            "the archived page is HTML, not for the terminal: give --out FILE, or redirect"
            f" it: baolaocai page {article} > page.html"
        )
    if output is not None:
        check_out(output, force=force)  # before the work, and again when writing
    path, key, number = _target(article, db, site)
    from warehouse.reader import archived_page
    from warehouse.session import warc_dir

    with _reading(path) as con:
        page = _find_page(
            lambda **when: archived_page(con, warc_dir(path), key, number, **when),
            instant,
            timestamp,
        )
    if output is not None:
        _write_new(output, page.body, force=force)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(page.body)
        sys.stdout.buffer.flush()
    err.print(_describe(page) + (f" -> {output}" if output is not None else ""), markup=False)


def _find_page(
    read: Callable[..., ArchivedPage], instant: dt.datetime | None, timestamp: str | None
) -> ArchivedPage:
    """The capture of that timestamp if there is one, else the last one at or before the
    instant (a timestamp typed by hand need not be a capture's to the second)."""
    if timestamp is not None:
        with contextlib.suppress(NotFoundError):
            return read(timestamp=timestamp)
    return read(at=instant) if instant is not None else read()


# -- removed -------------------------------------------------------------------------------------


@friendly_errors
def removed_command(
    since: Annotated[
        str | None,
        typer.Option(help="Only articles found gone on or after this day (YYYY-MM-DD)."),
    ] = None,
    db: DbOption = None,
    site: SiteOption = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="auto, table, vertical, markdown, csv or json.")
    ] = "auto",
    max_rows: Annotated[
        int,
        typer.Option("--max-rows", help="Rows a table shows (csv and json print every one)."),
    ] = DEFAULT_MAX_ROWS,
) -> None:
    """Takedowns: stored articles the site no longer serves (404/410 on a later visit),
    newest first, each with its last capture (the page before it went: 'baolaocai page ID
    --at TIMESTAMP')."""
    from cli.support import check_number
    from cli.warehouse_commands import _db_path

    check_format(format, OUTPUT_FORMATS)
    check_number(max_rows, "--max-rows", 0, 1_000_000)
    day = parse_day(since, "--since")
    start = dt.datetime.combine(day, dt.time(), SITE_TZ) if day is not None else None
    path = _db_path(db, site)
    only_site = _site_filter(site)
    from warehouse.reader import MAX_LIMIT, get_removed

    found: list[RemovedView] = []
    with _reading(path) as con:
        while True:
            page = get_removed(con, site=only_site, since=start, limit=MAX_LIMIT, offset=len(found))
            found.extend(page)
            if len(page) < MAX_LIMIT:
                break
    if format == "json":
        _print_json([r.to_dict() for r in found])
        return
    rows = [
        (
            r.site,
            r.article_id,
            _when(r.removed_at),
            _when(r.last_capture.fetched_at) if r.last_capture else "",
            r.last_capture.timestamp if r.last_capture else "",
            r.title or "",
            r.url,
        )
        for r in found
    ]
    print_rows(
        ["site", "article_id", "removed_at", "last_capture", "timestamp", "title", "url"],
        rows,
        format,
        max_rows=max_rows,
    )


def register(app: typer.Typer) -> None:
    """Add ``show``, ``history``, ``page`` and ``removed`` to ``app``."""
    app.command("show")(show_command)
    app.command("history")(history_command)
    app.command("page")(page_command)
    app.command("removed")(removed_command)
