"""A run's work list, from what discovery found and what the warehouse knows. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from baolaocai.models import CrawlState
from scrapers.urls import article_id


@dataclass
class WorkPlan:
    new: list[str] = field(default_factory=list)
    recheck: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    already_stored: int = 0
    skipped_gone: int = 0

    @property
    def urls(self) -> list[str]:
        """New articles first (what users wait for), then retries, then rechecks."""
        return self.new + self.retry + self.recheck

    def batches(self, size: int) -> list[list[str]]:
        urls = self.urls
        return [urls[i : i + size] for i in range(0, len(urls), size)]


def plan_work(
    discovered: dict[int, str],
    state: CrawlState,
    *,
    max_articles: int = 0,
    retry_failed: bool = False,
) -> WorkPlan:
    """Decide what to fetch.

    - discovered articles not stored are *new*, unless the site said they are gone
      (404/410) — those wait for ``retry_failed``;
    - with ``retry_failed``, every URL with an open fetch error is fetched again;
    - stored articles in ``state.recheck`` are fetched conditionally (their validators
      ride along) so edits are caught; ``max_articles`` bounds only the new ones.
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
            u for u in state.open_failures if u not in queued and article_id(u) is not None
        )
    taken = set(plan.new) | set(plan.retry)
    plan.recheck = [u for u in state.recheck if u not in taken]
    plan.validators = {u: state.recheck[u] for u in plan.recheck}
    return plan
