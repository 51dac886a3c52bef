"""Human-readable run reports (Prefect markdown artifacts). Pure formatting."""

from __future__ import annotations

from collections.abc import Sequence

from baolaocai.models import CrawlSummary

MAX_ROWS = 50


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def run_report(summary: CrawlSummary, changed: Sequence[tuple[str, str, str | None, str]]) -> str:
    """Markdown: the run's counts, then a table of new and updated articles.

    ``changed`` rows are ``(kind, title, category, url)``.
    """
    lines = [
        f"# Crawl {summary.run_id}: {summary.status}",
        "",
        f"Site: {summary.base_url}",
        "",
    ]
    if summary.error:
        lines += [f"**Error:** {summary.error}", ""]
    if summary.warning:
        lines += [f"**Warning:** {summary.warning}", ""]
    for note in summary.notes:
        lines += [f"**Note:** {_cell(note)}", ""]
    lines += ["| measure | value |", "|---|---|"]
    for name, value in summary.counters().items():
        lines.append(f"| {name.replace('_', ' ')} | {value} |")
    lines.append(f"| elapsed | {summary.elapsed_s:.1f} s |")
    if changed:
        lines += ["", "## New and updated articles", "", "| | title | category |", "|---|---|---|"]
        for kind, title, category, url in list(changed)[:MAX_ROWS]:
            lines.append(f"| {kind} | [{_cell(title)}]({url}) | {_cell(category)} |")
        if len(changed) > MAX_ROWS:
            lines.append(f"| … | and {len(changed) - MAX_ROWS} more | |")
    if summary.failures:
        lines += ["", "## Failures (first few)", ""] + [f"- {_cell(f)}" for f in summary.failures]
    return "\n".join(lines) + "\n"


def drift_report(summary: CrawlSummary, examples: Sequence[str]) -> str:
    lines = [
        "# The site's layout seems to have changed",
        "",
        summary.warning or "",
        "",
        "Check these pages against `transforms/baolaocai.toml` (selectors) and run",
        "`baolaocai reparse` once the parser is fixed:",
        "",
    ]
    lines += [f"- {_cell(e)}" for e in examples]
    return "\n".join(lines) + "\n"
