-- 009: the Vietnam day of every article, and WARC revisit records in the capture index.
--
-- published_date: the calendar day of published_at in Vietnam time (Asia/Ho_Chi_Minh).
-- A TIMESTAMPTZ is an instant; any tool whose session time zone is not Vietnam's (plain
-- DuckDB on a UTC machine, pandas, a Parquet reader) puts an article published at
-- 00:00+07:00 on the previous day. The loader writes this column with every version;
-- existing rows are filled here.
ALTER TABLE articles ADD COLUMN published_date DATE;
UPDATE articles SET published_date = CAST(timezone('Asia/Ho_Chi_Minh', published_at) AS DATE)
WHERE published_at IS NOT NULL;

CREATE OR REPLACE VIEW latest_articles AS
    SELECT site, article_id, published_at, published_date, category, title, author, url
    FROM articles ORDER BY published_at DESC NULLS LAST;

CREATE OR REPLACE VIEW removed_articles AS
    SELECT site, article_id, url, title, published_at, published_date, removed_at, version,
           last_seen_at
    FROM articles WHERE removed_at IS NOT NULL ORDER BY removed_at DESC;

-- record_type: the WARC record a capture row points at. 'response' (the page as
-- received) or 'revisit' (the same answer fetched again: a small record that refers to
-- the earlier response by refers_to, its WARC-Record-ID, instead of a second copy).
ALTER TABLE captures ADD COLUMN record_type VARCHAR DEFAULT 'response';
ALTER TABLE captures ADD COLUMN refers_to VARCHAR;
UPDATE captures SET record_type = 'response' WHERE record_type IS NULL;
