-- 007: what kind of page each article was read from (`page_kind`: article, live,
-- e-magazine, gallery, video, podcast, interview, infographic, print, amp, or unknown
-- when the markup said nothing the site file knows). Rows stored before keep NULL until
-- a reparse or a changed page fills them: the kind was never recorded for them.
ALTER TABLE articles ADD COLUMN page_kind VARCHAR;
-- And where `category` came from: 'page' (the page names it) or 'listing' (the section
-- listing that linked the article, when its page names none). NULL for rows stored
-- before, as for a page of no category.
ALTER TABLE articles ADD COLUMN category_source VARCHAR;
