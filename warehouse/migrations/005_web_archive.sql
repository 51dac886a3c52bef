-- 005: raw pages as a web archive. Every fetched page is a capture in the WARC files next
-- to the warehouse (`<warehouse stem>.warc/`, see warehouse/warc.py); `captures` indexes
-- each capture as Common Crawl's CDX does, and `raw_pages` keeps the latest fetch of each
-- URL (validators for conditional requests) pointing at its capture. `raw_pages.html` is
-- no longer filled: pages stored there before are moved into the WARC files the first
-- time a run opens the warehouse (warehouse/session.py), batch by batch.

CREATE TABLE captures (
    url          VARCHAR NOT NULL,      -- canonical URL
    article_id   BIGINT,                -- NULL for other pages
    fetched_at   TIMESTAMPTZ NOT NULL,
    status       INTEGER NOT NULL,
    content_type VARCHAR,
    digest       VARCHAR NOT NULL,      -- WARC-Payload-Digest of the body, sha1:<base32>
    warc_file    VARCHAR NOT NULL,      -- a file name in the WARC folder
    warc_offset  BIGINT NOT NULL,       -- where the response record's gzip member starts
    warc_length  BIGINT NOT NULL,       -- its compressed length
    record_id    VARCHAR NOT NULL,      -- WARC-Record-ID of the response record
    run_id       VARCHAR
);
-- No key or index: captures are only appended, and DuckDB rewrites the last row group of
-- an indexed table at every checkpoint.

ALTER TABLE raw_pages ADD COLUMN warc_file VARCHAR;   -- the latest capture of the URL
ALTER TABLE raw_pages ADD COLUMN warc_offset BIGINT;
ALTER TABLE raw_pages ADD COLUMN warc_length BIGINT;
ALTER TABLE raw_pages ADD COLUMN digest VARCHAR;
ALTER TABLE raw_pages ADD COLUMN record_id VARCHAR;
