"""``sql --format csv`` on a terminal shows control characters, and to a pipe writes the
data as it is: a crawled title cannot retitle or recolour the terminal it is shown on."""

from __future__ import annotations

import html
import os
import pty
import re
import subprocess
from pathlib import Path

from support import BAOLAOCAI, clean_env

from warehouse.db import connect

QUERY = "SELECT chr(27) || ']0;pwned' || chr(7) || 'Lào Cai ' || chr(8238) || 'evil' AS title"


def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    connect(path).close()  # a migrated, empty warehouse
    return path


def on_a_terminal(*args: str) -> str:
    """What ``baolaocai ARGS`` writes to a terminal (a pty of 80 columns)."""
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            [BAOLAOCAI, *args],
            stdout=child,
            stderr=subprocess.PIPE,
            env=clean_env(COLUMNS="80"),
        )
        os.close(child)
        chunks = []
        while True:
            try:
                data = os.read(main, 4096)
            except OSError:  # the terminal's other end closed
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(main)
    return b"".join(chunks).decode("utf-8")


def test_csv_on_a_terminal_is_shown_not_obeyed(tmp_path: Path) -> None:
    db = warehouse(tmp_path)
    shown = on_a_terminal("sql", QUERY, "-f", "csv", "--db", str(db))
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b]0;pwned\\x07Lào Cai \\u202eevil" in shown


def test_every_layout_on_a_terminal_is_shown_not_obeyed(tmp_path: Path) -> None:
    """A table, one record at a time, Markdown: rich may colour the table's borders, but
    nothing of the data reaches the terminal as a control character."""
    db = warehouse(tmp_path)
    wide = QUERY + ", " + ", ".join(f"{n} AS cot_{n}" for n in range(20))  # auto: a record
    for query, fmt in ((QUERY, "table"), (wide, "vertical"), (wide, "markdown"), (wide, "auto")):
        shown = on_a_terminal("sql", query, "-f", fmt, "--db", str(db))
        data = shown.replace("\x1b[1m", "").replace("\x1b[0m", "")  # rich's own styles
        if fmt == "markdown":  # Markdown's escapes undone: what a renderer shows
            data = html.unescape(re.sub(r"\\(.)", r"\1", data))
        assert "\x1b" not in data and "\x07" not in data and "\u202e" not in data, fmt
        assert "\\x1b]0;pwned\\x07Lào Cai \\u202eevil" in data, fmt


def test_csv_to_a_pipe_is_the_data_as_it_is(tmp_path: Path) -> None:
    db = warehouse(tmp_path)
    done = subprocess.run(
        [BAOLAOCAI, "sql", QUERY, "-f", "csv", "--db", str(db)],
        capture_output=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").splitlines()[1] == "\x1b]0;pwned\x07Lào Cai \u202eevil"
