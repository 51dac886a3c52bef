"""Exports are read back and compared with the tables, row by row."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from typer.testing import CliRunner

from baolaocai.errors import InputError
from warehouse.db import connect, schema_version
from warehouse.export import ARTICLE_FIELDS, TABLES, Manifest, export
from warehouse.schema import ARTICLE_COLUMNS

COLUMNS = [c.strip() for c in ARTICLE_FIELDS.split(",")]
AID = COLUMNS.index("article_id")
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def as_text(value: object) -> str | None:
    """A table value as the text formats write it: times in Vietnam time with their
    offset, lists as JSON arrays."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(VN).isoformat()
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


@pytest.fixture(scope="module")
def con(filled: Path):
    connection = connect(filled, read_only=True)
    yield connection
    connection.close()


def table_rows(con: duckdb.DuckDBPyConnection, where: str = "") -> list[tuple]:
    return con.execute(
        f"SELECT {ARTICLE_FIELDS} FROM articles {where} ORDER BY article_id"
    ).fetchall()


def table_images(con: duckdb.DuckDBPyConnection) -> dict[int, list[tuple]]:
    images: dict[int, list[tuple]] = {}
    for aid, pos, src, caption in con.execute(
        "SELECT article_id, position, src, caption FROM article_images ORDER BY 1, 2"
    ).fetchall():
        images.setdefault(aid, []).append((pos, src, caption))
    return images


def check_manifest(out: Path, manifest: Manifest, con: duckdb.DuckDBPyConnection) -> dict:
    data = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(manifest.to_dict()))
    assert data["schema_version"] == schema_version(con)
    assert data["exported_at"].endswith("+00:00")
    for entry in data["files"]:
        assert (out / entry["path"]).is_file()
    for table, total in data["tables"].items():
        assert total == sum(f["rows"] for f in data["files"] if f["table"] == table)
    return data


def test_parquet_partitions_read_back_equal_the_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "pq"
    manifest = export(con, out, "parquet")
    data = check_manifest(out, manifest, con)
    assert data["format"] == "parquet" and data["filters"] == {
        "site": None,
        "since": None,
        "until": None,
    }
    expected = table_rows(con)
    assert list(data["tables"]) == list(TABLES) and data["tables"]["articles"] == len(expected)
    assert data["time_zone"] == "Asia/Ho_Chi_Minh" and data["excel"] is False
    # Hive partitions year=YYYY/month=M of the Vietnam-time publication date.
    for entry in data["files"]:
        assert entry["path"].startswith(f"{entry['table']}/")
        rows = con.execute(
            "SELECT count(*) FROM read_parquet(?)", [str(out / entry["path"])]
        ).fetchone()
        assert rows == (entry["rows"],)
    assert (out / "articles" / "year=2025" / "month=1").is_dir()
    glob = str(out / "articles" / "**" / "*.parquet")
    back = con.execute(
        f"SELECT {ARTICLE_FIELDS}, images, year, month FROM read_parquet(?, hive_partitioning = true)"
        " ORDER BY article_id",
        [glob],
    ).fetchall()
    assert [r[: len(COLUMNS)] for r in back] == expected
    images = table_images(con)
    for row in back:
        aid, published = row[AID], row[COLUMNS.index("published_at")]
        nested = [(i["position"], i["src"], i["caption"]) for i in row[len(COLUMNS)]]
        assert nested == images.get(aid, [])
        local = published.astimezone(VN)
        assert (row[-2], row[-1]) == (local.year, local.month)  # integers, not '01'
        assert row[COLUMNS.index("published_date")] == local.date()
    # 2025-01-01 00:30 in Vietnam is filed under January 2025, not December 2024.
    assert list(next(r for r in back if r[AID] == 109)[-2:]) == [2025, 1]


