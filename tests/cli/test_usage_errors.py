"""A mistyped command line is one ``error:`` line naming the help to read, exit 2: like
every other bad input, never click's boxed usage message."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support import BAOLAOCAI, clean_env


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["search", "x", "--limit", "nan"], "Invalid value for '--limit'"),
        (["search"], "Missing argument 'text'"),
        (["export"], "Missing option '--format'"),
        (["status", "--bogus"], "No such option: --bogus"),
        (["nonexistent"], "No such command 'nonexistent'"),
        # an exclusion first reads as an option: the line says how to write it
        (["search", '-"du khách" bắc hà'], "goes after --: search -- '-x y'"),
    ],
)
def test_a_mistyped_command_line_is_one_line(args: list[str], said: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [BAOLAOCAI, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and said in line and line.endswith("--help')"), line
