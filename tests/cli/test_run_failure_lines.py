"""A run that fails inside its flow is one line, never Prefect's traceback.

A bug, or a failure the code did not foresee (a damaged lake's missing Parquet file came
out as DuckDB's IOException): Prefect logs "Encountered exception during execution" with
the traceback, once per task and once for the flow, on the user's terminal, before the
command's own one line (seen: 77 lines). Without ``--verbose`` only the line is printed;
with it, Prefect's log is shown as asked. The failure is made real in a process of its
own: the crawl's pipeline raises an error no code expects."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from support import clean_env

from sitecopy import SiteServer

BROKEN_CRAWL = textwrap.dedent(
    """
    import sys
    import pipeline.crawl

    def crawl_site(*args, **kwargs):
        raise RuntimeError("a failure nobody foresaw")

    pipeline.crawl.crawl_site = crawl_site  # before the flow's module imports it
    from cli.main import main
    sys.argv = ["baolaocai", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
def test_a_run_that_raises_is_one_line_unless_verbose(
    tmp_path: Path, site: SiteServer, verbose: bool
) -> None:
    import subprocess

    args = ["crawl", "--base-url", site.url, "--db", "w.duckdb", "--rate", "50"]
    done = subprocess.run(
        [sys.executable, "-c", BROKEN_CRAWL, *args, *(["--verbose"] if verbose else [])],
        cwd=tmp_path,
        env=clean_env(tmp_path / ".prefect-home", PYTHONPATH=str(Path(__file__).parents[2])),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "a failure nobody foresaw" in last, done.stderr
    if verbose:
        assert "Encountered exception during execution" in done.stderr
    else:
        assert "Traceback" not in done.stderr and "Encountered exception" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 2, done.stderr  # what it started, and the error
        assert lines[0].startswith("Starting the local Prefect API in ")
