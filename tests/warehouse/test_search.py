"""Full-text search: accent-insensitive Vietnamese, ranking, filters, a safe rebuild."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from baolaocai.errors import InputError, WarehouseError
from warehouse.db import connect
from warehouse.load import load_batch
from warehouse.search import (
    _fold_sql,
    fold,
    index_info,
    make_snippet,
    query_terms,
    refresh_search_index,
    search,
)


@pytest.fixture(scope="module")
def con(filled: Path):
    connection = connect(filled, read_only=True)
    yield connection
    connection.close()


def ids(con: duckdb.DuckDBPyConnection, text: str, **kw) -> list[int]:
    return [h.article_id for h in search(con, text, limit=100, **kw)]


def test_fold_removes_tones_and_both_tone_placements() -> None:
    assert fold("Hòa Bình") == fold("Hoà Bình") == fold("HOÀ BÌNH") == "hoa binh"
    assert fold("Đường lên Sa Pa, Mù Cang Chải") == "duong len sa pa, mu cang chai"
    assert fold(unicodedata.normalize("NFD", "Lào Cai")) == "lao cai"
    assert query_terms("  Lào-Cai, năm 2025! ") == ["lao", "cai", "nam", "2025"]


def test_index_and_query_fold_the_same_way(con: duckdb.DuckDBPyConnection) -> None:
    samples = ["Hòa Bình", "Hoà Bình", "ĐƯỜNG lên Mù Cang Chải", "Ưu tiên Ỷ Lời", "Y Tý"]
    samples.append(unicodedata.normalize("NFD", "Bản Lầu, Bắc Hà"))
    for text in samples:
        row = con.execute(f"SELECT {_fold_sql('s')} FROM (SELECT ? AS s)", [text]).fetchone()
        assert row == (fold(text),), text


def test_lao_cai_without_diacritics_finds_lao_cai(con: duckdb.DuckDBPyConnection) -> None:
    found = ids(con, "lao cai")
    assert {101, 107, 109} <= set(found)
    # Both words must occur; "lao động ... Cái khó" matches but ranks below "Lào Cai".
    assert found.index(107) < found.index(108) and found.index(109) < found.index(108)
    # The same hits whatever the user types: accents, capitals, decomposed Unicode.
    assert ids(con, "Lào Cai") == found == ids(con, "LÀO CAI")
    assert ids(con, unicodedata.normalize("NFD", "Lào Cai")) == found


def test_hoa_finds_hoa_hoa_and_hoa_with_either_tone_placement(
    con: duckdb.DuckDBPyConnection,
) -> None:
    found = set(ids(con, "hoa"))
    assert {101, 102, 103, 104} <= found  # Hòa (old placement), Hoà (new), hoa (flower)
    assert ids(con, "hòa bình") == ids(con, "hoà bình") == ids(con, "hoa binh")


def test_title_matches_rank_above_body_only_and_scattered_words(
    con: duckdb.DuckDBPyConnection,
) -> None:
    found = ids(con, "hoa binh")
    assert set(found[:2]) == {101, 102}  # in the title, both spellings
    assert found.index(103) < found.index(104)  # phrase in the body > "hoa ... bình yên"
    sa_pa = ids(con, "sa pa")
    assert sa_pa.index(105) < sa_pa.index(106)  # title vs. one mention deep in the body
    hits = search(con, "sa pa", limit=100)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_d_with_stroke_and_numbers(con: duckdb.DuckDBPyConnection) -> None:
    assert 107 in ids(con, "duong bien gioi")
    assert ids(con, "đường biên giới") == ids(con, "duong bien gioi")
    assert 103 in ids(con, "2025")


def test_hit_fields_and_snippet_keep_diacritics(con: duckdb.DuckDBPyConnection) -> None:
    hit = next(h for h in search(con, "hoa binh dai dien", limit=5) if h.article_id == 103)
    assert hit.title == "Hội nghị xúc tiến đầu tư năm 2025"
    assert hit.url.endswith("-post103.html") and hit.category == "Kinh tế"
    assert hit.published_at is not None and hit.published_at.year == 2025
    assert "Hòa Bình" in hit.snippet and len(hit.snippet) <= 205
    assert hit.snippet.startswith("…")  # the match is not at the start of the body


def test_snippet_window() -> None:
    body = "Mở đầu. " + "chữ " * 100 + "Hoà Bình ở giữa. " + "chữ " * 100
    snippet = make_snippet(body, ["hoa", "binh"])
    assert "Hoà Bình" in snippet and snippet.startswith("…") and snippet.endswith("…")
    assert 150 <= len(snippet) <= 205
    assert make_snippet("Ngắn.", ["khong"], fallback="Sapo của bài.") == "Sapo của bài."


def test_since_filter_uses_vietnam_days(con: duckdb.DuckDBPyConnection) -> None:
    assert 105 not in ids(con, "sa pa", since=date(2024, 1, 1))
    assert 105 in ids(con, "sa pa", since=date(2023, 12, 20))
    # 2025-01-01 00:30 in Vietnam (still 2024 in UTC) counts as 1 January.
    assert 109 in ids(con, "lao cai", since=date(2025, 1, 1))
    assert 109 not in ids(con, "lao cai", since=date(2025, 1, 2))
    hits = search(con, "lao cai", since=date(2025, 1, 1), limit=100)
    assert hits and all(h.published_at.date() >= date(2025, 1, 1) for h in hits)  # type: ignore[union-attr]


def test_category_filter_ignores_accents_and_punctuation(con: duckdb.DuckDBPyConnection) -> None:
    culture = ids(con, "sa pa", category="Văn hóa - Du lịch")
    assert 105 in culture and 102 not in culture and 106 not in culture
    assert ids(con, "sa pa", category="van-hoa-du-lich") == culture
    assert ids(con, "sa pa", category="van hoa du lich") == culture
    assert all(h.category == "Thời sự" for h in search(con, "lao cai", category="thoi su"))
    with pytest.raises(InputError, match="no category"):
        search(con, "sa pa", category="Thể thao")


def test_bad_queries(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InputError):
        search(con, " ,.!? ")
    with pytest.raises(InputError):
        search(con, "sa pa", limit=0)
    assert search(con, "xyzzy") == []
    assert len(search(con, "lao cai", limit=2)) == 2


def test_missing_index_is_a_clear_error(fresh: Path) -> None:
    con = connect(fresh, read_only=True)
    try:
        assert index_info(con) is None
        with pytest.raises(WarehouseError, match="no search index yet"):
            search(con, "lao cai")
    finally:
        con.close()


def test_refresh_picks_up_new_articles(fresh: Path, new_article) -> None:
    from baolaocai.models import StagedArticle
    from transforms.validate import content_hash

    con = connect(fresh)
    try:
        assert (
            refresh_search_index(con) == con.execute("SELECT count(*) FROM articles").fetchone()[0]
        )  # type: ignore[index]
        when = datetime(2025, 9, 20, 9, 0, tzinfo=UTC)
        late = new_article(
            120, "Mù Cang Chải mùa lúa chín", "Ruộng bậc thang Mù Cang Chải.", when, "Thời sự"
        )
        load_batch(
            con,
            run_id="t3",
            seen_at=when,
            pages=[],
            articles=[StagedArticle(late, content_hash(late))],
            failures=[],
        )
        assert 120 not in ids(con, "mu cang chai")
        info = index_info(con)
        assert info is not None and info.stale == 1
        refresh_search_index(con)
        assert ids(con, "mu cang chai")[0] == 120
        assert index_info(con).stale == 0  # type: ignore[union-attr]
    finally:
        con.close()


class _FailingIndexBuild:
    """A connection whose ``create_fts_index`` fails, to test the rollback."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, *args, **kwargs):
        if "create_fts_index" in sql:
            raise duckdb.IOException("disk full (simulated)")
        return self._con.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def test_a_failed_rebuild_keeps_the_previous_index(fresh: Path) -> None:
    con = connect(fresh)
    try:
        refresh_search_index(con)
        before = ids(con, "lao cai")
        con.execute("DELETE FROM articles WHERE article_id = 107")
        with pytest.raises(WarehouseError, match="cannot build the search index"):
            refresh_search_index(_FailingIndexBuild(con))  # type: ignore[arg-type]
        assert con.execute(
            "SELECT count(*) FROM search_docs WHERE article_id = 107"
        ).fetchone() == (1,)
        assert [i for i in before if i != 107] == ids(con, "lao cai")
    finally:
        con.close()


