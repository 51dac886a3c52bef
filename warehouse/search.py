"""Vietnamese full-text search: phrases, accents optional or exact, BM25 over title,
sapo and body.

The index is a `tantivy <https://github.com/quickwit-oss/tantivy-py>`_ index in a folder
next to the warehouse (:func:`search_index_dir`: ``warehouse/baolaocai.duckdb`` ->
``warehouse/baolaocai.search/``). Searching reads only that folder: it never opens the
DuckDB warehouse, so a search never waits for a crawl that holds the warehouse's write
lock, and it works while another process writes the index (tantivy readers see the last
commit).

Words. Vietnamese words are syllables with tone marks; the same word is written ``hòa``
(old tone placement) or ``hoà`` (new), ``Lào Cai`` or typed ``lao cai``. Documents and
queries are cut into words the same way, in Python (:mod:`warehouse.search_query`:
:func:`analyse_word`), each word in two forms: *folded* (:func:`fold`: lower case, every
diacritic removed, ``đ`` -> ``d``) and *exact* (lower-case NFC, tone placement normalised
by :func:`normalize_tone`: ``hoà`` -> ``hòa``). A word is a run of characters that fold
to ``[a-z0-9]`` (so ``2025`` is searchable). Punctuation at the edge of a word (``hóa.``,
``(Sa``) puts :data:`PHRASE_BREAK` in the index, so that a phrase never runs across it
(``hàng hóa. Bình`` is not ``hoa binh``), nor from the sapo into the body; punctuation
inside a word (``COVID-19``, ``12/3/2025``) only separates its parts. Four fields hold
the words with their positions: ``title`` and ``body`` (sapo and body) folded, and
``title_exact``/``body_exact``. Folding in Python rather than with a tantivy analyzer was
chosen because one function then defines what matches, for the documents, the queries,
the category keys and the snippets alike (tantivy's ascii folding is not :func:`fold`,
and it would have to be registered on every reader). No stemmer, no stop words (both are
for English).

Queries (:func:`search`; the syntax is :func:`parse_query`'s): unquoted words are a
phrase (adjacent, in order: ``lao cai`` never finds ``lao động … rau cải``); quoted
phrases must all occur; ``OR`` between alternatives (AND binds tighter); ``-word`` and
``-"phrase"`` leave articles out. ``words=True`` (``--words``) is the older, loose search:
every word anywhere. ``exact=True`` (``--exact``) requires the exact fields. Spelling
variants (``Sa Pa`` = ``Sapa``, from the site files, given as a parameter: this module
never looks a site up) make a phrase, or a part of it, also match the other spellings
(:func:`spellings`, at most :data:`~warehouse.search_query.MAX_ALTERNATIVES`). A query has at most
:data:`MAX_QUERY_WORDS` words.

Ranking (documented choice): each phrase scores ``TITLE_BOOST * bm25(title) +
bm25(body)`` over the folded fields (with ``--words``, each word does, and the exact
sequence adds ``PHRASE_BOOST`` times its own). A phrase typed with any diacritic that
also matches them exactly adds :data:`EXACT_TIER`, a constant above any BM25 sum: every
hit whose accents match as typed ranks above every hit that matches only after folding
(a query typed without diacritics lifts nothing). :attr:`SearchHit.score` is the BM25
part, :attr:`SearchHit.accent_match` says the tier. Ties are broken by the newest
publication, then the highest article id, then the site key.

Filters: ``since``/``until`` (days in Vietnam), ``category`` (folded key), ``site``, and
``author`` (the byline has these folded words in this order; the ``author`` field).

Sites. One index serves every site of the warehouse: a document is an article of one
site, identified by ``(site, article_id)`` (two papers may number their articles alike);
a hit says its site, and :func:`search` can keep one site's articles (``site=``).

Each document also stores what a hit prints (URL, title, category, author, publication
time and the original sapo and body, for the ~200-character snippet with its
diacritics), so a search needs nothing else. The snippet is cut around the first match of
a phrase (any of its spellings), and :attr:`SearchHit.highlights` says where every match
is in it; matches are found in the original body by patterns in which every letter of a
query word matches its accented and capital forms (:func:`_snippet`, compiled once per
query): the same place :func:`fold` would give, without folding the body of every hit
again (that took 1 ms a hit, most of a search).

Keeping it current. The index is updated incrementally, per committed batch
(:func:`update_search_index`: the given articles are replaced by ``(site, article_id)``,
the ones deleted from the warehouse dropped; articles the site took down stay searchable). A watermark, the newest ``articles.updated_at`` (or
``removed_at``) the index has seen, is stored next to it after each commit; every update
also picks up articles changed after the watermark, and :func:`reconcile_search_index`
(run at the start and end of a crawl) indexes everything changed since, so a crash
between the warehouse commit and the index commit is repaired the next time.
:func:`rebuild_search_index` (``baolaocai reindex``) builds a fresh index from the whole
warehouse in a new folder and swaps it in atomically.

During a crawl, searches read what the crawl's index writer last committed (it commits
every 500 articles or 30 s, and at the end). A first crawl has no index until its first
commit: a search then finds no ``CURRENT`` and says why in one line
(:func:`missing_index`: the running run that builds it, :func:`running_runs`, or a build
in progress, :func:`index_being_built`) rather than asking for ``baolaocai reindex``.

Layout of the folder: ``CURRENT`` (JSON: format, version, the generation in use, replaced
atomically) and one ``gen-*`` folder per build (the tantivy files and ``state.json``:
built and updated times, the watermark). An index whose ``CURRENT`` is not ours is
refused with "search index is from another version; run 'baolaocai reindex'"; one of an
*older* version of ours is rebuilt by :func:`reconcile_search_index` (the start and end
of every crawl), so an upgrade that changes the index needs no command.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import socket
import tempfile
import time as _time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import tantivy

from baolaocai.errors import InputError, WarehouseError
from baolaocai.processes import process_alive
from baolaocai.text import csv_lines, csv_safe
from warehouse.db import SITE_TIME_ZONE
from warehouse.lake import data_dir as lake_data_path
from warehouse.lake import is_lake, is_lake_connection, search_folder
from warehouse.schema import INDEXED_ARTICLE_COLUMNS
from warehouse.search_query import MAX_QUERY_WORDS as MAX_QUERY_WORDS
from warehouse.search_query import PHRASE_BREAK as PHRASE_BREAK
from warehouse.search_query import (
    ParsedQuery,
    Phrase,
    Spelling,
    analyse_word,
    parse_query,
    spellings,
    text_words,
    tone_placements,
    variant_groups,
)
from warehouse.search_query import fold as fold
from warehouse.search_query import fold_char as fold_char
from warehouse.search_query import normalize_tone as normalize_tone

INDEX_FORMAT = "baolaocai-search"
INDEX_VERSION = 3
"""Bump when the schema or the folding changes: older indexes are then refused (and
rebuilt by :func:`reconcile_search_index`). 2: documents carry their site. 3: exact-accent
fields, the author, punctuation inside a word no longer breaks a phrase."""
CURRENT_FILE = "CURRENT"
STATE_FILE = "state.json"
BUILD_LOCK_FILE = ".build.lock"
TITLE_BOOST = 2.0
PHRASE_BOOST = 3.0
"""How much more the exact sequence weighs than the words apart, in ``--words`` mode."""
EXACT_TIER = 10_000.0
"""The constant score an exact-accent match of a phrase adds: above any BM25 sum a query
of :data:`MAX_QUERY_WORDS` words reaches, so such hits form a tier of their own (the BM25
part is kept below it in :attr:`SearchHit.score`); small enough that tantivy's 32-bit
scores still order the BM25 part to a thousandth."""
SNIPPET_CHARS = 200
LOCK_TIMEOUT = 10.0
"""Seconds an update waits for another process's index writer before giving up."""
FETCH_ROWS = 1000
"""Articles read from DuckDB at a time (memory stays flat however big the archive)."""
_UPDATE_HEAP = 50_000_000
_BUILD_HEAP = 256_000_000
_TIE_MARGIN = 20
MAX_LIMIT = 10_000
"""The most hits one :func:`search` returns: tantivy sets aside room for every hit asked
for before it searches (a limit of 2**31 aborted the process)."""

