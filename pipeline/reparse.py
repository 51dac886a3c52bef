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
"""

from __future__ import annotations

import dataclasses

from baolaocai import progress
from baolaocai.errors import CrawlError
from baolaocai.identity import article_id
from baolaocai.models import Failure, FetchedPage, StagedArticle
from baolaocai.settings import Settings
from pipeline.run import Run
from pipeline.steps import PLAIN_STEPS, Steps
from warehouse.state import NO_RECHECKS

REPARSE_BATCH = 1000
"""Parsed pages stored per transaction."""
READ_PAGES = 200
"""Stored pages read from the archive at a time (one short read of the warehouse: each
opens it, some 40 ms)."""
AHEAD_CHUNKS = 2
"""Chunks of pages read and not yet taken back parsed: enough that the workers have
pages while the run loads a batch, few enough to keep memory flat (~60 MB of HTML)."""


def reparse_archive(
    settings: Settings,
    *,
    batch_size: int = REPARSE_BATCH,
    steps: Steps = PLAIN_STEPS,
    flow_run_id: str | None = None,
) -> Run:
    """Parse every stored raw article page again; store what changed as new versions.

    Unchanged records keep their ``last_seen_at`` (the site was not seen). Pages are read,
    parsed and loaded as a stream (see the module docstring), so memory does not grow
    with the archive and every core parses.
    """
    run = Run(settings, "reparse", steps=steps, policy=NO_RECHECKS, flow_run_id=flow_run_id)
    run.extra["pages"] = 0
    read_size = max(1, min(READ_PAGES, batch_size))

    def body(r: Run) -> None:
        watch = progress.current()
        watch.phase("reparsing")
        site = settings.site
        after = -1
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
                    chunk = steps.read_raw_batch(settings, r.warehouse, after, read_size)
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
