"""WARC storage of raw captures: round trips, rotation, interoperability with warcio,
hostile references, truncated files, crash repair and a real SIGKILL.

The speed of the store is measured by ``benchmarks/warc_store.py``, not here.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from baolaocai.errors import WarehouseError
from warehouse.warc import (
    BrokenTail,
    Capture,
    CaptureRef,
    Exchange,
    Revisit,
    WarcError,
    WarcWriter,
    iter_captures,
    iter_index,
    next_file_name,
    read_capture,
    stored_response_headers,
    warc_date,
    warc_files,
)

ROOT = Path(__file__).resolve().parents[2]
VN = timezone(timedelta(hours=7))
T0 = datetime(2026, 12, 3, 11, 45, 0, 123456, tzinfo=UTC)
WORDS = (  # noqa: SIM905
    "Lào Cai tỉnh biên giới Sa Pa Bắc Hà Bát Xát Mường Khương Si Ma Cai Văn Bàn Bảo Yên"
    " Bảo Thắng đồng bào dân tộc Hmông Dao Tày Giáy Nùng nông thôn mới đường giao thông"
    " Hoàng Liên Sơn Phan Xi Păng du lịch cộng đồng hợp tác xã chè Shan tuyết thảo quả"
    " kinh tế xã hội Đảng bộ Ủy ban nhân dân Hội đồng nhân dân năm 2026 tăng trưởng"
).split()


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


def exchange(index: int, body: bytes | None = None) -> Exchange:
    return Exchange(
        url=f"https://baolaocai.vn/tin-tuc/bai-{index}-lao-cai.html?p={index}",
        fetched_at=T0 + timedelta(seconds=index),
        status=200 if index % 5 else 404,
        response_headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "12"),
            ("ETag", f'"e{index}"'),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
        body=body if body is not None else f"<p>Bài {index}: Đường Hoàng Liên, Sa Pa</p>".encode(),
        request_headers=[("User-Agent", "baolaocai-archive/1.0"), ("Accept-Encoding", "gzip")],
    )


SITE = {"site_name": "Báo Lào Cai", "origin": "https://baolaocai.vn"}
"""Whose captures the test files hold (named in every file's warcinfo)."""


def write(
    folder: Path, exchanges: list[Exchange] | list[Revisit], **kwargs: object
) -> list[CaptureRef]:
    with WarcWriter(folder, **{**SITE, **kwargs}) as writer:  # type: ignore[arg-type]
        return writer.append_many(exchanges)


def check_matches(capture: Capture, original: Exchange) -> None:
    assert capture.url == original.url
    assert capture.fetched_at == original.fetched_at
    assert capture.fetched_at.tzinfo is not None
    assert capture.fetched_at.utcoffset() == timedelta(0)
    assert capture.status == original.status
    assert capture.body == original.body


def warcio_records(path: Path) -> list[tuple[str, int, int, dict[str, str]]]:
    """(type, offset, length, WARC headers) of every record, read by warcio itself."""
    out = []
    with path.open("rb") as fh:
        records = ArchiveIterator(fh, check_digests=True)
        for record in records:
            record.content_stream().read()
            headers = dict(record.rec_headers.headers)
            out.append(
                (record.rec_type, records.get_record_offset(), records.get_record_length(), headers)
            )
    return out


def warcinfo_fields(path: Path) -> dict[str, str]:
    """The ``key: value`` lines of the file's warcinfo record, read by warcio."""
    with path.open("rb") as fh:
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_type == "warcinfo"
        text = record.content_stream().read().decode("utf-8")
    return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)


def test_the_warcinfo_names_the_site_the_writer_was_given(tmp_path: Path) -> None:
    write(
        tmp_path,
        [exchange(1)],
        site_name="Báo Yên Bái",
        origin="https://baoyenbai.com.vn",
        prefix="bao-yen-bai",
    )
    [name] = warc_files(tmp_path)
    assert name.startswith("bao-yen-bai-")
    fields = warcinfo_fields(tmp_path / name)
    assert "Báo Yên Bái (https://baoyenbai.com.vn)" in fields["description"]
    assert "baolaocai.vn" not in fields["description"]
    assert fields["isPartOf"] == "bao-yen-bai"


