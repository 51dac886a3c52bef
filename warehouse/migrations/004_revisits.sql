-- 004: every edit and every takedown. What the site listed for an article (its sitemap or
-- feed <lastmod>/<updated>) when we last fetched it, when the site said it is gone, the
-- sitemaps as we last read them (validators and which articles each listed), and who ran
-- each run (so a new run marks as interrupted only runs whose process is dead).

ALTER TABLE articles ADD COLUMN listed_lastmod TIMESTAMPTZ;  -- newest <lastmod> seen with a fetch
ALTER TABLE articles ADD COLUMN removed_at TIMESTAMPTZ;      -- first 404/410 on a later visit
-- Quality signal: per field, two sources of the page that disagreed and which won.
ALTER TABLE articles ADD COLUMN field_conflicts VARCHAR[];
ALTER TABLE crawl_runs ADD COLUMN records_with_conflicts INTEGER DEFAULT 0;

CREATE TABLE sitemaps (
    url           VARCHAR PRIMARY KEY,   -- canonical URL of a child sitemap
    lastmod       TIMESTAMPTZ,           -- its <lastmod> in the index when we read it
    etag          VARCHAR,               -- validators for a conditional re-read
    last_modified VARCHAR,
    articles      INTEGER NOT NULL,      -- article URLs it listed
    read_at       TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR
);

-- Which articles each sitemap listed when last read (to notice one that disappears).
CREATE TABLE sitemap_articles (
    sitemap_url VARCHAR NOT NULL,
    article_id  BIGINT NOT NULL,
    lastmod     TIMESTAMPTZ,
    PRIMARY KEY (sitemap_url, article_id)
);

ALTER TABLE crawl_runs ADD COLUMN kind VARCHAR;               -- crawl | backfill | reparse
ALTER TABLE crawl_runs ADD COLUMN pid INTEGER;
ALTER TABLE crawl_runs ADD COLUMN host VARCHAR;
ALTER TABLE crawl_runs ADD COLUMN revisited INTEGER DEFAULT 0;  -- old articles revisited
ALTER TABLE crawl_runs ADD COLUMN relisted INTEGER DEFAULT 0;   -- rechecked for a newer <lastmod>
ALTER TABLE crawl_runs ADD COLUMN unlisted INTEGER DEFAULT 0;   -- rechecked: left their sitemap
ALTER TABLE crawl_runs ADD COLUMN removed INTEGER DEFAULT 0;    -- stored articles found gone
ALTER TABLE crawl_runs ADD COLUMN held_back INTEGER DEFAULT 0;  -- 429/503 that held the host
ALTER TABLE crawl_runs ADD COLUMN held_back_s INTEGER DEFAULT 0; -- seconds the host was held

-- Articles the site took down: their rows and every version stay.
CREATE VIEW removed_articles AS
    SELECT article_id, url, title, published_at, removed_at, version, last_seen_at
    FROM articles WHERE removed_at IS NOT NULL ORDER BY removed_at DESC;

-- Articles with their pictures as one list each (for notebooks and exports by hand).
-- Shipped first by an edit of the released migration 003, so warehouses made before that
-- edit never got it; CREATE OR REPLACE serves both kinds.
CREATE OR REPLACE VIEW articles_with_images AS
    SELECT a.article_id, a.published_at, a.category, a.title, a.url,
           coalesce(list({'position': i.position, 'src': i.src, 'caption': i.caption}
                         ORDER BY i.position) FILTER (i.src IS NOT NULL), []) AS images
    FROM articles a LEFT JOIN article_images i USING (article_id)
    GROUP BY ALL;
