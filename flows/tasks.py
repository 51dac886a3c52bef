"""Prefect tasks: each wraps one plain step of :mod:`pipeline.steps`, nothing more.

They run per batch (not per article: every task run costs API round trips), never
cache, and only the network steps retry (a whole batch again, after the fetcher's own
per-request retries gave up). :data:`TASK_STEPS` is what the flows hand to a run.
"""

from __future__ import annotations

from dataclasses import replace

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipeline import steps as plain

TASK_STEPS = replace(
    plain.PLAIN_STEPS,
    open_run=task(plain.open_run, name="open-run", cache_policy=NO_CACHE),
    close_run=task(plain.close_run, name="close-run", cache_policy=NO_CACHE),
    discover=task(
        plain.discover, name="discover", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=30
    ),
    discover_listings=task(
        plain.discover_listings,
        name="discover-listings",
        cache_policy=NO_CACHE,
        retries=1,
        retry_delay_seconds=30,
    ),
    recheck_candidates=task(
        plain.recheck_candidates, name="recheck-candidates", cache_policy=NO_CACHE
    ),
    fetch_batch=task(
        plain.fetch_batch,
        name="fetch-batch",
        cache_policy=NO_CACHE,
        retries=2,
        retry_delay_seconds=[10, 60],
    ),
    load_pages=task(plain.load_pages, name="load-batch", cache_policy=NO_CACHE),
    store_failures=task(plain.store_failures, name="store-failures", cache_policy=NO_CACHE),
    remember_sitemaps=task(
        plain.remember_sitemaps, name="remember-sitemaps", cache_policy=NO_CACHE
    ),
    refresh_search=task(plain.refresh_search, name="refresh-search-index", cache_policy=NO_CACHE),
    list_months=task(plain.list_months, name="list-months", cache_policy=NO_CACHE),
    list_month_articles=task(
        plain.list_month_articles, name="month-articles", cache_policy=NO_CACHE
    ),
    read_done_months=task(plain.read_done_months, name="done-months", cache_policy=NO_CACHE),
    finish_month=task(plain.finish_month, name="record-month", cache_policy=NO_CACHE),
    read_raw_batch=task(plain.read_raw_batch, name="read-raw-batch", cache_policy=NO_CACHE),
)
