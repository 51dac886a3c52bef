"""The pages' time filters: a time the page never gave is never shown, and two captures a
few seconds apart never look the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from bs4 import BeautifulSoup

from web.context import make_templates, vn_published, vn_seconds

VN = timezone(timedelta(hours=7))


def _time(html: str) -> BeautifulSoup:
    tag = BeautifulSoup(html, "html.parser").find("time")
    assert tag is not None, html
    return tag


def test_a_day_only_time_is_shown_as_the_day_with_a_note() -> None:
    # A legacy page gives "Thứ Bảy, 26/8/2023": stored as 00:00 Vietnam time.
    midnight = datetime(2023, 8, 26, tzinfo=VN)
    tag = _time(str(vn_published(midnight)))
    assert tag.get_text() == "26/08/2023"
    assert "00:00" not in str(vn_published(midnight))
    assert "trang chỉ ghi ngày" in tag["title"]
    assert tag["datetime"] == "2023-08-26"
    # the same instant as DuckDB may hand it over: in UTC, or naive UTC
    assert _time(str(vn_published(midnight.astimezone(UTC)))).get_text() == "26/08/2023"
    assert _time(str(vn_published(datetime(2023, 8, 25, 17, 0)))).get_text() == "26/08/2023"


def test_a_real_time_keeps_its_hour_and_minute() -> None:
    for value, shown in (
        (datetime(2023, 8, 26, 0, 0, 1, tzinfo=VN), "26/08/2023 00:00"),  # a second past
        (datetime(2023, 8, 26, 0, 30, tzinfo=VN), "26/08/2023 00:30"),
        (datetime(2023, 8, 26, 0, 0, tzinfo=UTC), "26/08/2023 07:00"),  # 00:00 UTC only
        (datetime(2024, 6, 21, 16, 5, tzinfo=VN), "21/06/2024 16:05"),
    ):
        tag = _time(str(vn_published(value)))
        assert tag.get_text() == shown, value
        assert not tag.has_attr("title")
        assert tag["datetime"] == value.astimezone(VN).isoformat(timespec="seconds")


def test_no_time_is_nothing() -> None:
    assert str(vn_published(None)) == ""
    assert vn_seconds(None) == ""


def test_capture_times_have_seconds_in_vietnam_time() -> None:
    assert vn_seconds(datetime(2026, 12, 6, 21, 21, 19, tzinfo=UTC)) == "07/12/2026 04:21:19"
    assert vn_seconds(datetime(2026, 12, 6, 21, 21, 25)) == "07/12/2026 04:21:25"  # naive: UTC


def test_the_filters_are_in_the_templates_and_escape_nothing_twice() -> None:
    env = make_templates()
    html = env.from_string("{{ t|vn_published }} · {{ t|vn_seconds }}").render(
        t=datetime(2023, 8, 26, tzinfo=VN)
    )
    assert html.startswith("<time ") and "&lt;" not in html
    assert html.endswith(" · 26/08/2023 00:00:00")
