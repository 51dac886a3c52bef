"""Fetching robots.txt. An absent file (404) or an unreachable one allows everything,
as the robots exclusion standard (RFC 9309) says for 4xx; a 5xx answer means the site is
in trouble and nothing is fetched in this run."""

from __future__ import annotations

import logging

from baolaocai.errors import CrawlError
from baolaocai.settings import SITE_URL
from scrapers.fetch import Fetcher
from scrapers.politeness import RobotsRules

log = logging.getLogger(__name__)


async def fetch_robots(fetcher: Fetcher) -> RobotsRules:
    page = await fetcher.fetch(SITE_URL + "/robots.txt")
    agent = fetcher.settings.user_agent
    if page.ok and page.html is not None:
        return RobotsRules(agent, page.html)
    if 500 <= page.status < 600:
        raise CrawlError(
            f"robots.txt of {fetcher.settings.base_url} answered HTTP {page.status};"
            " not crawling until it answers (RFC 9309)"
        )
    log.info("no usable robots.txt (%s); everything allowed", page.error or page.status)
    return RobotsRules(agent)
