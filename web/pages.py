"""Collection pages: home, search (and its downloads), browse, removed.

Every parameter is text from anyone and is checked before any work: a query longer
than :data:`~web.context.MAX_QUERY_CHARS` is a 414 page, a bad date, mode or page number
a 400, an unknown category, author, tag, day or site a 404. A path segment is never used
as a path, only bound into SQL. A search error that the user can fix (the query's syntax,
the dates, an unknown category) is said on the search page itself, with the form as they
filled it in.

``?site=`` chooses the paper on every page (absent: the one ``baolaocai web`` was started
for, or every site; empty: every site). The search is the CLI's engine
(:func:`warehouse.search.search`), which reads only the index folder; the lists come from
:mod:`web.queries` over a read-only connection opened for the request and closed at its
end (:meth:`web.context.Web.reading`).
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from baolaocai.errors import InputError, WarehouseError
from warehouse.reader import get_removed
from warehouse.search import SearchHit, SearchPage, fold, hits_csv, search_page
from web import queries
from web.charts import coverage, coverage_chart
from web.context import MAX_QUERY_CHARS, Web, vn_number, web_of
from web.messages import vietnamese

MAX_HITS = 1000
"""The most search results a page list or a download holds (``more than 1,000`` beyond)."""
MAX_PAGE = 100_000
"""A page number above this is not a page of anything (a 400)."""
MAX_NAME_CHARS = 300
"""The longest category, author or tag a browse address may name (longer: a 414)."""
MAX_FIELD_CHARS = 200
"""The longest author filter of a search."""
TAKEDOWN_DAYS = 30
"""The home page lists the takedowns of this many days."""
MODES = {
    "phrase": "Cụm từ (phrase): các từ liền nhau, đúng thứ tự; dấu không bắt buộc",
    "words": "Mọi từ (all words): mỗi từ ở bất kỳ đâu trong bài",
    "exact": "Đúng dấu (exact): dấu phải khớp như đã gõ",
}
"""The search modes (``?mode=``), as the form explains them."""
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- parameters -------------------------------------------------------------------------------


def _bad(message: str, status: int = 400) -> HTTPException:
    return HTTPException(status, message)


def page_number(request: Request) -> int:
    """``?page=`` as a number from 1 to :data:`MAX_PAGE` (1 when absent)."""
    raw = request.query_params.get("page", "").strip()
    if not raw:
        return 1
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE:
        raise _bad(
            f"Số trang phải là một số từ 1 đến {vn_number(MAX_PAGE)}, không phải {raw[:40]!r}"
        )
    return int(raw)


def parse_day(value: str, what: str) -> date | None:
    """``2025-03-10`` -> a date (``None`` for empty); anything else is an InputError."""
    value = value.strip()
    if not value:
        return None
    try:
        if not _DAY.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{what} phải là một ngày dạng 2025-03-10 (YYYY-MM-DD), không phải {value[:40]!r}"
        ) from None


def path_name(raw: str, what: str) -> str:
    """A category, author or tag from the address: NFC text of at most
    :data:`MAX_NAME_CHARS`, no control characters (no name has them)."""
    if len(raw) > MAX_NAME_CHARS:
        raise _bad(f"Tên {what} dài quá {MAX_NAME_CHARS} ký tự", 414)
    name = unicodedata.normalize("NFC", raw).strip()
    if not name or _CONTROL.search(name):
        raise _bad(f"Không có {what} nào tên như vậy", 404)
    return name


def chosen_site(request: Request, web: Web, known: list[str]) -> str | None:
    """The site of ``?site=``: absent, the configured one; empty, every site; otherwise a
    site of the warehouse (an unknown one is a 404)."""
    if "site" not in request.query_params:
        return web.config.site
    raw = request.query_params["site"].strip()
    if not raw:
        return None
    if raw not in known:
        names = ", ".join(known) or "(chưa có)"
        raise _bad(f"Kho không có trang báo {raw[:60]!r}; các trang có: {names}", 404)
    return raw


def page_url(request: Request, page: int) -> str:
    """This address with ``page`` replaced (the other parameters kept)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    if page > 1:
        params.append(("page", str(page)))
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def site_suffix(request: Request) -> str:
    """``?site=…`` when the address chose a site, for the links of the page to keep it."""
    if "site" not in request.query_params:
        return ""
    return "?" + urlencode({"site": request.query_params["site"]})


