"""Quality signals of parsed records, and the layout-drift alarm. Pure functions.

The site will change its markup one day without telling us. When it does, records start
coming out of pages of unknown layout (no reader knew the markup and no ``[kinds]``
signal told the page: the fallback extractor read them, whether or not their reading
looks whole), or without a date, a title or a real body. A long-form or a print copy
read by the fallback reader is no sign of drift: the site file knows its kind. A run
counts those; above a threshold (default 20 % of the run's records) it ends in a
*warning* state with example URLs instead of silently loading degraded records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from baolaocai.models import UNKNOWN_KIND, Article

SHORT_BODY_CHARS = 200
DEFAULT_DRIFT_THRESHOLD = 0.2
DRIFT_MIN_RECORDS = 5
MAX_EXAMPLES = 5


@dataclass
class QualityReport:
    records: int = 0
    fallback: int = 0
    """Records of a page of unknown layout (read by the fallback extractor, no kind told)."""
    missing_date: int = 0
    missing_title: int = 0
    short_body: int = 0
    conflicts: int = 0
    images_capped: int = 0
    """Records with more pictures than the parser keeps (not degraded: noted in the run)."""
    degraded: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, other: QualityReport) -> None:
        self.records += other.records
        self.fallback += other.fallback
        self.missing_date += other.missing_date
        self.missing_title += other.missing_title
        self.short_body += other.short_body
        self.conflicts += other.conflicts
        self.images_capped += other.images_capped
        self.degraded += other.degraded
        room = MAX_EXAMPLES - len(self.examples)
        self.examples.extend(other.examples[: max(0, room)])

    @property
    def degraded_share(self) -> float:
        return self.degraded / self.records if self.records else 0.0


def assess(articles: Iterable[Article]) -> QualityReport:
    report = QualityReport()
    for article in articles:
        report.records += 1
        problems = []
        if article.page_kind == UNKNOWN_KIND or (
            article.extraction_method == "density" and article.page_kind == "article"
        ):
            # No reader knew the markup and no [kinds] signal told the page: even when the
            # fallback read it whole, the site's layout has moved from its site file.
            report.fallback += 1
            problems.append("unknown layout (fallback extractor)")
        if article.published_at is None:
            report.missing_date += 1
            problems.append("no date")
        if not article.title:
            report.missing_title += 1
            problems.append("no title")
        if len(article.body) < SHORT_BODY_CHARS and not article.images:
            report.short_body += 1
            problems.append("short body")
        conflicts = article.field_conflicts
        if conflicts:
            # Two sources of one field disagreed: the markup may have drifted.
            report.conflicts += 1
            problems.append(f"conflicting sources: {'; '.join(conflicts)}")
        if article.images_dropped:
            report.images_capped += 1
        if problems:
            report.degraded += 1
            if len(report.examples) < MAX_EXAMPLES:
                report.examples.append(f"{article.url} ({', '.join(problems)})")
    return report


def drift_warning(report: QualityReport, threshold: float = DEFAULT_DRIFT_THRESHOLD) -> str | None:
    """A one-line warning when too many records look degraded, else ``None``."""
    if report.records < DRIFT_MIN_RECORDS or report.degraded_share <= threshold:
        return None
    return (
        f"the site's layout seems to have changed: {report.degraded} of {report.records} "
        f"records ({report.degraded_share:.0%}) were degraded ({report.fallback} of unknown "
        f"layout, read by the fallback extractor, {report.missing_date} without a date, {report.missing_title} "
        f"without a title, {report.short_body} with a short body, {report.conflicts} with "
        f"conflicting sources)"
    )