_SITE_TZ = ZoneInfo(SITE_TIME_ZONE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_TIME_COLUMNS = ("published_at", "updated_at", "removed_at")
_ARTICLE_COLUMNS = ", ".join(
    f"epoch_us({c}) AS {c}" if c in _TIME_COLUMNS else c for c in INDEXED_ARTICLE_COLUMNS
)
"""What an indexed document is made of, its times in microseconds since 1970 (UTC): the
client turns a ``TIMESTAMPTZ`` into a ``datetime`` through ``pytz`` at some 10 µs a
value, a third of reading a row."""
ArticleKey = tuple[str, int]
"""``(site key, article_id)``: an article of the warehouse, a document of the index."""


@dataclass(frozen=True, slots=True)
class SearchHit:
    site: str
    """The key of the site the article belongs to."""
    article_id: int
    published_at: datetime | None
    category: str | None
    title: str | None
    url: str
    score: float
    """BM25 (title weighted more); the exact-accent tier is not part of it."""
    snippet: str
    """About 200 characters of the body (original diacritics) around the first match."""
    author: str | None = None
    accent_match: bool = False
    """Whether a phrase matched with its diacritics as typed (such hits rank first)."""
    highlights: tuple[tuple[int, int], ...] = ()
    """``(start, end)`` of each match in :attr:`snippet` (character offsets)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "site": self.site,
            "article_id": self.article_id,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "category": self.category,
            "author": self.author,
            "title": self.title,
            "url": self.url,
            "score": round(self.score, 6),
            "accent_match": self.accent_match,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
        }


SEARCH_CSV_COLUMNS = (
    "site",
    "article_id",
    "published_at",
    "category",
    "author",
    "title",
    "url",
    "score",
    "accent_match",
    "snippet",
)
"""The columns of a search's CSV (``baolaocai search --format csv``, the web view's
``/search.csv``): keys of :meth:`SearchHit.to_dict`, in this order."""


def hits_csv(hits: Iterable[SearchHit]) -> str:
    """The hits as CSV (:data:`SEARCH_CSV_COLUMNS`): a header row, UTF-8, LF; a text cell
    a spreadsheet would run (``=``, ``+``, ``-``, ``@`` first) gets a leading ``'``
    (:func:`~baolaocai.text.csv_safe`)."""
    rows: list[list[object]] = [list(SEARCH_CSV_COLUMNS)]
    for hit in hits:
        row = hit.to_dict()
        rows.append(
            [csv_safe(v) if isinstance(v, str) else v for v in (row[c] for c in SEARCH_CSV_COLUMNS)]
        )
    return csv_lines(rows)


@dataclass(frozen=True, slots=True)
class IndexInfo:
    built_at: datetime
    """When the index in use was built from the whole warehouse."""
    documents: int
    stale: int | None
    """Articles stored, changed or removed after the watermark (not searchable yet), when a
    warehouse connection was given, else ``None``."""
    updated_at: datetime | None = None
    """The last incremental update, if any since the build."""
    watermark: datetime | None = None
    """The newest ``updated_at``/``removed_at`` of the articles the index has seen."""
    path: Path | None = None


# -- folding ------------------------------------------------------------------------------------


def query_terms(text: str) -> list[str]:
    """The folded words of ``text``, in order, as the index sees them (every word of a
    query, whatever its syntax: the snippets and the category keys use them)."""
    return [folded for folded, _ in text_words(text)]


def index_words(text: str) -> str:
    """The folded words of ``text`` joined by spaces, with :data:`PHRASE_BREAK` where
    punctuation ends a phrase (``hàng hóa. Bình`` is not the phrase ``hoa binh``): what the
    ``title`` and ``body`` fields receive. Without the breaks, the same as
    ``" ".join(query_terms(text))`` (checked by the tests)."""
    return _index_texts(text)[0]


def _index_texts(text: str) -> tuple[str, str]:
    """The folded and the exact words of ``text`` for the index, breaks included.

    The text is cut at white space (which never folds into a letter) and each distinct
    piece is analysed once (:func:`_piece_texts`, remembered): about 20 times faster on
    long bodies than folding the whole text."""
    pairs = list(map(_piece_texts, text.split()))
    folded = " ".join(filter(None, [f for f, _ in pairs]))
    exact = " ".join(filter(None, [e for _, e in pairs]))
    return folded, exact


@functools.lru_cache(maxsize=500_000)
def _piece_texts(piece: str) -> tuple[str, str]:
    """:func:`analyse_word` of one piece as the two strings the index receives."""
    folded, exact = analyse_word(piece)
    return " ".join(folded), " ".join(exact)


@functools.lru_cache(maxsize=4096)
def _category_key(text: str) -> str:
    return " ".join(query_terms(text))


# -- the index folder ---------------------------------------------------------------------------


def search_index_dir(db_path: str | Path) -> Path:
    """``warehouse/baolaocai.duckdb`` -> ``warehouse/baolaocai.search`` (the index folder);
    a lake's is ``<data path>/search`` (:func:`warehouse.lake.search_folder`)."""
    if is_lake(db_path):
        return search_folder(str(db_path))
    path = Path(db_path)
    return path.parent / f"{path.stem}.search"


def _warehouse_path(con: duckdb.DuckDBPyConnection) -> Path:
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        raise WarehouseError("an in-memory warehouse has no search index folder")
    return Path(row[0])