def browse_href(kind: str, name: str | date, suffix: str = "") -> str:
    """The address of a browse page: the name quoted whole (a ``/`` or ``?`` in a tag
    stays part of it)."""
    text = name.isoformat() if isinstance(name, date) else name
    return f"/browse/{kind}/{quote(text, safe='')}{suffix}"


def _render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    web = web_of(request)
    suffix = site_suffix(request)
    return web.render(
        request,
        template,
        status_code=status_code,
        site_suffix=suffix,
        browse_href=lambda kind, value: browse_href(kind, value, suffix),
        page_url=lambda page: page_url(request, page),
        **context,
    )


# -- home -------------------------------------------------------------------------------------


def home(request: Request) -> Response:
    web = web_of(request)
    since = datetime.now(UTC) - timedelta(days=TAKEDOWN_DAYS)
    with web.reading() as con:
        known = queries.sites(con)
        site = chosen_site(request, web, known)
        counts = queries.counts(con, site)
        latest = queries.latest_articles(con, site, 10)
        months = coverage(queries.coverage_by_month(con, site))
        runs = queries.recent_runs(con, site, 10)
        takedowns = queries.recent_takedowns(con, site, since, 20)
        takedown_count = queries.removed_count(con, site, since)
    return _render(
        request,
        "home.html",
        nav="home",
        sites=known,
        site=site,
        counts=counts,
        latest=latest,
        coverage=months,
        chart=coverage_chart(months),
        runs=runs,
        takedowns=takedowns,
        takedown_count=takedown_count,
        takedown_days=TAKEDOWN_DAYS,
    )


# -- search -----------------------------------------------------------------------------------


@dataclass(slots=True)
class SearchForm:
    """The search form as submitted (text as typed, for filling it in again) and what it
    means once checked."""

    q: str = ""
    mode: str = "phrase"
    category: str = ""
    author: str = ""
    since: str = ""
    until: str = ""
    site: str | None = None
    site_raw: str | None = None
    page: int = 1
    since_day: date | None = None
    until_day: date | None = None
    errors: list[str] = field(default_factory=list)

    def params(self) -> dict[str, str]:
        """The non-empty parameters (for the download links and the pager)."""
        found = {
            "q": self.q,
            "mode": "" if self.mode == "phrase" else self.mode,
            "category": self.category,
            "author": self.author,
            "since": self.since,
            "until": self.until,
        }
        if self.site_raw is not None:
            found["site"] = self.site_raw
        return {k: v for k, v in found.items() if v}

    def filters(self) -> dict[str, str | None]:
        return {
            "mode": self.mode,
            "category": self.category or None,
            "author": self.author or None,
            "since": self.since_day.isoformat() if self.since_day else None,
            "until": self.until_day.isoformat() if self.until_day else None,
            "site": self.site,
        }


def checked_query(request: Request) -> str:
    """``?q=``, refused with a 414 page when longer than :data:`MAX_QUERY_CHARS` (said
    before anything is opened or searched)."""
    q = request.query_params.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise _bad(f"Câu tìm dài {len(q)} ký tự; tối đa {MAX_QUERY_CHARS} (query too long)", 414)
    return q


