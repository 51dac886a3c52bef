"""Exports in Vietnam time, complete (every column, the per-article and crawl tables),
and CSV for Excel (#22), read back by the tools users read them with: plain DuckDB in a
UTC session, pandas, Python's csv module."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from baolaocai.errors import InputError
from baolaocai.models import Article, Failure, FetchedPage, Image, StagedArticle
from baolaocai.site import Site, default_site, load_site
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.export import FORMATS, MANIFEST, TABLES, export
from warehouse.load import finish_run, load_batch, start_run
from warehouse.schema import ARTICLE_COLUMNS, EXPORTED_ARTICLE_COLUMNS

LAO_CAI = default_site()
VN = timezone(timedelta(hours=7))
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
ISO_VN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+07:00$")
YEN_BAI_FILE = """\
key = "baoyenbai"
name = "Báo Yên Bái"
extends = "epi"
origin = "https://baoyenbai.com.vn"
hosts = ["www.baoyenbai.com.vn"]
asset_hosts = []
"""
FORMULA_TITLE = '=HYPERLINK("http://x","Sa Pa")'
BODY = (
    "Thời gian qua, chính quyền địa phương đã tập trung chỉ đạo, huy động nhiều nguồn lực"
    " để phát triển kinh tế - xã hội.\n\nNgười dân vui mừng đón Tết sớm."
)


def article(
    site: Site,
    aid: int,
    title: str,
    published: datetime | None,
    *,
    body: str = BODY,
    images: tuple[Image, ...] = (),
) -> StagedArticle:
    a = Article(
        url=f"{site.origin}/bai-viet-{aid}-post{aid}.html",
        article_id=aid,
        title=title,
        sapo="Tin từ phóng viên.",
        body=body,
        author="Lò Văn Minh",
        published_at=published,
        category="Thời sự",
        tags=("Lào Cai", "-Tết"),
        images=images,
    )
    return StagedArticle(a, content_hash(a))


def load(
    con: duckdb.DuckDBPyConnection,
    site: Site,
    run_id: str,
    at: datetime,
    articles: list[StagedArticle],
    *,
    pages: list[FetchedPage] | None = None,
    failures: list[Failure] | None = None,
) -> None:
    start_run(con, site=site, run_id=run_id, started_at=at, base_url=site.origin, flow_run_id=None)
    load_batch(
        con,
        site=site,
        run_id=run_id,
        seen_at=at,
        pages=pages or [],
        articles=articles,
        failures=failures or [],
    )
    finish_run(
        con,
        run_id=run_id,
        finished_at=at + timedelta(minutes=1),
        status="completed",
        counters={},
        error=None,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two papers. Lào Cai: 201 at 00:00 and 202 (a formula for a title) at 23:30 on
    14 January 2023 in Vietnam, 203 edited once then taken down, 204 undated, 205 on
    31 December 2022 in two versions, and a fetch error; Yên Bái: 301 and its error."""
    folder = tmp_path_factory.mktemp("complete")
    (folder / "baoyenbai.toml").write_text(YEN_BAI_FILE, encoding="utf-8")
    yen_bai = load_site(folder / "baoyenbai.toml")
    path = folder / "w.duckdb"
    con = connect(path)
    try:
        picture = Image(f"{LAO_CAI.origin}/images/201-1.jpg", "Hoa đào nở sớm")
        first = [
            article(
                LAO_CAI,
                201,
                "Tết sớm ở Bắc Hà",
                datetime(2023, 1, 14, tzinfo=VN),
                images=(picture,),
            ),
            article(LAO_CAI, 202, FORMULA_TITLE, datetime(2023, 1, 14, 23, 30, tzinfo=VN)),
            article(
                LAO_CAI,
                203,
                "Chợ phiên Cốc Ly",
                datetime(2024, 5, 2, 9, tzinfo=VN),
                body=f"Bản đầu tiên.\n\n{BODY}",
            ),
            article(LAO_CAI, 204, "Bài không ghi ngày", None),
            article(
                LAO_CAI,
                205,
                "Đêm giao thừa",
                datetime(2022, 12, 31, 23, 59, tzinfo=VN),
                body=f"Bản đầu tiên.\n\n{BODY}",
            ),
        ]
        failure = Failure(f"{LAO_CAI.origin}/loi-post999.html", "fetch", "HTTP 500", 500, 3)
        load(con, LAO_CAI, "r1", T0, first, failures=[failure])
        edited = [
            article(
                LAO_CAI,
                203,
                "Chợ phiên Cốc Ly",
                datetime(2024, 5, 2, 9, tzinfo=VN),
                body=f"Bản sửa lại.\n\n{BODY}",
            ),
            article(
                LAO_CAI,
                205,
                "Đêm giao thừa",
                datetime(2022, 12, 31, 23, 59, tzinfo=VN),
                body=f"Bản sửa lại.\n\n{BODY}",
            ),
        ]
        load(con, LAO_CAI, "r2", T0 + timedelta(days=1), edited)
        gone_url = f"{LAO_CAI.origin}/bai-viet-203-post203.html"
        gone = FetchedPage(gone_url, gone_url, 404, T0 + timedelta(days=2), None)
        load(con, LAO_CAI, "r3", T0 + timedelta(days=2), [], pages=[gone])
        yb = article(
            yen_bai,
            301,
            "Mù Cang Chải mùa lúa",
            datetime(2023, 1, 14, 8, tzinfo=VN),
            images=(Image(f"{yen_bai.origin}/images/301.jpg", None),),
        )
        yb_failure = Failure(f"{yen_bai.origin}/loi-post998.html", "parse", "no title")
        load(con, yen_bai, "y1", T0, [yb], failures=[yb_failure])
        removed = con.execute(
            "SELECT removed_at IS NOT NULL, version FROM articles WHERE article_id = 203"
        ).fetchone()
        assert removed == (True, 2), "the fixture needs a removed article in two versions"
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def con(warehouse: Path):
    connection = connect(warehouse, read_only=True)
    yield connection
    connection.close()


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]


