"""The run report (a Prefect Markdown artifact) shows crawled text; it never runs it."""

from __future__ import annotations

import re

from baolaocai.models import CrawlSummary
from pipeline.report import drift_report, run_report

HOSTILE = (
    "Tin nóng ](http://evil.example/phish) ![x](http://evil.example/t.png)"
    " <img src=x onerror=alert(1)> **đậm** \x1b]0;pwned\x07 \u202e"
)


def test_crawled_text_is_shown_not_obeyed() -> None:
    summary = CrawlSummary(run_id="r1", base_url="https://baolaocai.vn", status="warning")
    summary.warning = HOSTILE
    summary.failures = [f"https://baolaocai.vn/a-post1.html: {HOSTILE}"]
    url = "https://baolaocai.vn/a-post2.html) [x](http://evil.example"
    text = run_report(summary, [("new", HOSTILE, HOSTILE, url)])
    text += drift_report(summary, [HOSTILE])
    assert "<img" not in text and "\x1b" not in text and "\x07" not in text
    assert "\u202e" not in text
    assert not re.search(r"(?<!\\)\]\(http://evil", text)  # no link but ours
    assert not re.search(r"(?<!\\)!\[", text)  # no picture
    assert "(https://baolaocai.vn/a-post2.html%29%20%5Bx%5D%28http://evil.example)" in text
    assert "Tin nóng" in text and "onerror" in text  # the text itself is all there
