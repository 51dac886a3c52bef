"""The web archive exported as a WACZ file: a warehouse filled through the real session and
loader (responses, an identical-payload revisit, a 304 revisit, an edit), exported, then
judged by the real ``wacz validate`` and read back with zipfile, json and warcio; the index
is the one ``cdxj-indexer`` writes for the same WARC files; hostile names and files are
refused."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from warcio.archiveiterator import ArchiveIterator

from baolaocai.errors import InputError
from baolaocai.models import Article, FetchedPage, StagedArticle
from baolaocai.site import default_site
from transforms.validate import content_hash
from warehouse import wacz
from warehouse.load import kept_captures, load_batch
from warehouse.session import WarehouseSession, warc_dir
from warehouse.wacz import INDEX_PATH, WaczSummary, export_wacz, surt_key
from warehouse.warc import WarcError, warc_files

SITE = default_site()
VN = timezone(timedelta(hours=7))
DAY1 = datetime(2026, 11, 1, 10, 0, tzinfo=VN)
DAY2 = datetime(2026, 11, 2, 10, 0, tzinfo=VN)
WACZ = Path(sys.executable).parent / "wacz"
CDXJ_INDEXER = Path(sys.executable).parent / "cdxj-indexer"


def url(aid: int) -> str:
    return f"https://baolaocai.vn/cho-phien-bac-ha-so-{aid}-post{aid}.html"


def html(aid: int, edit: str = "") -> str:
    return (
        f"<html><head><title>Chợ phiên Bắc Hà số {aid}</title></head><body><p>Đồng bào"
        f" Mông, Dao, Tày xuống chợ từ sáng sớm, phiên số {aid}.{edit}</p></body></html>"
    )


def page(aid: int, at: datetime, text: str | None, etag: str, status: int = 200) -> FetchedPage:
    headers = {"etag": etag}
    response: tuple[tuple[str, str], ...] = (("ETag", etag),)
    if text is not None:
        headers["content-type"] = "text/html; charset=utf-8"
        response = (("Content-Type", "text/html; charset=utf-8"), *response)
    return FetchedPage(
        url(aid),
        url(aid),
        status,
        at.astimezone(UTC),
        text,
        headers,
        body=text.encode("utf-8") if text is not None else None,
        response_headers=response,
        request_headers=(("User-Agent", "baolaocai-test"),),
    )


def staged(aid: int, edit: str = "") -> StagedArticle:
    article = Article(
        url=url(aid),
        article_id=aid,
        title=f"Chợ phiên Bắc Hà số {aid}",
        sapo="Đồng bào xuống chợ.",
        body=f"Đồng bào Mông, Dao, Tày xuống chợ từ sáng sớm, phiên số {aid}.{edit}",
        author="Lò Văn Minh",
        published_at=datetime(2026, 10, 30, 8, 15, tzinfo=VN),
        category="Kinh tế",
        tags=(),
        images=(),
        source=None,
        extraction_method="epi",
        page_kind="article",
    )
    return StagedArticle(article, content_hash(article))


def load(
    wh: WarehouseSession, pages: Sequence[FetchedPage], articles: Sequence[StagedArticle]
) -> None:
    """What a crawl's batch does (``pipeline.steps``): find the kept pages, archive, load."""
    with wh.reading() as con:
        kept = kept_captures(con, SITE, pages)
    captures = wh.archive(pages, kept=kept)
    with wh.writing() as con:
        load_batch(
            con,
            site=SITE,
            run_id=f"r-{pages[0].fetched_at:%d}",
            seen_at=pages[0].fetched_at,
            pages=pages,
            articles=articles,
            failures=[],
            captures=captures,
            kept=kept,
        )


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Path]:
    """Day 1: articles 1-3 captured. Day 2: 1 fetched again unchanged (new ETag: an
    identical-payload revisit), 2 answered 304 (a server-not-modified revisit), 3 edited
    (a new response)."""
    db = tmp_path / "w.duckdb"
    wh = WarehouseSession(db, SITE)
    wh.begin()
    try:
        load(
            wh,
            [page(a, DAY1, html(a), f'"a{a}"') for a in (1, 2, 3)],
            [staged(a) for a in (1, 2, 3)],
        )
        load(
            wh,
            [
                page(1, DAY2, html(1), '"b1"'),
                page(2, DAY2, None, '"a2"', status=304),
                page(3, DAY2, html(3, " Sửa lại."), '"b3"'),
            ],
            [staged(1), staged(3, " Sửa lại.")],
        )
    finally:
        wh.close()
    yield db