def count(con: duckdb.DuckDBPyConnection, table: str, where: str = "") -> int:
    row = con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()
    return int(row[0]) if row else 0


def hostile_duckdb() -> duckdb.DuckDBPyConnection:
    """A plain DuckDB as a user on a UTC machine opens it."""
    plain = duckdb.connect()
    plain.execute("SET TimeZone = 'UTC'")
    return plain


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def integers(series: pd.Series) -> list[int]:
    """The values of a partition column, which must be integers (pandas reads Hive
    partitions as a categorical of their inferred type)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        assert pd.api.types.is_integer_dtype(series.cat.categories.dtype), series.dtype
    else:
        assert pd.api.types.is_integer_dtype(series.dtype), series.dtype
    return [int(v) for v in series]


# -- Vietnam time ---------------------------------------------------------------------------------


def test_plain_duckdb_in_utc_gets_the_vietnam_day_and_integer_partitions(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    export(con, tmp_path / "pq", "parquet")
    plain = hostile_duckdb()
    rows = plain.execute(
        "SELECT article_id, published_at, published_date, year, month, typeof(year),"
        " typeof(month) FROM read_parquet(?, hive_partitioning = true)"
        " WHERE site = 'baolaocai' ORDER BY article_id",
        [str(tmp_path / "pq" / "articles" / "**" / "*.parquet")],
    ).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id[201] == (
        datetime(2023, 1, 14, tzinfo=VN),  # the same instant (shown in UTC: 13 January)
        date(2023, 1, 14),
        2023,
        1,
        "BIGINT",
        "BIGINT",
    )
    assert by_id[202][1:4] == (date(2023, 1, 14), 2023, 1)
    assert by_id[205][1:4] == (date(2022, 12, 31), 2022, 12)
    assert by_id[204][1:4] == (None, 0, 0)  # undated: its own partition, year=0/month=0
    assert (tmp_path / "pq" / "articles" / "year=2023" / "month=1").is_dir()


def test_pandas_reads_vietnam_time_and_integer_partitions(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    export(con, tmp_path / "pq", "parquet")
    df = pd.read_parquet(tmp_path / "pq" / "articles")
    assert str(df["published_at"].dtype) == "datetime64[us, Asia/Ho_Chi_Minh]"
    lao_cai = df[df["site"] == "baolaocai"].set_index("article_id")
    assert lao_cai.loc[201, "published_at"].date() == date(2023, 1, 14)
    at_2330 = lao_cai.loc[202, "published_at"]
    assert (at_2330.date(), at_2330.hour, at_2330.minute) == (date(2023, 1, 14), 23, 30)
    dated = df.dropna(subset=["published_at"])
    assert dated["published_at"].dt.date.min() == date(2022, 12, 31)
    assert dated[dated["published_at"].dt.year == 2023]["published_at"].dt.date.min() == date(
        2023, 1, 14
    )
    assert all(lao_cai["published_date"].dropna() == lao_cai["published_at"].dropna().dt.date)
    years, months = integers(lao_cai["year"]), integers(lao_cai["month"])
    assert dict(zip(lao_cai.index, zip(years, months, strict=True), strict=True)) == {
        201: (2023, 1),
        202: (2023, 1),
        203: (2024, 5),
        204: (0, 0),
        205: (2022, 12),
    }
    revisions = pd.read_parquet(tmp_path / "pq" / "article_revisions")
    assert str(revisions["seen_at"].dtype) == "datetime64[us, Asia/Ho_Chi_Minh]"
    runs = pd.read_parquet(tmp_path / "pq" / "crawl_runs")
    assert str(runs["started_at"].dtype) == "datetime64[us, Asia/Ho_Chi_Minh]"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_text_formats_write_iso_times_with_the_vietnam_offset(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / fmt
    export(con, out, fmt)
    times = 0
    for table in TABLES:
        path = out / f"{table}.{fmt}"
        rows = read_jsonl(path) if fmt == "jsonl" else read_csv(path)
        kinds = dict(
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall()
        )
        zoned = [c for c, k in kinds.items() if k == "TIMESTAMP WITH TIME ZONE"]
        assert zoned or table == "article_images", table
        for row in rows:
            for column in zoned:
                value = row[column]
                if value not in (None, ""):  # CSV writes NULL as an empty cell
                    assert ISO_VN.match(str(value)), (table, column, value)
                    times += 1
        if table == "articles":
            by_id = {int(str(r["article_id"])): r for r in rows}
            assert by_id[201]["published_at"] == "2023-01-14T00:00:00+07:00"
            assert by_id[202]["published_at"] == "2023-01-14T23:30:00+07:00"
            assert by_id[201]["published_date"] == "2023-01-14"
    assert times > 20


# -- complete -------------------------------------------------------------------------------------


def test_every_table_and_column_in_every_format(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    assert list(EXPORTED_ARTICLE_COLUMNS) == list(ARTICLE_COLUMNS)  # nothing left out
    assert table_columns(con, "articles") == list(ARTICLE_COLUMNS)
    for fmt in FORMATS:
        out = tmp_path / fmt
        manifest = export(con, out, fmt)
        assert list(manifest.tables) == list(TABLES)
        for table in TABLES:
            expected = table_columns(con, table)
            if table == "articles" and fmt != "csv":
                expected.append("images")
            files = [f for f in manifest.files if f.table == table]
            assert files, (fmt, table)
            if fmt == "parquet":
                names = {tuple(pq.read_schema(out / f.path).names) for f in files}
                assert names == {tuple(expected)}, (fmt, table)
                back = duckdb.sql(
                    f"SELECT count(*) FROM read_parquet('{out / table}/**/*.parquet')"
                ).fetchone()
            elif fmt == "jsonl":
                rows = read_jsonl(out / f"{table}.jsonl")
                assert all(list(r) == expected for r in rows), (fmt, table)
                back = (len(rows),)
            else:
                with (out / f"{table}.csv").open(encoding="utf-8", newline="") as f:
                    reader = csv.reader(f)
                    assert next(reader) == expected, (fmt, table)
                    back = (sum(1 for _ in reader),)
            assert back == (manifest.tables[table],) == (count(con, table),), (fmt, table)
            assert manifest.tables[table] == sum(f.rows for f in files)
        listed = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        assert all(len(f["sha256"]) == 64 for f in listed["files"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_removed_article_exports_with_both_its_versions(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / fmt
    export(con, out, fmt, site="baolaocai")
    if fmt == "parquet":
        plain = hostile_duckdb()
        articles = plain.execute(
            f"SELECT article_id, removed_at, version FROM '{out}/articles/**/*.parquet'"
        ).fetchall()
        revisions = plain.execute(
            f"SELECT article_id, version, body FROM '{out}/article_revisions/*.parquet'"
            " ORDER BY ALL"
        ).fetchall()
    else:
        read = read_jsonl if fmt == "jsonl" else read_csv
        articles = [
            (int(str(r["article_id"])), r["removed_at"] or None, int(str(r["version"])))
            for r in read(out / f"articles.{fmt}")
        ]
        revisions = [
            (int(str(r["article_id"])), int(str(r["version"])), r["body"])
            for r in read(out / f"article_revisions.{fmt}")
        ]
    gone = {aid: (removed, version) for aid, removed, version in articles}
    assert gone[203][0] is not None and gone[203][1] == 2
    assert all(removed is None for aid, (removed, _) in gone.items() if aid != 203)
    versions = [(v, str(body).split("\n")[0]) for aid, v, body in revisions if aid == 203]
    assert versions == [(1, "Bản đầu tiên."), (2, "Bản sửa lại.")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_filters_apply_to_every_table(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    """--since/--until select articles, and their pictures and versions with them; fetch
    errors and runs are the site's, whatever their day; --site filters them all."""
    out = tmp_path / fmt
    manifest = export(con, out, fmt, site="baolaocai", since=date(2023, 1, 1))
    keys: dict[str, set[tuple[str, int | str]]] = {}
    for table in TABLES:
        key = "run_id" if table == "crawl_runs" else "url" if table == "fetch_errors" else None
        if fmt == "parquet":
            glob = f"{out}/{table}/**/*.parquet"
            rows = duckdb.sql(f"SELECT * FROM read_parquet('{glob}')").fetchall()
            names = duckdb.sql(f"SELECT * FROM read_parquet('{glob}')").columns
            dicts = [dict(zip(names, r, strict=True)) for r in rows]
        elif fmt == "jsonl":
            dicts = read_jsonl(out / f"{table}.jsonl")
        else:
            dicts = read_csv(out / f"{table}.csv")
        keys[table] = {
            (str(d["site"]), str(d[key]) if key else int(str(d["article_id"]))) for d in dicts
        }
        assert manifest.tables[table] == len(dicts)
    articles = {(s, a) for s, a in keys["articles"]}
    assert articles == {("baolaocai", 201), ("baolaocai", 202), ("baolaocai", 203)}
    assert keys["article_revisions"] == articles  # not 205's versions, dated 2022
    assert keys["article_images"] == {("baolaocai", 201)}
    assert keys["fetch_errors"] == {("baolaocai", f"{LAO_CAI.origin}/loi-post999.html")}
    assert keys["crawl_runs"] == {("baolaocai", r) for r in ("r1", "r2", "r3")}


