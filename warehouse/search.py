"""Vietnamese full-text search: BM25 over title, sapo and body, accent-insensitive.

DuckDB's ``fts`` extension (loaded offline from the pip package ``duckdb-extension-fts``,
pinned to the duckdb version) indexes the table ``search_docs``::

    search_docs(article_id BIGINT, content_hash VARCHAR, title VARCHAR, body VARCHAR)

whose two text columns hold the *folded* article: lower case, every diacritic removed
(NFD, combining marks dropped) and ``đ`` -> ``d``. Vietnamese words are syllables with
tone marks, and the same word is written ``hòa`` (old placement) or ``hoà`` (new
placement), ``Lào Cai`` or typed ``lao cai``: once folded they are all ``hoa`` and
``lao cai``. Queries are folded the same way (:func:`fold`). The tokenizer keeps ``a-z``
and digits (so ``2025`` is searchable); no stemmer, no stop words (both are for English).

Ranking (documented choice): one index with two fields, ``title`` and ``body`` (sapo and
body). The score of an article is

    bm25(query, all fields, every term required)
    + TITLE_WEIGHT * bm25(query, title field only, any term)

times PHRASE_BOOST when the folded query occurs as a phrase (the syllables adjacent, one
space apart, e.g. ``hoa binh``) in the title or body. Every query term must occur
somewhere in the article (conjunctive search). A title match therefore ranks above a
body-only match of similar strength, and ``Hòa Bình`` above ``hoa mận ... bình yên``.
Two indexes were not needed: the fts extension scores one field with ``fields :=``.

The index is a snapshot: :func:`refresh_search_index` rebuilds it (in one transaction)
and is run after a crawl that changed articles, or by ``baolaocai reindex``. A read-only
connection cannot build it; :func:`search` raises :class:`WarehouseError` when it has
never been built. Articles stored after the last rebuild are not found until the next one
(:func:`index_info` says how many).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import duckdb

from baolaocai.errors import InputError, WarehouseError
from warehouse.db import SITE_TIME_ZONE, load_bundled_extension, transaction

DOCS_TABLE = "search_docs"
INFO_TABLE = "search_index_info"
INDEX_SCHEMA = f"fts_main_{DOCS_TABLE}"
TITLE_WEIGHT = 1.0
PHRASE_BOOST = 1.5
SNIPPET_CHARS = 200
TOKEN_IGNORE = r"(\.|[^a-z0-9])+"
"""Characters the fts tokenizer treats as separators (after lower-casing and folding)."""

_TOKEN_RE = re.compile(r"[a-z0-9]+")
_SITE_TZ = ZoneInfo(SITE_TIME_ZONE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    article_id: int
    published_at: datetime | None
    category: str | None
    title: str | None
    url: str
    score: float
    snippet: str
    """About 200 characters of the body (original diacritics) around the first match."""

    def to_dict(self) -> dict[str, object]:
        return {
            "article_id": self.article_id,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "category": self.category,
            "title": self.title,
            "url": self.url,
            "score": round(self.score, 6),
            "snippet": self.snippet,
        }


@dataclass(frozen=True, slots=True)
class IndexInfo:
    built_at: datetime
    documents: int
    stale: int
    """Articles stored or changed after the index was built (not searchable yet)."""


# -- folding ------------------------------------------------------------------------------------


def fold_char(ch: str) -> str:
    """One character folded: lower case, no diacritics, ``đ`` -> ``d`` (may be ``""``)."""
    if ch in "đĐ":
        return "d"
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold(text: str) -> str:
    """``"Hoà Bình, Lào Cai"`` -> ``"hoa binh, lao cai"`` (same as the indexed documents)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(fold_char(ch) for ch in text)


def query_terms(text: str) -> list[str]:
    """The folded words of a query, in order, as the fts tokenizer sees them."""
    return _TOKEN_RE.findall(fold(text))


