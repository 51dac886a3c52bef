"""Work budgets under the size caps: a page of millions of elements is refused before a tree
is built, a page that parses for ever is stopped by a deadline in a worker process, and the
workers never outlive their run.

The hostile pages are made here, never saved (a few MB each)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from multiprocessing.connection import wait as real_wait
from pathlib import Path
from typing import Any

import pytest

from baolaocai.errors import ParseError
from baolaocai.models import Failure, FetchedPage
from baolaocai.processes import process_alive
from baolaocai.settings import PAGE_ELEMENTS_DEFAULT, PARSE_DEADLINE_DEFAULT, Settings
from baolaocai.site import default_site
from sitecopy import SITE_DIR
from transforms import parallel
from transforms.parallel import MIN_PAGES, ParsePool
from transforms.parse import element_count, parse_article
from transforms.pipeline import process_pages

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
PARSING = Path(__file__).resolve().parent
HEAD = "<html><head><title>Bom</title></head><body><h1>Tiêu đề</h1>"
TAIL = "</body></html>"
BUDGET = re.compile(r"too many elements: about (\d+), over (\d+) \(a page's budget\)$")


def tag_bomb() -> str:
    """The reported page: 7.2 MB of 2.4 million ``<p>``."""
    return HEAD + "<p>" * 2_400_000 + TAIL


def hostile_pages() -> dict[str, str]:
    return {
        "tag bomb": tag_bomb(),
        "closed paragraphs": HEAD + "<p>x</p>" * 600_000 + TAIL,
        "nested 100k deep": HEAD + "<div>" * 100_000 + "x" + "</div>" * 100_000 + TAIL,
        "pictures": HEAD + "<p>t</p>" + '<img src="/a.jpg">' * 400_000 + TAIL,
        "comments": HEAD + "<!-- x -->" * 300_000 + "<p>t</p>" + TAIL,
    }


def slow_page() -> str:
    """Under the element budget, yet seconds to parse: one text node of 12 MB (some 16 s
    on the machine this was measured on)."""
    return HEAD + "<p>" + "chữ " * 2_000_000 + "</p>" + TAIL


def fetched(url: str, html: str) -> FetchedPage:
    return FetchedPage(url, url, 200, NOW, html, body=html.encode())


def good_pages() -> list[FetchedPage]:
    return [
        fetched(f"https://baolaocai.vn/{path.name}", path.read_text(encoding="utf-8"))
        for path in sorted(SITE_DIR.glob("*-post*.html"))
    ]


def saved_pages() -> list[Path]:
    return [p for p in PARSING.rglob("*") if p.suffix in (".html", ".htm") and p.is_file()]


# -- the element budget ------------------------------------------------------------------


def test_the_budget_is_far_above_every_saved_page() -> None:
    pages = saved_pages()
    assert len(pages) > 100
    most = max(element_count(p.read_text(encoding="utf-8", errors="replace")) for p in pages)
    assert most * 100 < PAGE_ELEMENTS_DEFAULT, most


def test_the_budget_is_a_setting_and_the_parsers_default() -> None:
    assert Settings().max_page_elements == PAGE_ELEMENTS_DEFAULT
    assert Settings().parse_deadline == PARSE_DEADLINE_DEFAULT


@pytest.mark.parametrize("name", list(hostile_pages()))
def test_a_page_over_the_budget_is_refused_before_it_is_parsed(name: str) -> None:
    html = hostile_pages()[name]
    started = time.perf_counter()
    with pytest.raises(ParseError) as caught:
        parse_article(html, "https://baolaocai.vn/bom-post1.html", site=default_site())
    took = time.perf_counter() - started
    assert took < 1.0, took  # building the tree took minutes (the tag bomb: 136 s)
    found = BUDGET.search(caught.value.message)
    assert found is not None, caught.value.message
    assert int(found.group(1)) > PAGE_ELEMENTS_DEFAULT == int(found.group(2))


def test_the_budget_counts_elements_not_bytes() -> None:
    html = good_pages()[0].html
    assert html is not None
    count = element_count(html)
    assert 20 < count < 2_000
    url = "https://baolaocai.vn/a-post1.html"
    assert parse_article(html, url, site=default_site(), max_elements=count).title
    with pytest.raises(ParseError, match="too many elements"):
        parse_article(html, url, site=default_site(), max_elements=count - 1)
    # A long text is not many elements.
    assert element_count(HEAD + "<p>" + "chữ " * 100_000 + "</p>" + TAIL) < 10


def test_a_batch_with_a_tag_bomb_loses_only_that_page_as_a_parse_failure() -> None:
    good = good_pages()[:3]
    bomb = fetched("https://baolaocai.vn/bom-post9.html", tag_bomb())
    staged, failures = process_pages([good[0], bomb, *good[1:]], default_site())
    assert staged == process_pages(good, default_site())[0]
    assert [(f.url, f.stage) for f in failures] == [(bomb.url, "parse")]
    assert BUDGET.search(failures[0].error)


@pytest.mark.slow
def test_parsing_the_tag_bomb_takes_little_memory(tmp_path: Path) -> None:
    """Peak RSS of a process that parses the reported page: a few MB over the page itself
    (it was 2.2 GB, for a crawl)."""
    script = textwrap.dedent(
        f"""
        import resource, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(PARSING)!r}]
        from baolaocai.site import default_site
        from transforms.pipeline import process_pages
        from test_work_budgets import fetched, tag_bomb
        site = default_site()
        page = fetched("https://baolaocai.vn/bom-post9.html", tag_bomb())
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        staged, failures = process_pages([page], site)
        assert not staged and failures[0].stage == "parse", failures
        print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    before_kb, after_kb = map(int, result.stdout.split())
    assert after_kb - before_kb < 64 * 1024, (before_kb, after_kb)