@pytest.mark.parametrize("bad", [{"site_name": ""}, {"origin": "https://x\r\nX-Evil: 1"}])
def test_a_site_that_cannot_be_a_warc_field_is_refused(tmp_path: Path, bad: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="bad WARC"):
        WarcWriter(tmp_path, **{**SITE, **bad})


# --------------------------------------------------------------------------- round trip


def test_round_trip_keeps_url_status_headers_body_and_time(tmp_path: Path) -> None:
    body = "<h1>Lào Cai: Đường lên Sa Pa – mùa lúa chín ở Mường Hum</h1>".encode()
    exchanges = [
        exchange(1, body),
        replace(exchange(2), fetched_at=datetime(2026, 12, 3, 18, 0, tzinfo=VN)),
        exchange(5, b""),
    ]
    refs = write(tmp_path, exchanges)

    captures = list(iter_captures(tmp_path))
    assert [c.ref for c in captures] == refs
    for capture, original in zip(captures, exchanges, strict=True):
        check_matches(capture, original)
        assert read_capture(tmp_path, capture.ref) == capture
    first = captures[0]
    assert (
        first.body.decode("utf-8") == "<h1>Lào Cai: Đường lên Sa Pa – mùa lúa chín ở Mường Hum</h1>"
    )
    assert first.fetched_at == T0 + timedelta(seconds=1)  # microseconds kept
    assert captures[1].fetched_at == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert captures[2].status == 404 and captures[2].body == b""
    assert first.headers == {
        "content-type": "text/html; charset=utf-8",
        "etag": '"e1"',
        "set-cookie": "a=1, b=2",
        "content-length": str(len(body)),
    }
    assert refs[0].digest.startswith("sha1:") and refs[0].record_id.startswith("<urn:uuid:")


def test_stored_headers_drop_encodings_and_set_the_body_length() -> None:
    headers = [("Content-Encoding", "br"), ("transfer-encoding", "chunked"), ("X-A", "1")]
    assert stored_response_headers(headers, 42) == [("X-A", "1"), ("Content-Length", "42")]


@pytest.mark.parametrize(
    "bad",
    [
        {"fetched_at": datetime(2026, 1, 1)},  # naive
        {"response_headers": [("X-Evil", "a\r\nSet-Cookie: x")]},
        {"response_headers": [("Bad Name", "x")]},
        {"url": "ftp://baolaocai.vn/x"},
        {"url": "https://baolaocai.vn/a b"},
        {"status": 42},
    ],
)
def test_unusable_input_is_refused_before_anything_is_written(
    tmp_path: Path, bad: dict[str, object]
) -> None:
    with WarcWriter(tmp_path, **SITE) as writer:
        with pytest.raises(ValueError):
            writer.append_many([replace(exchange(1), **bad)])  # type: ignore[arg-type]
        assert warc_files(tmp_path) == []
        ref = writer.append(
            url="https://baolaocai.vn/",
            fetched_at=T0,
            status=200,
            response_headers=[],
            body=b"ok",
        )
    assert read_capture(tmp_path, ref).body == b"ok"


def test_warc_date_uses_utc_and_microseconds_only_when_present() -> None:
    assert warc_date(datetime(2026, 1, 2, 10, 0, tzinfo=VN)) == "2026-01-02T03:00:00Z"
    assert warc_date(T0) == "2026-12-03T11:45:00.123456Z"


# --------------------------------------------------------------------------- files


