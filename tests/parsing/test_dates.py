from __future__ import annotations

import pytest

from baolaocai.dates import looks_like_dateline, parse_iso, parse_vietnamese_datetime


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Thứ Bảy, 25/3/2023", "2023-03-25T00:00:00+07:00"),
        ("Chủ Nhật, 5/11/2023", "2023-11-05T00:00:00+07:00"),
        ("25/03/2025 08:15", "2025-03-25T08:15:00+07:00"),
        ("08:15 25/03/2025", "2025-03-25T08:15:00+07:00"),
        ("Thứ Ba, 08/04/2025 - 10:20", "2025-04-08T10:20:00+07:00"),
        ("Cập nhật: 01/12/2024 23:05 GMT+7", "2024-12-01T23:05:00+07:00"),
        ("2025-03-25T01:15:00Z", "2025-03-25T08:15:00+07:00"),
        ("2025-03-25T08:15:00+07:00", "2025-03-25T08:15:00+07:00"),
    ],
)
def test_vietnamese_formats_day_before_month(text: str, iso: str) -> None:
    value = parse_vietnamese_datetime(text)
    assert value is not None and value.isoformat() == iso


@pytest.mark.parametrize("text", ["", "không có ngày", "32/13/2025", "2025-02-30T00:00:00"])
def test_unreadable_dates_are_none(text: str) -> None:
    assert parse_vietnamese_datetime(text) is None


def test_naive_iso_is_site_local() -> None:
    value = parse_iso("2025-03-25T08:15:00")
    assert value is not None and value.isoformat() == "2025-03-25T08:15:00+07:00"


def test_dateline_versus_sentence_with_a_date() -> None:
    assert looks_like_dateline("Thứ Bảy, 25/3/2023")
    assert not looks_like_dateline("Ngày 25/3/2023, tỉnh tổ chức hội nghị tổng kết.")
