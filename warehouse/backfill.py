"""Backfill progress: which months of the archive are done."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from warehouse.db import transaction


def done_months(con: duckdb.DuckDBPyConnection) -> set[date]:
    rows = con.execute("SELECT month FROM backfill_months WHERE completed_at IS NOT NULL")
    return {r[0] for r in rows.fetchall()}


def record_month(
    con: duckdb.DuckDBPyConnection,
    *,
    month: date,
    sitemap_url: str,
    articles: int,
    stored: int,
    failed: int,
    completed_at: datetime | None,
) -> None:
    with transaction(con):
        con.execute(
            "INSERT OR REPLACE INTO backfill_months VALUES (?, ?, ?, ?, ?, ?)",
            [month, sitemap_url, articles, stored, failed, completed_at],
        )
