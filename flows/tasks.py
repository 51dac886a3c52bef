"""Prefect tasks: each wraps one plain step of :mod:`pipeline.steps`, nothing more.

They run per batch (not per article: every task run costs API round trips), never
cache, and only discovery retries (again, after the fetcher's own per-request retries
gave up). A batch's articles are fetched ahead while the batch before is loaded
(:meth:`pipeline.run.Run.fetch_and_load`); ``fetch-batch`` is the wait for them. :data:`TASK_STEPS` is what the flows hand to a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from pipeline import steps as plain

P = ParamSpec("P")
R = TypeVar("R")


def as_task(
    step: Callable[P, R],
    name: str,
    *,
    retries: int = 0,
    retry_delay_seconds: float | list[float] | None = None,
) -> Task[P, R]:
    """``step`` as a Prefect task of that name: never cached, retried as said."""
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=retries,
        retry_delay_seconds=retry_delay_seconds,
    )(step)


TASK_STEPS = replace(
    plain.PLAIN_STEPS,
    open_run=as_task(plain.open_run, "open-run"),
    close_run=as_task(plain.close_run, "close-run"),
    discover=as_task(plain.discover, "discover", retries=1, retry_delay_seconds=30),
    discover_listings=as_task(
        plain.discover_listings, "discover-listings", retries=1, retry_delay_seconds=30
    ),
    recheck_candidates=as_task(plain.recheck_candidates, "recheck-candidates"),
    # No retries: the batch is fetched ahead on the run's HTTP session (the fetcher retries
    # each request itself); this task hands it over, and a second try could not fetch it.
    fetch_batch=as_task(plain.fetch_batch, "fetch-batch"),
    load_pages=as_task(plain.load_pages, "load-batch"),
    store_failures=as_task(plain.store_failures, "store-failures"),
    record_listed_categories=as_task(plain.record_listed_categories, "record-listed-categories"),
    remember_sitemaps=as_task(plain.remember_sitemaps, "remember-sitemaps"),
    refresh_search=as_task(plain.refresh_search, "refresh-search-index"),
    list_months=as_task(plain.list_months, "list-months"),
    list_month_articles=as_task(plain.list_month_articles, "month-articles"),
    read_done_months=as_task(plain.read_done_months, "done-months"),
    finish_month=as_task(plain.finish_month, "record-month"),
    read_raw_batch=as_task(plain.read_raw_batch, "read-raw-batch"),
)
