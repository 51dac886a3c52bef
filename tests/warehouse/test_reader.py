"""The read model of one article (warehouse.reader) on a warehouse built by real crawls of
the bundled site: an edit (two versions), a takedown, revisits, and the archived page read
back from the WARC files, also when they are damaged or gone."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from archive_with_history import (
    EDITED,
    GONE,
    NEW_WORDS,
    OLD_WORDS,
    SITE,
    UNTOUCHED,
    History,
    build_history,
)

from baolaocai.errors import InputError, NotFoundError
from warehouse.db import connect
from warehouse.reader import (
    archived_page,
    get_article,
    get_captures,
    get_removed,
    get_version,
    get_versions,
    image_bytes,
)
from warehouse.warc import WarcError


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return build_history(tmp_path_factory.mktemp("history"))


@pytest.fixture
def con(history: History) -> Iterator[Any]:
    connection = connect(history.db, read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def test_an_article_has_every_field_in_vietnam_time(con: Any, history: History) -> None:
    article = get_article(con, SITE, EDITED)
    assert article.article_id == EDITED and article.site == SITE
    assert article.title == "Kỳ họp thường lệ giữa năm 2024 của HĐND tỉnh thông qua 18 nghị quyết"
    assert NEW_WORDS in article.body and OLD_WORDS not in article.body
    assert article.version == 2 and article.versions == 2
    assert article.captures == 3  # the first fetch, the edit, a 304 revisit
    assert article.published_at is not None
    assert article.published_at.utcoffset() == timedelta(hours=7)
    assert article.published_at.isoformat() == "2024-06-21T16:05:00+07:00"
    assert article.first_seen_at.utcoffset() == timedelta(hours=7)
    assert isinstance(article.tags, tuple) and isinstance(article.missing_fields, tuple)
    assert not article.removed
    assert [(i.position, i.caption, i.archived) for i in article.images] == [
        (0, "Các đại biểu biểu quyết thông qua nghị quyết tại kỳ họp.", None),
        (1, "Đại biểu chất vấn tại phiên làm việc chiều 20/6.", None),
    ]
    data = json.loads(json.dumps(article.to_dict(), ensure_ascii=False))
    assert data["published_at"] == "2024-06-21T16:05:00+07:00"
    assert data["published_date"] == "2024-06-21"
    assert data["images"][0]["archived"] is None
    assert data["versions"] == 2 and data["version"] == 2


def test_an_unknown_article_is_not_found(con: Any) -> None:
    with pytest.raises(NotFoundError, match=r"no article baolaocai/1 in the warehouse"):
        get_article(con, SITE, 1)
    with pytest.raises(NotFoundError, match="no article baoyenbai/395512"):
        get_versions(con, "baoyenbai", EDITED)
    assert issubclass(NotFoundError, InputError)
    assert get_captures(con, SITE, 1) == []


def test_versions_oldest_first_and_a_missing_one_names_those_that_exist(
    con: Any, history: History
) -> None:
    versions = get_versions(con, SITE, EDITED)
    assert [v.version for v in versions] == [1, 2]
    first, second = versions
    assert first.body is not None and OLD_WORDS in first.body
    assert second.body is not None and NEW_WORDS in second.body
    assert history.before_first < first.seen_at < history.between < second.seen_at
    assert first.seen_at.utcoffset() == timedelta(hours=7)
    assert get_version(con, SITE, EDITED, 2) == second
    with pytest.raises(
        NotFoundError, match=r"baolaocai/395512 has no version 5; .*versions 1 to 2"
    ):
        get_version(con, SITE, EDITED, 5)
    with pytest.raises(NotFoundError, match=r"version 1 only"):
        get_version(con, SITE, UNTOUCHED, 0)
    assert second.to_dict()["seen_at"].endswith("+07:00")


def test_captures_every_one_oldest_first_with_their_revisits(con: Any) -> None:
    captures = get_captures(con, SITE, UNTOUCHED)
    assert [(c.status, c.record_type) for c in captures] == [
        (200, "response"),
        (304, "revisit"),
        (304, "revisit"),
    ]
    response = captures[0]
    assert all(c.refers_to == response.record_id for c in captures[1:])
    assert all(len(c.timestamp) == 14 and c.timestamp.isdigit() for c in captures)
    assert captures[0].fetched_at.utcoffset() == timedelta(hours=7)
    assert captures[0].to_dict()["timestamp"] == captures[0].timestamp


def test_the_archived_page_as_it_was_at_each_time(con: Any, history: History) -> None:
    latest = archived_page(con, history.warc, SITE, EDITED)
    assert latest.capture.record_type == "revisit" and latest.capture.status == 304
    assert latest.response.record_type == "response"
    assert latest.response.record_id == latest.capture.refers_to
    assert NEW_WORDS.encode() in latest.body and OLD_WORDS.encode() not in latest.body
    assert latest.body.lstrip().lower().startswith(b"<!doctype html>")
    assert latest.content_type is not None and latest.content_type.startswith("text/html")

    then = archived_page(con, history.warc, SITE, EDITED, at=history.between)
    assert then.capture == then.response
    assert OLD_WORDS.encode() in then.body

    captures = get_captures(con, SITE, EDITED)
    exact = archived_page(con, history.warc, SITE, EDITED, timestamp=captures[1].timestamp)
    assert exact.capture == captures[1] and NEW_WORDS.encode() in exact.body


def test_the_page_as_archived_is_the_bytes_the_server_sent(con: Any, history: History) -> None:
    from sitecopy import SITE_DIR

    untouched = next(SITE_DIR.glob(f"*-post{UNTOUCHED}.html"))
    page = archived_page(con, history.warc, SITE, UNTOUCHED)
    assert page.capture.record_type == "revisit"
    assert page.body == untouched.read_bytes()


def test_a_time_before_the_first_capture_names_the_first(con: Any, history: History) -> None:
    first = get_captures(con, SITE, EDITED)[0].fetched_at
    with pytest.raises(NotFoundError) as caught:
        archived_page(con, history.warc, SITE, EDITED, at=history.before_first)
    message = str(caught.value)
    assert "no capture at or before" in message
    assert f"the first is of {first.strftime('%Y-%m-%d %H:%M')}" in message
    with pytest.raises(NotFoundError, match="has no capture of '19990101000000'"):
        archived_page(con, history.warc, SITE, EDITED, timestamp="19990101000000")
    with pytest.raises(NotFoundError, match="no article baolaocai/7"):
        archived_page(con, history.warc, SITE, 7)


def test_a_takedown_keeps_its_last_page(con: Any, history: History) -> None:
    removed = get_removed(con)
    assert [(r.site, r.article_id) for r in removed] == [(SITE, GONE)]
    gone = removed[0]
    assert gone.removed_at.utcoffset() == timedelta(hours=7)
    assert history.between < gone.removed_at < history.after_all
    assert gone.last_capture is not None and gone.last_capture.status == 200
    assert get_removed(con, site="baoyenbai") == []
    assert get_removed(con, since=history.after_all) == []
    assert get_removed(con, since=history.between) == removed
    assert get_removed(con, offset=1) == []
    assert get_article(con, SITE, GONE).removed
    page = archived_page(con, history.warc, SITE, GONE)
    assert page.capture == gone.last_capture
    assert json.loads(json.dumps(gone.to_dict()))["last_capture"]["status"] == 200


def test_a_picture_not_archived_is_not_found(con: Any, history: History) -> None:
    with pytest.raises(NotFoundError, match="picture 0 of article baolaocai/395512 is not in"):
        image_bytes(con, history.warc, SITE, EDITED, 0)
    with pytest.raises(NotFoundError, match="has no picture at position 9"):
        image_bytes(con, history.warc, SITE, EDITED, 9)


def test_a_missing_or_damaged_warc_file_is_one_warc_error(
    con: Any, history: History, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.warc"
    empty.mkdir()
    with pytest.raises(WarcError) as missing:
        archived_page(con, empty, SITE, EDITED)
    told = str(missing.value)
    assert "\n" not in told and told.startswith("cannot read the page of baolaocai/395512")
    assert str(empty) in told and "No such file or directory" in told

    damaged = tmp_path / "damaged.warc"
    shutil.copytree(history.warc, damaged)
    response = archived_page(con, history.warc, SITE, EDITED).response
    path = damaged / response.warc_file
    data = bytearray(path.read_bytes())
    middle = response.warc_offset + response.warc_length // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(WarcError) as broken:
        archived_page(con, damaged, SITE, EDITED)
    assert "\n" not in str(broken.value) and response.warc_file in str(broken.value)


def test_a_warehouse_older_than_the_reader_says_how_to_upgrade(tmp_path: Path) -> None:
    """The reader reads columns the last migrations added: on an older warehouse (opened
    read-only, it cannot be migrated) one line, not a binder error."""
    import duckdb

    from baolaocai.errors import WarehouseError
    from warehouse.db import known_version, migration_checksum, migrations
    from warehouse.reader import require_readable

    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as old:
        old.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), checksum VARCHAR)"
        )
        for number, name, sql in migrations()[:-1]:
            old.execute(sql)
            old.execute(
                "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                [number, name, migration_checksum(sql)],
            )
    older = known_version() - 1
    opened = connect(db, read_only=True)
    try:
        with pytest.raises(WarehouseError, match=rf"schema version {older}\b.*'baolaocai reindex'"):
            require_readable(opened, db)
    finally:
        opened.close()
    connect(db).close()  # what reindex or a crawl does first: migrate
    opened = connect(db, read_only=True)
    try:
        require_readable(opened, db)
        assert get_removed(opened) == []
    finally:
        opened.close()
