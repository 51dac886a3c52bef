"""``baolaocai deploy --sites …`` against a real Prefect server: the process work pool, three
deployments per site on it (names, module entrypoints that load from the repository
root, shared parameters, the no-overlap limit, the schedule), each host's politeness
limits; a second deploy changes nothing but what it was told; bad input is one line,
exit 2, with nothing made."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import clean_env, fill_bundled, run_cli

from baolaocai.site import load_site
from cli.deploy_command import site_names, site_ref
from flows.host_gate import shared_interval
from flows.prefect_server import LocalPrefectServer
from tests.lake.conftest import Lake, lake, pg_cluster  # noqa: F401  (the fixtures)

REPO = Path(__file__).resolve().parents[2]
SITES = ("baolaocai", "nuimay")
FLOWS = (
    ("crawl", "scheduled", "flows.crawl.crawl"),
    ("backfill", "manual", "flows.backfill.backfill"),
    ("reparse", "manual", "flows.reparse.reparse"),
    ("reparse-part", "manual", "flows.reparse.reparse_part"),
)
"""Each site's deployments: flow, kind (the name is ``<kind>-<site key>``), entrypoint."""
PREFECT = str(Path(sys.executable).with_name("prefect"))
LAKE = "ducklake:postgres:dbname=lake host=127.0.0.1 port=5432 user=postgres"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPrefectServer]:
    """One Prefect server (SQLite) for the module; every test uses pools and sites of its
    own, so that the tests sharing it (the same xdist worker) do not meet."""
    home = tmp_path_factory.mktemp("prefect-server")
    started = LocalPrefectServer(home, services=False).start()
    try:
        yield started
    finally:
        started.stop()


