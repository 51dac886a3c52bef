"""A new Prefect home starts from a copy of a database already made, not from nothing.

A command's Prefect server keeps its runs in SQLite in its home (``.prefect/prefect.db``
beside the warehouse). In a new home the server first builds that database: some 150
migrations and the registration of Prefect's block types, about 12 s of a 25 s cold
``demo`` on 2 cores, repeated for every new folder a warehouse lives in (and for every
test that runs a command in a folder of its own).

So the first server that builds one, as soon as it answers ``/health`` and before any
command has used it, has its database copied (SQLite's online backup: a consistent copy
of a database in use) to a template in the user's cache,
``$XDG_CACHE_HOME/baolaocai/prefect-<version>.db`` (``~/.cache`` without it), one per
Prefect version (a database made by one version is never given to another). A server
starting in a home that has no database yet gets a copy of the template first (if the
template is a whole migrated database; a damaged one is removed): the server then only
checks that the database is at the head of its migrations. The template holds what a
server writes for itself at start-up, never a run, a flow or a deployment: it is taken
from an API-only server (no scheduler or other service) nobody has asked anything but
``/health``.

Only for a server on SQLite in its home: a server given a database
(``PREFECT_API_DATABASE_CONNECTION_URL``, a PostgreSQL cluster) is left alone. A cache
that cannot be read or written costs only the time it would have saved: the server
builds its database as before (said in the debug log).
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from contextlib import suppress
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

log = logging.getLogger(__name__)

DATABASE = "prefect.db"
"""The file a server on SQLite keeps in its home (Prefect's default connection URL)."""
DATABASE_SETTINGS = (
    "PREFECT_API_DATABASE_CONNECTION_URL",
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
)
"""The variables that give a server a database of its own (then no template is used)."""


def template_path(env: dict[str, str] | None = None) -> Path | None:
    """Where the template of this Prefect version is (or would be); None if Prefect's
    version cannot be told."""
    env = dict(os.environ) if env is None else env
    try:
        prefect_version = version("prefect")
    except PackageNotFoundError:
        return None
    cache = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "baolaocai" / f"prefect-{prefect_version}.db"


def uses_home_database(env: dict[str, str]) -> bool:
    """Whether a server started with ``env`` keeps its database in its home."""
    return not any(env.get(name) for name in DATABASE_SETTINGS)


def seed_home(home: Path, env: dict[str, str]) -> bool:
    """Put a copy of the template in ``home`` if it has no database yet; whether it did.
    The copy is written beside and renamed into place: a server never opens half of it."""
    target = home / DATABASE
    template = template_path(env)
    if not uses_home_database(env) or target.exists() or template is None:
        return False
    if not template.is_file():
        return False
    if not _sound(template):
        log.debug("the Prefect database template %s is damaged: removed", template)
        with suppress(OSError):
            template.unlink()
        return False
    partial = home / f".{DATABASE}.{os.getpid()}"
    try:
        shutil.copyfile(template, partial)
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        log.debug("no copy of the Prefect database template %s: %s", template, exc)
        return False
    return True


def _sound(database: Path) -> bool:
    """Whether ``database`` is a whole SQLite database migrated by Prefect (a damaged
    template given to every new home would stop every new server at its start)."""
    try:
        con = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            checked = con.execute("PRAGMA quick_check").fetchone()
            migrated = con.execute("SELECT count(*) FROM alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return checked == ("ok",) and migrated is not None and migrated[0] == 1


def keep_template(home: Path, env: dict[str, str]) -> None:
    """Copy the database of the server of ``home`` (just started, not used yet) to the
    template, if there is none for this Prefect version."""
    source = home / DATABASE
    template = template_path(env)
    if not uses_home_database(env) or template is None or template.exists():
        return
    if not source.is_file():
        return
    partial = template.with_name(f".{template.name}.{os.getpid()}")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        src = sqlite3.connect(source)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # A rollback-journal database: reading the template then never leaves a
            # -wal or -shm file beside it (Prefect turns each copy back to WAL).
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
            src.close()
        os.replace(partial, template)  # whole or absent, whoever writes it at once
    except (OSError, sqlite3.Error) as exc:
        with suppress(OSError):
            partial.unlink(missing_ok=True)
        log.debug("no Prefect database template at %s: %s", template, exc)
