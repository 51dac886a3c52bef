-- 002: incremental crawling. A fetch error is "open" until a later run loads the page;
-- runs count their rechecks, 304s and pages found gone (404/410).

ALTER TABLE fetch_errors ADD COLUMN resolved_at TIMESTAMPTZ;
ALTER TABLE crawl_runs ADD COLUMN rechecked INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN retried_failures INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN gone INTEGER DEFAULT 0;

-- URLs the site says are gone (404/410 on their latest attempt), and open failures.
CREATE VIEW open_fetch_errors AS
    SELECT e.* FROM fetch_errors e
    WHERE e.resolved_at IS NULL
      AND e.failed_at = (SELECT max(f.failed_at) FROM fetch_errors f WHERE f.url = e.url);

-- Extraction quality of the run's records (the layout-drift alarm) and its warning.
ALTER TABLE crawl_runs ADD COLUMN records_fallback INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN records_missing_date INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN records_missing_title INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN records_short_body INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN warning VARCHAR;