def test_rotation_at_a_small_size_keeps_order_and_every_file_starts_with_warcinfo(
    tmp_path: Path,
) -> None:
    rng = random.Random(1)
    exchanges = [exchange(i, rng.randbytes(3000)) for i in range(30)]
    refs: list[CaptureRef] = []
    with WarcWriter(tmp_path, **SITE, max_file_bytes=20_000) as writer:
        for part in (exchanges[:10], exchanges[10:25], exchanges[25:]):
            refs += writer.append_many(part)

    files = warc_files(tmp_path)
    assert len(files) >= 4
    assert files == sorted(files) == sorted({r.file for r in refs})
    assert [r.file for r in refs] == sorted(r.file for r in refs)  # file order = append order
    for name in files:
        assert (tmp_path / name).stat().st_size <= 20_000
        records = warcio_records(tmp_path / name)
        assert records[0][0] == "warcinfo"
        assert records[0][3]["WARC-Filename"] == name
    captures = list(iter_captures(tmp_path))
    assert [c.ref for c in captures] == refs
    for capture, original in zip(captures, exchanges, strict=True):
        check_matches(capture, original)
    # Only some files, in the order given.
    assert [c.ref for c in iter_captures(tmp_path, files=files[1:2])] == [
        r for r in refs if r.file == files[1]
    ]


def test_a_capture_larger_than_the_limit_gets_a_file_of_its_own(tmp_path: Path) -> None:
    big = random.Random(2).randbytes(50_000)
    refs = write(tmp_path, [exchange(1), exchange(2, big), exchange(3)], max_file_bytes=10_000)
    assert len({r.file for r in refs}) == 3
    assert read_capture(tmp_path, refs[1]).body == big


def test_a_new_writer_continues_the_newest_file_and_leaves_others_alone(tmp_path: Path) -> None:
    first = write(tmp_path, [exchange(1)], prefix="other")
    other = (tmp_path / first[0].file).read_bytes()
    a = write(tmp_path, [exchange(2)])
    b = write(tmp_path, [exchange(3)])
    assert a[0].file == b[0].file and b[0].offset > a[0].offset
    assert (tmp_path / first[0].file).read_bytes() == other
    assert [c.url for c in iter_captures(tmp_path)] == [
        exchange(i).url
        for i in (2, 3, 1)  # "baolaocai-…" sorts before "other-…"
    ]


def test_new_file_names_sort_after_existing_ones_even_when_the_clock_goes_back() -> None:
    existing = ["baolaocai-20261203T114500Z-00007.warc.gz", "x-20300101T000000Z-00099.warc.gz"]
    name = next_file_name("baolaocai", existing, datetime(2020, 1, 1, tzinfo=UTC))
    assert name == "baolaocai-20261203T114500Z-00008.warc.gz"
    assert next_file_name("baolaocai", [], T0) == "baolaocai-20261203T114500Z-00001.warc.gz"


def test_warcio_reads_every_file_and_finds_linked_request_response_pairs(tmp_path: Path) -> None:
    rng = random.Random(3)
    exchanges = [exchange(i, html_page(i, 20_000, rng)) for i in range(12)]
    refs = write(tmp_path, exchanges, max_file_bytes=40_000)
    by_offset = {(r.file, r.offset): r for r in refs}
    pairs = 0
    for name in warc_files(tmp_path):
        records = warcio_records(tmp_path / name)
        assert [t for t, *_ in records] == ["warcinfo"] + ["response", "request"] * (
            (len(records) - 1) // 2
        )
        for (_, offset, length, response), (_, _, _, request) in zip(
            records[1::2], records[2::2], strict=True
        ):
            ref = by_offset[(name, offset)]
            assert length == ref.length
            assert response["WARC-Record-ID"] == ref.record_id
            assert response["WARC-Payload-Digest"] == ref.digest
            assert "WARC-Block-Digest" in response
            assert response["WARC-Concurrent-To"] == request["WARC-Record-ID"]
            assert request["WARC-Concurrent-To"] == response["WARC-Record-ID"]
            assert request["WARC-Target-URI"] == response["WARC-Target-URI"]
            pairs += 1
    assert pairs == len(refs)


