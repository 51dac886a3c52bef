"""The plain progress lines (cli/progress.py ``LineObserver``) say what the run does:
a crawl fetches N of M, a reparse reparses N (it knows no total and fetches nothing),
and a run that counted nothing here (a reparse whose parts ran on workers) closes
without numbers rather than "0 of 0 done"."""

from __future__ import annotations

import io

from cli.progress import LineObserver


def _lines(observer: LineObserver) -> list[str]:
    stream = observer.stream
    assert isinstance(stream, io.StringIO)
    return [line.split(" ", 2)[2] for line in stream.getvalue().splitlines()]


def test_a_crawl_fetches_n_of_m_and_closes_with_its_counts() -> None:
    watch = LineObserver(io.StringIO())
    watch.phase("discovery")
    watch.planned(3, 1, 0, 1.0)
    watch.fetched(2, 2, 0)
    watch.fetched(2, 1, 1)
    watch.phase("closing")
    lines = _lines(watch)
    assert lines[0] == "discovery …"
    assert lines[2].startswith("fetching: 2 of 4 done, 2 stored, 0 failed, about ")
    assert lines[3].startswith("fetching: 4 of 4 done, 3 stored, 1 failed")
    assert lines[4] == "closing: 4 of 4 done, 3 stored, 1 failed"


def test_a_reparse_reparses_and_claims_no_total() -> None:
    watch = LineObserver(io.StringIO())
    watch.phase("reparsing")
    watch.fetched(22, 22, 0)
    watch.phase("closing")
    assert _lines(watch) == [
        "reparsing …",
        "reparsing: 22 done, 22 stored, 0 failed",
        "closing: 22 done, 22 stored, 0 failed",
    ]


def test_a_run_that_counted_nothing_here_closes_without_numbers() -> None:
    watch = LineObserver(io.StringIO())
    watch.phase("reparsing")
    watch.phase("closing")
    assert _lines(watch) == ["reparsing …", "closing …"]
