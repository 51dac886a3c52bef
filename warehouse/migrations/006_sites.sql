-- 006: one warehouse, several newspapers. Every table gets `site` (the key of the site
-- file, baolaocai/sites/<key>.toml) and every key starts with it: two papers may number
-- their articles alike. Every row stored before is Báo Lào Cai's, the only site there
-- was. DuckDB cannot change a primary key in place, so each table is rebuilt (created
-- anew, filled, the old one dropped, the new one renamed), `site` first, and the views
-- are made again with a `site` column. No default for `site`: a writer that forgets it
-- fails instead of filing rows under the wrong paper.

DROP VIEW IF EXISTS latest_articles;
DROP VIEW IF EXISTS articles_per_day;
DROP VIEW IF EXISTS open_fetch_errors;
DROP VIEW IF EXISTS removed_articles;
DROP VIEW IF EXISTS articles_with_images;

CREATE TABLE articles_006 (
    site          VARCHAR NOT NULL,
    article_id    BIGINT NOT NULL,
    url           VARCHAR NOT NULL,
    title         VARCHAR,
    sapo          VARCHAR,
    body          VARCHAR NOT NULL,
    author        VARCHAR,
    published_at  TIMESTAMPTZ,
    modified_at   TIMESTAMPTZ,
    category      VARCHAR,
    tags          VARCHAR[] NOT NULL,
    source        VARCHAR,
    extraction_method VARCHAR,
    body_chars    INTEGER NOT NULL,
    paragraph_count INTEGER NOT NULL,
    missing_fields VARCHAR[] NOT NULL,
    word_count    INTEGER NOT NULL,
    image_count   INTEGER NOT NULL,
    content_hash  VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    listed_lastmod TIMESTAMPTZ,
    removed_at    TIMESTAMPTZ,
    field_conflicts VARCHAR[],
    PRIMARY KEY (site, article_id)
);
INSERT INTO articles_006 BY NAME SELECT 'baolaocai' AS site, * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_006 RENAME TO articles;

CREATE TABLE article_images_006 (
    site       VARCHAR NOT NULL,
    article_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,
    src        VARCHAR NOT NULL,
    caption    VARCHAR,
    PRIMARY KEY (site, article_id, position)
);
INSERT INTO article_images_006 BY NAME SELECT 'baolaocai' AS site, * FROM article_images;
DROP TABLE article_images;
ALTER TABLE article_images_006 RENAME TO article_images;

CREATE TABLE article_revisions_006 (
    site         VARCHAR NOT NULL,
    article_id   BIGINT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    title        VARCHAR,
    sapo         VARCHAR,
    body         VARCHAR,
    author       VARCHAR,
    published_at TIMESTAMPTZ,
    modified_at  TIMESTAMPTZ,
    category     VARCHAR,
    tags         VARCHAR[],
    source       VARCHAR,
    seen_at      TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR,
    PRIMARY KEY (site, article_id, version)
);
INSERT INTO article_revisions_006 BY NAME SELECT 'baolaocai' AS site, * FROM article_revisions;
DROP TABLE article_revisions;
ALTER TABLE article_revisions_006 RENAME TO article_revisions;

-- URLs are canonical with the site's own host, so they differ between sites anyway; the
-- key says whose page it is all the same.
CREATE TABLE raw_pages_006 (
    site          VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    article_id    BIGINT,
    fetched_at    TIMESTAMPTZ NOT NULL,
    status        INTEGER NOT NULL,
    etag          VARCHAR,
    last_modified VARCHAR,
    content_type  VARCHAR,
    html          VARCHAR,
    html_sha256   VARCHAR,
    run_id        VARCHAR,
    warc_file     VARCHAR,
    warc_offset   BIGINT,
    warc_length   BIGINT,
    digest        VARCHAR,
    record_id     VARCHAR,
    PRIMARY KEY (site, url)
);
INSERT INTO raw_pages_006 BY NAME SELECT 'baolaocai' AS site, * FROM raw_pages;
DROP TABLE raw_pages;
ALTER TABLE raw_pages_006 RENAME TO raw_pages;

-- Still no key or index (only appended; see 005).
CREATE TABLE captures_006 (
    site         VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    article_id   BIGINT,
    fetched_at   TIMESTAMPTZ NOT NULL,
    status       INTEGER NOT NULL,
    content_type VARCHAR,
    digest       VARCHAR NOT NULL,
    warc_file    VARCHAR NOT NULL,
    warc_offset  BIGINT NOT NULL,
    warc_length  BIGINT NOT NULL,
    record_id    VARCHAR NOT NULL,
    run_id       VARCHAR
);
INSERT INTO captures_006 BY NAME SELECT 'baolaocai' AS site, * FROM captures;
DROP TABLE captures;
ALTER TABLE captures_006 RENAME TO captures;

CREATE TABLE fetch_errors_006 (
    site        VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    status      INTEGER,
    error       VARCHAR NOT NULL,
    attempts    INTEGER NOT NULL,
    stage       VARCHAR NOT NULL,
    failed_at   TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    PRIMARY KEY (site, url, run_id)
);
INSERT INTO fetch_errors_006 BY NAME SELECT 'baolaocai' AS site, * FROM fetch_errors;
DROP TABLE fetch_errors;
ALTER TABLE fetch_errors_006 RENAME TO fetch_errors;

