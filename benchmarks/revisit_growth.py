"""Web archive growth of a recheck that finds nothing changed: full copies, revisit
records, or nothing.

Archives ``--pages`` news-like Vietnamese article pages of about ``--size`` bytes (default
300 of 80,000 bytes, with the headers a real server and our crawler send) through
:meth:`warehouse.session.WarehouseSession.archive` (a real warehouse, the real writer),
then fetches every one again with the same body (new ``ETag``, as a site that renders
its validators at every request answers) and stores that second fetch three ways, each
in a fresh copy of the archive:

* ``full``: as a full response, a second copy of the page (what a crawl without any
  duplicate check does);
* ``revisit``: as a WARC ``revisit`` record and its request (what a crawl does now:
  ``load_batch``'s ``kept`` pages, :func:`warehouse.load.kept_captures`);
* ``nothing``: no record at all (the behaviour before revisit records: only the
  validators were renewed, the archive held no proof of the second fetch).

Prints, as JSON, the bytes the first crawl took per page and the bytes each way of
storing the recheck added per page (``*_record_bytes``: the response or revisit record
alone, without its request), and ``revisit_over_full`` (the share of a full
copy's growth that a revisit costs).

    uv run python benchmarks/revisit_growth.py
    uv run python benchmarks/revisit_growth.py --pages 1000 --size 40000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from baolaocai.models import FetchedPage  # noqa: E402
from baolaocai.site import default_site  # noqa: E402
from warehouse.load import kept_captures, load_batch  # noqa: E402
from warehouse.session import WarehouseSession, warc_dir  # noqa: E402

SITE = default_site()
T0 = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
WORDS = (  # noqa: SIM905
    "Lào Cai tỉnh biên giới Sa Pa Bắc Hà Bát Xát Mường Khương Si Ma Cai Văn Bàn Bảo Yên"
    " Bảo Thắng đồng bào dân tộc Hmông Dao Tày Giáy Nùng nông thôn mới đường giao thông"
    " Hoàng Liên Sơn Phan Xi Păng du lịch cộng đồng hợp tác xã chè Shan tuyết thảo quả"
    " kinh tế xã hội Đảng bộ Ủy ban nhân dân Hội đồng nhân dân năm 2026 tăng trưởng"
).split()


def html_page(index: int, size: int, rng: random.Random) -> str:
    """A news-like Vietnamese HTML page of about ``size`` bytes."""
    parts = [
        "<!doctype html><html lang='vi'><head><meta charset='utf-8'>",
        f"<title>Bài {index}: Lào Cai – Đường Hoàng Liên</title></head><body><article>",
    ]
    length = sum(len(p) for p in parts)
    while length < size:
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(12, 40)))
        paragraph = f'<p class="text-{rng.randint(1, 9)}">{sentence.capitalize()}.</p>\n'
        parts.append(paragraph)
        length += len(paragraph.encode())
    parts.append("</article></body></html>")
    return "".join(parts)


def page(index: int, text: str, at: datetime, etag: str) -> FetchedPage:
    url = f"https://baolaocai.vn/bai-so-{index}-lao-cai-post{100000 + index}.html"
    stamp = at.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response = (
        ("Server", "nginx"),
        ("Date", stamp),
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "public, max-age=60"),
        ("ETag", etag),
        ("Last-Modified", stamp),
        ("Vary", "Accept-Encoding"),
        ("X-Cache", "MISS"),
        ("Content-Encoding", "gzip"),
    )
    request = (
        ("User-Agent", "baolaocai-archiver/0.1.0 (+mailto:archive@example.org)"),
        ("Accept", "text/html,application/xhtml+xml"),
        ("Accept-Language", "vi,en;q=0.5"),
        ("Accept-Encoding", "gzip, deflate"),
    )
    return FetchedPage(
        url,
        url,
        200,
        at,
        text,
        {"content-type": "text/html; charset=utf-8", "etag": etag, "last-modified": stamp},
        body=text.encode("utf-8"),
        response_headers=response,
        request_headers=request,
    )


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.endswith(".warc.gz"))


def store(db: Path, pages: list[FetchedPage], how: str) -> tuple[int, float]:
    """Store ``pages`` the way ``how`` says; returns the captures rows written and the
    mean size of the records they point at (without the requests)."""
    wh = WarehouseSession(db, SITE)
    wh.begin()
    try:
        with wh.reading() as con:
            kept = kept_captures(con, SITE, pages) if how != "full" else {}
        captures = {} if how == "nothing" else wh.archive(pages, kept=kept)
        with wh.writing() as con:
            before = con.execute("SELECT count(*) FROM captures").fetchone()
            load_batch(
                con,
                site=SITE,
                run_id=f"{how}-{pages[0].fetched_at:%H%M}",
                seen_at=pages[0].fetched_at,
                pages=pages,
                articles=[],
                failures=[],
                captures=captures,
                kept=kept,
            )
            after = con.execute("SELECT count(*) FROM captures").fetchone()
    finally:
        wh.close()
    assert before is not None and after is not None
    lengths = [ref.length for ref in captures.values()]
    return int(after[0]) - int(before[0]), sum(lengths) / len(lengths) if lengths else 0.0


def run(tmp: Path, count: int, size: int) -> dict[str, object]:
    rng = random.Random(22)
    texts = [html_page(i, size, rng) for i in range(count)]
    first = [page(i, t, T0 + timedelta(seconds=i), f'"a{i}"') for i, t in enumerate(texts)]
    later = T0 + timedelta(days=1)
    again = [page(i, t, later + timedelta(seconds=i), f'"b{i}"') for i, t in enumerate(texts)]
    base = tmp / "base"
    base.mkdir()
    db = base / "w.duckdb"
    store(db, first, "full")
    crawled = folder_bytes(warc_dir(db))
    out: dict[str, object] = {
        "pages": count,
        "page_bytes": size,
        "first_crawl_bytes_per_page": round(crawled / count),
    }
    added: dict[str, float] = {}
    for how in ("full", "revisit", "nothing"):
        copy = tmp / how
        shutil.copytree(base, copy)
        rows, record = store(copy / "w.duckdb", again, how)
        added[how] = (folder_bytes(warc_dir(copy / "w.duckdb")) - crawled) / count
        out[f"{how}_added_bytes_per_page"] = round(added[how])
        out[f"{how}_record_bytes"] = round(record)
        out[f"{how}_captures_rows"] = rows
    out["revisit_over_full"] = round(added["revisit"] / added["full"], 4)
    out["growth_halved"] = added["revisit"] <= added["full"] / 2
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--size", type=int, default=80_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), args.pages, args.size), indent=2))


if __name__ == "__main__":
    main()