def read_form(request: Request, web: Web, known: list[str]) -> SearchForm:
    """The search parameters, checked. A query over :data:`MAX_QUERY_CHARS` or a bad page
    number raises (an error page); the rest is collected in ``errors`` (said on the form)."""
    params = request.query_params
    q = checked_query(request)
    form = SearchForm(
        q=unicodedata.normalize("NFC", q),
        mode=params.get("mode", "").strip() or "phrase",
        category=unicodedata.normalize("NFC", params.get("category", "").strip()),
        author=unicodedata.normalize("NFC", params.get("author", "").strip()),
        since=params.get("since", "").strip(),
        until=params.get("until", "").strip(),
        site_raw=params.get("site"),
        page=page_number(request),
    )
    form.site = chosen_site(request, web, known)
    if form.mode not in MODES:
        form.errors.append(f"Kiểu tìm {form.mode[:40]!r} không có; chọn phrase, words hoặc exact")
        form.mode = "phrase"
    if len(form.author) > MAX_FIELD_CHARS or len(form.category) > MAX_FIELD_CHARS:
        form.errors.append(f"Tác giả và chuyên mục tối đa {MAX_FIELD_CHARS} ký tự")
        form.author = form.author[:MAX_FIELD_CHARS]
        form.category = form.category[:MAX_FIELD_CHARS]
    for name in ("since", "until"):
        try:
            day = parse_day(getattr(form, name), "Từ ngày" if name == "since" else "Đến ngày")
        except InputError as exc:
            form.errors.append(exc.message)
            continue
        setattr(form, f"{name}_day", day)
    if form.since_day and form.until_day and form.until_day < form.since_day:
        form.errors.append(
            f"Đến ngày {form.until_day:%d/%m/%Y} trước Từ ngày {form.since_day:%d/%m/%Y}"
        )
    return form


def run_search(web: Web, form: SearchForm, limit: int, offset: int = 0) -> SearchPage:
    """The CLI's search with the form's query and filters (InputError, WarehouseError):
    ``limit`` hits after the first ``offset``, and how many match in all."""
    return search_page(
        web.config.index_dir,
        form.q,
        limit=limit,
        offset=offset,
        since=form.since_day,
        until=form.until_day,
        category=form.category or None,
        site=form.site,
        author=form.author or None,
        words=form.mode == "words",
        exact=form.mode == "exact",
        variants=web.variants(),
    )


def highlighted(hit: SearchHit) -> list[tuple[str, bool]]:
    """The snippet cut into ``(text, is_match)`` pieces at :attr:`SearchHit.highlights`
    (overlapping or out-of-range spans are merged and clipped), for ``<mark>``."""
    text = hit.snippet
    spans = sorted((max(0, a), min(len(text), b)) for a, b in hit.highlights if b > a)
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if end <= at:
            continue
        start = max(start, at)
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def typed_accents(text: str) -> bool:
    """Whether ``text`` has a diacritic (or ``đ``): only then does a hit that matched
    without them rank lower, and is worth saying so."""
    decomposed = unicodedata.normalize("NFD", text)
    return any(unicodedata.combining(c) for c in decomposed) or "đ" in text.casefold()


def _no_index_message(exc: WarehouseError, web: Web) -> str:
    if exc.message.startswith("no search index yet"):
        return (
            "Chưa có chỉ mục tìm kiếm (no search index yet). Hãy chạy"
            f" `baolaocai reindex --db {shlex.quote(web.config.shown_path)}` (hoặc một lần"
            " crawl) để dựng"
            " nó, rồi tải lại trang."
        )
    return f"Không tìm được: {vietnamese(exc.message)}"


