"""A warehouse for the collection pages' tests, filled the way a crawl fills one.

Two papers in one file (Báo Lào Cai and a second EPI paper whose article ids collide with
the first's), through the real write path: generated pages parsed by the pipeline,
archived in WARC files (``captures``), loaded by :func:`warehouse.load.load_batch` in two
runs: the second stores an edit (a second version) and meets a takedown (a 410 answer).
Hand-written articles carry the Vietnamese spellings the pages must show and find. The
search index is built at the end, as ``baolaocai reindex`` would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from baolaocai.models import Article, FetchedPage, StagedArticle
from baolaocai.site import Site, default_site, load_site
from tests.warehouse.conftest import OTHER_SITE_FILE, generated_pages, vietnamese_articles
from transforms.pipeline import process_pages
from transforms.validate import content_hash
from warehouse.db import connect
from warehouse.load import finish_run, load_batch, start_run
from warehouse.search import refresh_search_index
from warehouse.session import WarehouseSession

SITE = default_site()
FIRST_RUN = datetime.now(UTC) - timedelta(days=10)
"""The first crawl: ten days ago (the takedown, two days ago, is within the home page's
30 days whatever day the tests run)."""
SECOND_RUN = datetime.now(UTC) - timedelta(days=2)
EDITED_ID = 101
"""The hand-written article the second run finds edited."""
EDITED_TITLE = "Hòa Bình và Lào Cai ký kết hợp tác du lịch"
EDITED_AUTHOR = "Lò Văn Minh, Minh Huyền"
"""A byline of two people: each is an author of the browse pages."""
ODD_TAG = "COVID-19/2025 ?#&"
"""A tag with the characters an address gives a meaning to."""
GENERATED = 30


def other_site(folder: Path) -> Site:
    path = folder / "baoyenbai.toml"
    path.write_text(OTHER_SITE_FILE, encoding="utf-8")
    return load_site(path)


def _staged(articles: list[Article]) -> list[StagedArticle]:
    return [StagedArticle(a, content_hash(a)) for a in articles]


def build(folder: Path) -> tuple[Path, dict[str, object]]:
    """The warehouse ``folder/w.duckdb`` and facts about it for the assertions."""
    db = folder / "w.duckdb"
    pages = generated_pages(GENERATED, seed=5)
    staged, failures = process_pages(pages, SITE)
    assert not failures
    hand = vietnamese_articles()
    taken_down = staged[0].article
    wh = WarehouseSession(db, SITE, run_id="r1", kind="crawl")
    wh.begin()
    try:
        for run_id, at in (("r1", FIRST_RUN), ("r2", SECOND_RUN)):
            with wh.writing() as con:
                start_run(
                    con,
                    site=SITE,
                    run_id=run_id,
                    started_at=at,
                    base_url="https://baolaocai.vn",
                    flow_run_id=None,
                )
            if run_id == "r1":
                batch_pages = [replace(p, fetched_at=at) for p in pages]
                captures = wh.archive(batch_pages)
                batch = [*_staged(hand), *staged]
            else:
                gone = FetchedPage(taken_down.url, taken_down.url, 410, at, None, error="gone")
                batch_pages = [gone]
                captures = {}
                edited = replace(
                    hand[0],
                    title=EDITED_TITLE,
                    body=hand[0].body + "\n\nCập nhật.",
                    author=EDITED_AUTHOR,
                    tags=(*hand[0].tags, ODD_TAG),
                )
                batch = _staged([edited])
            with wh.writing() as con:
                counts = load_batch(
                    con,
                    site=SITE,
                    run_id=run_id,
                    seen_at=at,
                    pages=batch_pages,
                    articles=batch,
                    failures=[],
                    captures=captures,
                )
                finish_run(
                    con,
                    run_id=run_id,
                    finished_at=at + timedelta(minutes=2),
                    status="completed" if run_id == "r1" else "warning",
                    counters={
                        "articles_new": counts.new,
                        "articles_updated": counts.updated,
                        "removed": counts.removed,
                    },
                    error=None,
                    warning=None if run_id == "r1" else "1 trang không phải bài viết",
                )
    finally:
        wh.close()
    yen_bai = other_site(folder)
    con = connect(db)
    try:
        others = [
            replace(a, url=a.url.replace("baolaocai.vn", "baoyenbai.com.vn"), author="Hà Yên")
            for a in hand[:2]
        ]
        load_batch(
            con,
            site=yen_bai,
            run_id="y1",
            seen_at=FIRST_RUN,
            pages=[],
            articles=_staged(others),
            failures=[],
        )
        refresh_search_index(con)
    finally:
        con.close()
    facts: dict[str, object] = {
        "taken_down": taken_down,
        "generated": [s.article for s in staged],
        "hand": hand,
        "other_site": yen_bai.key,
    }
    return db, facts
