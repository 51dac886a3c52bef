"""The browser view of the archive (``baolaocai web``): a read-only Starlette app.

- :mod:`web.context` holds what every page shares: the configuration (the warehouse, its
  search index and web archive), a short-lived read-only connection per request with a
  time bound, the Jinja2 templates and their filters (Vietnam time, Vietnamese numbers);
- :mod:`web.app` builds the app: routes, error pages, security headers;
- the pages themselves live in their own modules (collections and search; one article,
  its versions and its archived page).

No page holds the DuckDB file between requests: a crawl in another process must be able
to write while the view is open (README, "Two commands at once").
"""