def _fold_sql(column: str) -> str:
    """SQL equivalent of :func:`fold` (DuckDB's strip_accents leaves ``đ`` alone)."""
    return f"strip_accents(lower(replace(replace(nfc_normalize({column}), 'đ', 'd'), 'Đ', 'D')))"


# -- index --------------------------------------------------------------------------------------


def _load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load fts unless the connection has it (a sandboxed one was given it up front and
    may load nothing more)."""
    row = con.execute(  # duckdb_extensions() would read the extension folder: not sandboxed
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'stem'"
    ).fetchone()
    if not (row and row[0]):
        load_bundled_extension(con, "fts")


def index_exists(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'docs'",
        [INDEX_SCHEMA],
    ).fetchone()
    return bool(row and row[0])


def refresh_search_index(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``search_docs`` and its BM25 index from ``articles``; returns the document count.

    One transaction: on any error the previous index stays as it was. Needs a write
    connection. Takes a few seconds per 100,000 articles.
    """
    _load_fts(con)
    try:
        with transaction(con):
            title = _fold_sql("coalesce(title, '')")
            body = _fold_sql("concat_ws(chr(10) || chr(10), sapo, body)")
            con.execute(
                f"CREATE OR REPLACE TABLE {DOCS_TABLE} AS SELECT article_id, content_hash,"
                f" {title} AS title, {body} AS body FROM articles ORDER BY article_id"
            )
            con.execute(
                f"PRAGMA create_fts_index('{DOCS_TABLE}', 'article_id', 'title', 'body',"
                f" stemmer = 'none', stopwords = 'none', ignore = '{TOKEN_IGNORE}',"
                " strip_accents = 1, lower = 1, overwrite = 1)"
            )
            con.execute(
                f"CREATE OR REPLACE TABLE {INFO_TABLE} (built_at TIMESTAMPTZ NOT NULL,"
                " documents BIGINT NOT NULL)"
            )
            con.execute(
                f"INSERT INTO {INFO_TABLE} SELECT current_timestamp, count(*) FROM {DOCS_TABLE}"
            )
            row = con.execute(f"SELECT count(*) FROM {DOCS_TABLE}").fetchone()
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot build the search index: {_first_line(exc)}") from None
    return int(row[0]) if row else 0


def index_info(con: duckdb.DuckDBPyConnection) -> IndexInfo | None:
    """When the index was built, how many documents, how many articles changed since."""
    if not index_exists(con):
        return None
    row = con.execute(
        f"SELECT i.built_at, i.documents, (SELECT count(*) FROM articles a"
        f"  LEFT JOIN {DOCS_TABLE} d USING (article_id)"
        f"  WHERE d.content_hash IS DISTINCT FROM a.content_hash)"
        f" FROM {INFO_TABLE} i"
    ).fetchone()
    if row is None:
        return None
    return IndexInfo(built_at=row[0], documents=int(row[1]), stale=int(row[2]))


# -- search -------------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_SITE_TZ)


def _category_key(text: str) -> str:
    return " ".join(query_terms(text))


def matching_categories(con: duckdb.DuckDBPyConnection, category: str) -> list[str]:
    """Stored categories equal to ``category`` ignoring case, accents and punctuation.

    ``"van hoa du lich"``, ``"van-hoa-du-lich"`` and ``"Văn hóa - Du lịch"`` all match
    ``Văn hóa - Du lịch``.
    """
    key = _category_key(category)
    rows = con.execute("SELECT DISTINCT category FROM articles WHERE category IS NOT NULL")
    return sorted(c for (c,) in rows.fetchall() if _category_key(c) == key)


