"""An unknown layout still yields a usable record, marked as read by the fallback."""

from __future__ import annotations

from transforms.parse import parse_article
from transforms.quality import assess, drift_warning

URL = "https://baolaocai.vn/giao-dien-moi-post905555.html"
PARAGRAPHS = [
    "Sáng nay, hơn hai trăm nông dân xã Bản Xèo tham gia lớp tập huấn kỹ thuật trồng chè "
    "theo hướng hữu cơ do trạm khuyến nông tổ chức.",
    "Các học viên được hướng dẫn cách ủ phân vi sinh từ phụ phẩm nông nghiệp, cách cắt tỉa "
    "và thu hái búp chè đúng thời điểm để giữ hương vị.",
    "Theo kế hoạch, đến cuối năm nay toàn xã sẽ có thêm ba mươi héc-ta chè được cấp chứng "
    "nhận hữu cơ, giúp giá bán tăng đáng kể.",
]


def unknown_layout_page() -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
    <title>Nông dân Bản Xèo học trồng chè hữu cơ | Báo Lào Cai</title>
    <meta property="article:published_time" content="2026-04-02T09:30:00+07:00">
    </head><body>
    <div class="topbar"><a href="/">Trang chủ</a> <a href="/kinh-te/">Kinh tế</a></div>
    <div class="layout-2025">
      <div class="col-main">
        <h1 class="headline-xl">Nông dân Bản Xèo học trồng chè hữu cơ</h1>
        <div class="post-content">{body}
          <div class="share-tools"><a>Chia sẻ</a><a>Zalo</a></div>
        </div>
      </div>
      <div class="col-side"><h3>Đọc nhiều</h3><ul>
        <li><a href="/a-post1.html">Một bài đọc nhiều với tiêu đề khá dài về du lịch</a></li>
        <li><a href="/b-post2.html">Một bài khác cũng được đọc nhiều trong tuần qua</a></li>
      </ul></div>
    </div>
    <div class="bottom"><p>Giấy phép số 00/GP-BTTTT</p></div>
    </body></html>"""


def test_unknown_layout_falls_back_to_text_density() -> None:
    article = parse_article(unknown_layout_page(), URL)
    assert article.extraction_method == "density"
    assert article.title == "Nông dân Bản Xèo học trồng chè hữu cơ"
    assert article.paragraphs == PARAGRAPHS
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2026-04-02T09:30:00+07:00"


def test_fallback_records_raise_the_drift_alarm() -> None:
    records = [
        parse_article(unknown_layout_page(), URL.replace("5555", str(5555 + i))) for i in range(6)
    ]
    report = assess(records)
    assert report.fallback == 6 and report.degraded == 6
    warning = drift_warning(report, 0.2)
    assert warning is not None and "layout seems to have changed" in warning
    assert drift_warning(report, 1.0) is None
