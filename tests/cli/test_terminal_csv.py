"""``sql --format csv`` on a terminal shows control characters, and to a pipe writes the
data as it is: a crawled title cannot retitle or recolour the terminal it is shown on."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from support import BAOLAOCAI, clean_env

from warehouse.db import connect

QUERY = "SELECT chr(27) || ']0;pwned' || chr(7) || 'Lào Cai ' || chr(8238) || 'evil' AS title"


def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    connect(path).close()  # a migrated, empty warehouse
    return path


def test_csv_on_a_terminal_is_shown_not_obeyed(tmp_path: Path) -> None:
    db = warehouse(tmp_path)
    main, child = pty.openpty()
    try:
        proc = subprocess.Popen(
            [BAOLAOCAI, "sql", QUERY, "-f", "csv", "--db", str(db)],
            stdout=child,
            stderr=subprocess.PIPE,
            env=clean_env(),
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
    shown = b"".join(chunks).decode("utf-8")
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b]0;pwned\\x07Lào Cai \\u202eevil" in shown


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