def test_since_until_are_inclusive_vietnam_days(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    manifest = export(
        con, tmp_path / "a", "parquet", since=date(2025, 1, 1), until=date(2025, 3, 31)
    )
    expected = table_rows(
        con,
        "WHERE published_at >= TIMESTAMPTZ '2025-01-01 00:00:00+07'"
        " AND published_at < TIMESTAMPTZ '2025-04-01 00:00:00+07'",
    )
    assert manifest.tables["articles"] == len(expected) > 0
    assert manifest.filters == {"site": None, "since": "2025-01-01", "until": "2025-03-31"}
    back = con.execute(
        f"SELECT {ARTICLE_FIELDS} FROM read_parquet(?, hive_partitioning = true)"
        " ORDER BY article_id",
        [str(tmp_path / "a" / "articles" / "**" / "*.parquet")],
    ).fetchall()
    assert back == expected and 109 in [r[AID] for r in back]
    before = export(con, tmp_path / "b", "jsonl", until=date(2024, 12, 31))
    lines = (tmp_path / "b" / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    assert 109 not in [json.loads(line)["article_id"] for line in lines]
    assert before.tables["articles"] == len(lines)
    with pytest.raises(InputError, match="before"):
        export(con, tmp_path / "c", "csv", since=date(2025, 2, 1), until=date(2025, 1, 1))


def test_jsonl_rows_equal_the_tables(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "js"
    manifest = export(con, out, "jsonl")
    check_manifest(out, manifest, con)
    rows = [json.loads(line) for line in (out / "articles.jsonl").open(encoding="utf-8")]
    assert manifest.files[0].path == "articles.jsonl" and manifest.files[0].rows == len(rows)
    expected = {r[AID]: dict(zip(COLUMNS, r, strict=True)) for r in table_rows(con)}
    images = table_images(con)
    assert sorted(r["article_id"] for r in rows) == sorted(expected)
    for row in rows:
        want = expected[row["article_id"]]
        for name in ("site", "url", "title", "sapo", "body", "author", "category", "tags"):
            assert row[name] == want[name], name
        assert row["word_count"] == want["word_count"] and row["version"] == want["version"]
        assert [(i["position"], i["src"], i["caption"]) for i in row["images"]] == images.get(
            row["article_id"], []
        )
    assert any(row["images"] for row in rows) and "Hòa Bình" in json.dumps(rows, ensure_ascii=False)


def test_csv_articles_and_images_equal_the_tables(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    manifest = export(con, out, "csv")
    check_manifest(out, manifest, con)
    assert [f.path for f in manifest.files] == [f"{t}.csv" for t in TABLES]
    for table in TABLES:  # UTF-8, no BOM, LF line ends
        raw = (out / f"{table}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw and raw.endswith(b"\n")
    expected = [tuple(as_text(v) for v in row) for row in table_rows(con)]
    assert any(ARTICLE_COLUMNS[c] == "TIMESTAMPTZ" for c in COLUMNS)
    back = con.execute(
        "SELECT * FROM read_csv(?, header = true, all_varchar = true)"
        " ORDER BY CAST(article_id AS BIGINT)",
        [str(out / "articles.csv")],
    ).fetchall()
    assert back == expected
    image_rows = con.execute(
        "SELECT article_id, position, src, caption FROM read_csv(?, header = true,"
        " types = {'article_id': 'BIGINT', 'position': 'INTEGER'}) ORDER BY 1, 2",
        [str(out / "article_images.csv")],
    ).fetchall()
    assert (
        image_rows
        == con.execute(
            "SELECT article_id, position, src, caption FROM article_images ORDER BY 1, 2"
        ).fetchall()
    )
    assert manifest.tables["articles"] == len(expected)
    assert manifest.tables["article_images"] == len(image_rows)


def test_out_dir_rules(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = tmp_path / "again"
    export(con, out, "parquet")
    first = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    # Exporting again over an earlier export replaces it: no stale partition is left.
    export(con, out, "parquet", since=date(2025, 6, 1))
    second = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert second < first and all("year=2025" in str(p) for p in second if p.parts[0] == "articles")
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not empty"):
        export(con, other, "csv")
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    with pytest.raises(InputError, match="--format"):
        export(con, tmp_path / "x", "xlsx")


def test_export_command(filled: Path, tmp_path: Path, cli_app) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        [
            *("export", "--format", "csv", "--out", str(tmp_path / "e")),
            *("--db", str(filled), "--since", "2025-01-01"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "article_images" in result.stdout and "article_revisions" in result.stdout
    assert (tmp_path / "e" / "manifest.json").is_file()
    data = json.loads((tmp_path / "e" / "manifest.json").read_text(encoding="utf-8"))
    assert data["filters"]["since"] == "2025-01-01"
    bad = runner.invoke(cli_app, ["export", "--format", "xml", "--out", str(tmp_path / "f")])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --format")
    bad_day = runner.invoke(
        cli_app,
        ["export", "--format", "csv", "--out", str(tmp_path / "g"), "--until", "2025-13-01"],
    )
    assert bad_day.exit_code == 2 and "--until" in bad_day.stderr