def test_warcio_check_and_index_accept_the_files(tmp_path: Path) -> None:
    write(tmp_path, [exchange(i) for i in range(3)])
    path = str(tmp_path / warc_files(tmp_path)[0])
    check = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", path], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 7
    index = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "index", "-f", "warc-type,http:status", path],
        capture_output=True,
        text=True,
        check=True,
    )
    assert [json.loads(line)["warc-type"] for line in index.stdout.splitlines()] == [
        "warcinfo",
        *["response", "request"] * 3,
    ]


def test_a_second_writer_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, **SITE), pytest.raises(WarcError, match="another writer"):
        WarcWriter(tmp_path, **SITE)
    WarcWriter(tmp_path, **SITE).close()  # free again


def test_a_closed_writer_refuses_appends(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, **SITE)
    writer.close()
    writer.close()
    with pytest.raises(WarcError):
        writer.append_many([exchange(1)])


# --------------------------------------------------------------------------- references


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, list[CaptureRef]]:
    return tmp_path, write(tmp_path, [exchange(i) for i in range(3)])


@pytest.mark.parametrize(
    "name",
    [
        "../x.warc.gz",
        "/etc/passwd",
        "/tmp/a.warc.gz",
        "sub/a.warc.gz",
        "a\\b.warc.gz",
        "..warc.gz",
        ".hidden.warc.gz",
        "a..b.warc.gz",
        "notes.txt",
        "",
        "a.warc.gz\x00",
    ],
)
def test_references_that_could_leave_the_folder_are_refused(
    stored: tuple[Path, list[CaptureRef]], name: str
) -> None:
    folder, refs = stored
    with pytest.raises(WarcError):
        read_capture(folder, replace(refs[0], file=name))
    with pytest.raises(WarcError):
        list(iter_captures(folder, files=[name]))


def test_bad_offsets_and_lengths_are_refused(stored: tuple[Path, list[CaptureRef]]) -> None:
    folder, refs = stored
    ref = refs[1]
    size = (folder / ref.file).stat().st_size
    bad = [
        replace(ref, offset=-1),
        replace(ref, length=0),
        replace(ref, length=-5),
        replace(ref, offset=size - 10, length=100),
        replace(ref, offset=size + 1),
        replace(ref, length=ref.length + 1),  # bytes of the next member
        replace(ref, length=ref.length - 1),  # truncated member
        replace(ref, offset=ref.offset + 1),  # not a member start
        replace(ref, offset=ref.offset + ref.length),  # the request record
        replace(ref, offset=0, length=refs[0].offset),  # the warcinfo record
        replace(ref, offset=True),  # type: ignore[arg-type]
        replace(ref, record_id=refs[0].record_id),
        replace(ref, digest=refs[2].digest),
        replace(ref, file="baolaocai-20990101T000000Z-00009.warc.gz"),  # missing file
    ]
    for candidate in bad:
        with pytest.raises(WarcError) as info:
            read_capture(folder, candidate)
        assert isinstance(info.value, WarehouseError)
    assert read_capture(folder, ref).ref == ref


# --------------------------------------------------------------------------- truncation


def member_ends(refs: list[CaptureRef]) -> list[int]:
    return [r.offset + r.length for r in refs]


@pytest.fixture
def five(tmp_path: Path) -> tuple[Path, list[CaptureRef], bytes]:
    folder = tmp_path / "source"
    rng = random.Random(4)
    refs = write(folder, [exchange(i, html_page(i, 6000, rng)) for i in range(5)])
    return folder, refs, (folder / refs[0].file).read_bytes()


def cut_points(refs: list[CaptureRef], size: int) -> list[int]:
    last = refs[-1]
    request_start = last.offset + last.length
    return [
        size - 1,  # last byte of the request member
        (request_start + size) // 2,  # middle of the request member
        request_start + 1,
        request_start - 1,  # last byte of the response member
        last.offset + last.length // 2,  # middle of the response
        last.offset + 5,  # inside the gzip header
    ]