# -- CSV for Excel --------------------------------------------------------------------------------


def unquoted(raw: bytes) -> bytes:
    """The CSV bytes without its quoted cells (whose line breaks are the text's own)."""
    return re.sub(rb'"(?:[^"]|"")*"', b"", raw)


def test_excel_csv_has_a_bom_and_crlf_and_opens_in_python(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    manifest = export(con, tmp_path / "xl", "csv", excel=True)
    assert manifest.excel is True
    for table in TABLES:
        raw = (tmp_path / "xl" / f"{table}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbfsite,"), table
        ends = unquoted(raw)
        assert ends.endswith(b"\r\n") and ends.count(b"\n") == ends.count(b"\r\n"), table
        rows = read_csv(tmp_path / "xl" / f"{table}.csv", encoding="utf-8-sig")
        assert len(rows) == manifest.tables[table] and all("site" in r for r in rows)
    articles = {r["article_id"]: r for r in read_csv(tmp_path / "xl" / "articles.csv", "utf-8-sig")}
    assert articles["202"]["title"] == "'" + FORMULA_TITLE  # still no formula
    assert articles["201"]["title"] == "Tết sớm ở Bắc Hà"
    assert json.loads(articles["201"]["tags"]) == ["Lào Cai", "-Tết"]
    assert "\n\n" in articles["201"]["body"]  # the text's own line breaks are kept
    # The default stays UTF-8 without a BOM, LF line ends.
    export(con, tmp_path / "plain", "csv")
    raw = (tmp_path / "plain" / "articles.csv").read_bytes()
    assert raw.startswith(b"site,") and b"\r" not in raw
    with pytest.raises(InputError, match="--excel is for --format csv"):
        export(con, tmp_path / "no", "parquet", excel=True)


def test_the_excel_flag_of_the_command(warehouse: Path, tmp_path: Path, cli_app) -> None:
    runner = CliRunner()
    out = tmp_path / "xl"
    result = runner.invoke(
        cli_app, ["export", "--format", "csv", "--excel", "--out", str(out), "--db", str(warehouse)]
    )
    assert result.exit_code == 0, result.stderr
    assert (out / "articles.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["excel"] is True
    bad = runner.invoke(
        cli_app,
        [
            "export",
            "--format",
            "jsonl",
            "--excel",
            "--out",
            str(tmp_path / "j"),
            "--db",
            str(warehouse),
        ],
    )
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --excel is for --format csv")
    assert not (tmp_path / "j").exists()


# -- earlier exports ------------------------------------------------------------------------------


def test_an_earlier_export_with_month_01_folders_is_replaced(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Exports before #22 named the folders month=01 and the undated ones
    __HIVE_DEFAULT_PARTITION__: their files are ours, replaced by the next export."""
    out = tmp_path / "out"
    export(con, out, "parquet")
    data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    old_names = {
        "year=2023/month=1": "year=2023/month=01",
        "year=0/month=0": "year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__",
    }
    for new, old in old_names.items():
        (out / "articles" / old).parent.mkdir(parents=True, exist_ok=True)
        (out / "articles" / new).rename(out / "articles" / old)
        for entry in data["files"]:
            entry["path"] = entry["path"].replace(f"articles/{new}/", f"articles/{old}/")
    shutil.rmtree(out / "articles" / "year=0")
    (out / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    export(con, out, "parquet")
    assert not (out / "articles" / "year=2023" / "month=01").exists()
    assert not (out / "articles" / "year=__HIVE_DEFAULT_PARTITION__").exists()
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    listed = {f["path"] for f in json.loads((out / MANIFEST).read_text("utf-8"))["files"]}
    assert files == listed | {MANIFEST}
    assert "articles/year=2023/month=1/data_0.parquet" in listed


def test_an_older_warehouse_without_published_date_still_exports_the_day(
    warehouse: Path, tmp_path: Path
) -> None:
    """A warehouse of schema 8 opened read-only (it is not migrated then): the Vietnam day
    is derived from published_at."""
    old = tmp_path / "old.duckdb"
    shutil.copy(warehouse, old)
    writable = duckdb.connect(str(old))
    try:
        writable.execute("DROP VIEW latest_articles")
        writable.execute("DROP VIEW removed_articles")
        writable.execute("ALTER TABLE articles DROP COLUMN published_date")
        writable.execute("DELETE FROM schema_version WHERE version >= 9")
    finally:
        writable.close()
    reader = connect(old, read_only=True)
    try:
        manifest = export(reader, tmp_path / "js", "jsonl")
    finally:
        reader.close()
    assert manifest.schema_version == 8
    rows = {r["article_id"]: r for r in read_jsonl(tmp_path / "js" / "articles.jsonl")}
    assert rows[201]["published_date"] == rows[202]["published_date"] == "2023-01-14"
    assert rows[204]["published_date"] is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_selection_still_has_every_table_with_its_columns(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    """Nothing published in the days asked: the article tables are empty, each still a
    file with its columns (a CSV header, a Parquet schema; the articles' in
    year=0/month=0), so that a script reading them runs; the crawls' tables are the
    site's as ever."""
    out = tmp_path / fmt
    manifest = export(con, out, fmt, site="baolaocai", since=date(9998, 1, 1))
    assert manifest.tables["articles"] == manifest.tables["article_revisions"] == 0
    assert manifest.tables["article_images"] == 0 and manifest.tables["crawl_runs"] == 3
    for table in ("articles", "article_images", "article_revisions"):
        nested = ["images"] if table == "articles" and fmt != "csv" else []
        columns = table_columns(con, table) + nested
        if fmt == "parquet":
            (entry,) = [f for f in manifest.files if f.table == table]
            frame = pd.read_parquet(out / table)
            assert entry.rows == len(frame) == 0
            partitions = ["year", "month"] if table == "articles" else []
            assert list(frame.columns) == columns + partitions
        elif fmt == "csv":
            header = (out / f"{table}.csv").read_text(encoding="utf-8").splitlines()
            assert header == [",".join(columns)]
        else:
            assert (out / f"{table}.jsonl").read_bytes() == b""
