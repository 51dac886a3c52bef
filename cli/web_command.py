"""``baolaocai web``: the read-only browser view of the archive (:mod:`web`), served by
uvicorn on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from baolaocai.errors import InputError
from cli.support import friendly_errors, out, print_warning
from cli.warehouse_commands import DbOption, SiteOption, _db_path, _site_filter

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_host(host: str) -> str:
    host = host.strip()
    if not host or any(c.isspace() for c in host) or "/" in host or len(host) > 253:
        raise InputError(f"--host must be an address or a host name, not {host!r}")
    return host


@friendly_errors
def web_command(
    db: DbOption = None,
    site: SiteOption = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. 127.0.0.1 (this machine only) unless told otherwise;"
            " 0.0.0.0 lets anyone on the network read the archive."
        ),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on (1-65535).")] = DEFAULT_PORT,
) -> None:
    """Browse the archive in a web browser: search, read articles and their versions, see
    the archived pages, coverage and takedowns (read-only; Ctrl-C stops it)."""
    host = _check_host(host)
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be from 1 to 65535, not {port}")
    from warehouse.lake import LakeSpec, is_lake

    spec = _db_path(db, site)
    path: Path | str = spec if is_lake(spec) else Path(spec)  # a lake's spec is no path
    shown = LakeSpec.parse(spec).shown if is_lake(spec) else str(path)
    only_site = _site_filter(site)

    from warehouse.db import connect
    from warehouse.reader import require_readable
    from warehouse.search import search_index_dir
    from warehouse.session import warc_dir
    from web.app import create_app
    from web.context import WebConfig

    con = connect(path, read_only=True)  # a missing or foreign file: one line, before serving
    try:
        require_readable(con, path)
    finally:
        con.close()
    index_dir = search_index_dir(path)
    allowed = {*LOOPBACK_NAMES, host}
    if not _is_loopback(host):
        print_warning(
            f"listening on {host}: anyone who can reach this machine can read the archive"
        )
        if host in ("0.0.0.0", "::"):  # reached by whatever name the network gives it
            allowed.add("*")
    config = WebConfig(
        db_path=path,
        index_dir=index_dir,
        warc_dir=warc_dir(path),
        site=only_site,
        allowed_hosts=tuple(sorted(allowed)),
    )
    app = create_app(config)
    address = f"[{host}]" if ":" in host else host

    def announce() -> None:
        out.print(
            f"Serving {shown} at http://{address}:{port}/ (read-only; Ctrl-C stops it)",
            markup=False,
        )

    try:
        _serve(app, host, port, announce)
    finally:
        app.state.web.close()


WEB_STOP_GRACE_S = 10.0
"""Seconds ``web`` has after Ctrl-C/SIGTERM to finish the answers under way."""


def _serve(app: Any, host: str, port: int, announce: Callable[[], None]) -> None:
    """uvicorn on a thread of its own (so it installs no signal handlers: the command's,
    :mod:`baolaocai.interrupts`, turn Ctrl-C and SIGTERM into a stop), no access log;
    ``announce()`` once it listens. A stop signal is ``web``'s ordinary end: it stops
    taking requests, lets the pages under way finish (their queries are interrupted half
    way through the grace), waits for their threads, exit 0. A port in use is one line,
    exit 2."""
    import threading

    import uvicorn

    from baolaocai import interrupts

    web = app.state.web
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="critical",  # a bind error is said below, in one line
        access_log=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=int(WEB_STOP_GRACE_S / 2),
    )
    server = uvicorn.Server(config)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # SystemExit(1) on a bind error, among others
            failed.append(exc)

    interrupts.stop_is_normal(grace=WEB_STOP_GRACE_S + 5)
    thread = threading.Thread(target=run, name="uvicorn", daemon=True)
    thread.start()
    announced = False
    try:
        while thread.is_alive():
            thread.join(0.1)
            if server.started and not announced:
                announce()
                announced = True
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(WEB_STOP_GRACE_S / 2 - 1)
        web.interrupt_all()  # what is still running gives a 503 page now
        thread.join(WEB_STOP_GRACE_S / 2)
        web.wait_idle(WEB_STOP_GRACE_S / 2)
        return
    if not announced or failed:
        raise InputError(f"cannot listen on {host}:{port}: the address is in use or not ours")


def register(app: typer.Typer) -> None:
    """Add ``web`` to ``app``."""
    app.command("web")(web_command)