# -- the deadline --------------------------------------------------------------------------


def expected_with(pages: list[FetchedPage], slow: set[str], reason: str) -> object:
    """What :func:`process_pages` gives for ``pages``, but for the ``slow`` ones: a parse
    failure with ``reason``, in its place."""
    staged, failures = [], []
    for page in pages:
        if page.url in slow:
            failures.append(Failure(page.url, "parse", reason, page.status, page.attempts))
            continue
        part_staged, part_failures = process_pages([page], default_site())
        staged += part_staged
        failures += part_failures
    return staged, failures


def test_a_page_past_the_deadline_is_a_failure_and_the_batch_goes_on() -> None:
    good = good_pages()
    slow = fetched("https://baolaocai.vn/cham-post7.html", slow_page())
    pages = [*good[:5], slow, *good[5:10]]
    with ParsePool(workers=2) as pool:
        assert pool.process(good[:2], default_site(), deadline=1) == process_pages(
            good[:2], default_site()
        )
        first = pool.pids
        started = time.monotonic()
        result = pool.process(pages, default_site(), deadline=1)
        took = time.monotonic() - started
        assert result == expected_with(
            pages, {slow.url}, "parse took longer than 1 s (a page's deadline)"
        )
        assert took < 10, took
        assert len(pool.pids) == 1 and pool.pids != first  # killed, and replaced
        assert not any(process_alive(pid) for pid in first)
        assert not pool.broken
        # The fresh worker parses the next batch as ever.
        assert pool.process(good, default_site(), deadline=1) == process_pages(good, default_site())