def test_readers_skip_a_truncated_last_record_and_report_it(
    tmp_path: Path, five: tuple[Path, list[CaptureRef], bytes]
) -> None:
    _, refs, data = five
    for cut in cut_points(refs, len(data)):
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        (folder / refs[0].file).write_bytes(data[:cut])
        damage: list[BrokenTail] = []
        captures = list(iter_captures(folder, damage=damage))
        expected = [r for r in refs if r.offset + r.length <= cut]
        assert [c.ref for c in captures] == expected, cut
        assert len(damage) == 1 and damage[0].truncated
        complete_ends = [e for e in sorted({*member_ends(refs), *_request_ends(refs)}) if e <= cut]
        assert damage[0].offset == complete_ends[-1]
        assert damage[0].offset + damage[0].dropped_bytes == cut
        for ref in expected:
            assert read_capture(folder, ref).ref == ref
        if cut < refs[-1].offset + refs[-1].length:
            with pytest.raises(WarcError):
                read_capture(folder, refs[-1])


def _request_ends(refs: list[CaptureRef]) -> list[int]:
    """Each request member ends where the next response starts (or at the end)."""
    return [r.offset for r in refs[1:]]


def test_a_new_writer_repairs_a_truncated_file_and_appends_after_it(
    tmp_path: Path, five: tuple[Path, list[CaptureRef], bytes]
) -> None:
    _, refs, data = five
    for cut in cut_points(refs, len(data)):
        folder = tmp_path / f"cut{cut}"
        folder.mkdir()
        path = folder / refs[0].file
        path.write_bytes(data[:cut])
        with WarcWriter(folder, **SITE) as writer:
            assert writer.repaired is not None and writer.repaired.truncated
            good_end = writer.repaired.offset
            assert path.stat().st_size == good_end
            assert writer.repaired.dropped_bytes == cut - good_end
            new = writer.append_many([exchange(99)])
        assert new[0].file == path.name and new[0].offset == good_end
        damage: list[BrokenTail] = []
        captures = list(iter_captures(folder, damage=damage))
        assert damage == []
        kept = [r for r in refs if r.offset + r.length <= cut]
        assert [c.ref for c in captures] == [*kept, new[0]]
        check_matches(read_capture(folder, new[0]), exchange(99))
        records = warcio_records(path)  # warcio reads to the end, digests pass
        assert records[0][0] == "warcinfo" and records[-2][:2] == ("response", new[0].offset)


def test_zeros_after_the_last_record_are_repaired(
    tmp_path: Path, five: tuple[Path, list[CaptureRef], bytes]
) -> None:
    _, refs, data = five
    (tmp_path / refs[0].file).write_bytes(data + b"\0" * 4096)
    damage: list[BrokenTail] = []
    assert len(list(iter_captures(tmp_path, damage=damage))) == 5
    assert damage[0].offset == len(data) and not damage[0].truncated
    with WarcWriter(tmp_path, **SITE) as writer:
        assert writer.repaired is not None and writer.repaired.dropped_bytes == 4096
    assert (tmp_path / refs[0].file).read_bytes() == data


def test_damage_followed_by_complete_records_is_left_alone(
    tmp_path: Path, five: tuple[Path, list[CaptureRef], bytes]
) -> None:
    _, refs, data = five
    broken = bytearray(data)
    broken[refs[2].offset : refs[2].offset + 4] = b"JUNK"  # not a gzip header any more
    path = tmp_path / refs[0].file
    path.write_bytes(bytes(broken))
    with WarcWriter(tmp_path, **SITE) as writer:
        assert writer.repaired is not None
        new = writer.append_many([exchange(7)])
    assert path.read_bytes() == bytes(broken)  # nothing removed
    assert new[0].file != path.name
    damage: list[BrokenTail] = []
    assert [c.ref for c in iter_captures(tmp_path, damage=damage)] == [*refs[:2], new[0]]
    assert damage[0].offset == refs[2].offset


