-- 001: the first warehouse schema. Every instant is TIMESTAMPTZ (stored as UTC, shown in
-- the session time zone); article times come from the site in Asia/Ho_Chi_Minh.

CREATE TABLE raw_pages (
    url           VARCHAR PRIMARY KEY,   -- canonical https://baolaocai.vn/... URL
    article_id    BIGINT,                -- NULL for listing pages
    fetched_at    TIMESTAMPTZ NOT NULL,  -- latest fetch that returned a body
    status        INTEGER NOT NULL,
    etag          VARCHAR,               -- validators for conditional re-fetches
    last_modified VARCHAR,
    content_type  VARCHAR,
    html          VARCHAR,
    html_sha256   VARCHAR,
    run_id        VARCHAR
);

CREATE TABLE articles (
    article_id    BIGINT PRIMARY KEY,    -- the <id> of .../<slug>-post<id>.html
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
    extraction_method VARCHAR,           -- which extractor read it: epi | legacy | density
    body_chars    INTEGER NOT NULL,      -- quality signals: body length, paragraphs,
    paragraph_count INTEGER NOT NULL,    -- and the fields the page did not yield
    missing_fields VARCHAR[] NOT NULL,
    word_count    INTEGER NOT NULL,
    image_count   INTEGER NOT NULL,
    content_hash  VARCHAR NOT NULL,      -- sha256 of the cleaned record
    version       INTEGER NOT NULL,      -- 1, then +1 at every content change
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,  -- when the current version was stored
    run_id        VARCHAR                -- run that stored the current version
);

CREATE TABLE article_images (
    article_id BIGINT NOT NULL,
    position   INTEGER NOT NULL,         -- 0-based order in the body
    src        VARCHAR NOT NULL,
    caption    VARCHAR,
    PRIMARY KEY (article_id, position)
);

-- Every distinct version of every article, the current one included.
CREATE TABLE article_revisions (
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
    seen_at      TIMESTAMPTZ NOT NULL,   -- when this version was first stored
    run_id       VARCHAR,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE crawl_runs (
    run_id             VARCHAR PRIMARY KEY,
    flow_run_id        VARCHAR,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ,
    status             VARCHAR NOT NULL,  -- running | completed | failed
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
    error              VARCHAR
);

CREATE TABLE fetch_errors (
    url       VARCHAR NOT NULL,
    run_id    VARCHAR NOT NULL,
    status    INTEGER,                   -- HTTP status, NULL for network errors
    error     VARCHAR NOT NULL,
    attempts  INTEGER NOT NULL,
    stage     VARCHAR NOT NULL,          -- fetch | parse | validate
    failed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (url, run_id)
);

CREATE VIEW latest_articles AS
    SELECT article_id, published_at, category, title, author, url
    FROM articles ORDER BY published_at DESC NULLS LAST;

CREATE VIEW articles_per_day AS
    SELECT CAST(timezone('Asia/Ho_Chi_Minh', published_at) AS DATE) AS day,
           category, count(*) AS articles
    FROM articles WHERE published_at IS NOT NULL
    GROUP BY ALL ORDER BY day DESC, category;