def test_the_deadline_holds_in_a_big_batch_on_several_workers() -> None:
    good = good_pages()
    slow = [fetched(f"https://baolaocai.vn/cham-post{i}.html", slow_page()) for i in (7, 8)]
    pages = [*good, slow[0], *good, slow[1], *good]
    pages += good * max(0, -(-(MIN_PAGES - len(pages)) // len(good)))
    assert len(pages) >= MIN_PAGES
    with ParsePool(workers=2) as pool:
        result = pool.process(pages, default_site(), deadline=1)
        assert len(pool.pids) == 2
    reason = "parse took longer than 1 s (a page's deadline)"
    assert result == expected_with(pages, {p.url for p in slow}, reason)


def test_a_page_that_kills_two_workers_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker dying under a page (out of memory, a crash in C) is given a second chance
    on a fresh worker; a page that kills that one too is a failure, and only it."""
    good = good_pages()[:4]
    with ParsePool(workers=1) as pool:
        assert pool.process(good, default_site(), deadline=30) == process_pages(
            good, default_site()
        )
        killed: list[int] = []
        hand = ParsePool._hand

        def kill_on_the_poison(self: ParsePool, w: Any, index: int, batch: Any) -> None:
            if index == 2:  # as if the page killed it
                os.kill(w.process.pid, signal.SIGKILL)
                w.process.join()
                killed.append(w.process.pid)
            hand(self, w, index, batch)

        monkeypatch.setattr(ParsePool, "_hand", kill_on_the_poison)
        result = pool.process(good, default_site(), deadline=30)
        assert len(killed) == 2
        assert result == expected_with(
            good, {good[2].url}, "the parsing process died (killed by SIGKILL)"
        )
        assert not pool.broken and len(pool.pids) == 1


# -- workers never outlive their run -------------------------------------------------------

RUN = """
import os, sys, threading
sys.path[:0] = [{root!r}, {parsing!r}]
from baolaocai.site import default_site
from test_work_budgets import fetched, good_pages, slow_page
from transforms.parallel import ParsePool

if __name__ == "__main__":
    pages = good_pages() * 10
    pool = ParsePool(workers=2)
    pool.process(pages, default_site())
    me = os.getpid()
    helpers = open(f"/proc/{{me}}/task/{{me}}/children").read().split()
    print(" ".join(map(str, pool.pids)), "|", " ".join(helpers), flush=True)
    if {busy!r}:  # the workers are parsing when the run dies
        pages = [fetched(f"https://baolaocai.vn/c-post{{i}}.html", slow_page()) for i in (1, 2)]
        pool.process(pages * 30, default_site(), deadline=600)
    else:
        threading.Event().wait()
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("busy", [False, True], ids=["idle", "parsing"])
def test_kill_9_of_the_run_ends_its_workers_forkserver_and_resource_tracker(
    tmp_path: Path, busy: bool
) -> None:
    script = tmp_path / "run.py"
    script.write_text(RUN.format(root=str(ROOT), parsing=str(PARSING), busy=busy))
    run = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert run.stdout is not None
        line = run.stdout.readline()
        workers, helpers = (list(map(int, part.split())) for part in line.split("|"))
        assert len(workers) == 2 and len(helpers) == 2, line  # forkserver, resource tracker
        if busy:
            time.sleep(1.0)  # both workers are inside a page
        run.kill()
        run.wait(10)
        left = workers + helpers
        end = time.monotonic() + 10
        while time.monotonic() < end and any(process_alive(p) for p in left):
            time.sleep(0.1)
        assert [p for p in left if process_alive(p)] == []
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


def test_a_batch_cut_short_leaves_no_answer_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the workers parse: the next batch gets its own records, not the rest
    of the interrupted batch's."""
    good = good_pages()
    with ParsePool(workers=2) as pool:

        def interrupted(*args: Any, **kwargs: Any) -> Any:
            monkeypatch.setattr(parallel, "wait", real_wait)
            raise KeyboardInterrupt

        monkeypatch.setattr(parallel, "wait", interrupted)
        with pytest.raises(KeyboardInterrupt):
            pool.process(good * 10, default_site(), deadline=30)
        assert pool.process(good[3:6], default_site(), deadline=30) == process_pages(
            good[3:6], default_site()
        )


def test_a_page_needing_more_memory_than_a_worker_has_is_a_failure() -> None:
    """Under the element budget, yet hundreds of MB: one element of 600,000 attributes.
    A worker capped at 256 MiB fails that page, and parses the others as ever."""
    good = good_pages()[:4]
    attrs = " ".join(f"a{i}=x" for i in range(600_000))
    heavy = fetched("https://baolaocai.vn/nang-post9.html", f"{HEAD}<p {attrs}>t</p>{TAIL}")
    pages = [*good[:2], heavy, *good[2:]]
    with ParsePool(workers=1, memory=256 * 1024 * 1024) as pool:
        staged, failures = pool.process(pages, default_site(), deadline=60)
    want_staged, want_failures = process_pages(good, default_site())
    assert staged == want_staged and want_failures == []
    assert [(f.url, f.stage) for f in failures] == [(heavy.url, "parse")]
    assert "MemoryError" in failures[0].error or "died" in failures[0].error, failures[0].error


@pytest.mark.parametrize(
    "body",
    [
        "chữ " * 400_000,
        "x" * 1_500_000,
        "".join(
            f"<p>Đoạn văn thứ {i} của một trang không phải bài báo.</p>" for i in range(30_000)
        ),
    ],
    ids=["one-giant-text-node", "one-giant-word", "30k-paragraphs"],
)
def test_a_page_of_more_text_than_any_article_is_not_stored(body: str) -> None:
    text = body if body.startswith("<p>") else f"<p>{body}</p>"
    page = fetched("https://baolaocai.vn/dai-post11.html", f"{HEAD}{text}{TAIL}")
    staged, failures = process_pages([page], default_site())
    assert staged == []
    assert [(f.stage, f.url) for f in failures] == [("validate", page.url)]
    assert "more than any article" in failures[0].error
