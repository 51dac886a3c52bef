"""WARC store benchmark: appending captures, reading one back by its reference, iterating.

Writes ``--captures`` exchanges (default 2,000) of news-like Vietnamese pages of about
``--size`` bytes (default 80,000) with :class:`warehouse.warc.WarcWriter` into a fresh
folder, then times:

* ``write_s`` / ``write_mb_s``: :meth:`WarcWriter.append_many` of all of them;
* ``compression_ratio``: body bytes over bytes on disk;
* ``read_by_ref_ms``: :func:`warehouse.warc.read_capture` of 200 random references, each;
* ``iterate_captures_s`` / ``iterate_mb_s``: :func:`warehouse.warc.iter_captures` over all.

Prints the figures as JSON. These were the timed assertions of
``tests/warehouse/test_warc.py`` (``write_s < 2.0`` and ``read_by_ref_ms < 20`` for 500
captures, and a benchmark skipped unless ``WARC_BENCH=1``): speed is measured here, the
test keeps the correctness and a liveness bound.

    uv run python benchmarks/warc_store.py                    # 2,000 captures of ~80 KB
    uv run python benchmarks/warc_store.py --captures 500
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse.warc import (  # noqa: E402
    Exchange,
    WarcWriter,
    iter_captures,
    read_capture,
    warc_files,
)

T0 = datetime(2026, 12, 3, 11, 45, 0, 123456, tzinfo=UTC)
WORDS = (  # noqa: SIM905
    "Lào Cai tỉnh biên giới Sa Pa Bắc Hà Bát Xát Mường Khương Si Ma Cai Văn Bàn Bảo Yên"
    " Bảo Thắng đồng bào dân tộc Hmông Dao Tày Giáy Nùng nông thôn mới đường giao thông"
    " Hoàng Liên Sơn Phan Xi Păng du lịch cộng đồng hợp tác xã chè Shan tuyết thảo quả"
    " kinh tế xã hội Đảng bộ Ủy ban nhân dân Hội đồng nhân dân năm 2026 tăng trưởng"
).split()
SITE = {"site_name": "Báo Lào Cai", "origin": "https://baolaocai.vn"}


def html_page(index: int, size: int, rng: random.Random) -> bytes:
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
    return "".join(parts).encode("utf-8")


def exchanges(count: int, size: int) -> Iterator[Exchange]:
    rng = random.Random(5)
    pool = [html_page(i, size, rng) for i in range(50)]
    for i in range(count):
        body = pool[i % len(pool)].replace(b"<article>", f"<article id='a{i}'>".encode(), 1)
        yield Exchange(
            url=f"https://baolaocai.vn/tin-tuc/bai-{i}-lao-cai.html?p={i}",
            fetched_at=T0 + timedelta(seconds=i),
            status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"e{i}"')],
            body=body,
            request_headers=[("User-Agent", "baolaocai-archive/1.0")],
        )


def run(folder: Path, count: int, size: int) -> dict[str, float]:
    made = list(exchanges(count, size))
    raw = sum(len(e.body) for e in made)
    started = time.perf_counter()
    with WarcWriter(folder, **SITE) as writer:
        refs = writer.append_many(made)
    write_s = time.perf_counter() - started
    stored = sum((folder / n).stat().st_size for n in warc_files(folder))
    sample = random.Random(6).sample(refs, min(200, len(refs)))
    started = time.perf_counter()
    for ref in sample:
        read_capture(folder, ref)
    read_ms = (time.perf_counter() - started) / len(sample) * 1000
    started = time.perf_counter()
    seen = sum(1 for _ in iter_captures(folder))
    iter_s = time.perf_counter() - started
    if seen != count:
        raise SystemExit(f"iterated {seen} captures, wrote {count}")
    return {
        "captures": count,
        "body_mb": round(raw / 1e6, 1),
        "write_s": round(write_s, 3),
        "write_mb_s": round(raw / 1e6 / write_s, 1),
        "compression_ratio": round(raw / stored, 2),
        "read_by_ref_ms": round(read_ms, 2),
        "iterate_captures_s": round(seen / iter_s, 1),
        "iterate_mb_s": round(raw / 1e6 / iter_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--size", type=int, default=80_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(Path(tmp), args.captures, args.size), indent=2))


if __name__ == "__main__":
    main()
