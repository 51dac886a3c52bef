"""Reads that cost the same however big the archive (issue #21): snippets found in the
original text without folding it, index updates that read only the changed rows,
exports written chunk by chunk, read connections with DuckDB's memory capped."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from warehouse import export as export_module
from warehouse.db import READ_MEMORY_LIMIT, connect
from warehouse.export import export
from warehouse.search import (
    _ARTICLE_COLUMNS,
    _changed_rows,
    _letter_classes,
    fold,
    fold_char,
    make_snippet,
    query_terms,
    rebuild_search_index,
    search,
    search_index_dir,
    update_search_index,
)

QUERIES = ("lao cai", "hoa binh", "duong", "Đường", "mu cang chai", "sa pa", "2025", "zzz qqq")


def reference_snippet(
    body: str, terms: list[str], width: int = 200, fallback: str | None = None
) -> str:
    """The snippet as it was made before: the whole body folded character by character."""
    text = unicodedata.normalize("NFC", body)
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        for c in fold_char(ch):
            chars.append(c)
            offsets.append(i)
    folded = "".join(chars)
    start = None
    if terms and folded:
        patterns = [r"\b(?:" + "|".join(re.escape(t) for t in terms) + r")\b"]
        if len(terms) > 1:
            patterns.insert(0, r"\b" + r"\W+".join(re.escape(t) for t in terms) + r"\b")
        for pattern in patterns:
            found = re.search(pattern, folded)
            if found:
                start = offsets[found.start()]
                break
    if start is None:
        source = " ".join((fallback or text).split())
        if len(source) <= width:
            return source
        cut = source.rfind(" ", 0, width)
        return source[: cut if cut > 0 else width] + "…"
    lo = max(0, start - width // 3)
    hi = min(len(text), lo + width)
    lo = max(0, min(lo, hi - width))
    if lo > 0:
        space = text.find(" ", lo)
        lo = space + 1 if 0 <= space < start else lo
    if hi < len(text):
        space = text.rfind(" ", start, hi)
        hi = space if space > start else hi
    window = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + window + ("…" if hi < len(text) else "")


def test_snippets_are_the_ones_folding_the_body_gave(filled: Path) -> None:
    con = connect(filled, read_only=True)
    try:
        rows = con.execute("SELECT title, sapo, body FROM articles ORDER BY article_id").fetchall()
    finally:
        con.close()
    assert len(rows) > 20
    for title, sapo, body in rows:
        words = query_terms(body or "")
        queries = [*QUERIES, title or "", " ".join(words[5:7]), " ".join(words[-3:])]
        for text in queries:
            terms = query_terms(text)
            assert make_snippet(body or "", terms, fallback=sapo) == reference_snippet(
                body or "", terms, fallback=sapo
            ), text


@pytest.mark.parametrize(
    ("body", "query", "shown"),
    [
        ("Mở đầu. " * 30 + "Tuyến Đường Hoàng Liên được nâng cấp.", "duong", "Đường"),
        # Decomposed (NFD) text: the snippet is NFC, with its diacritics.
        (
            unicodedata.normalize("NFD", "Lời kể. " * 30 + "Người dân Hoà Bình vui."),
            "hòa bình",
            "Hoà Bình",
        ),
        ("Chuyện cũ. " * 30 + "LÀO CAI đón khách.", "lao cai", "LÀO CAI"),
        # A combining mark NFC cannot compose: fold drops it, so must the snippet's search.
        ("Chuyện cũ. " * 30 + "Xã Ho\u0358a Bình mới.", "hoa binh", "Ho\u0358a Bình"),
    ],
)
def test_snippet_finds_the_words_with_their_diacritics(body: str, query: str, shown: str) -> None:
    terms = query_terms(query)
    snippet = make_snippet(body, terms)
    assert shown in snippet and snippet.startswith("…")
    assert snippet == reference_snippet(body, terms)


def test_the_letter_classes_hold_every_character_folding_to_a_letter() -> None:
    classes = {letter: re.compile(cls) for letter, cls in _letter_classes().items()}
    assert sorted(classes) == sorted("abcdefghijklmnopqrstuvwxyz0123456789")
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code < 0xE000:
            continue
        ch = chr(code)
        folded = fold_char(ch)
        if len(folded) == 1 and folded in classes:
            assert classes[folded].fullmatch(ch), hex(code)
        else:  # no character folds into several letters or digits
            assert not re.search("[a-z0-9]", folded), hex(code)


def test_search_snippets_keep_diacritics(filled: Path) -> None:
    hits = search(search_index_dir(filled), "duong", limit=50)
    assert hits
    for hit in hits:
        assert hit.snippet == unicodedata.normalize("NFC", hit.snippet)
    assert any(re.search("Đường|đường", hit.snippet) for hit in hits)


def test_an_update_reads_only_the_given_and_the_changed_rows(fresh: Path) -> None:
    con = connect(fresh)
    try:
        rebuild_search_index(con)
        ids = [r[0] for r in con.execute("SELECT article_id FROM articles ORDER BY 1").fetchall()]
        (watermark,) = con.execute("SELECT max(updated_at) FROM articles").fetchall()[0]
        assert _changed_rows(con, [], watermark, strictly_after_watermark=True) == []
        con.execute(
            "UPDATE articles SET body = body || ' Đường mới Mù Cang Chải.',"
            " updated_at = now() WHERE article_id = ?",
            [ids[0]],
        )
        keys = [("baolaocai", ids[1]), ("baolaocai", 999_999_999)]
        rowids = _changed_rows(con, keys, watermark, strictly_after_watermark=True)
        picked = con.execute(
            "SELECT article_id FROM articles WHERE rowid IN (SELECT unnest(?)) ORDER BY 1",
            [rowids],
        ).fetchall()
        assert [r[0] for r in picked] == ids[:2]
        # Two re-indexed, the one missing from the warehouse deleted.
        assert update_search_index(con, None, keys) == 3
        hits = search(search_index_dir(fresh), "duong moi mu cang chai")
        assert [h.article_id for h in hits] == [ids[0]]
        assert "Đường mới Mù Cang Chải" in hits[0].snippet
    finally:
        con.close()


def test_index_times_are_read_as_microseconds(fresh: Path) -> None:
    con = connect(fresh)
    try:
        row = con.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY article_id LIMIT 1"
        ).fetchone()
        ((published,),) = con.execute(
            "SELECT published_at FROM articles ORDER BY article_id LIMIT 1"
        ).fetchall()
    finally:
        con.close()
    assert row is not None and isinstance(row[5], int)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert (published - epoch).total_seconds() * 1_000_000 == row[5]


# -- export -------------------------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Chunks of 3 articles; the rows each write of articles (a COPY, or a Parquet file)
    wrote (the other tables' chunks are those articles' pictures and versions, or the
    crawls' rows: not counted)."""
    monkeypatch.setattr(export_module, "CHUNK_ROWS", 3)
    written: list[int] = []

    def counting(write: Callable[..., int]) -> Callable[..., int]:
        def counted(con: object, query: str, *args: object) -> int:
            rows = int(write(con, query, *args))
            if query.split(" FROM ")[-1].startswith("articles t"):
                written.append(rows)
            return rows

        return counted

    monkeypatch.setattr(export_module, "_copy", counting(export_module._copy))
    monkeypatch.setattr(export_module, "_parquet_file", counting(export_module._parquet_file))
    return written


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_in_chunks_is_the_same_file(
    filled: Path, tmp_path: Path, fmt: str, small_chunks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    con = connect(filled, read_only=True)
    try:
        chunked = export(con, tmp_path / "chunked", fmt)
        articles = chunked.tables["articles"]
        assert max(small_chunks) <= 3
        assert len(small_chunks) >= articles / 3
        monkeypatch.setattr(export_module, "CHUNK_ROWS", 1_000_000)
        whole = export(con, tmp_path / "whole", fmt)
    finally:
        con.close()
    assert chunked.tables == whole.tables
    for a, b in zip(chunked.files, whole.files, strict=True):
        assert (a.path, a.rows, a.sha256) == (b.path, b.rows, b.sha256)
        assert not any(p.name.startswith(".chunk") for p in (tmp_path / "chunked").iterdir())


def test_a_parquet_export_in_chunks_has_the_same_rows_in_order(
    filled: Path, tmp_path: Path, small_chunks: list[int]
) -> None:
    con = connect(filled, read_only=True)
    try:
        manifest = export(con, tmp_path / "pq", "parquet")
        assert max(small_chunks) <= 3
        expected = con.execute(
            "SELECT article_id FROM articles ORDER BY published_at, site, article_id"
        ).fetchall()
        glob = str(tmp_path / "pq" / "articles" / "**" / "*.parquet")
        back = con.execute(
            "SELECT article_id, year, month, filename FROM read_parquet(?, hive_partitioning"
            " = true, filename = true)",
            [glob],
        ).fetchall()
        local = con.execute(
            "SELECT article_id, year(timezone('Asia/Ho_Chi_Minh', published_at)),"
            " month(timezone('Asia/Ho_Chi_Minh', published_at)) FROM articles"
        ).fetchall()
    finally:
        con.close()
    assert sorted(r[0] for r in back) == sorted(r[0] for r in expected)
    month_of = {aid: (y, m) for aid, y, m in local}
    assert all((y, m) == month_of[aid] for aid, y, m, _ in back)
    # Every file sorted, the files of a month in order: data_0, data_1, …
    order = {aid: i for i, (aid,) in enumerate(expected)}
    by_file: dict[str, list[int]] = {}
    for aid, _y, _m, name in back:
        by_file.setdefault(name, []).append(order[aid])
    for name, positions in by_file.items():
        assert positions == sorted(positions), name
        assert re.search(r"/data_\d+\.parquet$", name)
    assert any(p.path.endswith("data_1.parquet") for p in manifest.files)
    assert sum(f.rows for f in manifest.files if f.table == "articles") == len(expected)


def test_chunks_never_split_the_articles_of_one_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "CHUNK_ROWS", 3)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    con.execute(
        "CREATE TABLE articles AS SELECT 's' AS site, i AS article_id,"
        " TIMESTAMPTZ '2025-01-31 16:00:00+00' + to_hours(CAST(i // 4 AS INTEGER)) AS published_at"
        " FROM range(10) t(i) UNION ALL SELECT 's', 99, NULL"
    )
    chunks = export_module._article_chunks(con, "", {}, by_month=True)
    # 4 articles share each hour; the first hour is in January (Vietnam time: 23:00).
    assert [(c.year, c.month) for c in chunks] == [(2025, 1), (2025, 2), (2025, 2), (0, 0)]
    assert chunks[-1].first is None
    counts = []
    for chunk in chunks:
        where, params = chunk.where("")
        ((count,),) = con.execute(f"SELECT count(*) FROM articles{where}", params).fetchall()
        counts.append(count)
    assert counts == [4, 4, 2, 1]


def test_read_connections_cap_duckdb_memory(filled: Path) -> None:
    expected = duckdb.connect()
    expected.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
    cap = expected.execute("SELECT current_setting('memory_limit')").fetchone()
    con = connect(filled, read_only=True)
    try:
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() == cap
    finally:
        con.close()


def test_fold_is_unchanged_for_the_index() -> None:
    assert fold("Đường Hoà Bình, LÀO CAI") == "duong hoa binh, lao cai"
