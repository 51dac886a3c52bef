"""Helpers for tests that run ``baolaocai`` (or Prefect) as a separate process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path


def clean_env(prefect_home: Path | None = None, **extra: str) -> dict[str, str]:
    """This process's environment without any BAOLAOCAI_* or PREFECT_* setting (a child
    must not inherit the test harness's Prefect server), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAOLAOCAI_", "PREFECT_"))}
    env["BAOLAOCAI_PREFECT_IDLE"] = "0"  # a test's Prefect server ends with its commands
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    env.update(extra)
    return env


BAOLAOCAI = str(Path(sys.executable).with_name("baolaocai"))
"""The installed ``baolaocai`` command, as users run it."""


def run_cli(
    *args: str, cwd: Path, timeout: float = 240, columns: int | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``baolaocai ARGS`` run to its end in ``cwd`` as a user runs it (the installed
    command, a clean environment plus ``env``, a Prefect home of its own under ``cwd``;
    ``columns``: the terminal width it is told), its output captured."""
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [BAOLAOCAI, *args],
        cwd=cwd,
        env=clean_env(cwd / ".prefect-home", **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fill_bundled(path: Path | str, articles: int = 6) -> Path | str:
    """A warehouse at ``path`` (a file, or a lake's spec) holding the first ``articles``
    pages of the bundled site, parsed and loaded through the real pipeline and loader in
    one batch (no crawl)."""
    from datetime import UTC, datetime

    from baolaocai.models import FetchedPage
    from baolaocai.site import default_site
    from sitecopy import SITE_DIR
    from transforms.pipeline import process_pages
    from warehouse.db import connect
    from warehouse.load import load_batch

    now = datetime.now(UTC)
    pages = [
        FetchedPage(f"https://baolaocai.vn/{p.name}", str(p), 200, now, p.read_text("utf-8"))
        for p in sorted(SITE_DIR.glob("*-post*.html"))[:articles]
    ]
    staged, failures = process_pages(pages, default_site())
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    try:
        load_batch(
            con,
            site=default_site(),
            run_id="t",
            seen_at=now,
            pages=pages,
            articles=staged,
            failures=failures,
        )
    finally:
        con.close()
    return path


class Started:
    """A command started in ``cwd`` in a session of its own (as a shell starts a job),
    its output (stdout and stderr) gathered as it comes."""

    def __init__(self, args: list[str], cwd: Path, **env: str) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=clean_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        self._reader = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float = 180) -> None:
        """Until ``text`` is in the output (failing if the command ends first)."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.output
            time.sleep(0.05)

    def finish(self, timeout: float = 240) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        """Kill it if it still runs, and a Prefect server it started (in a session of its
        own, out of reach of the command's group): a failing test leaves nothing behind."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            for home in (self.cwd / ".prefect-server", self.cwd / ".prefect"):
                with contextlib.suppress(OSError, ValueError):
                    os.killpg(int((home / "server.pid").read_text()), signal.SIGKILL)


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted on ``folder`` (made if missing) with ``options`` (``size=32m``,
    ``size=1m,ro``) for the block, unmounted after it; the test is skipped where it
    cannot be mounted (not root)."""
    import pytest

    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
