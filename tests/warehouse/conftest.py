"""Warehouses filled through the real loader, for the search, export and status tests.

Two kinds of articles: a handful written here with the Vietnamese spellings the search
must reconcile (``Hòa``/``Hoà``, ``Lào Cai``, ``Đường``), and pages rendered by the
synthetic site generator and parsed by the real pipeline (pictures, tags, sections).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer

from baolaocai.models import Article, FetchedPage, Image, StagedArticle
from baolaocai.site import Site, default_site, load_site
from sitecopy.generate import make_articles, render_article
from transforms.pipeline import process_pages
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.load import finish_run, load_batch, start_run

SITE = default_site()
VN = timezone(timedelta(hours=7))
SEEN = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


def vn(y: int, m: int, d: int, hh: int = 8, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


FILLER = (
    "Thời gian qua, chính quyền địa phương đã tập trung chỉ đạo, huy động nhiều nguồn lực"
    " để phát triển kinh tế - xã hội, nâng cao đời sống vật chất và tinh thần cho nhân dân."
)


def _article(
    aid: int,
    title: str,
    body: str,
    published: datetime,
    category: str,
    *,
    sapo: str | None = "Tin từ phóng viên Báo Lào Cai.",
    images: tuple[Image, ...] = (),
) -> Article:
    return Article(
        url=f"https://baolaocai.vn/bai-viet-{aid}-post{aid}.html",
        article_id=aid,
        title=title,
        sapo=sapo,
        body=body,
        author="Lò Văn Minh",
        published_at=published,
        category=category,
        tags=("Lào Cai",),
        images=images,
    )


def vietnamese_articles() -> list[Article]:
    """Hand-written articles; ids 101-109 (the generator's ids start at 910000)."""
    return [
        _article(
            101,
            "Hòa Bình tăng cường hợp tác du lịch với Lào Cai",
            f"Đoàn công tác tỉnh Hòa Bình đã làm việc với ngành du lịch.\n\n{FILLER}",
            vn(2025, 3, 10),
            "Văn hóa - Du lịch",
            images=(Image("https://cdn.baolaocai.vn/images/x/101-1.jpg", "Đoàn công tác"),),
        ),
        _article(
            102,
            "Đoàn công tác tỉnh Hoà Bình thăm Sa Pa",
            f"Các đại biểu tỉnh Hoà Bình đã tham quan Sa Pa.\n\n{FILLER}",
            vn(2024, 6, 2),
            "Thời sự",
        ),
        _article(
            103,
            "Hội nghị xúc tiến đầu tư năm 2025",
            f"{FILLER}\n\nTại hội nghị, đại diện tỉnh Hòa Bình chia sẻ kinh nghiệm thu hút"
            " đầu tư vào nông nghiệp.\n\n" + FILLER,
            vn(2025, 5, 5),
            "Kinh tế",
        ),
        _article(
            104,
            "Hoa mận nở trắng Bắc Hà",
            "Những ngày này, hoa mận nở trắng các sườn đồi. Cuộc sống của người dân"
            f" thôn bản bình yên, du khách đến ngắm hoa mận ngày càng đông.\n\n{FILLER}",
            vn(2025, 2, 1),
            "Văn hóa - Du lịch",
            images=(
                Image("https://cdn.baolaocai.vn/images/x/104-1.jpg", "Hoa mận trắng"),
                Image("https://cdn.baolaocai.vn/images/x/104-2.jpg", None),
            ),
        ),
        _article(
            105,
            "Sa Pa đón lượng khách kỷ lục",
            f"Trong năm, Sa Pa đón hơn ba triệu lượt khách.\n\n{FILLER}",
            vn(2023, 12, 20),
            "Văn hóa - Du lịch",
        ),
        _article(
            106,
            "Chợ phiên Bắc Hà nhộn nhịp cuối tuần",
            f"{FILLER}\n\n{FILLER}\n\nNhiều du khách ghé chợ trên đường lên Sa Pa.\n\n{FILLER}",
            vn(2025, 1, 15),
            "Kinh tế",
        ),
        _article(
            107,
            "Đường biên giới Lào Cai bình yên",
            f"Bộ đội Biên phòng tuần tra dọc đường biên.\n\n{FILLER}",
            vn(2022, 10, 1),
            "Biên giới",
            sapo=None,
        ),
        _article(
            108,
            "Giải quyết việc làm cho người lao động",
            "Nhiều người lao động đã tìm được việc làm ổn định. Cái khó hiện nay là thiếu"
            f" lao động có tay nghề.\n\n{FILLER}",
            vn(2025, 4, 20),
            "Xã hội",
        ),
        # 00:30 on 1 January 2025 in Vietnam is still 31 December 2024 in UTC.
        _article(
            109,
            "Lào Cai đón năm mới",
            f"Người dân Lào Cai vui đón năm mới.\n\n{FILLER}",
            vn(2025, 1, 1, 0, 30),
            "Thời sự",
        ),
    ]


def generated_pages(n: int = 24, seed: int = 11) -> list[FetchedPage]:
    """Synthetic article pages in the current layout, as a crawl would fetch them."""
    articles = make_articles(n, seed=seed, start=date(2024, 10, 1), end=date(2025, 6, 30))
    return [FetchedPage(a.url, a.url, 200, SEEN, render_article(a)) for a in articles]


OTHER_SITE_FILE = """\
key = "baoyenbai"
name = "Báo Yên Bái"
extends = "epi"
origin = "https://baoyenbai.com.vn"
hosts = ["www.baoyenbai.com.vn"]
asset_hosts = []
"""


@pytest.fixture
def yen_bai(tmp_path: Path) -> Site:
    """A second paper on the same CMS (for the tests of a warehouse holding two sites)."""
    path = tmp_path / "baoyenbai.toml"
    path.write_text(OTHER_SITE_FILE, encoding="utf-8")
    return load_site(path)


def load_articles(
    path: Path, articles: list[Article], *, run_id: str = "t1", site: Site = SITE
) -> None:
    con = connect(path)
    try:
        staged = [StagedArticle(a, content_hash(a)) for a in articles]
        load_batch(
            con, site=site, run_id=run_id, seen_at=SEEN, pages=[], articles=staged, failures=[]
        )
    finally:
        con.close()


def fill_warehouse(path: Path) -> None:
    """Hand-written articles and parsed generated pages, loaded in two batches."""
    load_articles(path, vietnamese_articles())
    pages = generated_pages()
    staged, failures = process_pages(pages, default_site())
    assert not failures and len(staged) == len(pages)
    con = connect(path)
    try:
        start_run(
            con,
            site=SITE,
            run_id="t2",
            started_at=SEEN,
            base_url="https://baolaocai.vn",
            flow_run_id=None,
        )
        counts = load_batch(
            con, site=SITE, run_id="t2", seen_at=SEEN, pages=pages, articles=staged, failures=[]
        )
        finish_run(
            con,
            run_id="t2",
            finished_at=SEEN + timedelta(minutes=3),
            status="completed",
            counters={"articles_new": counts.new},
            error=None,
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with both kinds of articles and a built search index (do not modify)."""
    from warehouse.search import refresh_search_index

    path = tmp_path_factory.mktemp("filled") / "w.duckdb"
    fill_warehouse(path)
    con = connect(path)
    try:
        refresh_search_index(con)
    finally:
        con.close()
    return path


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """The same content as ``filled``, without a search index, for tests that write."""
    path = tmp_path / "fresh.duckdb"
    fill_warehouse(path)
    return path


@pytest.fixture
def new_article():
    """``new_article(aid, title, body, published, category, **kw)`` -> Article."""
    return _article


@pytest.fixture
def cli_app() -> typer.Typer:
    """A fresh app with only the warehouse commands, as ``baolaocai`` registers them."""
    from cli.warehouse_commands import register

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _main() -> None:
        """Test app."""

    register(app)
    return app