def search(
    con: duckdb.DuckDBPyConnection,
    text: str,
    *,
    limit: int = 20,
    since: date | None = None,
    category: str | None = None,
) -> list[SearchHit]:
    """Articles matching every word of ``text`` (accents optional), best first."""
    terms = query_terms(text)
    if not terms:
        raise InputError(f"nothing to search for in {text!r}: give at least one word")
    if limit < 1:
        raise InputError(f"the limit must be at least 1, not {limit}")
    if not index_exists(con):
        raise WarehouseError("no search index yet: run a crawl or `baolaocai reindex`")
    _load_fts(con)
    named: dict[str, object] = {
        "q": " ".join(terms),
        "n": len(terms),
        "phrase": r"\b" + " ".join(terms) + r"\b",
        "limit": limit,
    }
    filters = ["s.score_all IS NOT NULL"]
    if since is not None:
        filters.append("a.published_at >= $since")
        named["since"] = _day_start(since)
    if category is not None:
        names = matching_categories(con, category)
        if not names:
            known = [
                c
                for (c,) in con.execute(
                    "SELECT DISTINCT category FROM articles WHERE category IS NOT NULL ORDER BY 1"
                ).fetchall()
            ]
            raise InputError(f"no category {category!r}; known: {', '.join(known) or '(none)'}")
        filters.append("list_contains($categories, a.category)")
        named["categories"] = names
    where = " AND ".join(filters)
    sql = f"""
        WITH s AS (
            SELECT d.article_id,
                   {INDEX_SCHEMA}.match_bm25(d.article_id, $q, conjunctive := 1) AS score_all,
                   {INDEX_SCHEMA}.match_bm25(d.article_id, $q, fields := 'title') AS score_title,
                   d.title AS folded_title, d.body AS folded_body
            FROM {DOCS_TABLE} d
        )
        SELECT a.article_id, a.published_at, a.category, a.title, a.url, a.sapo, a.body,
               (s.score_all + {TITLE_WEIGHT} * coalesce(s.score_title, 0))
               * CASE WHEN $n > 1 AND (
                     -- contains() screens cheaply; the regexp checks word boundaries
                     (contains(s.folded_title, $q) AND regexp_matches(s.folded_title, $phrase))
                     OR (contains(s.folded_body, $q) AND regexp_matches(s.folded_body, $phrase)))
                 THEN {PHRASE_BOOST} ELSE 1 END AS score
        FROM s JOIN articles a USING (article_id)
        WHERE {where}
        ORDER BY score DESC, a.published_at DESC NULLS LAST, a.article_id DESC
        LIMIT $limit
    """
    try:
        rows = con.execute(sql, named).fetchall()
    except duckdb.Error as exc:
        raise WarehouseError(f"search failed: {_first_line(exc)}") from None
    return [
        SearchHit(
            article_id=int(r[0]),
            published_at=r[1],
            category=r[2],
            title=r[3],
            url=r[4],
            score=float(r[7]),
            snippet=make_snippet(r[6] or "", terms, fallback=r[5]),
        )
        for r in rows
    ]


# -- snippets -----------------------------------------------------------------------------------


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each folded character, its index in ``text``."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        for c in fold_char(ch):
            chars.append(c)
            offsets.append(i)
    return "".join(chars), offsets


def make_snippet(
    body: str, terms: list[str], *, width: int = SNIPPET_CHARS, fallback: str | None = None
) -> str:
    """About ``width`` characters of ``body`` around the first query term, whole words.

    The text keeps its diacritics. When no term occurs in the body (a title-only match),
    the snippet is the start of ``fallback`` (the sapo) or of the body.
    """
    text = unicodedata.normalize("NFC", body)
    folded, offsets = _folded_with_offsets(text)
    start = None
    if terms and folded:
        patterns = [r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b"]
        if len(terms) > 1:  # prefer the words as a phrase: "lao cai", not "lao động"
            patterns.insert(0, r"\b" + r"\W+".join(re.escape(t) for t in terms) + r"\b")
        for pattern in patterns:
            found = re.search(pattern, folded)
            if found:
                start = offsets[found.start()]
                break
    if start is None:
        source = " ".join((fallback or text).split())
        return _trim_end(source, width)
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
    return ("…" if lo > 0 else "") + window + ("…" if hi < len(text) else "")


def _trim_end(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    return text[: cut if cut > 0 else width] + "…"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
