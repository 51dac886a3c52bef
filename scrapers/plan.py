"""A run's work list, from what discovery found and what the warehouse knows. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from baolaocai.identity import article_id
from baolaocai.models import CrawlState
from baolaocai.site import Site

Validators = Mapping[str, tuple[str | None, str | None]]


@dataclass
class WorkPlan:
    new: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    relisted: list[str] = field(default_factory=list)
    """Stored articles a sitemap or feed lists with a newer ``<lastmod>``."""
    unlisted: list[str] = field(default_factory=list)
    """Stored articles a changed sitemap no longer lists."""
    recheck: list[str] = field(default_factory=list)
    """Recently published stored articles due for a recheck."""
    revisit: list[str] = field(default_factory=list)
    """Older stored articles not seen for a while (the run's revisit budget)."""
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    already_stored: int = 0
    skipped_gone: int = 0

    @property
    def rechecks(self) -> list[str]:
        """Every conditional fetch of a stored article, most telling first."""
        return self.relisted + self.unlisted + self.recheck + self.revisit

    @property
    def urls(self) -> list[str]:
        """New articles first (what users wait for), then retries, then rechecks."""
        return self.new + self.retry + self.rechecks

    def batches(self, size: int) -> list[list[str]]:
        urls = self.urls
        return [urls[i : i + size] for i in range(0, len(urls), size)]


def plan_work(
    discovered: dict[int, str],
    state: CrawlState,
    site: Site,
    *,
    max_articles: int = 0,
    retry_failed: bool = False,
    relisted: Validators | None = None,
    unlisted: Validators | None = None,
) -> WorkPlan:
    """Decide what to fetch.

    - discovered articles not stored are *new*, unless the site said they are gone
      (404/410) — those wait for ``retry_failed``;
    - with ``retry_failed``, every URL with an open fetch error is fetched again;
    - stored articles are fetched conditionally (their validators ride along), each
      once, in this order: ``relisted``, ``unlisted``, ``state.recheck`` (recently
      published), ``state.revisit`` (not seen for long). ``max_articles`` bounds only
      the new ones.
    """
    plan = WorkPlan()
    for aid, url in discovered.items():
        if aid in state.known_ids:
            plan.already_stored += 1
        elif url in state.gone and not retry_failed:
            plan.skipped_gone += 1
        elif url not in state.open_failures or not retry_failed:
            plan.new.append(url)
    if max_articles:
        plan.new = plan.new[:max_articles]
    if retry_failed:
        queued = set(plan.new)
        plan.retry = sorted(
            u for u in state.open_failures if u not in queued and article_id(u, site) is not None
        )
    taken = set(plan.new) | set(plan.retry)
    for name, source in (
        ("relisted", relisted or {}),
        ("unlisted", unlisted or {}),
        ("recheck", state.recheck),
        ("revisit", state.revisit),
    ):
        chosen = [u for u in source if u not in taken]
        taken.update(chosen)
        setattr(plan, name, chosen)
        plan.validators.update({u: source[u] for u in chosen})
    return plan
