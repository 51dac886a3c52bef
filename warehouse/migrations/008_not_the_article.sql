-- 008: pages that were not the article their address names. A stored article's URL that
-- answers with an error page (a "soft 404" served as 200), a redirect to another article
-- or a text collapsed to a fraction of the stored one does not replace the stored
-- version: the capture is archived, the refusal recorded in fetch_errors (stage
-- 'identity') and counted here, per run.
ALTER TABLE crawl_runs ADD COLUMN suspect_pages INTEGER DEFAULT 0;
-- A page found answering several article addresses (a placeholder, an error page in
-- words the site file does not list), by its fingerprint (title and text, folded, digits
-- aside): a later address answering it is refused at once, in whichever run.
CREATE TABLE placeholder_pages (
    site        VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    first_url   VARCHAR,
    seen_at     TIMESTAMPTZ,
    PRIMARY KEY (site, fingerprint)
);
