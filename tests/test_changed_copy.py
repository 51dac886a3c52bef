"""The bundled copies a few days later (``sitecopy/changes/*.toml`` over the copies, served
by the copy server): what ``demo`` crawls on its second pass. The change files are data
checked here against the copies; the crawl that reads them is the real one, without
Prefect (the ``demo`` command itself: tests/cli/test_demo.py)."""

from __future__ import annotations

import email.utils
import re
import unicodedata
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from baolaocai.settings import Settings
from baolaocai.site import load_site
from pipeline.crawl import crawl_site
from sitecopy import bundled_copies, copy_dir, serve_site
from sitecopy.generate import strip_accents
from sitecopy.overlay import (
    ChangeSet,
    Overlay,
    apply_changes,
    article_pages,
    changed_copy,
    changes_file,
    load_changes,
    parse_changes,
)

LOC_RE = re.compile(r"<loc>([^<]+)</loc>")
LASTMOD_RE = re.compile(r"<loc>([^<]+)</loc>\s*<lastmod>([^<]+)</lastmod>")


def overlay_of(key: str) -> Overlay:
    found = changed_copy(key, copy_dir(key))
    assert found is not None, key
    return found


def linked_pages(text: str, pages: frozenset[str]) -> set[str]:
    return {p for p in pages if re.search("/" + re.escape(p) + r"[\"'<?#\s]", text)}


def lists_of(root: Path, overlay: Overlay | None) -> dict[str, str]:
    """Every list page (not an article page) of the copy, as served."""
    articles = article_pages(root)
    served = {}
    for file in root.rglob("*"):
        rel = file.relative_to(root).as_posix()
        if file.suffix in (".html", ".htm", ".xml", ".rss") and rel not in articles:
            data = overlay.files.get(rel) if overlay is not None else None
            served[rel] = (data or file.read_bytes()).decode("utf-8")
    return served


@pytest.mark.parametrize("key", ["baolaocai", "nuimay"])
def test_every_bundled_copy_has_a_later_state_of_one_edit_and_one_takedown(key: str) -> None:
    assert key in bundled_copies() and changes_file(key) is not None
    overlay = overlay_of(key)
    changes = overlay.changes
    assert changes.summary == "the same site three days later (1 article edited, 1 taken down)"
    [edit], [takedown] = changes.edits, changes.takedowns
    assert overlay.gone == {takedown.page} and edit.page in overlay.files
    # Text only in NFC; one word of the edit differs only by its diacritics.
    for rel, data in overlay.files.items():
        text = data.decode("utf-8")
        assert text == unicodedata.normalize("NFC", text), rel
    assert any(
        r.old != r.new and strip_accents(r.old) == strip_accents(r.new) for r in edit.replaces
    ), "no replacement changes only diacritics"
    # Each replacement took: the old text is gone from the page, the new one is there.
    page = overlay.files[edit.page].decode("utf-8")
    for r in edit.replaces:
        assert r.new in page and r.old not in page


@pytest.mark.parametrize("key", ["baolaocai", "nuimay"])
def test_the_lists_drop_the_takedown_and_date_the_edit_later(key: str) -> None:
    """As a real site: no list links to the withdrawn page any more, every other entry
    stays, and the edited article's sitemap ``<lastmod>`` (and its sitemap's date in an
    index, the newest of its entries) moved forward."""
    root, overlay = copy_dir(key), overlay_of(key)
    [edit], [takedown] = overlay.changes.edits, overlay.changes.takedowns
    articles = article_pages(root)
    before, after = lists_of(root, None), lists_of(root, overlay)
    assert before.keys() == after.keys()
    for rel in before:
        assert linked_pages(after[rel], articles) == linked_pages(before[rel], articles) - {
            takedown.page
        }, rel
    assert any(takedown.page in linked_pages(t, articles) for t in before.values())

    def lastmods(texts: dict[str, str]) -> dict[str, datetime]:
        found = {}
        for text in texts.values():
            for loc, stamp in LASTMOD_RE.findall(text):
                if (page := loc.split("/", 3)[3]) in articles:
                    found[page] = datetime.fromisoformat(stamp)
        return found

    old, new = lastmods(before), lastmods(after)
    assert new[edit.page] > old[edit.page]
    assert new[edit.page] == overlay.changes.last_modified
    assert {p: t for p, t in new.items() if p != edit.page} == {
        p: t for p, t in old.items() if p not in (edit.page, takedown.page)
    }
    # A sitemap index dates each child by its newest entry, before and after.
    for texts in (before, after):
        for rel, text in texts.items():
            if "<sitemapindex" not in text:
                continue
            for loc, stamp in LASTMOD_RE.findall(text):
                child = texts[loc.split("/", 3)[3]]
                newest = max(datetime.fromisoformat(s) for _, s in LASTMOD_RE.findall(child))
                assert datetime.fromisoformat(stamp) == newest, (rel, loc)