def deploy(
    server: LocalPrefectServer | None, cwd: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {"PREFECT_API_URL": server.api_url} if server is not None else {}
    return run_cli("deploy", *args, cwd=cwd, timeout=300, **env, **extra)


def api(server: LocalPrefectServer, method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(method, f"{server.api_url}{path}", json=body, timeout=30)
    return answer.json() if answer.is_success else None


def deployments(server: LocalPrefectServer, pool: str) -> dict[str, dict[str, Any]]:
    """The pool's deployments by ``flow/deployment`` name."""
    flows = {f["id"]: f["name"] for f in api(server, "POST", "/flows/filter", {})}
    found = api(
        server,
        "POST",
        "/deployments/filter",
        {"work_pools": {"name": {"any_": [pool]}}},
    )
    return {f"{flows[d['flow_id']]}/{d['name']}": d for d in found}


def limits(server: LocalPrefectServer) -> dict[str, dict[str, Any]]:
    found = api(server, "POST", "/v2/concurrency_limits/filter", {"limit": 200})
    return {limit["name"]: limit for limit in found}


def test_deploy_two_sites_to_a_pool_and_again(server: LocalPrefectServer, tmp_path: Path) -> None:
    warehouse = tmp_path / "shared" / "archive.duckdb"
    first = deploy(server, tmp_path, "--sites", "baolaocai, nuimay", "--warehouse", str(warehouse))
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "work pool baolaocai (process): created"
    assert "deployment crawl/scheduled-nuimay: created, cron '0 * * * *' (Asia/Ho_Chi_Minh)" in (
        first.stdout
    )
    assert sum(line.startswith("deployment ") for line in lines) == 2 * len(FLOWS)
    assert sum(line.startswith("host limits ") for line in lines) == 2
    assert "prefect worker start --pool baolaocai" in lines[-1]

    pool = api(server, "GET", "/work_pools/baolaocai")
    assert pool["type"] == "process"
    assert "command" in pool["base_job_template"]["job_configuration"]  # a worker can run it
    made = deployments(server, "baolaocai")
    expected = {
        f"{flow}/{kind}-{key}": entrypoint for key in SITES for flow, kind, entrypoint in FLOWS
    }
    assert {name: d["entrypoint"] for name, d in made.items()} == expected
    for name, d in made.items():
        key = name.rsplit("-", 1)[1]
        assert d["work_pool_name"] == "baolaocai"
        # Run in the worker's own folder (a checkout's root), not a temporary one.
        assert d["path"] is None and d["pull_steps"] == []
        assert d["job_variables"] == {"working_dir": "."}
        assert d["parameters"]["site"] == key  # found by key on any worker
        assert d["parameters"]["db_path"] == str(warehouse)  # every worker, one warehouse
        if name.startswith("reparse-part/"):  # a reparse's parts run side by side
            assert d["global_concurrency_limit"] is None
        else:  # one run at a time
            assert d["global_concurrency_limit"]["limit"] == 1
            assert d["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        if name.startswith(("crawl/", "backfill/")):  # those that fetch share the host's caps
            assert (d["parameters"]["rate"], d["parameters"]["concurrency"]) == (1.0, 2)
        schedules = [s["schedule"] for s in d["schedules"]]
        if name.startswith("crawl/"):
            assert schedules == [
                {"cron": "0 * * * *", "timezone": "Asia/Ho_Chi_Minh", "day_or": True}
            ]
        else:
            assert schedules == []
    caps = limits(server)
    for key in SITES:
        host = load_site(key).host
        # One slot, decaying at the rate (less the margin for the API's answer times).
        assert (
            caps[f"baolaocai-rate:{host}"]["limit"],
            caps[f"baolaocai-rate:{host}"]["slot_decay_per_second"],
        ) == (1, pytest.approx(1.0 / shared_interval(1.0)))
        assert caps[f"baolaocai-inflight:{host}"]["limit"] == 2

    # The entrypoints load from the repository root, as a worker started there loads them.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from prefect.flows import load_flow_from_entrypoint as load;"
            " print(' '.join(load(e, use_placeholder_flow=False).name for e in sys.argv[1:]))",
            *sorted(set(expected.values())),
        ],
        cwd=REPO,
        env=clean_env(PREFECT_HOME=str(tmp_path / "loader-home")),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["backfill", "crawl", "reparse", "reparse-part"]

    # Again, with a slower rate: everything is updated in place, nothing doubled.
    again = deploy(
        server,
        tmp_path,
        "--sites",
        "nuimay,baolaocai",
        "--warehouse",
        str(warehouse),
        "--rate",
        "0.5",
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[0] == "work pool baolaocai (process): exists"
    assert again.stdout.count(": updated,") == 2 * len(FLOWS) and ": created" not in again.stdout
    remade = deployments(server, "baolaocai")
    assert {name: d["id"] for name, d in remade.items()} == {
        name: d["id"] for name, d in made.items()
    }
    assert remade["crawl/scheduled-nuimay"]["parameters"]["rate"] == 0.5
    assert (
        len([p for p in api(server, "POST", "/work_pools/filter", {}) if p["name"] == "baolaocai"])
        == 1
    )
    now = limits(server)
    assert sorted(now) == sorted(caps)
    host = load_site("nuimay").host
    assert now[f"baolaocai-rate:{host}"]["slot_decay_per_second"] == pytest.approx(
        1.0 / shared_interval(0.5)
    )

    # A worker started from the repository root runs a deployment as it was made.
    fill_bundled(warehouse, articles=2)
    deployment_id = remade["reparse/manual-baolaocai"]["id"]
    run = api(server, "POST", f"/deployments/{deployment_id}/create_flow_run", {})
    worker = subprocess.run(
        [PREFECT, "worker", "start", "--pool", "baolaocai", "--run-once"],
        cwd=REPO,
        env=clean_env(PREFECT_API_URL=server.api_url, PREFECT_HOME=str(tmp_path / "worker")),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert worker.returncode == 0, worker.stdout + worker.stderr
    ran = api(server, "GET", f"/flow_runs/{run['id']}")
    assert ran["state_type"] == "COMPLETED", worker.stdout + worker.stderr
    assert ran["parameters"]["db_path"] == str(warehouse)


def test_a_lake_and_a_site_file(
    server: LocalPrefectServer,
    tmp_path: Path,
    lake: Lake,  # noqa: F811  (the fixture imported above)
) -> None:
    """A lake spec goes to every worker as it is (the lake made first, by deploy, so that
    workers need no data path); a site file outside the checkout by its absolute path
    (inside it, by its path from the root: see the next test)."""
    site_file = tmp_path / "sites" / "thu.toml"
    site_file.parent.mkdir()
    text = (REPO / "baolaocai" / "sites" / "nuimay.toml").read_text(encoding="utf-8")
    site_file.write_text(
        text.replace('key = "nuimay"', 'key = "thu"').replace(
            'origin = "https://nuimay.vn"', 'origin = "https://thu.example.vn"'
        ),
        encoding="utf-8",
    )
    done = deploy(
        server,
        tmp_path,
        "--sites",
        str(site_file),
        "--pool",
        "lake-pool",
        "--warehouse",
        lake.spec,
        "--concurrency",
        "3",
        **lake.env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (lake.data / "main").is_dir()  # made, with its data path, before the deploy
    made = deployments(server, "lake-pool")
    assert sorted(made) == sorted(f"{flow}/{kind}-thu" for flow, kind, _ in FLOWS)
    crawl = made["crawl/scheduled-thu"]["parameters"]
    assert crawl["site"] == str(site_file) and crawl["db_path"] == lake.spec
    assert limits(server)["baolaocai-inflight:thu.example.vn"]["limit"] == 3


def test_a_lake_it_cannot_reach_is_one_line_and_nothing_is_deployed(
    server: LocalPrefectServer, tmp_path: Path
) -> None:
    spec = "ducklake:postgres:dbname=lake host=127.0.0.1 port=1 user=postgres password=hunter2"
    done = deploy(server, tmp_path, "--sites", "nuimay", "--pool", "nowhere", "--warehouse", spec)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert deployments(server, "nowhere") == {}


def test_site_names_and_refs() -> None:
    assert site_names(" nuimay,, baolaocai ,nuimay") == ["nuimay", "baolaocai"]
    bundled = load_site("nuimay")
    from baolaocai.settings import Settings

    assert site_ref("nuimay", Settings(site=bundled)) == "nuimay"
    # A site file inside the checkout: by its path from the root, the workers' folder.
    inside = REPO / "tests" / "flows" / "sites" / "doiche.toml"
    assert site_ref(str(inside), Settings(site=load_site(inside))) == (
        "tests/flows/sites/doiche.toml"
    )
    fake_root = REPO / "baolaocai"
    assert site_ref("x", Settings(site=bundled), repo_root=fake_root) == "sites/nuimay.toml"


def test_a_copy_of_a_site_goes_to_the_workers_and_its_host_is_limited() -> None:
    """For code that deploys sites served elsewhere (the scale-out benchmark's copies on
    loopback): the copy's address is a parameter of the runs that fetch, and the
    politeness limits are the copy's host's."""
    from baolaocai.settings import Settings
    from cli.deploy_command import SitePlan, host_caps, site_deployments

    copy = "http://127.0.0.1:8123"
    plan = SitePlan(Settings(site=load_site("nuimay")), "nuimay", LAKE, base_url=copy)
    assert plan.host == "127.0.0.1:8123"
    assert host_caps([plan]) == {"127.0.0.1:8123": (1.0, 2)}
    made = {
        f"{d.flow_name}/{d.name}": d
        for d in site_deployments(plan, cron="0 * * * *", timezone="Asia/Ho_Chi_Minh")
    }
    assert made["crawl/scheduled-nuimay"].parameters["base_url"] == copy
    assert made["backfill/manual-nuimay"].parameters["base_url"] == copy
    assert "base_url" not in made["reparse/manual-nuimay"].parameters  # offline
    assert all(d.job_variables == {"working_dir": "."} for d in made.values())
    # Without a copy, the site's own host, whatever BAOLAOCAI_BASE_URL says here.
    plain = SitePlan(Settings(site=load_site("nuimay"), base_url=copy), "nuimay", None)
    assert plain.host == "nuimay.vn"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--sites", "nuimay,no-such-paper"], "no bundled site of that name"),
        (["--sites", " , "], "--sites: name at least one site"),
        ([], "deploy needs --sites"),
        (["--sites", "nuimay", "--cron", "every hour"], "--cron 'every hour' is not a valid cron"),
        (["--sites", "nuimay", "--timezone", "Mars/Olympus"], "not a known time zone"),
        (["--sites", "nuimay", "--rate", "0"], "--rate must be"),
        (
            ["--sites", "nuimay", "--warehouse", "ducklake:sqlite:x.db"],
            "its catalog must be PostgreSQL",
        ),
    ],
)
def test_bad_input_is_one_line_and_makes_nothing(
    server: LocalPrefectServer, tmp_path: Path, args: list[str], says: str
) -> None:
    pool = f"untouched-{abs(hash(tuple(args))) % 10**8}"
    done = deploy(server, tmp_path, *args, "--pool", pool)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("error: ") and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""
    assert api(server, "GET", f"/work_pools/{pool}") is None
    assert deployments(server, pool) == {}


def test_a_pool_of_another_type_is_refused(server: LocalPrefectServer, tmp_path: Path) -> None:
    api(server, "POST", "/work_pools/", {"name": "docker-pool", "type": "docker"})
    done = deploy(server, tmp_path, "--sites", "nuimay", "--pool", "docker-pool")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "is a 'docker' pool" in done.stderr
    assert deployments(server, "docker-pool") == {}


def test_without_a_prefect_server(tmp_path: Path) -> None:
    done = deploy(None, tmp_path, "--sites", "nuimay")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: deploy needs a Prefect server: set PREFECT_API_URL (e.g. http://127.0.0.1:4200/api)"
    )
    gone = run_cli(
        "deploy", "--sites", "nuimay", cwd=tmp_path, PREFECT_API_URL="http://127.0.0.1:9/api"
    )
    assert gone.returncode == 1
    assert (
        gone.stderr.startswith("error: the Prefect server at http://127.0.0.1:9/api")
        and "does not answer" in gone.stderr
    )
