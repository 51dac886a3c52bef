"""Human-readable run reports (Prefect markdown artifacts). Pure formatting."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import quote

from baolaocai.models import CrawlSummary
from baolaocai.text import for_terminal

MAX_ROWS = 50
_MARKDOWN_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def _cell(text: str | None) -> str:
    """Text from outside (a crawled title, a site's error) as Markdown that shows it and
    does nothing else: no link, picture, HTML or emphasis of its own, one line, control
    characters shown (``\\x1b``)."""
    one_line = for_terminal(" ".join((text or "").split()), one_line=True)
    return _MARKDOWN_RE.sub(r"\\\1", html.escape(one_line, quote=False))


def _link(url: str) -> str:
    """A URL as a Markdown link target: percent-encoded, so it cannot close the link."""
    return quote(url, safe=":/?&=%#@,;~+")


def run_report(summary: CrawlSummary, changed: Sequence[tuple[str, str, str | None, str]]) -> str:
    """Markdown: the run's counts, then a table of new and updated articles.

    ``changed`` rows are ``(kind, title, category, url)``.
    """
    lines = [
        f"# Crawl {_cell(summary.run_id)}: {_cell(summary.status)}",
        "",
        f"Site: {_cell(summary.base_url)}",
        "",
    ]
    if summary.error:
        lines += [f"**Error:** {_cell(summary.error)}", ""]
    if summary.warning:
        lines += [f"**Warning:** {_cell(summary.warning)}", ""]
    for note in summary.notes:
        lines += [f"**Note:** {_cell(note)}", ""]
    lines += ["| measure | value |", "|---|---|"]
    for name, value in summary.counters().items():
        lines.append(f"| {name.replace('_', ' ')} | {value} |")
    lines.append(f"| elapsed | {summary.elapsed_s:.1f} s |")
    if changed:
        lines += ["", "## New and updated articles", "", "| | title | category |", "|---|---|---|"]
        for kind, title, category, url in list(changed)[:MAX_ROWS]:
            lines.append(f"| {kind} | [{_cell(title)}]({_link(url)}) | {_cell(category)} |")
        if len(changed) > MAX_ROWS:
            lines.append(f"| … | and {len(changed) - MAX_ROWS} more | |")
    if summary.failures:
        lines += ["", "## Failures (first few)", ""] + [f"- {_cell(f)}" for f in summary.failures]
    return "\n".join(lines) + "\n"


def drift_report(summary: CrawlSummary, examples: Sequence[str]) -> str:
    lines = [
        "# The site's layout seems to have changed",
        "",
        _cell(summary.warning),
        "",
        "Check these pages against `transforms/baolaocai.toml` (selectors) and run",
        "`baolaocai reparse` once the parser is fixed:",
        "",
    ]
    lines += [f"- {_cell(e)}" for e in examples]
    return "\n".join(lines) + "\n"
