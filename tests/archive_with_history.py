"""A warehouse with a history, built by real crawls of the bundled copy of the site, for
the tests of the read model (tests/warehouse/test_reader.py) and of the reading commands
(tests/cli/test_reading_commands.py).

Three crawls on a copy served on 127.0.0.1: the first stores every article; between it and
the second, one article is edited (one word changes only in its tone mark: ``bồi thường``
becomes ``bội thường``) and another is taken down; the second recheck stores the edit as
version 2 and the takedown as removed; the third finds everything unchanged (``304``
answers, archived as revisit records that refer to the responses before them).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from baolaocai.settings import Settings
from pipeline.crawl import crawl_site
from sitecopy import SITE_DIR, serve_site

SITE = "baolaocai"
EDITED_FILE = "ky-hop-thuong-le-giua-nam-2024-cua-hdnd-tinh-thong-qua-18-nghi-quyet-post395512.html"
EDITED = 395512
GONE_FILE = "nguoi-dan-muong-khuong-chung-tay-giu-gin-duong-bien-cot-moc-post904118.html"
GONE = 904118
UNTOUCHED = 370418
OLD_WORDS, NEW_WORDS = "bồi thường", "bội thường"


@dataclass(frozen=True)
class History:
    db: Path
    warc: Path
    before_first: datetime
    """An instant before any capture."""
    between: datetime
    """After the first crawl, before the second: the edited article's version 1 time."""
    after_all: datetime


def build_history(folder: Path) -> History:
    """The warehouse ``folder/w.duckdb`` (and its ``w.warc``) after the three crawls."""
    root = folder / "site"
    shutil.copytree(SITE_DIR, root)
    db = folder / "w.duckdb"
    before = datetime.now(UTC)
    with serve_site(root) as server:

        def crawl(**more: float) -> None:
            settings = Settings(
                base_url=server.url, db_path=str(db), rate=200.0, concurrency=4, **more
            )
            summary = crawl_site(settings).summary
            assert summary.status == "completed", summary.error

        crawl()
        between = datetime.now(UTC)
        page = root / EDITED_FILE
        text = page.read_text(encoding="utf-8")
        assert text.count(OLD_WORDS) == 1
        page.write_text(text.replace(OLD_WORDS, NEW_WORDS), encoding="utf-8")
        (root / GONE_FILE).unlink()
        crawl(recheck_days=36500, recheck_interval_h=0)
        crawl(recheck_days=36500, recheck_interval_h=0)
    return History(db, folder / "w.warc", before, between, datetime.now(UTC))