def export(
    db: Path,
    out: Path,
    *,
    site: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> WaczSummary:
    with duckdb.connect(str(db), read_only=True) as con:
        return export_wacz(con, warc_dir(db), out, site=site, since=since, until=until)


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WACZ), "validate", "-f", str(path)], capture_output=True, text=True, check=False
    )


def contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {i.filename: archive.read(i) for i in archive.infolist()}


def cdxj(data: bytes) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for line in data.decode("utf-8").splitlines():
        key, stamp, fields = line.split(" ", 2)
        out.append((key, stamp, json.loads(fields)))
    return out


def test_the_export_is_a_valid_wacz_with_every_capture_and_article(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "baolaocai.wacz"
    summary = export(warehouse, out)
    result = validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded, the passed WACZ is valid" in result.stdout
    files = contents(out)
    names = warc_files(warc_dir(warehouse))
    assert sorted(n for n in files if n.startswith("archive/")) == [f"archive/{n}" for n in names]
    # The WARC files are stored (not deflated) and are the archive's, byte for byte.
    with zipfile.ZipFile(out) as archive:
        for name in names:
            assert archive.getinfo(f"archive/{name}").compress_type == zipfile.ZIP_STORED
            assert files[f"archive/{name}"] == (warc_dir(warehouse) / name).read_bytes()
    # pages.jsonl: the header, then each article at its latest capture.
    header, *pages = [json.loads(x) for x in files["pages/pages.jsonl"].decode().splitlines()]
    assert header["format"] == "json-pages-1.0" and header["id"] == "pages"
    assert [(p["url"], p["title"]) for p in pages] == [
        (url(a), f"Chợ phiên Bắc Hà số {a}") for a in (1, 2, 3)
    ]
    # The latest capture that replays: article 2's day-2 answer was a 304 (its revisit
    # record is evidence, not a page), so its page is its day-1 response.
    stamp = {day: day.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for day in (DAY1, DAY2)}
    assert [p["ts"] for p in pages] == [stamp[DAY2], stamp[DAY1], stamp[DAY2]]
    # The index: 3 responses of day 1, then day 2's revisit of identical payload and its
    # response; the 304's revisit is in the WARC file but not indexed (no page to replay).
    index = cdxj(files[INDEX_PATH])
    assert index == sorted(index, key=lambda e: (e[0], e[1]))
    mimes = sorted((f["url"], stamp[:8], f["mime"], f["status"]) for _, stamp, f in index)
    assert mimes == sorted(
        [(url(a), "20261101", "text/html", "200") for a in (1, 2, 3)]
        + [
            (url(1), "20261102", "warc/revisit", "200"),
            (url(3), "20261102", "text/html", "200"),
        ]
    )
    assert all(key == surt_key(f["url"]) for key, _, f in index)
    # Every line points at its record in the packed file.
    for _, _, f in index:
        blob = files[f"archive/{f['filename']}"]
        member = blob[int(f["offset"]) : int(f["offset"]) + int(f["length"])]
        record = next(iter(ArchiveIterator(io.BytesIO(member))))
        assert record.rec_headers.get_header("WARC-Target-URI") == f["url"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == f["digest"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        captures = con.execute("SELECT count(*) FROM captures").fetchone()
    assert summary == WaczSummary(len(names), 3, 5, out.stat().st_size)
    assert captures == (6,)
    package = json.loads(files["datapackage.json"])
    assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"


def test_the_index_is_the_one_cdxj_indexer_writes(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.wacz"
    export(warehouse, out)
    folder = warc_dir(warehouse)
    theirs = subprocess.run(
        [str(CDXJ_INDEXER), *[str(folder / n) for n in warc_files(folder)]],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    ).stdout
    fields = ("url", "mime", "status", "digest", "length", "offset", "filename")

    def norm(lines: list[tuple[str, str, dict[str, str]]]) -> list[tuple[object, ...]]:
        return sorted(
            (k, s, *(Path(f.get(n, "")).name if n == "filename" else f.get(n) for n in fields))
            for k, s, f in lines
        )

    ours = norm(cdxj(contents(out)[INDEX_PATH]))
    replayable = [
        line
        for line in cdxj(theirs.encode())
        if not (line[2]["mime"] == "warc/revisit" and line[2].get("status") == "304")
    ]
    assert len(replayable) < len(cdxj(theirs.encode()))  # the 304 is there, left out
    assert ours == norm(replayable)


def test_a_span_of_days_copies_its_records_and_the_responses_they_refer_to(
    warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "day2.wacz"
    summary = export(
        warehouse, out, site=SITE.key, since=date(2026, 11, 2), until=date(2026, 11, 2)
    )
    result = validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    files = contents(out)
    [name] = [n for n in files if n.startswith("archive/")]
    types: list[tuple[str, str]] = []
    refers: dict[str, str] = {}
    ids: set[str] = set()
    for record in ArchiveIterator(io.BytesIO(files[name]), check_digests=True):
        url_ = record.rec_headers.get_header("WARC-Target-URI") or ""
        types.append((record.rec_type, url_))
        ids.add(record.rec_headers.get_header("WARC-Record-ID"))
        if record.rec_type == "revisit":
            refers[url_] = record.rec_headers.get_header("WARC-Refers-To")
    assert types[0][0] == "warcinfo"
    # Day 2's three records with their requests, and the two day-1 responses the
    # revisits refer to (article 3's day-1 response is not referred to: left out).
    responses = sorted(u for t, u in types if t == "response")
    assert responses == sorted([url(1), url(2), url(3)])
    assert sorted(refers) == [url(1), url(2)] and set(refers.values()) <= ids
    assert sum(1 for t, _ in types if t == "request") == 5
    index = cdxj(files[INDEX_PATH])
    assert len(index) == 4 and summary.captures == 4  # the 304's revisit is not indexed
    assert {f["filename"] for _, _, f in index} == {name.removeprefix("archive/")}


def test_a_revisit_names_the_response_it_repeats(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT c.url, c.status, c.record_type, r.record_id = c.refers_to,"
            " r.record_type FROM captures c LEFT JOIN captures r ON r.record_id = c.refers_to"
            " WHERE c.record_type = 'revisit' ORDER BY c.url"
        ).fetchall()
        pointers = con.execute(
            "SELECT r.url, c.record_type FROM raw_pages r JOIN captures c"
            " ON c.record_id = r.record_id ORDER BY r.url"
        ).fetchall()
    assert rows == [
        (url(1), 200, "revisit", True, "response"),
        (url(2), 304, "revisit", True, "response"),
    ]
    # raw_pages still points at responses: a reparse reads pages, never revisits.
    assert pointers == [(url(a), "response") for a in (1, 2, 3)]
    profiles = {}
    folder = warc_dir(warehouse)
    for name in warc_files(folder):
        with open(folder / name, "rb") as stream:
            for record in ArchiveIterator(stream, check_digests=True):
                if record.rec_type == "revisit":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    profiles[uri] = record.rec_headers.get_header("WARC-Profile").rsplit("/", 1)[1]
                    assert record.content_stream().read() == b""
                    assert record.rec_headers.get_header("WARC-Refers-To-Target-URI") == uri
    assert profiles == {url(1): "identical-payload-digest", url(2): "server-not-modified"}


def test_a_warc_name_that_leaves_the_folder_is_not_packed(warehouse: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.warc.gz"
    secret.write_bytes(b"not yours")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE captures SET warc_file = '../secret.warc.gz' WHERE url = ?", [url(3)])
    out = tmp_path / "x.wacz"
    with pytest.raises(WarcError, match="not a WARC file name"):
        export(warehouse, out)
    assert not out.exists() and not list(tmp_path.glob(".*.part"))


def test_a_warc_file_that_is_a_symbolic_link_is_not_followed(
    warehouse: Path, tmp_path: Path
) -> None:
    folder = warc_dir(warehouse)
    name = warc_files(folder)[0]
    outside = tmp_path / "elsewhere.warc.gz"
    (folder / name).rename(outside)
    (folder / name).symlink_to(outside)
    with pytest.raises(WarcError, match="cannot open"):
        export(warehouse, tmp_path / "y.wacz")


def test_a_foreign_file_is_not_overwritten_and_our_own_is(warehouse: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "notes.wacz"
    foreign.write_text("ghi chép của phóng viên", encoding="utf-8")
    with pytest.raises(InputError, match="not a WACZ written by baolaocai"):
        export(warehouse, foreign)
    assert foreign.read_text(encoding="utf-8") == "ghi chép của phóng viên"
    someone_elses = tmp_path / "other.wacz"
    with zipfile.ZipFile(someone_elses, "w") as archive:
        archive.writestr("datapackage.json", json.dumps({"software": "py-wacz 0.5"}))
    with pytest.raises(InputError):
        export(warehouse, someone_elses)
    link = tmp_path / "link.wacz"
    link.symlink_to(foreign)
    with pytest.raises(InputError, match="symbolic link"):
        export(warehouse, link)
    ours = tmp_path / "ours.wacz"
    export(warehouse, ours)
    first = ours.read_bytes()
    export(warehouse, ours, site=SITE.key, since=date(2026, 11, 1), until=date(2026, 11, 1))
    assert ours.read_bytes() != first and validate(ours).returncode == 0
    assert list(tmp_path.glob(".*.part")) == []  # no temporary file left behind


def test_nothing_to_export_says_so(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no captures"):
        export(warehouse, tmp_path / "z.wacz", since=date(2027, 1, 1))
    with pytest.raises(InputError, match="after"):
        export(warehouse, tmp_path / "z.wacz", since=date(2026, 11, 2), until=date(2026, 11, 1))
    assert not (tmp_path / "z.wacz").exists()


def test_surt_keys_are_those_of_the_surt_package() -> None:
    import surt  # type: ignore[import-untyped]

    for address in (
        "https://baolaocai.vn/Tin-Tuc/a-post1.html?b=2&a=1#doan-2",
        "https://www.baolaocai.vn/",
        "http://baolaocai.vn:80/x/",
        "https://baolaocai.vn:8443/ch%E1%BB%A3-phi%C3%AAn-post2.html",
        "https://www2.lao-cai.vn/a?",
    ):
        assert surt_key(address) == surt.surt(address), address


def test_an_index_sorted_in_pieces_is_the_same_index(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large archive's index is sorted in runs spilled to disk, then merged: the lines
    are the ones sorted in memory."""
    export(warehouse, tmp_path / "whole.wacz")
    monkeypatch.setattr(wacz, "_SORT_LINES", 2)
    export(warehouse, tmp_path / "pieces.wacz")
    whole = contents(tmp_path / "whole.wacz")[INDEX_PATH]
    assert contents(tmp_path / "pieces.wacz")[INDEX_PATH] == whole
    assert len(whole.splitlines()) == 5  # 6 captures, one a 304 (not indexed)
    assert list(tmp_path.glob(".*.part")) == []  # the spilled runs went with their folder
