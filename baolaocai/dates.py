"""Dates as Báo Lào Cai prints them, read as aware datetimes in Asia/Ho_Chi_Minh.

Recognised (day before month, always, as Vietnamese writes dates)::

    Thứ Bảy, 25/3/2023               25/03/2025 08:15          08:15 25/03/2025
    Thứ Ba, 08/04/2025 - 10:20       Cập nhật: 25/03/2025 08:15  25-03-2025
    Ngày đăng: 12/10/2025 08:15      ngày 12 tháng 10 năm 2025, 08:15
    2025-03-25T08:15:00+07:00 (ISO 8601, in meta and JSON-LD; "Z" and other offsets)

Naive values are local time (UTC+7, no daylight saving); every result is converted to
Asia/Ho_Chi_Minh. Pure functions, no clock.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from baolaocai.text import normalize_text, strip_accents

VIETNAM_TIME_ZONE = "Asia/Ho_Chi_Minh"
"""The zone of every Vietnamese paper (UTC+7, no daylight saving), defined once: a site
file's default ``time_zone``, the warehouse's session zone, the CLI's display zone."""
try:
    SITE_TZ: timezone | ZoneInfo = ZoneInfo(VIETNAM_TIME_ZONE)
except Exception:  # pragma: no cover - systems without tzdata
    SITE_TZ = timezone(timedelta(hours=7), VIETNAM_TIME_ZONE)

MIN_YEAR = 1945
MAX_YEAR = 2200
"""Years a page's date may have (the zone's offsets before 1945 were local mean times):
outside them a date is a typo or a trap (``0001-01-01``, ``9999-12-31``), read as no date
at all (a wrong date that looks right is worse than none, and one past Python's range
would fail the page or the run)."""
MAX_OFFSET_HOURS = 14
"""The widest UTC offset of any zone (+14:00, Kiribati): a larger one is a typo or a trap."""

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2})?\s*$"
)
_DMY_RE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)")
_WORDY_DATE_RE = re.compile(
    r"\bngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s*,?\s*năm\s+(\d{4})(?!\d)", re.IGNORECASE
)
"""``ngày 12 tháng 10 năm 2025`` (print copies, older pages): read as ``12/10/2025``."""
_TIME_RE = re.compile(r"(?<!\d)(\d{1,2})\s*[:hH]\s*(\d{2})(?!\d)(?:\s*:\s*(\d{2}))?")


def parse_iso(value: str | None) -> datetime | None:
    """ISO 8601 from meta tags / JSON-LD; naive values are taken as site-local time."""
    if not value:
        return None
    match = _ISO_RE.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    if not MIN_YEAR <= int(year) <= MAX_YEAR:
        return None
    try:
        naive = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if offset is None:
        return naive.replace(tzinfo=SITE_TZ)
    if offset == "Z":
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > MAX_OFFSET_HOURS or minutes > 59:  # no zone is +24:00 or -99:00
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    local = naive.replace(tzinfo=tz).astimezone(SITE_TZ)
    return local if MIN_YEAR <= local.year <= MAX_YEAR else None


def _numeric_date(text: str) -> str:
    """``ngày 12 tháng 10 năm 2025`` written as ``12/10/2025``."""
    if "tháng" not in text.lower():
        return text
    return _WORDY_DATE_RE.sub(lambda m: f"{m.group(1)}/{m.group(2)}/{m.group(3)}", text)


def parse_vietnamese_datetime(text: str | None) -> datetime | None:
    """A date (and optional time) as printed on the page, e.g. ``Thứ Ba, 08/04/2025 - 10:20``."""
    if not text:
        return None
    text = _numeric_date(normalize_text(text))
    iso = parse_iso(text)
    if iso is not None:
        return iso
    date_match = _DMY_RE.search(text)
    if not date_match:
        return None
    day, month, year = (int(g) for g in date_match.groups())
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    hour = minute = second = 0
    rest = text[: date_match.start()] + " " + text[date_match.end() :]
    time_match = _TIME_RE.search(rest)
    if time_match:
        hour, minute = int(time_match.group(1)), int(time_match.group(2))
        second = int(time_match.group(3) or 0)
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=SITE_TZ)
    except ValueError:
        return None


def looks_like_dateline(text: str) -> bool:
    """A short line that is only a date: ``Thứ Bảy, 25/3/2023``, ``25/03/2025 08:15``."""
    text = _numeric_date(normalize_text(text))
    if len(text) <= 40 and parse_iso(text) is not None:
        return True
    if len(text) > 90 or not _DMY_RE.search(text):
        return False
    leftover = _DMY_RE.sub(" ", text)
    leftover = _TIME_RE.sub(" ", leftover)
    leftover = strip_accents(leftover).lower()
    leftover = re.sub(
        r"thu\s+(hai|bay|ba|tu|nam|sau)|chu\s+nhat|cap\s+nhat|xuat\s+ban|dang|luc|vao"
        r"|ngay|gmt\+?7",
        " ",
        leftover,
    )
    return not re.sub(r"[\s,:|()\-–—/.+]+", "", leftover)


def to_site_tz(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=SITE_TZ)
    try:
        return value.astimezone(SITE_TZ)
    except OverflowError:  # within a day of the end of Python's calendar
        return None