def test_a_stale_checkpoint_does_not_hide_a_truncation(
    tmp_path: Path, five: tuple[Path, list[CaptureRef], bytes]
) -> None:
    _, refs, data = five
    path = tmp_path / refs[0].file
    cut = len(data) - 3
    path.write_bytes(data[:cut])
    lock = tmp_path / ".baolaocai.warc.lock"
    for checkpoint in (f"{path.name} 17\n", f"{path.name} 999999999\n", "garbage"):
        lock.write_text(checkpoint)
        shutil.copy(path, tmp_path / "copy")
        with WarcWriter(tmp_path, **SITE) as writer:
            assert writer.repaired is not None
            assert path.stat().st_size == refs[-1].offset + refs[-1].length
        shutil.move(tmp_path / "copy", path)


def test_a_file_cut_inside_its_warcinfo_gets_a_warcinfo_again(tmp_path: Path) -> None:
    refs = write(tmp_path / "source", [exchange(1)])
    data = (tmp_path / "source" / refs[0].file).read_bytes()
    path = tmp_path / refs[0].file
    path.write_bytes(data[:100])
    assert list(iter_captures(tmp_path)) == []
    with WarcWriter(tmp_path, **SITE) as writer:
        assert writer.repaired is not None and writer.repaired.dropped_bytes == 100
        new = writer.append_many([exchange(2)])
    assert new[0].file == path.name
    assert [t for t, *_ in warcio_records(path)] == ["warcinfo", "response", "request"]


# --------------------------------------------------------------------------- real crash

CRASHER = """
import json, os, sys, time
from datetime import UTC, datetime
from pathlib import Path
import warehouse.warc as warc

folder, stall_at = Path(sys.argv[1]), int(sys.argv[2])
writes = 0
write_all = warc._write_all


def stalling_write_all(fd, data):
    # The stall_at-th write stops half way (as if the disk were slow) for the kill to land.
    global writes
    writes += 1
    if writes != stall_at:
        return write_all(fd, data)
    os.write(fd, data[: len(data) // 2])
    print("STALLED", flush=True)
    time.sleep(60)


warc._write_all = stalling_write_all
body = ("<p>Lào Cai – Đường Hoàng Liên</p>" * 3000).encode()
with warc.WarcWriter(
    folder, site_name="Báo Lào Cai", origin="https://baolaocai.vn", max_file_bytes=300_000
) as writer:
    for i in range(1_000_000):
        ref = writer.append(
            url=f"https://baolaocai.vn/bai-{i}.html",
            fetched_at=datetime.now(UTC),
            status=200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
            body=body + str(i).encode(),
        )
        if i % 7 == 0:
            writer.flush()
        print(json.dumps([ref.file, ref.offset, ref.length, ref.digest, ref.record_id]), flush=True)
"""


def run_and_kill(folder: Path, lines: int, *, stall_at: int = 0) -> list[CaptureRef]:
    """References the crasher printed before it was SIGKILLed: after ``lines`` of them,
    or while its ``stall_at``-th write is half done."""
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(folder), str(stall_at)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    refs: list[CaptureRef] = []
    try:
        for line in process.stdout:
            if line.strip() == "STALLED" or len(refs) >= lines:
                break
            refs.append(CaptureRef(*json.loads(line)))
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
    return refs


def check_after_crashes(folder: Path, refs: list[CaptureRef]) -> None:
    for ref in refs:  # every reference handed out survives a process crash
        assert read_capture(folder, ref).ref == ref
    stored = [c.ref for c in iter_captures(folder)]
    handed_out = set(refs)
    assert [r for r in stored if r in handed_out] == refs  # all there, in order
    with WarcWriter(folder, **SITE) as writer:
        new = writer.append_many([exchange(1), exchange(2)])
    damage: list[BrokenTail] = []
    after = [c.ref for c in iter_captures(folder, damage=damage)]
    assert damage == []
    assert handed_out <= set(after) and after[-2:] == new
    for name in warc_files(folder):
        warcio_records(folder / name)


