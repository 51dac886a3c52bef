-- 003: backfill progress, one row per month of the site's archive. A month is done when
-- every article its sitemap listed was stored or recorded as failed; a resumed backfill
-- skips done months without a request.
CREATE TABLE backfill_months (
    month        DATE PRIMARY KEY,
    sitemap_url  VARCHAR NOT NULL,
    articles     INTEGER NOT NULL,
    stored       INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    completed_at TIMESTAMPTZ
);
