"""Backfill progress: which months of each site's archive are done."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from baolaocai.site import Site
from warehouse.db import transaction
from warehouse.lake import retry_on_conflict, upsert_statement


def done_months(con: duckdb.DuckDBPyConnection, site: Site) -> set[date]:
    rows = con.execute(
        "SELECT month FROM backfill_months WHERE site = ? AND completed_at IS NOT NULL",
        [site.key],
    )
    return {r[0] for r in rows.fetchall()}


@retry_on_conflict
def record_month(
    con: duckdb.DuckDBPyConnection,
    *,
    site: Site,
    month: date,
    sitemap_url: str,
    articles: int,
    stored: int,
    failed: int,
    completed_at: datetime | None,
) -> None:
    with transaction(con):
        columns = ("site", "month", "sitemap_url", "articles", "stored", "failed")
        con.execute(
            upsert_statement(
                con,
                "backfill_months",
                (*columns, "completed_at"),
                ("site", "month"),
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ),
            [site.key, month, sitemap_url, articles, stored, failed, completed_at],
        )