-- A run crawls one site; run ids stay unique across sites.
CREATE TABLE crawl_runs_006 (
    site               VARCHAR NOT NULL,
    run_id             VARCHAR PRIMARY KEY,
    flow_run_id        VARCHAR,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ,
    status             VARCHAR NOT NULL,
    base_url           VARCHAR,
    discovered         INTEGER NOT NULL DEFAULT 0,
    already_stored     INTEGER NOT NULL DEFAULT 0,
    articles_new       INTEGER NOT NULL DEFAULT 0,
    articles_updated   INTEGER NOT NULL DEFAULT 0,
    articles_unchanged INTEGER NOT NULL DEFAULT 0,
    articles_failed    INTEGER NOT NULL DEFAULT 0,
    requests           INTEGER NOT NULL DEFAULT 0,
    retries            INTEGER NOT NULL DEFAULT 0,
    responses_429      INTEGER NOT NULL DEFAULT 0,
    responses_304      INTEGER NOT NULL DEFAULT 0,
    bytes_downloaded   BIGINT NOT NULL DEFAULT 0,
    error              VARCHAR,
    rechecked          INTEGER DEFAULT 0,
    retried_failures   INTEGER DEFAULT 0,
    gone               INTEGER DEFAULT 0,
    records_fallback   INTEGER DEFAULT 0,
    records_missing_date INTEGER DEFAULT 0,
    records_missing_title INTEGER DEFAULT 0,
    records_short_body INTEGER DEFAULT 0,
    warning            VARCHAR,
    records_with_conflicts INTEGER DEFAULT 0,
    kind               VARCHAR,
    pid                INTEGER,
    host               VARCHAR,
    revisited          INTEGER DEFAULT 0,
    relisted           INTEGER DEFAULT 0,
    unlisted           INTEGER DEFAULT 0,
    removed            INTEGER DEFAULT 0,
    held_back          INTEGER DEFAULT 0,
    held_back_s        INTEGER DEFAULT 0
);
INSERT INTO crawl_runs_006 BY NAME SELECT 'baolaocai' AS site, * FROM crawl_runs;
DROP TABLE crawl_runs;
ALTER TABLE crawl_runs_006 RENAME TO crawl_runs;

CREATE TABLE sitemaps_006 (
    site          VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    lastmod       TIMESTAMPTZ,
    etag          VARCHAR,
    last_modified VARCHAR,
    articles      INTEGER NOT NULL,
    read_at       TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    PRIMARY KEY (site, url)
);
INSERT INTO sitemaps_006 BY NAME SELECT 'baolaocai' AS site, * FROM sitemaps;
DROP TABLE sitemaps;
ALTER TABLE sitemaps_006 RENAME TO sitemaps;

CREATE TABLE sitemap_articles_006 (
    site        VARCHAR NOT NULL,
    sitemap_url VARCHAR NOT NULL,
    article_id  BIGINT NOT NULL,
    lastmod     TIMESTAMPTZ,
    PRIMARY KEY (site, sitemap_url, article_id)
);
INSERT INTO sitemap_articles_006 BY NAME SELECT 'baolaocai' AS site, * FROM sitemap_articles;
DROP TABLE sitemap_articles;
ALTER TABLE sitemap_articles_006 RENAME TO sitemap_articles;

CREATE TABLE backfill_months_006 (
    site         VARCHAR NOT NULL,
    month        DATE NOT NULL,
    sitemap_url  VARCHAR NOT NULL,
    articles     INTEGER NOT NULL,
    stored       INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (site, month)
);
INSERT INTO backfill_months_006 BY NAME SELECT 'baolaocai' AS site, * FROM backfill_months;
DROP TABLE backfill_months;
ALTER TABLE backfill_months_006 RENAME TO backfill_months;

CREATE VIEW latest_articles AS
    SELECT site, article_id, published_at, category, title, author, url
    FROM articles ORDER BY published_at DESC NULLS LAST;

CREATE VIEW articles_per_day AS
    SELECT site, CAST(timezone('Asia/Ho_Chi_Minh', published_at) AS DATE) AS day,
           category, count(*) AS articles
    FROM articles WHERE published_at IS NOT NULL
    GROUP BY ALL ORDER BY day DESC, site, category;

-- A URL's failures are its site's: the latest attempt is looked for within the site.
CREATE VIEW open_fetch_errors AS
    SELECT e.* FROM fetch_errors e
    WHERE e.resolved_at IS NULL
      AND e.failed_at = (SELECT max(f.failed_at) FROM fetch_errors f
                         WHERE f.site = e.site AND f.url = e.url);

CREATE VIEW removed_articles AS
    SELECT site, article_id, url, title, published_at, removed_at, version, last_seen_at
    FROM articles WHERE removed_at IS NOT NULL ORDER BY removed_at DESC;

CREATE VIEW articles_with_images AS
    SELECT a.site, a.article_id, a.published_at, a.category, a.title, a.url,
           coalesce(list({'position': i.position, 'src': i.src, 'caption': i.caption}
                         ORDER BY i.position) FILTER (i.src IS NOT NULL), []) AS images
    FROM articles a LEFT JOIN article_images i USING (site, article_id)
    GROUP BY ALL;