def test_the_server_serves_the_later_state_over_the_copy() -> None:
    root, overlay = copy_dir("baolaocai"), overlay_of("baolaocai")
    [edit], [takedown] = overlay.changes.edits, overlay.changes.takedowns
    with serve_site(root) as server:

        def get(path: str, **headers: str) -> tuple[int, bytes, Any]:
            request = urllib.request.Request(server.url + "/" + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, response.read(), response.headers
            except urllib.error.HTTPError as error:
                return error.code, error.read(), error.headers

        status, before, headers = get(edit.page)
        assert status == 200 and before == (root / edit.page).read_bytes()
        etag = headers["ETag"]
        assert get(takedown.page)[0] == 200
        server.changes = overlay
        status, after, headers = get(edit.page, **{"If-None-Match": etag})
        assert status == 200 and after == overlay.files[edit.page]
        assert headers["ETag"] != etag
        assert email.utils.parsedate_to_datetime(headers["Last-Modified"]) == (
            overlay.changes.last_modified
        )
        assert get(edit.page, **{"If-None-Match": headers["ETag"]})[0] == 304
        assert get(takedown.page + "?utm_source=zalo")[0] == 404
        unchanged = next(p for p in sorted(article_pages(root)) if p not in overlay.files)
        assert get(unchanged)[:2] == (200, (root / unchanged).read_bytes())


def test_a_change_that_no_longer_matches_the_copy_is_an_error(tmp_path: Path) -> None:
    root = copy_dir("baolaocai")
    changes = load_changes(changes_file("baolaocai") or Path())
    [edit] = changes.edits
    stale = {
        "label": "later",
        "last_modified": changes.last_modified,
        "edit": [{"page": edit.page, "note": "x", "replace": [{"old": "không có", "new": "y"}]}],
    }
    with pytest.raises(ValueError, match="not there"):
        apply_changes(root, parse_changes(stale))
    with pytest.raises(ValueError, match="not an article page"):
        apply_changes(
            root,
            parse_changes({**stale, "edit": [], "takedown": [{"page": "index.html", "note": "x"}]}),
        )
    for bad, message in (
        ({**stale, "last_modified": "2026-11-15"}, "last_modified"),
        ({**stale, "colour": 1}, "unknown keys"),
        ({**stale, "label": unicodedata.normalize("NFD", "Lào Cai")}, "NFC"),
        ({**stale, "edit": [{"page": "../x.html", "note": "x", "replace": []}]}, "inside"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_changes(bad)
    # A takedown whose link some list shows outside any list entry: said, not skipped.
    copy = tmp_path / "copy"
    for file in root.rglob("*"):
        if file.is_file():
            (copy / file.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
            (copy / file.relative_to(root)).write_bytes(file.read_bytes())
    [takedown] = changes.takedowns
    home = copy / "index.html"
    home.write_text(
        home.read_text("utf-8") + f'<div><a href="/{takedown.page}">x</a></div>\n', "utf-8"
    )
    with pytest.raises(ValueError, match="in no list entry"):
        apply_changes(copy, ChangeSet("later", changes.last_modified, (), (takedown,)))


# -- the real crawl on the later state -----------------------------------------------------------


def rows(db: str, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(sql, list(args)).fetchall()


@pytest.mark.parametrize("key", ["baolaocai", "nuimay"])
def test_a_second_crawl_of_the_later_state_stores_the_edit_and_the_takedown(
    key: str, db_path: str
) -> None:
    """Only the crawl's own mechanisms: the later ``<lastmod>`` relists the edit, the
    changed sitemap no longer lists the takedown, its 404 removes it."""
    site, overlay = load_site(key), overlay_of(key)
    [edit], [takedown] = overlay.changes.edits, overlay.changes.takedowns
    with serve_site(copy_dir(key)) as server:
        settings = Settings(site=site, base_url=server.url, db_path=db_path, rate=200.0)
        first = crawl_site(settings).summary
        assert first.status == "completed" and first.articles_new > 0
        counts = rows(db_path, "SELECT count(*) FROM articles")
        server.changes = overlay
        server.requests.clear()
        second = crawl_site(settings).summary
        asked = [r.path for r in server.requests]
        third = crawl_site(settings).summary
    assert second.status == "completed" and second.articles_new == 0
    assert (second.articles_updated, second.relisted, second.unlisted) == (1, 1, 1)
    assert (second.removed, second.gone, second.articles_failed) == (1, 1, 0)
    # Two article pages asked for, both conditionally: the edit and the takedown.
    articles = article_pages(copy_dir(key))
    assert sorted(p.lstrip("/") for p in asked if p.lstrip("/") in articles) == sorted(
        [edit.page, takedown.page]
    )
    assert (third.articles_new, third.articles_updated, third.rechecked, third.removed) == (0,) * 4
    assert rows(db_path, "SELECT count(*) FROM articles") == counts
    [(edited_id,)] = rows(db_path, "SELECT article_id FROM articles WHERE version = 2")
    assert edited_id == site_id(site, edit.page)
    versions = rows(
        db_path,
        "SELECT title, sapo, body, modified_at FROM article_revisions"
        " WHERE site = ? AND article_id = ? ORDER BY version",
        key,
        edited_id,
    )
    assert len(versions) == 2
    old, new = versions
    assert old[0] != new[0] and old[2] != new[2] and new[3] == overlay.changes.last_modified
    for r in edit.replaces:  # each replaced text of a field is replaced in that field
        for field in range(3):
            if r.old in (old[field] or ""):
                assert r.new in new[field] and r.old not in new[field], r
    assert rows(db_path, "SELECT site, article_id FROM removed_articles") == [
        (key, site_id(site, takedown.page))
    ]


def site_id(site: Any, page: str) -> int:
    from baolaocai.identity import article_id

    found = article_id(site.url("/" + page), site)
    assert found is not None
    return found
