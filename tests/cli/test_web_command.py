"""``baolaocai web`` as a user starts it: a real process on loopback, its flags checked
before it listens, one line for what it cannot do, a clean stop on Ctrl-C/SIGTERM, and
never holding the warehouse file between requests (a crawl must be able to write)."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from support import BAOLAOCAI, clean_env, fill_bundled, run_cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Web:
    """``baolaocai web`` started in the background, its output gathered at the end."""

    def __init__(self, db: Path, cwd: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [BAOLAOCAI, "web", "--db", str(db), "--port", str(self.port), *flags],
            cwd=cwd,
            env=clean_env(cwd / ".prefect-home"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.communicate()
            try:
                httpx.get(f"{self.url}/static/style.css", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("baolaocai web did not answer")

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return fill_bundled(tmp_path / "w.duckdb", articles=4)


@pytest.fixture
def web(db: Path, tmp_path: Path) -> Iterator[Web]:
    started = Web(db, tmp_path)
    try:
        started.wait_ready()
        yield started
    finally:
        if started.proc.poll() is None:
            started.proc.kill()
            started.proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_is_the_ordinary_end(web: Web, signum: int) -> None:
    assert httpx.get(f"{web.url}/static/style.css").status_code == 200
    code, out, err = web.stop(signum)
    assert code == 0, (out, err)
    assert "Traceback" not in out + err and "interrupted" not in err
    assert f"at {web.url}/ (read-only" in out


def test_it_answers_only_names_of_this_machine(web: Web) -> None:
    """A page elsewhere that rebinds its own name to 127.0.0.1 cannot read the archive."""
    ok = httpx.get(f"{web.url}/static/style.css", headers={"Host": f"localhost:{web.port}"})
    assert ok.status_code == 200
    refused = httpx.get(f"{web.url}/", headers={"Host": "attacker.example"})
    assert refused.status_code == 400


def test_unknown_pages_and_methods_are_error_pages_with_security_headers(web: Web) -> None:
    missing = httpx.get(f"{web.url}/no/such/page")
    assert missing.status_code == 404 and 'id="error"' in missing.text
    assert "Traceback" not in missing.text
    assert "default-src 'none'" in missing.headers["content-security-policy"]
    assert missing.headers["x-content-type-options"] == "nosniff"
    posted = httpx.post(f"{web.url}/search", data={"q": "x"})
    assert posted.status_code == 405 and 'id="error"' in posted.text
    escaped = httpx.get(f"{web.url}/static/..%2f..%2fcli%2fmain.py")
    assert escaped.status_code == 404


def test_a_writer_gets_the_file_while_the_view_is_open(web: Web, db: Path) -> None:
    """The view opens the warehouse per request and lets go: a crawl can write between
    two page views (DuckDB refuses a writer while another process has the file open)."""
    assert httpx.get(f"{web.url}/", timeout=30).status_code == 200
    con = duckdb.connect(str(db))  # read-write, as a crawl opens it
    try:
        con.execute("CREATE TABLE written_while_viewed AS SELECT 1 AS x")
    finally:
        con.close()
    assert httpx.get(f"{web.url}/", timeout=30).status_code == 200


def test_bad_flags_are_one_line_before_it_listens(db: Path, tmp_path: Path) -> None:
    for flags, needle in (
        (["--port", "0"], "--port must be from 1 to 65535"),
        (["--port", "70000"], "--port must be from 1 to 65535"),
        (["--host", "a b"], "--host must be"),
    ):
        result = run_cli("web", "--db", str(db), *flags, cwd=tmp_path, timeout=60)
        assert result.returncode == 2, (flags, result.stdout, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"error: {result.stderr.split(': ', 1)[1].strip()}"
        ]
        assert needle in result.stderr and "Traceback" not in result.stderr


def test_no_warehouse_or_a_foreign_file_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("web", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path, timeout=60)
    assert missing.returncode != 0 and "no warehouse at" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()
    foreign = tmp_path / "other.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.close()
    refused = run_cli("web", "--db", str(foreign), cwd=tmp_path, timeout=60)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_a_port_in_use_is_one_line(db: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("web", "--db", str(db), "--port", str(port), cwd=tmp_path, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: the address is in use or not ours"
    ]
    assert "Serving" not in result.stdout  # said only once it listens


def test_listening_beyond_this_machine_says_so(db: Path, tmp_path: Path) -> None:
    started = Web(db, tmp_path, "--host", "0.0.0.0")
    try:
        started.wait_ready()
    finally:
        code, _out, err = started.stop()
    assert code == 0
    assert "anyone who can reach this machine can read the archive" in err


def test_a_stop_while_pages_are_built_ends_cleanly(web: Web) -> None:
    """Pages under way when SIGTERM comes finish (or are interrupted into a 503 page) and
    the process exits 0: it once ended its threads in the middle of DuckDB's C++ code
    ("terminate called without an active exception", exit 134)."""
    import threading

    answers: list[int] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            for path in ("/", "/search?q=lao+cai", "/browse", "/removed"):
                try:
                    answers.append(httpx.get(f"{web.url}{path}", timeout=30).status_code)
                except httpx.TransportError:
                    return  # the server stopped taking requests

    loaders = [threading.Thread(target=load) for _ in range(4)]
    for thread in loaders:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answers) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    code, out, err = web.stop(signal.SIGTERM)
    stop.set()
    for thread in loaders:
        thread.join(30)
    assert code == 0, (out, err)
    assert "Traceback" not in err and "terminate" not in err, err
    assert answers and set(answers) <= {200, 503}, answers


def test_a_writer_gets_in_while_pages_are_loaded_back_to_back(web: Web, db: Path) -> None:
    """A burst of page views opens the file back to back; a writer waiting for it (a
    crawl's batch, here `sql --write`) is let in: the view pauses while one waits."""
    import threading

    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            httpx.get(f"{web.url}/", timeout=30)

    loaders = [threading.Thread(target=load) for _ in range(6)]
    for thread in loaders:
        thread.start()
    try:
        written = run_cli(
            "sql",
            "--write",
            "CREATE TABLE during_the_burst AS SELECT 1 AS x",
            "--db",
            str(db),
            cwd=db.parent,
            timeout=120,
        )
    finally:
        stop.set()
        for thread in loaders:
            thread.join(30)
    assert written.returncode == 0, written.stderr


def test_an_old_or_empty_warehouse_is_one_line_before_it_listens(tmp_path: Path) -> None:
    import importlib.util

    from warehouse.db import known_version

    where = Path(__file__).parents[1] / "warehouse" / "test_migrations.py"
    spec = importlib.util.spec_from_file_location("migrations_for_web", where)
    assert spec is not None and spec.loader is not None
    migrations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migrations)
    old = tmp_path / "old.duckdb"
    migrations._warehouse_at_version_5(old)
    result = run_cli("web", "--db", str(old), cwd=tmp_path, timeout=60)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.strip().splitlines() == [
        f"error: the warehouse {old} has schema version 5, older than this baolaocai reads"
        f" ({known_version()}); run 'baolaocai reindex' (or any crawl) once to upgrade it"
    ]
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    result = run_cli("web", "--db", str(empty), cwd=tmp_path, timeout=60)
    assert result.returncode == 1 and "an empty DuckDB file" in result.stderr
