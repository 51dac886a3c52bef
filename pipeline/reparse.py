"""A reparse: every stored raw article page parsed again, offline, on every core.

Three things go on at once, so that the parsing workers (every core,
:class:`~transforms.parallel.ParseStream`) never wait for the run's own process:

1. the run's thread **reads** the stored pages from the web archive, :data:`READ_PAGES`
   at a time, in ``article_id`` order (keyset pagination), and hands each chunk to the
   workers while fewer than :data:`AHEAD_CHUNKS` chunks are in flight;
2. the workers **parse** them, one page at a time, each under the run's deadline;
3. the run's thread **loads** the parsed pages ``batch_size`` at a time
   (:data:`REPARSE_BATCH`, one transaction each: the loader's cost per transaction is
   paid once per thousand pages, not once per two hundred), while the workers parse the
   chunks after them.

Memory stays flat whatever the archive's size: at most :data:`AHEAD_CHUNKS` chunks of
pages, and the records of one load batch (their pages without their HTML), are held.
The records, failures, counts and rows are those of parsing and loading the pages
batch by batch in one process (a test compares them).

**In parts, on several workers** (:func:`reparse_in_parts`, a lake): the run holds the
site's writer lock, cuts the stored pages into ranges of article ids
(:func:`warehouse.raw.reparse_parts`) and has each range reparsed by a run of its own
(:func:`reparse_archive` with ``part``: a *part*, which takes no lock and writes only
the articles of its range), side by side on the workers. Each article is parsed and
loaded by exactly the code that would have done it in one run, so the articles and
their versions come out the same (``benchmarks/scale_out.py`` compares them); the parts'
counts, read back from their ``crawl_runs`` rows, are the run's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from baolaocai import progress
from baolaocai.errors import CrawlError
from baolaocai.identity import article_id
from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.settings import Settings
from pipeline.run import Run
from pipeline.steps import PLAIN_STEPS, Steps, plan_reparse_parts
from warehouse.state import NO_RECHECKS

REPARSE_BATCH = 1000
"""Parsed pages stored per transaction."""
READ_PAGES = 200
"""Stored pages read from the archive at a time (one short read of the warehouse: each
opens it, some 40 ms)."""
AHEAD_CHUNKS = 2
"""Chunks of pages read and not yet taken back parsed: enough that the workers have
pages while the run loads a batch, few enough to keep memory flat (~60 MB of HTML)."""


@dataclass(frozen=True)
class ReparsePart:
    """One part of a reparse in parts: the stored pages of article ids ``first_id`` to
    ``last_id`` (both included), reparsed by a run of id ``run_id``."""

    run_id: str
    first_id: int
    last_id: int
    part_of: str


def reparse_archive(
    settings: Settings,
    *,
    batch_size: int = REPARSE_BATCH,
    steps: Steps = PLAIN_STEPS,
    flow_run_id: str | None = None,
    part: ReparsePart | None = None,
) -> Run:
    """Parse every stored raw article page again; store what changed as new versions.

    Unchanged records keep their ``last_seen_at`` (the site was not seen). Pages are read,
    parsed and loaded as a stream (see the module docstring), so memory does not grow
    with the archive and every core parses. With ``part``: only the pages of its range,
    as a part of the run that holds the writer lock (:func:`reparse_in_parts`).
    """
    run = Run(
        settings,
        "reparse",
        steps=steps,
        policy=NO_RECHECKS,
        flow_run_id=flow_run_id,
        run_id=part.run_id if part else "",
        part_of=part.part_of if part else None,
    )
    run.extra["pages"] = 0
    read_size = max(1, min(READ_PAGES, batch_size))
    upto = part.last_id if part else None

    def body(r: Run) -> None:
        watch = progress.current()
        watch.phase("reparsing")
        site = settings.site
        after = part.first_id - 1 if part else -1
        parsed = 0
        exhausted = False
        pages: list[FetchedPage] = []
        staged: list[StagedArticle] = []
        failures: list[Failure] = []

        def load() -> None:
            nonlocal parsed, pages, staged, failures
            result = steps.load_pages(
                settings,
                r.warehouse,
                r.parse_pool,
                r.run_id,
                pages,
                None,
                touch_unchanged=False,
                parsed=(staged, failures),
            )
            r.count_batch(pages, result)
            c = result.counts
            parsed += c.new + c.updated + c.unchanged
            watch.fetched(len(pages), c.new + c.updated + c.unchanged, c.failed)
            r.extra["pages"] += len(pages)
            pages, staged, failures = [], [], []

        stream = r.parse_pool.stream(
            site, deadline=settings.parse_deadline, max_elements=settings.max_page_elements
        )
        with stream:
            while True:
                while not exhausted and stream.outstanding < AHEAD_CHUNKS * read_size:
                    chunk = steps.read_raw_batch(settings, r.warehouse, after, read_size, upto)
                    if not chunk:
                        exhausted = True
                        break
                    after = max(article_id(p.url, site) or after for p in chunk)
                    stream.put(chunk)
                if not stream.outstanding:
                    break
                chunk, chunk_staged, chunk_failures = stream.take()
                # Parsed: the HTML is not needed any more (the page is archived already).
                pages += [dataclasses.replace(p, html=None) for p in chunk]
                staged += chunk_staged
                failures += chunk_failures
                if len(pages) >= batch_size:
                    load()
            if pages:
                load()
        if r.extra["pages"] and not parsed:
            raise CrawlError(
                f"none of the {r.extra['pages']} stored pages gave an article with the site"
                f" file {settings.site.path} ({settings.site.key}); no article was changed:"
                " check the site file ('baolaocai sites check FILE --page PAGE')"
            )

    return run.execute(body)


RunParts = Callable[[Sequence[ReparsePart]], None]
"""Runs the parts (on the workers of a pool, or one after another here) and returns when
every one has ended, however it ended."""

PART_COUNTERS = (
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_failed",
    "records_fallback",
    "records_missing_date",
    "records_missing_title",
    "records_short_body",
    "records_with_conflicts",
)


def reparse_in_parts(
    settings: Settings,
    *,
    parts: int,
    run_parts: RunParts,
    steps: Steps = PLAIN_STEPS,
    flow_run_id: str | None = None,
) -> Run:
    """A reparse of the site in ``parts`` parts run by ``run_parts`` (see the module
    docstring). The run fails, naming it, when a part did not complete: the parts that
    did keep what they stored, and a reparse run again redoes only what changed."""
    run = Run(settings, "reparse", steps=steps, policy=NO_RECHECKS, flow_run_id=flow_run_id)
    run.extra["pages"] = 0

    def body(r: Run) -> None:
        progress.current().phase("reparsing")
        ranges = plan_reparse_parts(settings, r.warehouse, parts)
        plan = [
            ReparsePart(f"{r.run_id}-part{i}", first, last, r.run_id)
            for i, (first, last) in enumerate(ranges, start=1)
        ]
        r.extra["parts"] = [dataclasses.asdict(p) for p in plan]
        run_parts(plan)
        with r.warehouse.reading() as con:
            names = ", ".join(PART_COUNTERS)
            rows = con.execute(
                f"SELECT run_id, status, error, {names} FROM crawl_runs"
                " WHERE run_id IN (SELECT unnest(?::VARCHAR[]))",
                [[p.run_id for p in plan]],
            ).fetchall()
        found = {str(row[0]): row for row in rows}
        s = r.summary
        for row in found.values():
            for name, value in zip(PART_COUNTERS, row[3:], strict=True):
                setattr(s, name, getattr(s, name) + int(value or 0))
        r.extra["pages"] = s.articles_new + s.articles_updated + s.articles_unchanged
        r.extra["pages"] += s.articles_failed
        unfinished = [
            f"{p.run_id} ({found[p.run_id][1]}: {found[p.run_id][2]})"
            if p.run_id in found
            else f"{p.run_id} (never started)"
            for p in plan
            if p.run_id not in found or found[p.run_id][1] != "completed"
        ]
        if unfinished:
            raise CrawlError(
                f"{len(unfinished)} of {len(plan)} parts of the reparse did not complete: "
                + "; ".join(unfinished[:3])
            )

    return run.execute(body)


def run_parts_here(
    settings: Settings, *, batch_size: int = REPARSE_BATCH, steps: Steps = PLAIN_STEPS
) -> RunParts:
    """``run_parts`` for one process: the parts one after another (a file warehouse, or a
    lake without a work pool); the same result as a pool's."""

    def run(plan: Sequence[ReparsePart]) -> None:
        for part in plan:
            reparse_archive(settings, batch_size=batch_size, steps=steps, part=part)

    return run