def search_view(request: Request) -> Response:
    web = web_of(request)
    checked_query(request)
    with web.reading() as con:
        known = queries.sites(con)
        form = read_form(request, web, known)
        site_categories = queries.categories(con, form.site)
    size = web.config.page_size
    context: dict[str, Any] = {
        "nav": "search",
        "form": form,
        "modes": MODES,
        "sites": known,
        "categories": site_categories,
        "hits": [],
        "count": None,
        "more": False,
        "page": None,
        "highlighted": highlighted,
        "downloads": None,
        "max_hits": MAX_HITS,
        "message": None,
    }
    if form.errors:
        return _render(request, "search.html", 400, **context)
    if not form.q.strip():
        return _render(request, "search.html", **context)
    if (form.page - 1) * size >= MAX_HITS:
        form.errors.append(
            f"Chỉ xem được {vn_number(MAX_HITS)} kết quả đầu tiên (trang 1 đến"
            f" {-(-MAX_HITS // size)}); hãy thu hẹp câu tìm (chuyên mục, ngày, tác giả)"
        )
        return _render(request, "search.html", 400, **context)
    start = (form.page - 1) * size
    try:
        # Only the page's hits get a snippet; the engine counts every match.
        found = run_search(web, form, min(size, MAX_HITS - start), start)
    except InputError as exc:
        form.errors.append(vietnamese(exc.message))
        return _render(request, "search.html", 400, **context)
    except WarehouseError as exc:
        context["message"] = _no_index_message(exc, web)
        return _render(request, "search.html", 503, **context)
    reachable = min(found.total, MAX_HITS)
    pages = max(1, -(-reachable // size))
    if found.total and form.page > pages:
        raise _bad(f"Không có trang {form.page}; kết quả có {pages} trang", 404)
    query = urlencode(form.params())
    context.update(
        hits=found.hits,
        count=found.total,
        more=found.total > MAX_HITS,
        page=queries.Page(rows=(), total=reachable, page=form.page, size=size),
        first=start + 1,
        several_sites=len(known) > 1,
        typed_accents=typed_accents(form.q),
        downloads={"csv": f"/search.csv?{query}", "json": f"/search.json?{query}"},
    )
    return _render(request, "search.html", **context)


def _download_hits(request: Request) -> tuple[SearchForm, list[SearchHit], int]:
    web = web_of(request)
    checked_query(request)
    with web.reading() as con:
        form = read_form(request, web, queries.sites(con))
    if form.errors:
        raise InputError("; ".join(form.errors))
    if not form.q.strip():
        raise InputError("Chưa có câu tìm (q): không có gì để tải về")
    found = run_search(web, form, MAX_HITS)
    return form, found.hits, found.total


def download_name(q: str, extension: str) -> str:
    """The ``Content-Disposition`` of a download named after the query: an ASCII
    ``filename`` (the words folded) and the RFC 5987 ``filename*`` with the accents."""
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", fold(q)).strip("-")[:60].strip("-") or "ket-qua"
    words = re.findall(r"\w+", unicodedata.normalize("NFC", q).lower())
    slug = "-".join(words)[:60].strip("-") or ascii_slug
    return (
        f'attachment; filename="search-{ascii_slug}.{extension}";'
        f" filename*=UTF-8''{quote(f'search-{slug}.{extension}', safe='')}"
    )


def search_csv(request: Request) -> Response:
    form, hits, _total = _download_hits(request)
    return Response(
        hits_csv(hits),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": download_name(form.q, "csv")},
    )


def search_json(request: Request) -> Response:
    form, hits, total = _download_hits(request)
    body = {
        "query": form.q,
        "filters": form.filters(),
        "count": len(hits),
        "total": total,
        "more": total > len(hits),
        "hits": [hit.to_dict() for hit in hits],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=1),
        media_type="application/json",
        headers={"content-disposition": download_name(form.q, "json")},
    )


# -- browse -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthDays:
    month: date
    articles: int
    days: tuple[queries.DayCount, ...]


def by_month(days: list[queries.DayCount]) -> list[MonthDays]:
    """Days (newest first) grouped by their month, newest first."""
    months: dict[date, list[queries.DayCount]] = {}
    for d in days:
        months.setdefault(d.day.replace(day=1), []).append(d)
    return [
        MonthDays(month, sum(d.articles for d in found), tuple(found))
        for month, found in months.items()
    ]


def browse_index(request: Request) -> Response:
    web = web_of(request)
    with web.reading() as con:
        known = queries.sites(con)
        site = chosen_site(request, web, known)
        context: dict[str, Any] = {
            "categories": queries.categories(con, site),
            "authors": queries.top_authors(con, site),
            "tags": queries.top_tags(con, site),
            "months": by_month(queries.recent_days(con, site)),
        }
    return _render(request, "browse.html", nav="browse", sites=known, site=site, **context)


COLLECTIONS: dict[str, tuple[queries.Collection, str, str]] = {
    "category": ("category", "chuyên mục", "Chuyên mục"),
    "author": ("author", "tác giả", "Tác giả"),
    "tag": ("tag", "thẻ", "Thẻ"),
    "day": ("day", "ngày", "Ngày"),
}
"""``/browse/<kind>/…``: the query's collection, its name in a sentence and as a heading."""


def _browse(kind: str) -> Callable[[Request], Response]:
    collection, noun, heading = COLLECTIONS[kind]

    def page(request: Request) -> Response:
        web = web_of(request)
        raw = str(request.path_params["name"])
        number = page_number(request)
        value: str | date
        if collection == "day":
            if len(raw) > MAX_NAME_CHARS:
                raise _bad("Ngày quá dài", 414)
            day = parse_day(raw, "Ngày")
            if day is None:
                raise _bad("Thiếu ngày")
            value = day
        else:
            value = path_name(raw, noun)
        neighbours: tuple[date | None, date | None] = (None, None)
        with web.reading() as con:
            known = queries.sites(con)
            site = chosen_site(request, web, known)
            found = queries.articles_of(
                con, site, collection, value, page=number, size=web.config.page_size
            )
            if isinstance(value, date):
                neighbours = queries.neighbour_days(con, site, value)
        shown = f"{value:%d/%m/%Y}" if isinstance(value, date) else value
        if not found.total:
            near = [f"{d:%d/%m/%Y}" for d in neighbours if d is not None]
            hint = f" (gần nhất: {', '.join(near)})" if near else ""
            raise _bad(f"Không có bài nào của {noun} {shown!r}{hint}", 404)
        if number > found.pages:
            raise _bad(f"Không có trang {number}; {noun} này có {found.pages} trang", 404)
        return _render(
            request,
            "browse_list.html",
            nav="browse",
            sites=known,
            site=site,
            kind=kind,
            noun=noun,
            heading=heading,
            shown=shown,
            found=found,
            neighbours=neighbours,
        )

    page.__name__ = f"browse_{kind}"
    return page


# -- removed ----------------------------------------------------------------------------------


def removed_page(request: Request) -> Response:
    web = web_of(request)
    number = page_number(request)
    size = web.config.page_size
    with web.reading() as con:
        known = queries.sites(con)
        site = chosen_site(request, web, known)
        total = queries.removed_count(con, site)
        pager = queries.Page(rows=(), total=total, page=number, size=size)
        if total and number > pager.pages:
            raise _bad(f"Không có trang {number}; danh sách có {pager.pages} trang", 404)
        rows = get_removed(con, site=site, limit=size, offset=(number - 1) * size)
    return _render(
        request,
        "removed.html",
        nav="removed",
        sites=known,
        site=site,
        takedowns=rows,
        page=pager,
    )


def routes() -> list[BaseRoute]:
    """The collection pages, for :func:`web.app.routes`."""
    return [
        Route("/", home, methods=["GET", "HEAD"]),
        Route("/search", search_view, methods=["GET", "HEAD"]),
        Route("/search.csv", search_csv, methods=["GET", "HEAD"]),
        Route("/search.json", search_json, methods=["GET", "HEAD"]),
        Route("/browse", browse_index, methods=["GET", "HEAD"]),
        *(
            Route(f"/browse/{kind}/{{name:path}}", _browse(kind), methods=["GET", "HEAD"])
            for kind in COLLECTIONS
        ),
        Route("/removed", removed_page, methods=["GET", "HEAD"]),
    ]