def test_search_and_reindex_commands(fresh: Path, cli_app) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli_app, ["search", "lao cai", "--db", str(fresh)])
    assert missing.exit_code == 1
    assert missing.stderr.strip().splitlines() == [
        "error: no search index yet: run a crawl or `baolaocai reindex`"
    ]
    reindex = runner.invoke(cli_app, ["reindex", "--db", str(fresh)])
    assert reindex.exit_code == 0 and "search index rebuilt: 33 articles" in reindex.stdout
    table = runner.invoke(cli_app, ["search", "hoa binh", "--db", str(fresh), "-n", "3"])
    assert table.exit_code == 0, table.stderr
    assert "Hòa Bình" in table.stdout and "(3 results)" in table.stdout
    as_json = runner.invoke(
        cli_app,
        [
            *("search", "lao cai", "--db", str(fresh), "--format", "json"),
            *("--since", "2024-01-01", "--category", "van hoa du lich", "--limit", "50"),
        ],
    )
    assert as_json.exit_code == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert 101 in {r["article_id"] for r in rows}
    assert all(r["category"] == "Văn hóa - Du lịch" for r in rows)
    assert set(rows[0]) == {
        "article_id",
        "published_at",
        "category",
        "title",
        "url",
        "score",
        "snippet",
    }
    assert all(r["published_at"] >= "2024-01-01" for r in rows)
    bad_day = runner.invoke(cli_app, ["search", "x", "--since", "01/02/2024", "--db", str(fresh)])
    assert bad_day.exit_code == 2 and bad_day.stderr.startswith("error: --since")
    bad_cat = runner.invoke(cli_app, ["search", "x", "--category", "Thể thao", "--db", str(fresh)])
    assert bad_cat.exit_code == 2 and "no category" in bad_cat.stderr
    nowhere = runner.invoke(cli_app, ["search", "x", "--db", str(fresh.with_name("nope.duckdb"))])
    assert nowhere.exit_code == 1 and "no warehouse" in nowhere.stderr
    no_file = runner.invoke(cli_app, ["reindex", "--db", str(fresh.with_name("nope.duckdb"))])
    assert no_file.exit_code == 1 and "no warehouse" in no_file.stderr
    assert not fresh.with_name("nope.duckdb").exists()  # reindex never creates a warehouse