def test_sigkill_while_appending_then_reading_and_writing_work(tmp_path: Path) -> None:
    refs = run_and_kill(tmp_path, 60)
    refs += run_and_kill(tmp_path, 40)
    assert len(refs) == 100
    check_after_crashes(tmp_path, refs)


def test_sigkill_in_the_middle_of_a_write_is_repaired(tmp_path: Path) -> None:
    refs = run_and_kill(tmp_path, 1000, stall_at=12)  # warcinfo, then 10 captures, then half
    assert len(refs) == 10
    damage: list[BrokenTail] = []
    assert [c.ref for c in iter_captures(tmp_path, damage=damage)] == refs
    assert len(damage) == 1 and damage[0].truncated
    refs += run_and_kill(tmp_path, 1000, stall_at=5)  # repairs, then 4 more, then half
    assert len(refs) == 14
    with WarcWriter(tmp_path, **SITE) as writer:
        assert writer.repaired is not None and writer.repaired.truncated
        size = (tmp_path / refs[-1].file).stat().st_size
        assert writer.repaired.offset == size
    check_after_crashes(tmp_path, refs)


# --------------------------------------------------------------------------- at size
# Speed is measured by benchmarks/warc_store.py (figures in the README); this test checks
# that 500 captures of ~80 KB round-trip, with a liveness bound only.


def bench_exchanges(count: int, size: int) -> Iterator[Exchange]:
    rng = random.Random(5)
    pool = [html_page(i, size, rng) for i in range(50)]
    for i in range(count):
        page = pool[i % len(pool)].replace(b"<article>", f"<article id='a{i}'>".encode(), 1)
        yield exchange(i, page)


def test_500_captures_of_80_kb_round_trip(tmp_path: Path) -> None:
    exchanges = list(bench_exchanges(500, 80_000))
    started = time.perf_counter()
    refs = write(tmp_path, exchanges)
    assert len(refs) == 500
    stored = sum((tmp_path / n).stat().st_size for n in warc_files(tmp_path))
    assert stored < sum(len(e.body) for e in exchanges) / 2  # compressed
    for i in random.Random(6).sample(range(500), 50):
        check_matches(read_capture(tmp_path, refs[i]), exchanges[i])
    assert [c.ref for c in iter_captures(tmp_path)] == refs
    # A liveness bound, not a speed target: about 1 s here (0.5 s to write); 10 times that.
    assert time.perf_counter() - started < 10.0


# --------------------------------------------------------------------------- revisits


def revisit_of(
    ref: CaptureRef, original: Exchange, *, status: int = 200, at: int = 3600
) -> Revisit:
    """The same page fetched ``at`` seconds later with the answer ``ref`` holds (or 304)."""
    return Revisit(
        url=original.url,
        fetched_at=original.fetched_at + timedelta(seconds=at),
        status=status,
        response_headers=[("Content-Type", "text/html; charset=utf-8"), ("ETag", '"moi"')],
        original=ref,
        original_url=original.url,
        original_date=original.fetched_at,
        payload_length=len(original.body),
        request_headers=[("If-None-Match", '"cu"')],
    )


