"""Charts drawn on the server as inline SVG: pure functions from rows to markup.

No JavaScript and nothing fetched: the page works offline and under the app's strict
Content-Security-Policy (SVG presentation attributes such as ``fill`` are not inline
styles). Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that
says in words what it shows (a screen reader reads those; the page adds a table of the
same figures), and every bar segment has a ``<title>`` of its own (a tooltip).
Labels are Vietnamese, with the English gloss on the axis titles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from web.queries import MonthCount

OTHER = "Khác"
"""The category of the bars that merge every category beyond the largest ones."""
UNKNOWN = "Không rõ chuyên mục"
"""What an article without a category counts as."""
PALETTE = ("#0b5d8a", "#d97706", "#15803d", "#9333ea", "#dc2626", "#0891b2", "#6b7280")
"""Colours of the categories in order (the last, grey, is :data:`OTHER`); distinguishable
for the common colour-vision deficiencies by their lightness as well as their hue."""


@dataclass(frozen=True, slots=True)
class Coverage:
    """Articles per month and category: contiguous months (empty ones included), the
    largest categories apart and the rest as :data:`OTHER`."""

    categories: tuple[str, ...]
    months: tuple[date, ...]
    counts: tuple[tuple[int, ...], ...]
    """``counts[i][j]``: articles of ``months[i]`` in ``categories[j]``."""
    merged: tuple[tuple[str, int], ...] = ()
    """The categories counted as :data:`OTHER` with their articles, largest first."""
    merged_by_month: tuple[tuple[tuple[str, int], ...], ...] = ()
    """``merged_by_month[i]``: those of ``months[i]`` that have articles, largest first
    (what the month's :data:`OTHER` segment is made of)."""
    chosen_by_name: bool = False
    """Whether the largest categories tied beyond the colours and names chose."""

    @property
    def rule(self) -> str:
        """How the coloured categories were chosen (the legend's last line)."""
        if self.chosen_by_name:
            return TIE_RULE.format(kept=len(self.categories) - 1)
        return RANKING_RULE

    def total(self, i: int) -> int:
        return sum(self.counts[i])

    @property
    def grand_total(self) -> int:
        return sum(sum(row) for row in self.counts)

    def rows_newest_first(self) -> list[tuple[date, int, tuple[int, ...]]]:
        """``(month, total, per category)`` for a table, the newest month first."""
        return [
            (m, sum(c), c)
            for m, c in zip(reversed(self.months), reversed(self.counts), strict=True)
        ]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


RANKING_RULE = (
    "Màu cho các chuyên mục nhiều bài nhất (xếp theo số bài, rồi theo tên); các chuyên mục"
    " cùng số bài cùng có màu hoặc cùng vào «Khác»"
)
"""How the coloured categories are chosen, as the legend says it."""
TIE_RULE = (
    "Màu cho {kept} chuyên mục đầu theo số bài, rồi theo tên: các chuyên mục lớn nhất"
    " cùng số bài, nhiều hơn số màu; phần còn lại vào «Khác»"
)
"""The legend's rule when the largest categories tie and the names had to choose."""


def kept_categories(totals: dict[str, int], top: int) -> tuple[list[str], bool]:
    """The categories drawn in a colour of their own: the ``top`` largest, ranked by
    articles then name. Categories with the same number of articles are never split
    between a colour and :data:`OTHER` (which of them got a colour would say nothing
    about them): when the cut falls inside such a group, the whole group goes to
    :data:`OTHER`, unless it is the largest (then the first ``top`` by name, and the
    second value is true: the legend says the names chose)."""
    ranked = sorted(totals, key=lambda n: (-totals[n], n))
    if len(ranked) <= top:
        return ranked, False
    boundary = totals[ranked[top]]
    if totals[ranked[top - 1]] != boundary:
        return ranked[:top], False
    larger = [n for n in ranked[:top] if totals[n] > boundary]
    return (larger, False) if larger else (ranked[:top], True)


def coverage(rows: Sequence[MonthCount], *, top: int = 6) -> Coverage:
    """The rows of :func:`web.queries.coverage_by_month` as a :class:`Coverage` with the
    largest categories (:func:`kept_categories`) and :data:`OTHER` for the rest."""
    if not rows:
        return Coverage((), (), ())
    totals: dict[str, int] = {}
    for r in rows:
        name = r.category or UNKNOWN
        totals[name] = totals.get(name, 0) + r.articles
    kept, by_name = kept_categories(totals, top)
    categories = tuple(kept) + ((OTHER,) if len(kept) < len(totals) else ())
    column = {name: i for i, name in enumerate(kept)}
    first = min(r.month for r in rows).replace(day=1)
    last = max(r.month for r in rows).replace(day=1)
    months: list[date] = []
    month = first
    while month <= last:
        months.append(month)
        month = _next_month(month)
    row_of = {m: i for i, m in enumerate(months)}
    counts = [[0] * len(categories) for _ in months]
    others: list[dict[str, int]] = [{} for _ in months]
    for r in rows:
        name = r.category or UNKNOWN
        i = row_of[r.month.replace(day=1)]
        j = column.get(name, len(categories) - 1)
        counts[i][j] += r.articles
        if name not in column and r.articles:
            others[i][name] = others[i].get(name, 0) + r.articles
    merged = tuple((n, totals[n]) for n in sorted(totals, key=lambda n: (-totals[n], n)))
    return Coverage(
        categories,
        tuple(months),
        tuple(tuple(c) for c in counts),
        merged=tuple((n, c) for n, c in merged if n not in column),
        merged_by_month=tuple(_largest_first(o) for o in others),
        chosen_by_name=by_name,
    )


def _largest_first(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _merged_text(merged: Sequence[tuple[str, int]], limit: int = 12) -> str:
    """``Xã hội 3, Văn hóa - Du lịch 2``: what an :data:`OTHER` count is made of."""
    shown = ", ".join(f"{name} {_number(n)}" for name, n in merged[:limit])
    rest = len(merged) - limit
    return shown + (f" và {rest} chuyên mục khác" if rest > 0 else "")


def month_label(month: date) -> str:
    """``03/2025``: how a Vietnamese reader writes a month."""
    return f"{month.month:02d}/{month.year}"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def nice_axis(value: int) -> tuple[int, int]:
    """``(top, ticks)``: the axis end, the smallest of 1, 2, 3, 4, 5, 6, 8 × 10ⁿ at or
    above ``value`` (a round number close to the tallest bar), and how many equal steps
    of a round size divide it (``6`` -> ``(6, 6)``, ``7`` -> ``(8, 4)``, ``950`` ->
    ``(1000, 5)``)."""
    if value <= 1:
        return 1, 1
    power = 10 ** math.floor(math.log10(value))
    for k in (1, 2, 3, 4, 5, 6, 8, 10):
        if k * power >= value:
            break
    if k == 1:  # 10, 100 …: five steps of 2, 20 …
        return power, 5
    return k * power, k if k <= 6 else k // 2


def coverage_chart(
    data: Coverage,
    *,
    max_months: int = 120,
    width: int = 880,
    height: int = 300,
    id_prefix: str = "coverage",
) -> Markup:
    """A stacked bar chart of articles per month (the last ``max_months``), one colour per
    category, with its axes, a legend, a ``<title>`` and a ``<desc>``."""
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    title = "Số bài theo tháng và chuyên mục (articles per month and category)"
    if not data.months:
        return Markup(
            f'<svg class="chart" role="img" aria-labelledby="{title_id} {desc_id}"'
            f' viewBox="0 0 {width} 60" width="{width}" height="60"'
            ' xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{title_id}">{escape(title)}</title>'
            f'<desc id="{desc_id}">Chưa có bài nào có ngày xuất bản.</desc>'
            '<text x="10" y="35" class="chart-empty">Chưa có bài nào có ngày xuất bản'
            " (no dated articles yet).</text></svg>"
        )
    start = max(0, len(data.months) - max_months)
    months = data.months[start:]
    counts = data.counts[start:]
    totals = [sum(c) for c in counts]
    top, ticks = nice_axis(max(totals))
    legend_rows = -(-len(data.categories) // 4)
    left, right, top_pad = 56, 12, 16
    bottom = 48 + 20 * (legend_rows + (OTHER in data.categories))
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    step = plot_w / len(months)
    bar = max(1.0, step * 0.8)

    def y(value: float) -> float:
        return top_pad + plot_h - plot_h * value / top

    busiest = max(range(len(months)), key=lambda i: (totals[i], i))
    shown = sum(totals)
    desc = (
        f"Từ {month_label(months[0])} đến {month_label(months[-1])}: {_number(shown)} bài"
        f" trong {len(months)} tháng; nhiều nhất {month_label(months[busiest])} với"
        f" {_number(totals[busiest])} bài."
    )
    empty = sum(1 for t in totals if t == 0)
    if empty:
        desc += f" {empty} tháng không có bài nào."
    if start:
        desc += f" Biểu đồ chỉ vẽ {len(months)} tháng gần nhất; bảng dưới có đủ."
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{title_id} {desc_id}"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    # Horizontal grid and the y axis: 0, then four or five round steps up to ``top``.
    parts.append('<g class="chart-axis">')
    for k in range(ticks + 1):
        value = top * k // ticks
        ty = y(value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}"'
            ' stroke="#d8dee2" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end"'
            f' font-size="11">{_number(value)}</text>'
        )
    parts.append(
        f'<text x="14" y="{top_pad + plot_h / 2:.1f}" font-size="11" text-anchor="middle"'
        f' transform="rotate(-90 14 {top_pad + plot_h / 2:.1f})">Số bài (articles)</text>'
    )
    # x labels: about a dozen at most, on round months.
    every = next(k for k in (1, 2, 3, 6, 12, 24, 60, 120) if len(months) / k <= 12)
    base = top_pad + plot_h
    for i, month in enumerate(months):
        if (month.year * 12 + month.month - 1) % every:
            continue
        cx = left + step * i + step / 2
        parts.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{base:.1f}" y2="{base + 4:.1f}"'
            ' stroke="#5f6b73"/>'
            f'<text x="{cx:.1f}" y="{base + 16:.1f}" font-size="11"'
            f' text-anchor="middle">{month_label(month)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{base + 34:.1f}" font-size="11"'
        ' text-anchor="middle">Tháng xuất bản, giờ Việt Nam (month published)</text>'
    )
    parts.append("</g>")
    # The bars: one stack per month, a segment per category, each with its tooltip.
    parts.append('<g class="chart-bars">')
    for i, (month, row) in enumerate(zip(months, counts, strict=True)):
        x = left + step * i + (step - bar) / 2
        level = 0
        for j, value in enumerate(row):
            if not value:
                continue
            y0, y1 = y(level + value), y(level)
            level += value
            name = data.categories[j]
            tip = f"{month_label(month)} · {name}: {_number(value)} bài"
            if name == OTHER and data.merged_by_month:
                tip += f" (gộp {_merged_text(data.merged_by_month[start + i])})"
            parts.append(
                f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar:.1f}" height="{y1 - y0:.1f}"'
                f' fill="{_colour(data.categories, j)}">'
                f"<title>{escape(tip)}</title>"
                "</rect>"
            )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base:.1f}" y2="{base:.1f}"'
        ' stroke="#5f6b73"/></g>'
    )
    # The legend, four categories a row, then how they were chosen.
    parts.append('<g class="chart-legend">')
    for j, name in enumerate(data.categories):
        lx = left + (j % 4) * (plot_w / 4)
        ly = base + 50 + 20 * (j // 4)
        label = escape(name)
        if name == OTHER and data.merged:
            label = escape(f"{name} ({len(data.merged)} chuyên mục)")
            label += Markup(f"<title>{escape(OTHER)}: {escape(_merged_text(data.merged))}</title>")
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 10:.1f}" width="12" height="12"'
            f' fill="{_colour(data.categories, j)}"/>'
            f'<text x="{lx + 18:.1f}" y="{ly:.1f}" font-size="12">{label}</text>'
        )
    if OTHER in data.categories:
        ly = base + 50 + 20 * legend_rows
        parts.append(
            f'<text class="chart-rule" x="{left}" y="{ly:.1f}" font-size="11">'
            f"{escape(data.rule)}.</text>"
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _colour(categories: Sequence[str], j: int) -> str:
    if categories[j] == OTHER:
        return PALETTE[-1]
    return PALETTE[j % (len(PALETTE) - 1)]
