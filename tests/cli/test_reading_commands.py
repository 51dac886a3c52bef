"""``show``, ``history``, ``page`` and ``removed`` run as a user runs them, on a warehouse
built by real crawls of the bundled site (an edit, a takedown, revisits): what they print,
the archived bytes as they are, and one line with exit 2 for every bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

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
from support import BAOLAOCAI, clean_env, run_cli

from sitecopy import SITE_DIR


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return build_history(tmp_path_factory.mktemp("history"))


def cli(history: History, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args, "--db", str(history.db), cwd=history.db.parent, **env)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def cli_bytes(history: History, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [BAOLAOCAI, *args, "--db", str(history.db)],
        cwd=history.db.parent,
        env=clean_env(),
        capture_output=True,
        timeout=240,
        check=False,
    )


def one_error(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert done.returncode == code, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


# -- show -----------------------------------------------------------------------------------------


def test_show_prints_every_field_of_the_article(history: History) -> None:
    done = cli(history, "show", str(EDITED))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("Kỳ họp thường lệ giữa năm 2024 của HĐND tỉnh thông qua 18 nghị quyết\n")
    for line in (
        "article          baolaocai/395512",
        "published        2024-06-21 16:05:00 +0700",
        "author           Trần Quốc Hưng",
        "version          2 (2 stored: 'baolaocai history 395512')",
        "removed          no",
        "captures         3 ('baolaocai page 395512' prints the page)",
    ):
        assert line in text.splitlines(), line
    assert NEW_WORDS in text and OLD_WORDS not in text
    assert "Các đại biểu biểu quyết thông qua nghị quyết tại kỳ họp." in text
    assert "(not in the archive)" in text


def test_show_json_is_the_article_with_vietnam_times(history: History) -> None:
    done = cli(history, "show", f"{SITE}/{EDITED}", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["article_id"] == EDITED and data["site"] == SITE
    assert data["published_at"] == "2024-06-21T16:05:00+07:00"
    assert data["versions"] == 2 and data["captures"] == 3 and data["removed_at"] is None
    assert {"tags", "missing_fields", "field_conflicts", "images", "content_hash"} <= set(data)
    assert data["first_seen_at"].endswith("+07:00")


def test_show_says_a_takedown_is_removed(history: History) -> None:
    done = cli(history, "show", str(GONE))
    assert done.returncode == 0, done.stderr
    assert "REMOVED from the site: found gone " in done.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("show", "abc"), "error: ID must be an article number such as 395512"),
        (("show", "-5"), "No such option"),
        (("show", "0"), "not '0'"),
        (("show", "99999999999999999999999"), "ID must be an article number"),
        (("show", "1"), "error: no article baolaocai/1 ("),
        (("show", f"{SITE}/{EDITED}", "--site", "nuimay"), "is an article of baolaocai"),
        (("show", str(EDITED), "--format", "xml"), "--format must be text or json"),
        (("history", str(EDITED), "--diff", "1", "5"), "has no version 5; it has versions 1 to 2"),
        (("history", str(EDITED), "--diff", "1", "x"), "Invalid value for '--diff'"),
        (("history", "7", "--diff", "1", "2"), "no article baolaocai/7"),
        (("history", "7", "--captures"), "no article baolaocai/7"),
        (("history", "7", "--captures", "--diff", "1", "2"), "--diff and --captures: one at"),
        (("page", str(EDITED), "--at", "yesterday"), "--at must be a day (2025-03-10), a time"),
        (("page", str(EDITED), "--at", "2025-02-30"), "--at must be a day such as"),
        (("removed", "--since", "2025-13-01"), "--since must be a day such as 2023-01-01"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    history: History, args: tuple[str, ...], said: str
) -> None:
    assert said in one_error(cli(history, *args))


# -- history --------------------------------------------------------------------------------------


def test_history_lists_the_versions_and_what_each_changed(history: History) -> None:
    done = cli(history, "history", str(EDITED), "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["version"], r["changed"]) for r in rows] == [("1", "first version"), ("2", "body")]
    assert rows[0]["seen_at"] <= rows[1]["seen_at"]

    as_json = json.loads(cli(history, "history", str(EDITED), "-f", "json").stdout)
    assert [(v["version"], v["changed"]) for v in as_json] == [(1, []), (2, ["body"])]
    assert OLD_WORDS in as_json[0]["body"] and as_json[1]["seen_at"].endswith("+07:00")

    table = cli(history, "history", str(UNTOUCHED), columns=200)
    assert table.returncode == 0 and "(1 row)" in table.stdout


def test_history_captures_lists_every_capture_of_the_page(history: History) -> None:
    done = cli(history, "history", str(UNTOUCHED), "--captures", "-f", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["status"], r["record"]) for r in rows] == [
        ("200", "response"),
        ("304", "revisit"),
        ("304", "revisit"),
    ]
    assert rows[1]["note"] == f"unchanged since {rows[0]['fetched_at']}"
    as_json = json.loads(cli(history, "history", str(UNTOUCHED), "--captures", "-f", "json").stdout)
    assert [c["timestamp"] for c in as_json] == [r["timestamp"] for r in rows]
    assert as_json[1]["refers_to"] == as_json[0]["record_id"]
    first = cli_bytes(history, "page", str(UNTOUCHED), "--at", rows[0]["timestamp"])
    assert first.returncode == 0 and first.stdout.startswith(b"<!DOCTYPE html>")


def test_a_diff_shows_the_changed_word_with_git_markers(history: History) -> None:
    done = cli(history, "history", str(EDITED), "--diff", "1", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("baolaocai/395512: version 1 (") and " -> version 2 (" in lines[0]
    assert "body:" in lines
    changed = [line for line in lines if "[-" in line]
    assert len(changed) == 1  # the paragraph that changed, the others left out
    assert "[-bồi-]{+bội+} thường" in changed[0]
    assert "…" in lines

    back = cli(history, "history", str(EDITED), "--diff", "2", "1").stdout
    assert "[-bội-]{+bồi+} thường" in back
    same = cli(history, "history", str(EDITED), "--diff", "2", "2").stdout
    assert same.splitlines()[-1] == "no field differs"


def test_a_diff_on_a_terminal_is_in_colour_without_markers(history: History) -> None:
    done = cli(history, "history", str(EDITED), "--diff", "1", "2", FORCE_COLOR="1")
    assert done.returncode == 0, done.stderr
    assert "\x1b[" in done.stdout and "[-" not in done.stdout and "{+" not in done.stdout
    assert "bồi" in done.stdout and "bội" in done.stdout


def test_a_diff_as_json(history: History) -> None:
    done = cli(history, "history", str(EDITED), "--diff", "1", "2", "-f", "json")
    data = json.loads(done.stdout)
    assert (data["from"]["version"], data["to"]["version"]) == (1, 2)
    [change] = data["changes"]
    assert change["field"] == "body"
    pieces = [(p["op"], p["text"]) for p in change["pieces"] if p["op"] != "equal"]
    assert pieces == [("delete", "bồi"), ("insert", "bội")]
    assert "".join(p["text"] for p in change["pieces"] if p["op"] != "insert") == change["old"]


# -- page -----------------------------------------------------------------------------------------


def test_page_prints_the_archived_bytes_and_names_the_capture(history: History) -> None:
    done = cli_bytes(history, "page", str(UNTOUCHED))
    assert done.returncode == 0, done.stderr
    assert done.stdout == next(SITE_DIR.glob(f"*-post{UNTOUCHED}.html")).read_bytes()
    said = done.stderr.decode().strip().splitlines()
    assert len(said) == 1 and re.match(r"capture \d{14} of ", said[0]), said
    assert re.search(r"HTTP 304: unchanged since the capture \d{14} of ", said[0]), said
    assert "HTTP 200" in said[0]


def test_page_at_a_time_gives_the_page_as_it_was(history: History) -> None:
    at = history.between.isoformat()
    then = cli_bytes(history, "page", str(EDITED), "--at", at)
    assert then.returncode == 0, then.stderr
    assert OLD_WORDS.encode() in then.stdout and NEW_WORDS.encode() not in then.stdout
    now = cli_bytes(history, "page", str(EDITED))
    assert NEW_WORDS.encode() in now.stdout

    # a capture's own timestamp, as the removed list and the web addresses give it
    listed = cli(history, "removed", "-f", "csv")
    [row] = list(csv.DictReader(io.StringIO(listed.stdout)))
    last = cli_bytes(history, "page", str(GONE), "--at", row["timestamp"])
    assert last.returncode == 0, last.stderr
    assert last.stdout == next(SITE_DIR.glob(f"*-post{GONE}.html")).read_bytes()


def test_page_before_the_first_capture_names_it(history: History) -> None:
    line = one_error(cli(history, "page", str(EDITED), "--at", "2001-01-01"))
    assert "has no capture at or before 2001-01-01 23:59; the first is of " in line


def test_page_out_writes_a_new_file_and_never_over_one(history: History, tmp_path: Path) -> None:
    target = tmp_path / "trang.html"
    done = cli(history, "page", str(EDITED), "--out", str(target))
    assert done.returncode == 0 and done.stdout == ""
    assert NEW_WORDS in target.read_text(encoding="utf-8")
    assert done.stderr.strip().endswith(f"-> {target}")

    target.write_text("bài của tôi", encoding="utf-8")
    refused = one_error(cli(history, "page", str(EDITED), "--out", str(target)))
    assert refused == f"error: --out {target} exists; --force replaces it"
    assert target.read_text(encoding="utf-8") == "bài của tôi"

    forced = cli(history, "page", str(EDITED), "--out", str(target), "--force")
    assert forced.returncode == 0
    assert NEW_WORDS in target.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trang.html"]  # no leftovers


def test_page_on_a_terminal_asks_for_a_file(history: History) -> None:
    main, other = os.openpty()
    try:
        done = subprocess.run(
            [BAOLAOCAI, "page", str(EDITED), "--db", str(history.db)],
            cwd=history.db.parent,
            env=clean_env(),
            stdout=other,
            stderr=subprocess.PIPE,
            timeout=240,
            check=False,
        )
        os.set_blocking(main, False)
        try:
            shown = os.read(main, 65536)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(main)
        os.close(other)
    assert done.returncode == 2
    assert b"<html" not in shown
    assert b"give --out FILE, or redirect it" in done.stderr


def test_a_damaged_web_archive_is_one_line(history: History, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(history.db, db)
    warc = tmp_path / "copy.warc"  # the folder next to the copy: missing at first
    missing = run_cli("page", str(EDITED), "--db", str(db), cwd=tmp_path)
    line = one_error(missing, 1)
    assert line.startswith("error: cannot read the page of baolaocai/395512 (captured ")
    assert str(warc) in line and "Traceback" not in missing.stderr

    shutil.copytree(history.warc, warc)
    for path in warc.glob("*.warc.gz"):
        data = bytearray(path.read_bytes())
        for start in range(200, len(data) - 64, 400):
            data[start : start + 16] = bytes(16)
        path.write_bytes(bytes(data))
    damaged = run_cli("page", str(EDITED), "--db", str(db), cwd=tmp_path)
    assert "cannot read the page of baolaocai/395512" in one_error(damaged, 1)


# -- removed --------------------------------------------------------------------------------------


def test_removed_lists_the_takedowns_with_their_last_capture(history: History) -> None:
    done = cli(history, "removed", "--format", "csv")
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO(done.stdout)))
    assert (row["site"], row["article_id"]) == (SITE, str(GONE))
    assert row["last_capture"] and len(row["timestamp"]) == 14
    assert row["last_capture"] <= row["removed_at"]

    [item] = json.loads(cli(history, "removed", "-f", "json").stdout)
    assert item["article_id"] == GONE and item["last_capture"]["status"] == 200
    assert item["removed_at"].endswith("+07:00")

    later = history.after_all.date().isoformat()
    none = cli(history, "removed", "--since", f"{int(later[:4]) + 1}{later[4:]}", "-f", "csv")
    assert none.stdout.splitlines()[1:] == []
    assert "(1 row)" in cli(history, "removed", "--site", SITE, columns=200).stdout


def test_the_commands_read_the_demo_warehouse_when_none_is_named(
    history: History, tmp_path: Path
) -> None:
    (tmp_path / "warehouse").mkdir()
    shutil.copy(history.db, tmp_path / "warehouse" / "demo.duckdb")
    done = run_cli("show", str(EDITED), "-f", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["article_id"] == EDITED
    assert "reading the demo's warehouse/demo.duckdb" in done.stderr


# -- careless input, odd targets, old warehouses --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("show", "١٢٣"), "ID must be an article number"),  # Arabic-Indic digits
        (("show", f"{SITE}/١٢٣"), "ID must be an article number"),
        (("history", "１２３"), "ID must be an article number"),  # full-width
        (("page", str(EDITED), "--out", ""), "error: --out needs a file name"),
    ],
)
def test_only_ascii_digits_are_an_id_and_an_empty_out_is_no_file(
    history: History, args: tuple[str, ...], said: str
) -> None:
    assert said in one_error(cli(history, *args))


def test_page_force_replaces_only_a_regular_file(history: History, tmp_path: Path) -> None:
    import stat

    mine = tmp_path / "mine.html"
    mine.write_text("bài của tôi", encoding="utf-8")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.html"
    link.symlink_to(mine)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target, kind in ((fifo, "FIFO"), (link, "symbolic link"), (folder, "folder")):
        line = one_error(cli(history, "page", str(EDITED), "--out", str(target), "--force"))
        assert str(target) in line and kind in line, line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert link.is_symlink() and os.readlink(link) == str(mine)
    assert mine.read_text(encoding="utf-8") == "bài của tôi"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "folder",
        "link.html",
        "mine.html",
        "pipe",
    ]


def test_page_names_the_capture_by_its_timestamp(history: History) -> None:
    listed = json.loads(cli(history, "history", str(EDITED), "--captures", "-f", "json").stdout)
    done = cli_bytes(history, "page", str(EDITED))
    (said,) = done.stderr.decode().strip().splitlines()
    good = [
        c
        for c in listed
        if c["status"] == 200 or (c["status"] == 304 and c["record_type"] == "revisit")
    ][-1]
    assert said.startswith(f"capture {good['timestamp']} of "), said
    shown = dt_of(good["fetched_at"]).strftime("%Y-%m-%d %H:%M:%S")
    assert f"of {shown} (Vietnam time)" in said


def dt_of(text: str) -> dt.datetime:
    from baolaocai.dates import SITE_TZ

    return dt.datetime.fromisoformat(text).astimezone(SITE_TZ)


def _warehouse_at(path: Path, version: int) -> None:
    """A warehouse as an older baolaocai left it: the migrations up to ``version``."""
    import duckdb

    from warehouse.db import migration_checksum, migrations

    with duckdb.connect(str(path)) as old:
        old.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), checksum VARCHAR)"
        )
        for number, name, sql in migrations():
            if number <= version:
                old.execute(sql)
                old.execute(
                    "INSERT INTO schema_version (version, name, checksum) VALUES (?, ?, ?)",
                    [number, name, migration_checksum(sql)],
                )


@pytest.mark.parametrize("version", [5, 8])
def test_an_old_warehouse_says_how_to_upgrade_it(tmp_path: Path, version: int) -> None:
    db = tmp_path / "old.duckdb"
    _warehouse_at(db, version)
    for args in (("show", "123"), ("history", "123"), ("page", "123"), ("removed",)):
        done = run_cli(*args, "--db", str(db), cwd=tmp_path)
        line = one_error(done, 1)
        assert f"schema version {version}" in line and "'baolaocai reindex'" in line, line
        assert "internal error" not in line


def test_an_empty_duckdb_file_is_one_line(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    for args in (("show", "123"), ("history", "123"), ("page", "123"), ("removed",)):
        line = one_error(run_cli(*args, "--db", str(db), cwd=tmp_path), 1)
        assert "no warehouse tables" in line and "internal error" not in line, line