def test_a_revisit_record_refers_to_its_response_and_holds_no_body(tmp_path: Path) -> None:
    first = exchange(1)
    [ref] = write(tmp_path, [first])
    again, not_modified = revisit_of(ref, first), revisit_of(ref, first, status=304, at=7200)
    refs = write(tmp_path, [again, not_modified])
    assert [r.refers_to for r in refs] == [ref.record_id] * 2
    assert all(r.digest == ref.digest and r.is_revisit for r in refs)
    assert all(r.length < 1000 for r in refs)  # a few hundred bytes, not a second page
    records = warcio_records(tmp_path / warc_files(tmp_path)[0])  # warcio checks digests
    revisits = [(offset, length, h) for kind, offset, length, h in records if kind == "revisit"]
    assert [(o, n) for o, n, _ in revisits] == [(r.offset, r.length) for r in refs]
    for (_, _, headers), revisit, r in zip(revisits, (again, not_modified), refs, strict=True):
        assert headers["WARC-Record-ID"] == r.record_id
        assert headers["WARC-Refers-To"] == ref.record_id
        assert headers["WARC-Refers-To-Target-URI"] == first.url
        assert headers["WARC-Refers-To-Date"] == warc_date(first.fetched_at)
        assert headers["WARC-Payload-Digest"] == ref.digest
        assert headers["WARC-Date"] == warc_date(revisit.fetched_at)
        assert headers["WARC-Profile"] == revisit.profile
    assert again.profile.endswith("/warc/1.1/revisit/identical-payload-digest")
    assert not_modified.profile.endswith("/warc/1.1/revisit/server-not-modified")
    with (tmp_path / warc_files(tmp_path)[0]).open("rb") as fh:
        stream = ArchiveIterator(fh)
        seen = [(r.rec_type, r.http_headers, r.content_stream().read()) for r in stream]
    [(_, ok, body_ok), (_, nm, body_nm)] = [s for s in seen if s[0] == "revisit"]
    assert body_ok == body_nm == b""
    assert ok.get_statuscode() == "200" and ok.get_header("Content-Length") == str(len(first.body))
    assert nm.get_statuscode() == "304" and nm.get_header("Content-Length") is None
    # The request that got each answer follows it, as for a response.
    kinds = [kind for kind, *_ in records]
    assert kinds == ["warcinfo", "response", "request", "revisit", "request", "revisit", "request"]


def test_readers_take_revisits_for_what_they_are(tmp_path: Path) -> None:
    first = exchange(1)
    [ref] = write(tmp_path, [first])
    [again] = write(tmp_path, [revisit_of(ref, first)])
    # iter_captures: pages only; a revisit's page is its response.
    assert [c.ref for c in iter_captures(tmp_path)] == [ref]
    entries = list(iter_index(tmp_path))
    assert [(e.rec_type, e.offset, e.length, e.mime, e.status, e.refers_to) for e in entries] == [
        ("response", ref.offset, ref.length, "text/html", 200, None),
        ("revisit", again.offset, again.length, "warc/revisit", 200, ref.record_id),
    ]
    with pytest.raises(
        WarcError, match=f"a revisit record; its page is the response {ref.record_id}"
    ):
        read_capture(tmp_path, again)
    # A row of a warehouse that lost record_type: the record itself says what it is.
    plain = replace(again, refers_to=None)
    with pytest.raises(WarcError, match="a revisit record; its page is the response"):
        read_capture(tmp_path, plain)
    assert read_capture(tmp_path, ref).body == first.body


def test_a_revisit_must_refer_to_a_response(tmp_path: Path) -> None:
    first = exchange(1)
    [ref] = write(tmp_path, [first])
    [again] = write(tmp_path, [revisit_of(ref, first)])
    size = (tmp_path / warc_files(tmp_path)[0]).stat().st_size
    for original in (again, replace(ref, digest=""), replace(ref, record_id="")):
        with pytest.raises(ValueError, match="must refer to a stored response"):
            write(tmp_path, [replace(revisit_of(ref, first), original=original)])
    assert (tmp_path / warc_files(tmp_path)[0]).stat().st_size == size  # nothing written


def test_a_truncated_revisit_is_repaired_like_any_record(tmp_path: Path) -> None:
    first = exchange(1)
    [ref] = write(tmp_path, [first])
    [again] = write(tmp_path, [revisit_of(ref, first)])
    path = tmp_path / warc_files(tmp_path)[0]
    whole = path.read_bytes()
    path.write_bytes(whole[: again.offset + again.length // 2])
    with WarcWriter(tmp_path, **SITE) as writer:  # type: ignore[arg-type]
        assert writer.repaired is not None and writer.repaired.offset == again.offset
        [later] = writer.append_many([revisit_of(ref, first, at=9000)])
    assert [e.record_id for e in iter_index(tmp_path)] == [ref.record_id, later.record_id]
