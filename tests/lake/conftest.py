"""The lake tests' furniture: a real PostgreSQL cluster (Debian's, started by
:class:`flows.pg_cluster.PostgresCluster` on 127.0.0.1, once per test process) and a fresh
lake per test (its own catalog database and data folder).

PostgreSQL missing: these tests skip on a developer's machine, and fail in CI (``CI`` set,
where ``.ci/run`` installs it): a lake test that skips in CI proves nothing.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from baolaocai.errors import ServiceError
from flows.pg_cluster import PostgresCluster, find_bindir

_numbers = itertools.count()


@dataclass(frozen=True)
class Lake:
    """One test's lake: its spec (``--db``), data folder and the cluster under it."""

    spec: str
    data: Path
    cluster: PostgresCluster
    database: str

    def env(self) -> dict[str, str]:
        """What a command needs to make or use this lake."""
        return {"BAOLAOCAI_DB": self.spec, "BAOLAOCAI_LAKE_DATA": str(self.data)}


def require_postgres() -> None:
    """Skip (a developer's machine) or fail (CI) when PostgreSQL is not installed."""
    try:
        find_bindir()
    except ServiceError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed in CI: {exc}")
        pytest.skip(f"PostgreSQL is not installed: {exc}")


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    require_postgres()
    cluster = PostgresCluster(tmp_path_factory.mktemp("pg"))
    try:
        with cluster:
            yield cluster
    finally:
        cluster.remove()  # its private folder under /tmp too (pytest's is out of its reach)


@pytest.fixture
def lake(pg_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """A new, empty lake (made by its first writer); ``BAOLAOCAI_LAKE_DATA`` is set."""
    name = f"lake_{os.getpid()}_{next(_numbers)}"
    pg_cluster.create_database(name)
    data = tmp_path / "lake-data"
    monkeypatch.setenv("BAOLAOCAI_LAKE_DATA", str(data))
    spec = "ducklake:postgres:" + pg_cluster.conninfo(name)
    return Lake(spec=spec, data=data, cluster=pg_cluster, database=name)