def _index_dir(
    where: str | Path | duckdb.DuckDBPyConnection | None, con: duckdb.DuckDBPyConnection | None
) -> Path:
    """The index folder: given, or next to the warehouse file ``con`` has open."""
    if isinstance(where, str | Path):
        return Path(where)
    source = where if where is not None else con
    if source is None:
        raise ValueError("give the index folder or a warehouse connection")
    if is_lake_connection(source):
        return lake_data_path(source) / "search"
    return search_index_dir(_warehouse_path(source))


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("site", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("article_id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="default", index_option="position")
    builder.add_text_field("body", tokenizer_name="default", index_option="position")
    # The same words with their diacritics (lower case, tone placement normalised): what
    # an accented query matches exactly. Only positions are needed of them (no BM25 of
    # their own: the folded fields score; an exact match lifts a hit a whole tier).
    builder.add_text_field("title_exact", tokenizer_name="default", index_option="position")
    builder.add_text_field("body_exact", tokenizer_name="default", index_option="position")
    builder.add_text_field("author", tokenizer_name="default", index_option="position")
    builder.add_text_field("category", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("category_key", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published_us", stored=True, indexed=True, fast=True)
    # JSON: url, title, category, author, sapo, body
    builder.add_bytes_field("stored", stored=True)
    return builder.build()


def _foreign(index_dir: Path) -> WarehouseError:
    return WarehouseError(
        f"search index is from another version; run 'baolaocai reindex' ({index_dir})"
    )


def _no_index(index_dir: Path) -> WarehouseError:
    return WarehouseError(
        f"no search index yet: run 'baolaocai reindex' (or a crawl) to build {index_dir}"
    )


@dataclass(frozen=True, slots=True)
class RunningRun:
    """A run the warehouse records as running (``crawl_runs``), whose process is alive."""

    run_id: str
    kind: str
    pid: int | None
    stored: int
    """Articles this run stored (new or changed) so far."""

    def describe(self) -> str:
        pid = f", pid {self.pid}" if self.pid else ""
        return f"the running {self.kind} (run {self.run_id}{pid})"


RUN_ALIVE_WITHOUT_PID = timedelta(hours=24)
"""A 'running' run of another machine is taken for alive this long after it started (as
:data:`warehouse.state.FOREIGN_RUN_STALE` does)."""


def running_runs(con: duckdb.DuckDBPyConnection) -> list[RunningRun]:
    """The runs the warehouse ``con`` records as running and that still are (a run of
    this machine whose process is gone is not; one of another machine is taken for alive
    for a day), newest first. Empty for a warehouse too old to record them."""
    try:
        rows = con.execute(
            "SELECT r.run_id, coalesce(r.kind, 'crawl'), r.pid, r.host, r.started_at,"
            " (SELECT count(*) FROM articles a WHERE a.run_id = r.run_id)"
            " FROM crawl_runs r WHERE r.status = 'running' ORDER BY r.started_at DESC"
        ).fetchall()
    except duckdb.Error:  # a warehouse from before runs recorded their process
        return []
    host = socket.gethostname()
    now = datetime.now(UTC)
    found = []
    for run_id, kind, pid, run_host, started, stored in rows:
        if run_host == host and pid is not None:
            if not process_alive(int(pid)):
                continue
        elif started is None or started < now - RUN_ALIVE_WITHOUT_PID:
            continue
        found.append(RunningRun(str(run_id), str(kind), pid and int(pid), int(stored)))
    return found


def index_being_built(index_dir: str | Path) -> bool:
    """Whether a build of the index (:func:`rebuild_search_index`: a first crawl's first
    update, or ``reindex``) holds the folder's build lock now."""
    try:
        fd = os.open(Path(index_dir) / BUILD_LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing the file drops a lock this took
    return False


def missing_index(
    index_dir: str | Path, runs: Sequence[RunningRun] | None, *, building: bool = False
) -> WarehouseError:
    """The one line for a search that finds no index in ``index_dir``.

    ``runs``: the running runs of the warehouse (:func:`running_runs`), or ``None`` when it
    could not be read because a writer holds it; ``building``: :func:`index_being_built`.
    With no run and no build, the plain :func:`_no_index` line (run 'baolaocai reindex').
    A first crawl indexes its articles only after its first 500 or 30 s (then at every
    500 or 30 s, and at its end): until then, this says so.
    """
    folder = Path(index_dir)
    run = runs[0] if runs else None
    who = run.describe() if run is not None else None
    stored = (
        f", {run.stored} article{'s' if run.stored != 1 else ''} stored so far"
        if run is not None
        else ""
    )
    if building:
        by = f" by {who}" if who else ""
        return WarehouseError(
            f"the search index is being built{by}{stored}: try again in a minute ({folder})"
        )
    if run is not None:
        return WarehouseError(
            f"no search index yet: {who} builds it as it goes{stored}; try again in a"
            f" minute ({folder})"
        )
    if runs is None:
        return WarehouseError(
            "no search index yet: another process is writing the warehouse (a crawl"
            " builds the index as it goes); try again in a minute, or run 'baolaocai"
            f" reindex' when it has finished ({folder})"
        )
    return _no_index(folder)


def _os_error(what: str, exc: OSError) -> WarehouseError:
    return WarehouseError(f"{what}: {exc.strerror or type(exc).__name__}")


def _is_older_version(index_dir: Path) -> bool:
    """Whether the index in ``index_dir`` is ours, from an older :data:`INDEX_VERSION`."""
    try:
        data = json.loads((index_dir / CURRENT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    version = data.get("version") if isinstance(data, dict) else None
    return (
        isinstance(data, dict)
        and data.get("format") == INDEX_FORMAT
        and isinstance(version, int)
        and not isinstance(version, bool)
        and version < INDEX_VERSION
    )


def _read_current(index_dir: Path) -> str | None:
    """The generation in use; ``None`` when there is no index; foreign -> WarehouseError."""
    try:
        raw = (index_dir / CURRENT_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        if (index_dir / "meta.json").exists():  # a bare tantivy index: not ours
            raise _foreign(index_dir) from None
        return None
    except NotADirectoryError:
        raise WarehouseError(f"the search index {index_dir} is not a folder") from None
    except OSError as exc:
        raise _os_error(f"cannot read the search index {index_dir}", exc) from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise _foreign(index_dir) from None
    generation = data.get("generation") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != INDEX_FORMAT
        or data.get("version") != INDEX_VERSION
        or not isinstance(generation, str)
        or not generation.startswith("gen-")
        or "/" in generation
        or "\\" in generation
    ):
        raise _foreign(index_dir)
    return generation


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _from_iso(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass
class _State:
    built_at: datetime
    updated_at: datetime | None
    watermark: datetime | None

    @classmethod
    def read(cls, generation: Path) -> _State:
        try:
            data = json.loads((generation / STATE_FILE).read_text(encoding="utf-8"))
            return cls(
                built_at=_from_iso(data["built_at"]) or datetime.now(UTC),
                updated_at=_from_iso(data.get("updated_at")),
                watermark=_from_iso(data.get("watermark")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise _foreign(generation.parent) from None

    def write(self, generation: Path) -> None:
        _write_json_atomically(
            generation / STATE_FILE,
            {
                "built_at": _iso(self.built_at),
                "updated_at": _iso(self.updated_at),
                "watermark": _iso(self.watermark),
            },
        )


_NO_WRITE_MARKS = ("ReadOnlyFilesystem", "PermissionDenied", "Read-only file system")


def _refused_by_the_filesystem(exc: Exception) -> bool:
    """Whether tantivy failed because the file system refused (read-only, permissions),
    not because the index is not one it can read."""
    return any(mark in str(exc) for mark in _NO_WRITE_MARKS)


def _read_only(index_dir: Path, why: str) -> WarehouseError:
    return WarehouseError(f"the search index {index_dir} is read-only for this user ({why})")


def _open_index(index_dir: Path, generation: str) -> tantivy.Index:
    try:
        return tantivy.Index.open(str(index_dir / generation))
    except ValueError as exc:
        if _refused_by_the_filesystem(exc):
            raise _read_only(index_dir, "it cannot be updated") from None
        raise _foreign(index_dir) from None


def _open_for_reading(generation: Path) -> tantivy.Index:
    """Open one generation to read it, also from a read-only folder.

    tantivy takes a lock file in the index folder even to read (``.tantivy-meta.lock``,
    created and written when the reader loads): in a folder this user may not write (a
    read-only mount, a copy without write permission) that fails, though nothing is
    written; so does reading the index of another user (tantivy keeps its own
    ``.managed.json`` private, a list a reader does not need). Then the index is opened
    through a temporary folder of symbolic links to its segment files and ``meta.json``,
    where tantivy may put its lock; the index's own files are only read (memory-mapped),
    and the links are removed once it is open. A :class:`WarehouseError` says why when
    even that is impossible.
    """
    try:
        return tantivy.Index.open(str(generation))
    except ValueError as exc:
        if not _refused_by_the_filesystem(exc):
            raise
    index_dir = generation.parent
    try:
        files = [
            os.path.abspath(entry.path)
            for entry in os.scandir(generation)
            if entry.is_file() and not entry.name.startswith(".")  # tantivy's own files
        ]
    except OSError as exc:
        raise _os_error(f"cannot read the search index {index_dir}", exc) from None
    try:
        # tantivy may still be writing its lock files into the folder as it is removed:
        # the cleanup then tries once more rather than failing the read.
        links = tempfile.TemporaryDirectory(prefix="baolaocai-search-", ignore_cleanup_errors=True)
    except OSError as exc:
        why = f"and no temporary folder to read it through: {exc.strerror or exc}"
        raise _read_only(index_dir, why) from None
    try:
        with links:
            for file in files:
                os.symlink(file, os.path.join(links.name, os.path.basename(file)))
            try:
                return tantivy.Index.open(links.name)
            except ValueError as exc:
                if _refused_by_the_filesystem(exc):
                    raise WarehouseError(
                        f"cannot read the search index {index_dir}: {_first_line(exc)}"
                    ) from None
                raise
    finally:
        shutil.rmtree(links.name, ignore_errors=True)


def _open_reader(index_dir: Path) -> tuple[tantivy.Index, Path]:
    """The index in use, read-only (a rebuild may swap it meanwhile: then try again)."""
    for _attempt in range(3):
        generation = _read_current(index_dir)
        if generation is None:
            raise _no_index(index_dir)
        try:
            return _open_for_reading(index_dir / generation), index_dir / generation
        except ValueError:
            if _read_current(index_dir) == generation:
                raise _foreign(index_dir) from None
    raise WarehouseError(f"the search index {index_dir} keeps changing; try again")


def _is_lock_busy(exc: Exception) -> bool:
    return "LockBusy" in str(exc) or "lock" in str(exc).lower()


def _acquire_writer(
    index: tantivy.Index, index_dir: Path, *, heap: int, threads: int, deadline: float
) -> tantivy.IndexWriter:
    delay = 0.02
    while True:
        try:
            return index.writer(heap_size=heap, num_threads=threads)
        except ValueError as exc:
            if not _is_lock_busy(exc):
                raise WarehouseError(
                    f"cannot write the search index {index_dir}: {_first_line(exc)}"
                ) from None
            if _time.monotonic() >= deadline:
                raise WarehouseError(
                    f"the search index {index_dir} is being written by another process"
                    " (a crawl or a reindex); try again when it has finished"
                ) from None
        _time.sleep(delay)
        delay = min(delay * 2, 0.5)


class _Session:
    """The index in use with its writer, the lock held (the generation checked after)."""

    def __init__(self, index_dir: Path, generation: str, index: tantivy.Index, writer: Any):
        self.index_dir = index_dir
        self.path = index_dir / generation
        self.index = index
        self.writer: tantivy.IndexWriter | None = writer
        self.state = _State.read(self.path)

    def close(self) -> None:
        self.writer = None  # dropping the writer releases tantivy's lock


@contextlib.contextmanager
def _writing(
    index_dir: Path, *, lock_timeout: float, heap: int = _UPDATE_HEAP, threads: int = 1
) -> Iterator[_Session | None]:
    """Hold the writer of the index in use (``None`` when there is no index)."""
    deadline = _time.monotonic() + lock_timeout
    while True:
        generation = _read_current(index_dir)
        if generation is None:
            yield None
            return
        index = _open_index(index_dir, generation)
        writer = _acquire_writer(index, index_dir, heap=heap, threads=threads, deadline=deadline)
        if _read_current(index_dir) == generation:
            break
        del writer, index  # a rebuild swapped the index while we waited: use the new one
    session = _Session(index_dir, generation, index, writer)
    del writer
    try:
        yield session
    except BaseException:
        if session.writer is not None:
            with contextlib.suppress(ValueError):
                session.writer.rollback()
        raise
    finally:
        session.close()


@contextlib.contextmanager
def _build_lock(index_dir: Path, lock_timeout: float) -> Iterator[None]:
    """One rebuild at a time per index folder (an OS file lock, freed if the process dies)."""
    with open(index_dir / BUILD_LOCK_FILE, "a+b") as handle:
        deadline = _time.monotonic() + lock_timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"the search index {index_dir} is being rebuilt by another process;"
                        " try again when it has finished"
                    ) from None
                _time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- writing ------------------------------------------------------------------------------------


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICRO


def _doc_key(site: str, article_id: int) -> str:
    """The term that identifies one article's document (for replacing and deleting it)."""
    return f"{site}/{article_id}"


_COLUMN = {name: i for i, name in enumerate(INDEXED_ARTICLE_COLUMNS)}


def _document(row: Sequence[Any]) -> tantivy.Document:
    """One article's document from a row of :data:`_ARTICLE_COLUMNS` (its publication
    time in µs; a ``datetime`` is taken too, as ``INDEXED_ARTICLE_COLUMNS`` reads it)."""

    def get(name: str) -> Any:
        return row[_COLUMN[name]]

    site, article_id = get("site"), int(get("article_id"))
    title, category, sapo, body = get("title"), get("category"), get("sapo"), get("body")
    author, published, url = get("author"), get("published_at"), get("url")
    doc = tantivy.Document()
    doc.add_text("key", _doc_key(site, article_id))
    doc.add_text("site", site)
    doc.add_integer("article_id", article_id)
    title_folded, title_exact = _index_texts(title or "")
    # A break between sapo and body: a phrase does not run from one into the other.
    body_folded, body_exact = _index_texts(f"{sapo or ''} {PHRASE_BREAK} {body or ''}")
    doc.add_text("title", title_folded)
    doc.add_text("body", body_folded)
    doc.add_text("title_exact", title_exact)
    doc.add_text("body_exact", body_exact)
    if author:
        doc.add_text("author", index_words(author))
    if category:
        doc.add_text("category", category)
        doc.add_text("category_key", _category_key(category))
    if published is not None:
        micros = _micros(published) if isinstance(published, datetime) else int(published)
        doc.add_integer("published_us", micros)
    stored = {
        "url": url,
        "title": title,
        "category": category,
        "author": author,
        "sapo": sapo,
        "body": body,
    }
    doc.add_bytes("stored", json.dumps(stored, ensure_ascii=False).encode("utf-8"))
    return doc


_UPDATED_AT = INDEXED_ARTICLE_COLUMNS.index("updated_at")
_REMOVED_AT = INDEXED_ARTICLE_COLUMNS.index("removed_at")


def _newest(current: int | None, row: tuple[Any, ...]) -> int | None:
    """The newest of ``current`` and the row's ``updated_at``/``removed_at`` (µs)."""
    for value in (row[_UPDATED_AT], row[_REMOVED_AT]):
        if value is not None and (current is None or value > current):
            current = value
    return current


def _instant(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + micros * _MICRO


@contextlib.contextmanager
def _read_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """A transaction around the reads (the caller's, when one is open); nothing is
    written through it, so it is rolled back."""
    try:
        con.execute("BEGIN TRANSACTION")
        began = True
    except duckdb.TransactionException:
        began = False
    try:
        yield
    finally:
        if began:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")


def _changed_rows(
    con: duckdb.DuckDBPyConnection,
    keys: Sequence[ArticleKey],
    watermark: datetime,
    *,
    strictly_after_watermark: bool,
) -> list[int]:
    """The ``rowid`` of ``keys`` and of every article changed since ``watermark``.

    Only the key and time columns are scanned (a hash join on the keys, each time filter
    on its own so that DuckDB skips the row groups older than the watermark); the bodies
    are then read for those rows alone. One query testing the keys and the times of every
    row read every body of the archive: 0.09 s at 5,000 articles, 0.19 s at 20,000."""
    op = ">" if strictly_after_watermark else ">="
    parts = [
        f"SELECT rowid FROM articles WHERE updated_at {op} $w",
        f"SELECT rowid FROM articles WHERE removed_at {op} $w",
    ]
    params: dict[str, object] = {"w": watermark}
    if keys:
        parts.append(
            "SELECT a.rowid FROM articles a SEMI JOIN"
            " (SELECT unnest($sites) AS site, unnest($ids) AS article_id) k"
            " USING (site, article_id)"
        )
        params["sites"] = [site for site, _ in keys]
        params["ids"] = [article_id for _, article_id in keys]
    rows = con.execute(" UNION ".join(parts), params).fetchall()
    return sorted(int(row[0]) for row in rows)


def _apply(
    con: duckdb.DuckDBPyConnection,
    session: _Session,
    articles: Iterable[ArticleKey],
    *,
    strictly_after_watermark: bool,
) -> int:
    """Re-index ``articles`` and every article changed since the watermark; commit."""
    writer = session.writer
    assert writer is not None
    keys = sorted({(str(site), int(i)) for site, i in articles})
    watermark = session.state.watermark
    seen: set[ArticleKey] = set()
    newest = None if watermark is None else _micros(watermark)
    try:
        # One transaction: the row ids found are those of the rows then read.
        with _read_transaction(con):
            query, params = f"SELECT {_ARTICLE_COLUMNS} FROM articles", {}
            if watermark is not None:  # else every article (an index that never saw one)
                rowids = _changed_rows(
                    con, keys, watermark, strictly_after_watermark=strictly_after_watermark
                )
                query += " WHERE rowid IN (SELECT unnest($rowids))"
                params = {"rowids": rowids}
            cursor = con.execute(query, params)
            while rows := cursor.fetchmany(FETCH_ROWS):
                for row in rows:
                    key = (str(row[0]), int(row[1]))
                    seen.add(key)
                    newest = _newest(newest, row)
                    writer.delete_documents_by_term("key", _doc_key(*key))
                    # An article the site took down stays in the archive, and searchable.
                    writer.add_document(_document(row))
        for key in set(keys) - seen:  # deleted from the warehouse
            writer.delete_documents_by_term("key", _doc_key(*key))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read the articles to index: {_first_line(exc)}") from None
    except ValueError as exc:
        raise WarehouseError(f"cannot write the search index: {_first_line(exc)}") from None
    try:
        writer.commit()
        writer.wait_merging_threads()  # merge small segments now; the writer is spent
    except ValueError as exc:
        raise WarehouseError(f"cannot write the search index: {_first_line(exc)}") from None
    session.writer = None
    session.state.updated_at = datetime.now(UTC)
    session.state.watermark = _instant(newest)
    try:
        session.state.write(session.path)  # after the commit: a crash only re-indexes
    except OSError as exc:
        raise _os_error(f"cannot write the search index {session.index_dir}", exc) from None
    return len(seen | set(keys))


def update_search_index(
    con: duckdb.DuckDBPyConnection,
    index_dir: str | Path | None,
    articles: Iterable[ArticleKey],
    *,
    lock_timeout: float = LOCK_TIMEOUT,
) -> int:
    """Replace ``articles`` (``(site key, article_id)`` pairs) in the index from the
    warehouse ``con``; returns how many documents were (re)indexed or deleted.

    Articles found are (re)indexed (those the site took down too: the archive keeps
    them), the others deleted. Articles changed
    after the watermark are included too (a batch whose index update failed is caught up).
    Meant to be called after each committed batch. With no index yet, builds it
    (:func:`rebuild_search_index`). ``index_dir`` ``None``: next to ``con``'s warehouse.
    Raises :class:`WarehouseError` when another process holds the index writer for more
    than ``lock_timeout`` seconds.
    """
    folder = _index_dir(index_dir, con)
    with _writing(folder, lock_timeout=lock_timeout) as session:
        if session is not None:
            return _apply(con, session, articles, strictly_after_watermark=True)
    return rebuild_search_index(con, folder, lock_timeout=lock_timeout)


def reconcile_search_index(
    con: duckdb.DuckDBPyConnection,
    index_dir: str | Path | None = None,
    *,
    lock_timeout: float = LOCK_TIMEOUT,
) -> int:
    """Index every article changed since the watermark (idempotent; builds a missing index).

    Run at the start (and end) of a crawl: repairs an index left behind by a crash between
    a warehouse commit and the index commit, and rebuilds an index of an older
    :data:`INDEX_VERSION` (an upgrade). Returns the documents (re)indexed or deleted (for a
    build, the documents in the index).
    """
    folder = _index_dir(index_dir, con)
    if _is_older_version(folder):
        return rebuild_search_index(con, folder, lock_timeout=lock_timeout)
    with _writing(folder, lock_timeout=lock_timeout) as session:
        if session is not None:
            return _apply(con, session, (), strictly_after_watermark=False)
    return rebuild_search_index(con, folder, lock_timeout=lock_timeout)


Reading = Callable[[], contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]]
"""Opens the warehouse for one read and closes it after (a connection per batch)."""


def rebuild_search_index(
    con: duckdb.DuckDBPyConnection | None,
    index_dir: str | Path | None = None,
    *,
    lock_timeout: float = LOCK_TIMEOUT,
    reading: Reading | None = None,
) -> int:
    """Build a fresh index of the whole warehouse and swap it in; returns its document count.

    The articles are streamed (``FETCH_ROWS`` at a time) into a new ``gen-*`` folder, then
    ``CURRENT`` is replaced atomically: searches see the old index or the new one, never a
    half-built one, and on any error the previous index stays. The writer of the old index
    is held meanwhile, so updates wait (and give up after ``lock_timeout`` s).

    ``reading`` (instead of ``con``): each batch of articles is read through a connection
    of its own, opened and closed around it, in key order, so the warehouse file is free
    between two batches (other processes' readers get in: ``reindex`` of 100,000 articles
    held it some 110 s). The caller keeps writers out meanwhile (the warehouse's writer
    lock), so the batches are one state of the warehouse.
    """
    if (con is None) == (reading is None):
        raise ValueError("give a connection or a way to open one, not both")
    if index_dir is None and con is None:
        raise ValueError("reading in batches needs the index folder")
    folder = _index_dir(index_dir, con)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(f"cannot create the search index {folder}", exc) from None
    with _build_lock(folder, max(lock_timeout, 60.0)):
        with contextlib.ExitStack() as hold:
            try:  # updates wait while we build (they would be lost in the swap)
                hold.enter_context(_writing(folder, lock_timeout=lock_timeout))
            except WarehouseError as exc:
                if "another version" not in exc.message:
                    raise
            count = _build(con, folder, reading)
        _remove_other_generations(folder)
    return count


def refresh_search_index(
    con: duckdb.DuckDBPyConnection, index_dir: str | Path | None = None
) -> int:
    """Same as :func:`rebuild_search_index` (the name earlier versions used)."""
    return rebuild_search_index(con, index_dir)


def _article_rows(
    con: duckdb.DuckDBPyConnection | None, reading: Reading | None
) -> Iterator[list[tuple[Any, ...]]]:
    """Every article in key order, a batch at a time: from one cursor of ``con``, or
    through a connection of ``reading`` per batch (keyset pagination on the key)."""
    if con is not None:
        cursor = con.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY site, article_id")
        while rows := cursor.fetchmany(FETCH_ROWS):
            yield rows
        return
    assert reading is not None
    after: tuple[str, int] | None = None
    while True:
        where = (
            "" if after is None else " WHERE site > $site OR (site = $site AND article_id > $id)"
        )
        params = {} if after is None else {"site": after[0], "id": after[1]}
        with reading() as batch_con:
            rows = batch_con.execute(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles{where}"
                f" ORDER BY site, article_id LIMIT {FETCH_ROWS}",
                params,
            ).fetchall()
        if rows:
            yield rows
        if len(rows) < FETCH_ROWS:
            return
        last = rows[-1]
        after = (str(last[_COLUMN["site"]]), int(last[_COLUMN["article_id"]]))


def _build(
    con: duckdb.DuckDBPyConnection | None, folder: Path, reading: Reading | None = None
) -> int:
    generation = f"gen-{_time.time_ns():x}-{os.getpid()}"
    path = folder / generation
    started = datetime.now(UTC)
    try:
        path.mkdir()
        index = tantivy.Index(_schema(), path=str(path), reuse=False)
        threads = max(1, min(4, (os.cpu_count() or 1)))
        writer = index.writer(heap_size=_BUILD_HEAP, num_threads=threads)
        newest: int | None = None
        count = 0
        try:
            for rows in _article_rows(con, reading):
                for row in rows:
                    newest = _newest(newest, row)
                    writer.add_document(_document(row))
                    count += 1
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot build the search index: {_first_line(exc)}") from None
        writer.commit()
        writer.wait_merging_threads()
        del writer, index
        _State(built_at=started, updated_at=None, watermark=_instant(newest)).write(path)
        current = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "generation": generation}
        _write_json_atomically(folder / CURRENT_FILE, current)
    except BaseException as exc:
        shutil.rmtree(path, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _os_error(f"cannot build the search index {folder}", exc) from None
        if isinstance(exc, ValueError):
            raise WarehouseError(f"cannot build the search index: {_first_line(exc)}") from None
        raise
    return count


def _remove_other_generations(folder: Path) -> None:
    """Delete the builds not in use (a reader that has one open keeps its files on POSIX)."""
    try:
        current = _read_current(folder)
        entries = list(folder.iterdir())
    except (WarehouseError, OSError):
        return
    for entry in entries:
        if entry.name.startswith("gen-") and entry.name != current and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def index_info(
    where: str | Path | duckdb.DuckDBPyConnection,
    con: duckdb.DuckDBPyConnection | None = None,
) -> IndexInfo | None:
    """Documents, build and update times, watermark; ``None`` when there is no index.

    ``where`` is the index folder, or a warehouse connection (the folder next to its
    file). With a connection, ``stale`` counts the articles changed after the watermark.
    Raises :class:`WarehouseError` for an index from another version, except when called
    with a connection only (then ``None``, as for ``baolaocai status``).
    """
    if isinstance(where, duckdb.DuckDBPyConnection):
        con = where
        try:
            return index_info(_index_dir(where, None), con)
        except WarehouseError:
            return None
    folder = Path(where)
    if _read_current(folder) is None:
        return None
    index, path = _open_reader(folder)
    state = _State.read(path)
    documents = index.searcher().num_docs
    stale: int | None = None
    if con is not None:
        if state.watermark is None:
            row = con.execute("SELECT count(*) FROM articles").fetchone()
        else:
            row = con.execute(
                "SELECT count(*) FROM articles WHERE updated_at > $w OR removed_at > $w",
                {"w": state.watermark},
            ).fetchone()
        stale = int(row[0]) if row else 0
    return IndexInfo(
        built_at=state.built_at,
        documents=int(documents),
        stale=stale,
        updated_at=state.updated_at,
        watermark=state.watermark,
        path=path,
    )


# -- search -------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_SITE_TZ)


def _has_docs(searcher: tantivy.Searcher, query: tantivy.Query) -> bool:
    return bool(searcher.search(query, 1, count=False).hits)


def _categories(searcher: tantivy.Searcher, schema: tantivy.Schema) -> list[str]:
    """Categories of the live documents (the term list also has deleted ones)."""
    names = [name for name, _ in searcher.terms_with_prefix("category", "")]
    return sorted(
        n for n in names if _has_docs(searcher, tantivy.Query.term_query(schema, "category", n))
    )


def _term(schema: tantivy.Schema, field: str, value: str | int) -> tantivy.Query:
    return tantivy.Query.term_query(schema, field, value)


def _sequence(schema: tantivy.Schema, field: str, words: Sequence[str]) -> tantivy.Query:
    """The words adjacent and in order in ``field`` (one word: that word)."""
    if len(words) == 1:
        return _term(schema, field, words[0])
    return tantivy.Query.phrase_query(schema, field, list(words))


def _all_words(schema: tantivy.Schema, fields: Sequence[str], words: Sequence[str]) -> Any:
    """Every one of ``words`` somewhere in any of ``fields`` (``--words`` mode)."""
    Occur, Q = tantivy.Occur, tantivy.Query
    return Q.boolean_query(
        [
            (
                Occur.Must,
                Q.boolean_query([(Occur.Should, _term(schema, f, word)) for f in fields]),
            )
            for word in dict.fromkeys(words)
        ]
    )


def _folded_match(schema: tantivy.Schema, words: Sequence[str], *, loose: bool) -> Any:
    """A scored match of one spelling's folded words in the title (weighted) or the body:
    the phrase, or (``loose``) every word anywhere with the phrase as a bonus."""
    Occur, Q = tantivy.Occur, tantivy.Query
    if not loose or len(words) == 1:
        return Q.boolean_query(
            [
                (Occur.Should, Q.boost_query(_sequence(schema, "title", words), TITLE_BOOST)),
                (Occur.Should, _sequence(schema, "body", words)),
            ]
        )
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for word in dict.fromkeys(words):
        either = Q.boolean_query(
            [
                (Occur.Should, Q.boost_query(_term(schema, "title", word), TITLE_BOOST)),
                (Occur.Should, _term(schema, "body", word)),
            ]
        )
        clauses.append((Occur.Must, either))
    title_phrase = _sequence(schema, "title", words)
    body_phrase = _sequence(schema, "body", words)
    clauses.append((Occur.Should, Q.boost_query(title_phrase, PHRASE_BOOST * TITLE_BOOST)))
    clauses.append((Occur.Should, Q.boost_query(body_phrase, PHRASE_BOOST)))
    return Q.boolean_query(clauses)


def _exact_match(schema: tantivy.Schema, words: Sequence[str], *, loose: bool) -> Any:
    """One spelling's exact words (diacritics as typed) in the title or the body."""
    Occur, Q = tantivy.Occur, tantivy.Query
    if loose and len(words) > 1:
        return _all_words(schema, ("title_exact", "body_exact"), words)
    return Q.boolean_query(
        [
            (Occur.Should, _sequence(schema, "title_exact", words)),
            (Occur.Should, _sequence(schema, "body_exact", words)),
        ]
    )


def _any_of(queries: Sequence[tantivy.Query]) -> Any:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


@dataclass(frozen=True, slots=True)
class _Plan:
    """A parsed query with the spellings of each of its phrases (variants applied)."""

    query: ParsedQuery
    spellings: dict[Phrase, list[Spelling]]
    words: bool
    exact: bool

    def phrase_query(self, schema: tantivy.Schema, phrase: Phrase) -> Any:
        """One phrase to find: folded (scored), exact required (``exact``) or lifted a
        tier (typed with a diacritic); every spelling of it counts."""
        Occur, Q = tantivy.Occur, tantivy.Query
        found = self.spellings[phrase]
        folded = _any_of([_folded_match(schema, f, loose=self.words) for f, _ in found])
        if not self.exact and not phrase.accented:
            return folded
        if self.exact:  # any spelling, each as written (typed, or in the site file)
            exact = _any_of([_exact_match(schema, e, loose=self.words) for _, e in found])
            return Q.boolean_query(
                [(Occur.Must, folded), (Occur.Must, Q.const_score_query(exact, 0.0))]
            )
        # Only the spelling typed lifts a hit: "y tý" ranks "Y Tý" above its variant "Y Tí".
        typed = _exact_match(schema, found[0][1], loose=self.words)
        lifted = Q.const_score_query(typed, EXACT_TIER)
        return Q.boolean_query([(Occur.Must, folded), (Occur.Should, lifted)])

    def excluded_query(self, schema: tantivy.Schema, phrase: Phrase) -> Any:
        """What an exclusion leaves out: the phrase (its spellings) anywhere; with its
        diacritics as typed when it was typed with any (or in ``exact`` mode), in any
        accents when typed without. Folding a typed ``-chợ`` would also leave out every
        article with ``cho`` ("for", in nearly every article): an exclusion that removes
        more than asked hides articles silently, where a search that finds too much at
        least shows them."""
        found = self.spellings[phrase]
        if self.exact or phrase.accented:
            return _any_of([_exact_match(schema, e, loose=False) for _, e in found])
        fields = ("title", "body")
        return _any_of([_sequence(schema, f, w) for w, _ in found for f in fields])

    def build(self, schema: tantivy.Schema, filters: Sequence[tantivy.Query]) -> Any:
        Occur, Q = tantivy.Occur, tantivy.Query
        groups = [
            Q.boolean_query([(Occur.Must, self.phrase_query(schema, p)) for p in group])
            for group in self.query.groups
        ]
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = [(Occur.Must, _any_of(groups))]
        for phrase in self.query.excluded:
            clauses.append((Occur.MustNot, self.excluded_query(schema, phrase)))
        for query in filters:  # no score: filters do not change the ranking
            clauses.append((Occur.Must, Q.const_score_query(query, 0.0)))
        return Q.boolean_query(clauses)

    def snippet_exact(self) -> tuple[tuple[str, ...], ...]:
        """The exact words of the phrases whose accents matter (typed with diacritics, or
        every spelling in ``exact`` mode): the snippet shows such a match first."""
        found: list[tuple[str, ...]] = []
        for p in self.query.phrases():
            if self.exact:
                found.extend(e for _, e in self.spellings[p])
            elif p.accented:
                found.append(p.exact)
        return tuple(dict.fromkeys(found))

    def snippet_phrases(self) -> tuple[tuple[str, ...], ...]:
        """The folded spellings of every phrase to find, longest first."""
        found = {f for p in self.query.phrases() for f, _ in self.spellings[p]}
        return tuple(sorted(found, key=lambda f: (-len(f), f)))


def plan_query(
    text: str,
    *,
    variants: Iterable[Sequence[str]] = (),
    words: bool = False,
    exact: bool = False,
) -> _Plan:
    """``text`` parsed (:func:`parse_query`, :class:`InputError` when it is not a query),
    each phrase with its spellings under the variant groups."""
    query = parse_query(text)
    groups = variant_groups(variants)
    every = [*query.phrases(), *query.excluded]
    found = {p: spellings(p, groups, exact=exact) for p in every}
    return _Plan(query, found, words=words, exact=exact)


def _author_filter(schema: tantivy.Schema, author: str) -> tantivy.Query:
    names = query_terms(author)
    if not names:
        raise InputError(f"no name to find in the author {author!r}")
    if len(names) > MAX_QUERY_WORDS:
        raise InputError(f"the author {author[:40]!r}… has more than {MAX_QUERY_WORDS} words")
    return _sequence(schema, "author", names)


def indexed_sites(where: str | Path | duckdb.DuckDBPyConnection) -> list[str]:
    """The keys of the sites that have articles in the index (for the CLI, which searches
    with the spelling variants of those sites when no ``--site`` is named)."""
    index, _path = _open_reader(_index_dir(where, None))
    searcher = index.searcher()
    schema = index.schema
    keys = [str(key) for key, _ in searcher.terms_with_prefix("site", "")]
    return sorted(k for k in keys if _has_docs(searcher, _term(schema, "site", k)))


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results (:func:`search_page`): its hits and how many match in all."""

    hits: list[SearchHit]
    total: int
    """Every article the query and filters match (not only those on the page)."""


def search(
    where: str | Path | duckdb.DuckDBPyConnection,
    text: str,
    *,
    limit: int = 20,
    since: date | None = None,
    until: date | None = None,
    category: str | None = None,
    site: str | None = None,
    author: str | None = None,
    words: bool = False,
    exact: bool = False,
    variants: Iterable[Sequence[str]] = (),
) -> list[SearchHit]:
    """The first ``limit`` hits of :func:`search_page` (its documentation says all)."""
    return search_page(
        where,
        text,
        limit=limit,
        since=since,
        until=until,
        category=category,
        site=site,
        author=author,
        words=words,
        exact=exact,
        variants=variants,
    ).hits


def search_page(
    where: str | Path | duckdb.DuckDBPyConnection,
    text: str,
    *,
    limit: int = 20,
    offset: int = 0,
    since: date | None = None,
    until: date | None = None,
    category: str | None = None,
    site: str | None = None,
    author: str | None = None,
    words: bool = False,
    exact: bool = False,
    variants: Iterable[Sequence[str]] = (),
) -> SearchPage:
    """Articles matching the query ``text`` (:mod:`warehouse.search_query` syntax), best
    first.

    Unquoted words are a phrase (adjacent, in order, accents optional); ``words``: every
    word anywhere instead (the exact sequence ranks first); ``exact``: diacritics must
    match as typed. Without ``exact``, a phrase typed with diacritics that matches them
    lifts the hit above the folded-only ones (:data:`EXACT_TIER`). ``variants``: groups of
    spellings of one name (``[["Sa Pa", "Sapa"]]``, from the site files); a phrase that
    is, or contains, one member also finds the others.

    ``where`` is the index folder (:func:`search_index_dir`), or a warehouse connection
    whose file locates it (nothing is read through the connection but its path).
    ``since``/``until``: published on or after / on or before that day in Vietnam;
    ``category``: equal ignoring case, accents and punctuation (``kinh-te`` matches ``Kinh
    tế``); ``site``: that site's articles only (its key; ``None``: every site of the
    index); ``author``: the byline contains these words in this order, accents optional.
    ``offset``: the hits after the first ``offset`` (a later page); only the page's hits
    get a snippet, and :attr:`SearchPage.total` counts every match.
    """
    plan = plan_query(text, variants=variants, words=words, exact=exact)
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"the limit must be from 1 to {MAX_LIMIT}, not {limit}")
    if not 0 <= offset <= MAX_LIMIT:
        raise InputError(f"the offset must be from 0 to {MAX_LIMIT}, not {offset}")
    if since is not None and until is not None and until < since:
        raise InputError(f"the last day {until} is before the first day {since}")
    folder = _index_dir(where, None)
    index, _path = _open_reader(folder)
    schema = index.schema
    searcher = index.searcher()
    filters: list[tantivy.Query] = []
    if since is not None or until is not None:
        lower = None if since is None else _micros(_day_start(since))
        upper = None if until is None else _micros(_day_start(until + timedelta(days=1)))
        filters.append(
            tantivy.Query.range_query(
                schema,
                "published_us",
                tantivy.FieldType.Integer,
                lower,
                upper,
                include_upper=upper is None,
            )
        )
    if category is not None:
        by_key = _term(schema, "category_key", _category_key(category))
        if not _has_docs(searcher, by_key):
            known = _categories(searcher, schema)
            raise InputError(f"no category {category!r}; known: {', '.join(known) or '(none)'}")
        filters.append(by_key)
    if site is not None:
        filters.append(_term(schema, "site", site))
    if author is not None:
        filters.append(_author_filter(schema, author))
    query = plan.build(schema, filters)
    try:
        result = searcher.search(query, offset + limit + _TIE_MARGIN, count=True)
        addresses = [address for _, address in result.hits]
        article_ids = searcher.fast_field_values("article_id", addresses)
        published = searcher.fast_field_values("published_us", addresses)
    except ValueError as exc:
        raise WarehouseError(f"search failed: {_first_line(exc)}") from None
    sites = [str(searcher.doc(address).get_first("site") or "") for address in addresses]
    ranked = sorted(
        zip(result.hits, article_ids, published, sites, strict=True),
        key=lambda r: (-r[0][0], r[2] is None, -(r[2] or 0), -int(r[1] or 0), r[3]),
    )[offset : offset + limit]
    phrases = plan.snippet_phrases()
    exact_phrases = plan.snippet_exact()
    terms = tuple(dict.fromkeys(w for p in phrases for w in p))
    hits: list[SearchHit] = []
    for (score, address), article_id, published_us, hit_site in ranked:
        stored = json.loads(searcher.doc(address).get_first("stored") or b"{}")
        tiers = int(score // EXACT_TIER)
        snippet, spans = _snippet(
            stored.get("body") or "",
            phrases,
            terms,
            words=words,
            fallback=stored.get("sapo"),
            exact=exact_phrases,
        )
        hits.append(
            SearchHit(
                site=hit_site,
                article_id=int(article_id or 0),
                published_at=None
                if published_us is None
                else (_EPOCH + int(published_us) * _MICRO).astimezone(_SITE_TZ),
                category=stored.get("category"),
                title=stored.get("title"),
                url=stored.get("url") or "",
                score=float(score) - tiers * EXACT_TIER,
                snippet=snippet,
                author=stored.get("author"),
                accent_match=exact or tiers > 0,
                highlights=spans,
            )
        )
    # count=True fills SearchResult.count (the stubs of tantivy 0.25 leave it out)
    total: int = getattr(result, "count", None) or 0
    return SearchPage(hits=hits, total=total)


# -- snippets -----------------------------------------------------------------------------------


_fold_char_cached = functools.lru_cache(maxsize=8192)(fold_char)

_FOLDING_BLOCKS = ((0x0000, 0x0300), (0x1E00, 0x1F00), (0x2100, 0x2200))
"""The Unicode blocks holding every character :func:`fold_char` turns into one of
``[a-z0-9]`` (Latin, Latin Extended A/B and Additional, letterlike symbols such as the
Kelvin sign; checked over all of Unicode by the tests); none turns into several."""
_MARKS_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""A combining mark NFC left alone: :func:`fold` drops it (``a`` + mark + ``b`` folds to
``ab``), which a pattern over the original text cannot follow."""


@functools.cache
def _letter_classes() -> dict[str, str]:
    """For each of ``[a-z0-9]``, a regular-expression class of every character that folds
    to it: ``"d"`` -> ``"[DdĎďĐđ…]"`` (built once per process, about 1,400 characters)."""
    found: dict[str, list[str]] = {}
    for lo, hi in _FOLDING_BLOCKS:
        for code in range(lo, hi):
            ch = chr(code)
            folded = fold_char(ch)
            if len(folded) == 1 and ("a" <= folded <= "z" or "0" <= folded <= "9"):
                found.setdefault(folded, []).append(ch)
    return {letter: "[" + "".join(map(re.escape, chars)) + "]" for letter, chars in found.items()}


def _pattern_sources(
    phrases: tuple[tuple[str, ...], ...], terms: tuple[str, ...], word: Any, words: bool
) -> list[str]:
    """The patterns a snippet looks for, best first: any phrase of two words or more
    (``lao cai``, not ``lao động``), then (``words`` mode, or a one-word phrase) any word."""
    sources = []
    long = [p for p in phrases if len(p) > 1]
    if long:
        sources.append(r"\b(?:" + "|".join(r"\W+".join(word(t) for t in p) for p in long) + r")\b")
    singles = terms if words or not long else tuple(p[0] for p in phrases if len(p) == 1)
    if singles:
        sources.append(r"\b(?:" + "|".join(word(t) for t in singles) + r")\b")
    return sources


@functools.lru_cache(maxsize=64)
def _snippet_patterns(
    phrases: tuple[tuple[str, ...], ...], terms: tuple[str, ...], words: bool = False
) -> tuple[re.Pattern[str], ...]:
    """The patterns :func:`_snippet` looks for, over the original text; every letter
    matches its accented and capital forms (``hoa`` finds ``Hòa`` and ``hoà``). Compiled
    once per query, so a hit's snippet costs one search of its body in C, not a folding
    of it."""
    classes = _letter_classes()

    def word(term: str) -> str:
        return "".join(classes.get(c, re.escape(c)) for c in term)

    return tuple(re.compile(p) for p in _pattern_sources(phrases, terms, word, words))


@functools.lru_cache(maxsize=64)
def _exact_pattern(phrases: tuple[tuple[str, ...], ...]) -> re.Pattern[str] | None:
    """The phrases with their diacritics, either tone placement, any case, over NFC text."""
    if not phrases:
        return None

    def word(w: str) -> str:
        return "(?:" + "|".join(re.escape(f) for f in tone_placements(w)) + ")"

    alternatives = "|".join(r"\W+".join(word(w) for w in p) for p in phrases)
    return re.compile(r"\b(?:" + alternatives + r")\b", re.IGNORECASE)


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, its index in ``text``."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        folded = ch.lower() if ch.isascii() else _fold_char_cached(ch)
        for c in folded:
            chars.append(c)
            offsets.append(i)
    return "".join(chars), offsets


def _first_match_folding(
    text: str, phrases: tuple[tuple[str, ...], ...], terms: tuple[str, ...], words: bool
) -> int | None:
    """:func:`_first_match` the slow way, character by character through :func:`fold`:
    only for a text with a combining mark NFC could not compose."""
    folded, offsets = _folded_with_offsets(text)
    for pattern in _pattern_sources(phrases, terms, re.escape, words):
        found = re.search(pattern, folded)
        if found:
            return offsets[found.start()]
    return None


def _first_match(
    text: str,
    phrases: tuple[tuple[str, ...], ...],
    terms: tuple[str, ...],
    words: bool = False,
) -> int | None:
    """Where in ``text`` (NFC) the snippet's match starts: the first phrase match, else
    the first word, as :func:`fold` sees the text; ``None`` when there is none."""
    if not terms or not text:
        return None
    for pattern in _snippet_patterns(phrases, terms, words):
        found = pattern.search(text)
        if found:
            return found.start()
    if _MARKS_RE.search(text):  # rare: a mark between two letters the pattern did not see
        return _first_match_folding(text, phrases, terms, words)
    return None


def _snippet(
    body: str,
    phrases: tuple[tuple[str, ...], ...],
    terms: tuple[str, ...],
    *,
    words: bool = False,
    width: int = SNIPPET_CHARS,
    fallback: str | None = None,
    exact: tuple[tuple[str, ...], ...] = (),
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About ``width`` characters of ``body`` around the first match of a phrase (else of
    a word), whole words, and where the matches are in it (for highlighting).

    The text keeps its diacritics. When nothing matches in the body (a title-only match),
    the snippet is the start of ``fallback`` (the sapo) or of the body. ``exact``: phrases
    with their diacritics, whose first match is shown rather than an earlier one that
    matches only without them (``Lào Cai`` rather than ``lao cải``).
    """
    text = unicodedata.normalize("NFC", body)
    accented = _exact_pattern(exact)
    found = accented.search(text) if accented is not None else None
    start = found.start() if found else _first_match(text, phrases, terms, words)
    if start is None:
        source = " ".join((fallback or text).split())
        snippet = _trim_end(source, width)
    else:
        lo = max(0, start - width // 3)
        hi = min(len(text), lo + width)
        lo = max(0, min(lo, hi - width))
        if lo > 0:  # start on a word boundary
            space = text.find(" ", lo)
            lo = space + 1 if 0 <= space < start else lo
        if hi < len(text):
            space = text.rfind(" ", start, hi)
            hi = space if space > start else hi
        window = " ".join(text[lo:hi].split())
        snippet = ("…" if lo > 0 else "") + window + ("…" if hi < len(text) else "")
    for pattern in _snippet_patterns(phrases, terms, words) if terms else ():
        spans = tuple(m.span() for m in pattern.finditer(snippet))
        if spans:
            return snippet, spans
    return snippet, ()


def make_snippet(
    body: str, terms: list[str], *, width: int = SNIPPET_CHARS, fallback: str | None = None
) -> str:
    """About ``width`` characters of ``body`` around the first occurrence of the folded
    ``terms`` as a phrase, else of any of them (:func:`_snippet` for one phrase)."""
    phrase = tuple(terms)
    found = (phrase,) if phrase else ()
    return _snippet(body, found, phrase, words=True, width=width, fallback=fallback)[0]


def _trim_end(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    return text[: cut if cut > 0 else width] + "…"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
