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

-- Articles with their pictures as one list each (for notebooks and exports by hand).
CREATE VIEW articles_with_images AS
    SELECT a.article_id, a.published_at, a.category, a.title, a.url,
           coalesce(list({'position': i.position, 'src': i.src, 'caption': i.caption}
                         ORDER BY i.position) FILTER (i.src IS NOT NULL), []) AS images
    FROM articles a LEFT JOIN article_images i USING (article_id)
    GROUP BY ALL;
