"""Reading robots.txt, and what its absence, its failure and its Crawl-delay mean.

:func:`fetch_robots` reads the file (through the :class:`~scrapers.fetch.Fetcher`, so with
its retries and its request deadline), following RFC 9309:

* a successful answer is parsed (protego) and its rules govern every later request;
* a 4xx answer (404, 403, 410 …: "unavailable", RFC 9309 §2.3.1.3) means no restrictions
  — except 429, which asks us to slow down and says nothing about the rules;
* anything else — a connection error, a timeout, the request deadline, a 5xx or a 429
  after the fetcher's retries, or an answer the fetcher refused (over the size cap, not
  text, redirected off the site or more than 5 times) — means the file is *unreachable*
  (§2.3.1.4): everything is assumed disallowed, and a
  :class:`~baolaocai.errors.CrawlError` ends the run before anything else is requested:
  "robots.txt of … could not be fetched (…); RFC 9309: assume everything is disallowed;
  not crawling" ("the site at … could not be reached (robots.txt: …)" when nothing
  answered at all).

:func:`read_robots` also puts the rules in force on the fetcher and obeys the file's
``Crawl-delay`` for the run's pacer (request starts at least that far apart, from the
request after robots.txt on; like the rate, 3 % + 5 ms slower than asked), up to
``settings.max_crawl_delay`` (30 s), with a warning naming it. A longer Crawl-delay is
not silently obeyed for days: the run does not crawl, with a
:class:`~baolaocai.errors.CrawlError` that says so.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from baolaocai import progress
from baolaocai.errors import CrawlError
from baolaocai.identity import to_fetch_url
from scrapers.fetch import Fetcher
from scrapers.politeness import RobotsRules, pacing_interval

log = logging.getLogger(__name__)


async def fetch_robots(fetcher: Fetcher) -> RobotsRules:
    """The site's robots.txt rules; raises :class:`CrawlError` if it is unreachable."""
    page = await fetcher.fetch(fetcher.settings.site.url("/robots.txt"))
    agent = fetcher.settings.user_agent
    if page.ok and page.html is not None:
        return RobotsRules(agent, page.html)
    if page.status in (401, 403):
        warning = (
            f"robots.txt answered HTTP {page.status}: crawling as if it had no rules"
            " (RFC 9309 2.3.1.3), but the site may be refusing crawlers; check before a"
            " large crawl"
        )
        log.warning("%s", warning)
        return RobotsRules(agent, warning=warning)
    if 400 <= page.status < 500 and page.status != 429:
        log.info("robots.txt answered HTTP %d: no restrictions (RFC 9309)", page.status)
        return RobotsRules(agent)
    reason = page.error or f"HTTP {page.status}"
    if page.status == 0:  # nothing answered at all
        raise CrawlError(
            f"the site at {fetcher.settings.base_url} could not be reached (robots.txt:"
            f" {reason}); RFC 9309: assume everything is disallowed; not crawling"
        )
    raise CrawlError(
        f"robots.txt of {fetcher.settings.base_url} could not be fetched ({reason});"
        " RFC 9309: assume everything is disallowed; not crawling"
    )


async def read_robots(fetcher: Fetcher) -> RobotsRules:
    """Read robots.txt and put it in force: its rules on ``fetcher.robots``, its
    Crawl-delay on the fetcher's pacer.

    Raises :class:`CrawlError` (the run must not crawl) when robots.txt is unreachable
    (``fetcher.robots`` then allows nothing) or asks for a Crawl-delay longer than
    ``settings.max_crawl_delay``."""
    settings = fetcher.settings
    fetcher.robots = None  # robots.txt itself is always allowed
    try:
        rules = await fetch_robots(fetcher)
    except CrawlError:
        fetcher.robots = RobotsRules.disallow_all(settings.user_agent)
        raise
    fetcher.robots = rules
    delay = rules.crawl_delay
    if delay is not None and delay > settings.max_crawl_delay:
        raise CrawlError(
            f"robots.txt asks for a Crawl-delay of {delay:g} s, more than the"
            f" {settings.max_crawl_delay:g} s this crawler accepts"
            " (BAOLAOCAI_MAX_CRAWL_DELAY); not crawling"
        )
    if fetcher.gate is not None:  # other workers crawl the host too: they keep to it
        host = urlsplit(to_fetch_url(settings.site.url("/robots.txt"), settings.base_url)).netloc
        await fetcher.gate.share_crawl_delay(host, delay if delay and delay > 0 else None)
    if delay is not None and delay > 0:
        # A little slower than asked, as for the rate: the site never sees a shorter gap.
        fetcher.pacer.set_min_interval(pacing_interval(delay))
        log.warning(
            "robots.txt asks for a Crawl-delay of %g s: requests to the site start %.3g s"
            " apart this run (up to %g s is accepted, BAOLAOCAI_MAX_CRAWL_DELAY)",
            delay,
            fetcher.pacer.interval,
            settings.max_crawl_delay,
        )
        if fetcher.pacer.interval > 1 / settings.rate:
            progress.current().slowed("robots.txt Crawl-delay", fetcher.pacer.interval)
    return rules
