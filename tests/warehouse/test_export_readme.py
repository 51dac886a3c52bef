"""The README's Python snippets for reading the warehouse and an export (#22), run as a
user runs them: a fresh Python in a folder holding ``warehouse/demo.duckdb`` (what the
quick start writes) and ``export/`` (``baolaocai export --format parquet --out export/``).

The snippets are kept here, and the README shows them verbatim (*Querying* and
*Exports*): change one, copy it over. The first two need nothing beyond a plain install,
and run here with numpy and pandas made unimportable (the README's old ``.df()`` snippet
failed so: ``No module named 'numpy'``); the pandas ones need the ``pandas`` extra
(``uv run --extra pandas python``), which pyproject.toml declares.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from warehouse.db import connect
from warehouse.export import export

QUERYING = """\
import duckdb

# The demo's warehouse; a crawl's is warehouse/baolaocai.duckdb
con = duckdb.connect("warehouse/demo.duckdb", read_only=True)
con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")  # Vietnam time (ICU, built into duckdb)
rows = con.sql(
    "SELECT published_date, published_at, category, title FROM articles"
    " ORDER BY published_at DESC LIMIT 5"
).fetchall()
for day, published_at, category, title in rows:
    print(day, published_at.isoformat(), category, title)
per_day = con.sql("SELECT * FROM articles_per_day").to_arrow_table()  # pyarrow, no numpy
"""

QUERYING_PANDAS = """\
import duckdb

con = duckdb.connect("warehouse/demo.duckdb", read_only=True)
df = con.sql("SELECT published_at, published_date, category, title FROM articles").df()
df["published_at"] = df["published_at"].dt.tz_convert("Asia/Ho_Chi_Minh")
print(df.groupby("published_date").size().tail())
"""

EXPORTS = """\
import duckdb

con = duckdb.connect()
con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")  # else times show in your machine's zone
articles = "read_parquet('export/articles/**/*.parquet', hive_partitioning = true)"
print(con.sql(f"SELECT year, month, count(*) FROM {articles} GROUP BY ALL ORDER BY ALL").fetchall())
edited = con.sql(
    f"SELECT a.published_date, a.title, r.version, r.seen_at FROM {articles} a"
    " JOIN 'export/article_revisions/*.parquet' r USING (site, article_id)"
    " ORDER BY a.published_at, r.version"
).fetchall()
"""

EXPORTS_PANDAS = """\
import pandas as pd

articles = pd.read_parquet("export/articles")  # published_at in Vietnam time
print(articles.groupby("published_date").size().tail())
print(articles["published_at"].dt.date.min(), articles["year"].astype(int).max())
revisions = pd.read_parquet("export/article_revisions")
images = pd.read_parquet("export/article_images")
"""

README_SNIPPETS = {
    "querying": QUERYING,
    "querying_pandas": QUERYING_PANDAS,
    "exports": EXPORTS,
    "exports_pandas": EXPORTS_PANDAS,
}
"""What the README shows, by where."""


@pytest.fixture(scope="module")
def user_folder(filled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder a user runs the snippets in: a warehouse where the quick start puts
    one, and a Parquet export of it in ``export/``."""
    folder = tmp_path_factory.mktemp("user")
    (folder / "warehouse").mkdir()
    shutil.copy(filled, folder / "warehouse" / "demo.duckdb")
    con = connect(folder / "warehouse" / "demo.duckdb", read_only=True)
    try:
        export(con, folder / "export", "parquet")
    finally:
        con.close()
    return folder


@pytest.fixture(scope="module")
def no_numpy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ``numpy`` and ``pandas`` fail to import, first on ``PYTHONPATH``:
    a Python without them."""
    folder = tmp_path_factory.mktemp("no-numpy")
    for name in ("numpy", "pandas"):
        (folder / f"{name}.py").write_text(
            f"raise ImportError(\"No module named '{name}'\")\n", encoding="utf-8"
        )
    return folder


def run(snippet: str, cwd: Path, pythonpath: Path | None = None) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TZ": "UTC"}  # a UTC machine
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{snippet}\n{result.stderr[-3000:]}"
    return result.stdout


def test_the_blocker_really_hides_numpy(user_folder: Path, no_numpy: Path) -> None:
    """Else the tests below would prove nothing: the old README snippet fails with it."""
    old = (
        'import duckdb\ncon = duckdb.connect("warehouse/demo.duckdb", read_only=True)\n'
        'df = con.sql("SELECT published_at, category, title FROM articles").df()\n'
    )
    result = subprocess.run(
        [sys.executable, "-c", old],
        cwd=user_folder,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(no_numpy)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and "numpy" in result.stderr


def test_the_querying_snippet_needs_no_numpy_and_shows_vietnam_time(
    user_folder: Path, no_numpy: Path
) -> None:
    lines = run(QUERYING, user_folder, no_numpy).splitlines()
    assert len(lines) == 5
    for line in lines:
        day, published_at = line.split(" ")[:2]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", day) and published_at.endswith("+07:00")
        assert published_at.startswith(day)  # the Vietnam day of the Vietnam time


def test_the_exports_snippet_needs_no_numpy_and_reads_integer_months(
    user_folder: Path, no_numpy: Path
) -> None:
    (counts,) = run(EXPORTS, user_folder, no_numpy).splitlines()
    assert "(2025, 1, " in counts and "'01'" not in counts


def test_the_pandas_snippets(user_folder: Path) -> None:
    assert "2025-" in run(QUERYING_PANDAS, user_folder)
    out = run(EXPORTS_PANDAS, user_folder).splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 2025", out[-1]), out


def test_pyproject_offers_pandas_as_an_extra() -> None:
    """The README tells pandas users ``uv run --extra pandas`` / ``baolaocai[pandas]``."""
    pyproject = tomllib.loads(
        (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    )
    extra = pyproject["project"]["optional-dependencies"]["pandas"]
    assert any(re.match(r"pandas\b", requirement) for requirement in extra)
