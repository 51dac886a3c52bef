"""One article's pages: the record, its versions and diffs, its captures and the
archived page (sandboxed), its archived pictures.

Every address is checked before any work: the site a key (``[a-z0-9_-]``, at most 40),
the id a whole number a BIGINT holds, a version a small whole number, a capture a
14-digit timestamp that is a real instant; anything else is a 4xx page. Each page reads
through :mod:`warehouse.reader` (the read model the CLI's ``show``, ``history`` and
``page`` use) over the request's short read-only connection: a handful of queries, each
bounded by the article's key.

The archived page is two answers. ``/page`` is the app's own page (the capture's date in
Vietnam time, its status, the other captures) framing ``/raw`` in an ``<iframe sandbox>``
without ``allow-scripts`` or ``allow-same-origin``; ``/raw`` is the capture sanitised by
:mod:`web.archived` and served with a sandboxing ``Content-Security-Policy`` of its own:
no script of the archived page runs, even one the sanitiser missed, and it fetches
nothing from the network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from baolaocai.errors import ConfigError, InputError, NotFoundError
from baolaocai.identity import MAX_ARTICLE_ID, article_id, canonicalize
from baolaocai.site import Site, bundled_sites, load_site
from baolaocai.worddiff import DiffPiece, FieldChange, field_changes
from warehouse.reader import (
    ArticleView,
    CaptureView,
    ImageView,
    VersionView,
    archived_page,
    get_article,
    get_captures,
    get_version,
    get_versions,
    image_bytes,
)
from web.archived import RAW_CSP, render_archived
from web.context import vn_datetime, web_of

_SITE_KEY = re.compile(r"[a-z0-9_-]{1,40}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_TIMESTAMP = re.compile(r"[0-9]{14}")
MAX_VERSION = 1_000_000
"""No article has more versions than this: a larger number is not a version (a 400)."""
MAX_LINKED_ARTICLES = 2000
"""The most distinct article links of one archived page looked up in the warehouse (a
page's menus and related lists hold a few hundred at most)."""

FIELD_NAMES = {
    "title": "Tiêu đề",
    "sapo": "Sapo (tóm tắt)",
    "body": "Nội dung",
    "author": "Tác giả",
    "published_at": "Ngày đăng",
    "modified_at": "Ngày sửa (theo trang)",
    "category": "Chuyên mục",
    "tags": "Thẻ",
    "source": "Nguồn",
}
"""How the pages name an article's fields (the order of :data:`worddiff.DIFF_FIELDS`)."""

TIME_FIELDS = frozenset({"published_at", "modified_at"})
"""The fields of a version that are times (a diff shows their two values, formatted)."""
RECORD_ELSEWHERE = frozenset({"body", "images"})
"""Keys of :meth:`ArticleView.to_dict` the record table leaves out: the page shows them
in sections of their own (the text, the pictures)."""

MISSING_NOTES = {
    "title": "Trang không có tiêu đề đọc được.",
    "published_at": "Không đọc được ngày đăng.",
    "body": "Không đọc được nội dung bài.",
    "category": "Trang không ghi chuyên mục.",
    "author": "Trang không ghi tác giả.",
}
PAGE_KINDS = {
    "article": "bài viết",
    "live": "tường thuật trực tiếp",
    "e-magazine": "e-magazine",
    "gallery": "phóng sự ảnh",
    "video": "video",
    "podcast": "podcast",
    "interview": "phỏng vấn",
    "infographic": "infographic",
    "amp": "bản AMP",
    "print": "bản in",
    "unknown": "không rõ (bố cục lạ)",
}
EXTRACTION_METHODS = {
    "epi": "khung nội dung EPI",
    "legacy": "bố cục cũ (2023)",
    "density": "vùng chữ dày nhất (bố cục lạ)",
    "epi+density": "khung EPI và vùng chữ",
}


# ------------------------------------------------------------------------- parameters


class NotCanonical(Exception):
    """The address names an article by a number written otherwise than its stable
    address writes it (``0909034``): answered by a permanent redirect to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _article_key(request: Request) -> tuple[str, int]:
    """``(site, article_id)`` from the address; a 404 page for anything that cannot be
    an article (no query runs for it), :class:`NotCanonical` for a number with leading
    zeros (one article, one shareable address)."""
    site = str(request.path_params["site"])
    raw = str(request.path_params["article_id"])
    if not _SITE_KEY.fullmatch(site):
        raise HTTPException(404, f"Không có trang báo nào tên {site[:60]!r} trong kho lưu trữ.")
    if not _DIGITS.fullmatch(raw) or not 0 < int(raw) <= MAX_ARTICLE_ID:
        raise HTTPException(404, f"{raw[:60]!r} không phải mã bài viết (một số nguyên dương).")
    if raw != str(int(raw)):
        prefix = f"{article_path(site, int(raw)).rsplit('/', 1)[0]}/{raw}"
        tail = request.url.path[len(prefix) :] if request.url.path.startswith(prefix) else ""
        query = f"?{request.url.query}" if request.url.query else ""
        raise NotCanonical(article_path(site, int(raw)) + tail + query)
    return site, int(raw)


def parse_timestamp(value: str) -> datetime:
    """A 14-digit WARC timestamp (``YYYYMMDDhhmmss``, UTC) as an aware instant;
    :class:`InputError` (a 400 page) for anything else."""
    if not _TIMESTAMP.fullmatch(value):
        raise InputError(f"at={value[:40]!r}: cần mốc thời gian 14 chữ số YYYYMMDDhhmmss (giờ UTC)")
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"at={value!r} không phải một thời điểm có thật") from None


def _at(request: Request) -> str | None:
    value = request.query_params.get("at")
    if value is None or value == "":
        return None
    parse_timestamp(value)
    return value


def _version_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 7:
        raise InputError(f"{name}={value[:40]!r}: số phiên bản phải là số nguyên dương")
    number = int(value)
    if not 0 < number <= MAX_VERSION:
        raise InputError(f"{name}={value!r}: số phiên bản phải là số nguyên dương")
    return number


# ------------------------------------------------------------------------ shared bits


def browse_url(kind: str, name: str, site: str) -> str:
    """The browse page of a category, author or tag of ``site`` (the name quoted whole:
    a ``/`` in it stays part of the name). The site goes with it: two papers can share a
    category name ("Thời sự"), and an article's link lists its own paper's."""
    return f"/browse/{kind}/{quote(name, safe='')}?site={quote(site, safe='')}"


def article_path(site: str, aid: int) -> str:
    return f"/a/{site}/{aid}"


def is_good(capture: CaptureView) -> bool:
    """A capture of the page as it was (what :data:`warehouse.reader.GOOD_CAPTURE`
    says in SQL): a 200, or a 304 recorded as a revisit of one."""
    return capture.status == 200 or (capture.status == 304 and capture.is_revisit)


def pick_capture(captures: list[CaptureView], at: str | None, name: str) -> CaptureView:
    """The capture ``at`` names: that timestamp exactly, else the latest before it; with
    no ``at``, the latest good capture (else the latest), as ``baolaocai page`` picks."""
    if not captures:
        raise NotFoundError(f"Bài {name} chưa có bản lưu trữ nào (no capture).")
    if at is None:
        good = [c for c in captures if is_good(c)]
        return (good or captures)[-1]
    exact = [c for c in captures if c.timestamp == at]
    if exact:
        return exact[-1]
    instant = parse_timestamp(at)
    before = [c for c in captures if c.fetched_at <= instant]
    if not before:
        raise NotFoundError(
            f"Bài {name} không có bản lưu trữ nào trước {vn_datetime(instant)};"
            f" bản đầu tiên là ngày {vn_datetime(captures[0].fetched_at)}."
        )
    return before[-1]


def image_path(site: str, aid: int, image: ImageView) -> str | None:
    return f"{article_path(site, aid)}/img/{image.position}" if image.archived else None


@lru_cache(maxsize=32)
def site_file(key: str) -> Site | None:
    """The bundled site file of ``key`` (which addresses are its articles), if there is
    one: links of a page of another paper are then left as text."""
    if key not in {name for name, _ in bundled_sites()}:
        return None
    try:
        return load_site(key)
    except ConfigError:
        return None


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field for a page: its name, its word diff (or, for tags, which tags
    went and came)."""

    field: str
    label: str
    pieces: tuple[DiffPiece, ...]
    tags: tuple[tuple[str, str], ...] = ()
    """``(op, tag)`` for the tags field: ``equal``, ``delete`` or ``insert``."""
    times: tuple[datetime | None, datetime | None] | None = None
    """Both values of a time field (``published_at``, ``modified_at``), shown as the
    pages show times (Vietnam time, a day-only date as the day) rather than ISO text."""


def changes_between(old: VersionView, new: VersionView) -> list[Change]:
    """The fields that differ from ``old`` to ``new``, each with its diff; tags compared
    as lists (a tag dropped, a tag added), not as one text."""
    result = []
    for change in field_changes(old, new):
        tags: tuple[tuple[str, str], ...] = ()
        if change.field == "tags":
            tags = tag_diff(old.tags, new.tags)
        times = None
        if change.field in TIME_FIELDS:
            times = (getattr(old, change.field), getattr(new, change.field))
        label = FIELD_NAMES.get(change.field, change.field)
        result.append(Change(change.field, label, change.pieces, tags, times))
    return result


def tag_diff(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The new tags in order, each ``equal`` or ``insert``, then the dropped ones."""
    kept = [("equal" if t in old else "insert", t) for t in new]
    gone = [("delete", t) for t in old if t not in new]
    return tuple(kept + gone)


def _labels(changes: list[FieldChange] | list[Change]) -> str:
    return ", ".join(FIELD_NAMES.get(c.field, c.field).lower() for c in changes)


# ------------------------------------------------------------------------------ pages


def article_page(request: Request) -> Response:
    site, aid = _article_key(request)
    web = web_of(request)
    with web.reading() as con:
        article = get_article(con, site, aid)
        captures = get_captures(con, site, aid)
        latest_change: list[FieldChange] = []
        current: VersionView | None = None
        if article.version > 1:
            try:
                previous = get_version(con, site, aid, article.version - 1)
                current = get_version(con, site, aid, article.version)
            except NotFoundError:
                previous = None
            if previous is not None and current is not None:
                latest_change = field_changes(previous, current)
    return web.render(
        request, "article.html", **_article_context(article, captures, latest_change, current)
    )


def _article_context(
    article: ArticleView,
    captures: list[CaptureView],
    latest_change: list[FieldChange],
    current: VersionView | None,
) -> dict[str, Any]:
    site, aid = article.site, article.article_id
    last_before_removal = None
    if article.removed_at is not None:
        before = [c for c in captures if is_good(c) and c.fetched_at <= article.removed_at]
        last_before_removal = before[-1] if before else None
    good = [c for c in captures if is_good(c)]
    return {
        "a": article,
        "base": article_path(site, aid),
        "paragraphs": [p.strip() for p in article.body.split("\n\n") if p.strip()],
        "pictures": [(img, image_path(site, aid, img)) for img in article.images],
        "tag_links": [(t, browse_url("tag", t, site)) for t in article.tags],
        "author_links": [
            (name.strip(), browse_url("author", name.strip(), site))
            for name in (article.author or "").split(",")
            if name.strip()
        ],
        "category_link": (
            browse_url("category", article.category, site) if article.category else None
        ),
        "record": record_rows(article),
        "missing_notes": [
            MISSING_NOTES.get(f, f"Thiếu trường {f}.") for f in article.missing_fields
        ],
        "page_kind": PAGE_KINDS.get(article.page_kind or "", article.page_kind),
        "extraction": EXTRACTION_METHODS.get(
            article.extraction_method or "", article.extraction_method
        ),
        "latest_change": _labels(latest_change),
        "current_version": current,
        "last_capture": good[-1] if good else (captures[-1] if captures else None),
        "last_before_removal": last_before_removal,
        "capture_count": len(captures),
    }


def record_rows(article: ArticleView) -> list[tuple[str, str]]:
    """Every key of :meth:`ArticleView.to_dict` (what ``baolaocai show ID --format json``
    prints) but :data:`RECORD_ELSEWHERE`, with its value as stored: generated from the
    record, so a column added to the warehouse is on the page too. A list is its items
    joined by commas, none ``''``."""
    rows = []
    for key, value in article.to_dict().items():
        if key in RECORD_ELSEWHERE:
            continue
        if isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = "" if value is None else str(value)
        rows.append((key, shown))
    return rows


def versions_page(request: Request) -> Response:
    site, aid = _article_key(request)
    web = web_of(request)
    with web.reading() as con:
        article = get_article(con, site, aid)
        versions = get_versions(con, site, aid)
    rows = []
    for i, version in enumerate(versions):
        changed = _labels(changes_between(versions[i - 1], version)) if i else ""
        rows.append((version, changed))
    numbers = [v.version for v in versions]
    return web.render(
        request,
        "versions.html",
        a=article,
        base=article_path(site, aid),
        rows=rows,
        numbers=numbers,
        default_from=numbers[-2] if len(numbers) > 1 else numbers[0] if numbers else 1,
        default_to=numbers[-1] if numbers else 1,
    )


def diff_page(request: Request) -> Response:
    site, aid = _article_key(request)
    web = web_of(request)
    with web.reading() as con:
        first = _version_param(request, "from")
        second = _version_param(request, "to")
        article = get_article(con, site, aid)
        if first is None and second is None:  # what changed last
            second = article.version
            first = max(1, article.version - 1)
        if first is None or second is None:
            numbers = ", ".join(str(v.version) for v in get_versions(con, site, aid))
            raise InputError(
                f"Cần chọn hai phiên bản (from và to); bài {site}/{aid} có các phiên bản: {numbers}."
            )
        old = get_version(con, site, aid, first)
        new = get_version(con, site, aid, second)
    changes = changes_between(old, new) if first != second else []
    changed = {c.field for c in changes}
    return web.render(
        request,
        "diff.html",
        a=article,
        base=article_path(site, aid),
        old=old,
        new=new,
        same=first == second,
        only_one=article.versions <= 1,
        changes=changes,
        unchanged=[label for f, label in FIELD_NAMES.items() if f not in changed],
    )


def captures_page(request: Request) -> Response:
    site, aid = _article_key(request)
    web = web_of(request)
    with web.reading() as con:
        article = get_article(con, site, aid)
        captures = get_captures(con, site, aid)
    by_id = {c.record_id: c for c in captures if not c.is_revisit}
    rows = [(c, by_id.get(c.refers_to or "")) for c in reversed(captures)]  # newest first
    return web.render(request, "captures.html", a=article, base=article_path(site, aid), rows=rows)


def archived_wrapper(request: Request) -> Response:
    site, aid = _article_key(request)
    at = _at(request)
    web = web_of(request)
    with web.reading() as con:
        article = get_article(con, site, aid)
        captures = get_captures(con, site, aid)
    chosen = pick_capture(captures, at, f"{site}/{aid}")
    index = max(i for i, c in enumerate(captures) if c is chosen)
    repeats = None
    if chosen.is_revisit:
        repeats = next((c for c in captures if c.record_id == chosen.refers_to), None)
    return web.render(
        request,
        "archived.html",
        a=article,
        base=article_path(site, aid),
        capture=chosen,
        repeats=repeats,
        previous=captures[index - 1] if index > 0 else None,
        next=captures[index + 1] if index + 1 < len(captures) else None,
        position=index + 1,
        total=len(captures),
    )


RAW_HEADERS = {
    "Content-Security-Policy": RAW_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Hostile markup is not kept in the browser's disk cache, and a page re-read after
    # the sanitiser changed is sanitised again: the app is local, a re-read costs little.
    "Cache-Control": "no-store",
}


def archived_raw(request: Request) -> Response:
    site, aid = _article_key(request)
    at = _at(request)
    web = web_of(request)
    name = f"{site}/{aid}"
    with web.reading() as con:
        article = get_article(con, site, aid)
        chosen = pick_capture(get_captures(con, site, aid), at, name)
        page = archived_page(con, web.config.warc_dir, site, aid, timestamp=chosen.timestamp)
        stored = _stored_articles(con, site)
        images = {
            img.src: path
            for img in article.images
            if (path := image_path(site, aid, img)) is not None
        }
        rendered = render_archived(
            page.body,
            page.content_type,
            page_url=page.capture.url,
            banner=_banner(page.capture, page.response),
            links=stored,
            images=lambda urls: {u: images[u] for u in urls if u in images},
        )
    return HTMLResponse(rendered.html, headers=RAW_HEADERS)


def _banner(capture: CaptureView, response: CaptureView) -> str:
    text = (
        f"Bản lưu trữ ngày {vn_datetime(capture.fetched_at)} (giờ Việt Nam)"
        f" — trang gốc: {capture.url}"
    )
    if capture.is_revisit:
        text += f" — trang không đổi so với bản ngày {vn_datetime(response.fetched_at)}"
    if capture.status not in (200, 304):
        text += f" — máy chủ trả lời mã {capture.status}"
    return text + " · Mã script đã bị tắt, liên kết đã được đổi để ở lại trong kho lưu trữ."


def _stored_articles(con: Any, site: str) -> Any:
    """The :data:`web.archived.LinkMap` of a page of ``site``: each link that is an
    article of the site (by its site file) and stored in the warehouse goes to its archive
    page; one query by primary key for all of them."""
    paper = site_file(site)

    def lookup(urls: Collection[str]) -> Mapping[str, str]:
        if paper is None:
            return {}
        ids: dict[str, int] = {}
        for url in urls:
            canonical = canonicalize(url, paper)
            found = article_id(canonical, paper) if canonical else None
            if found is not None:
                ids[url] = found
        wanted = sorted(set(ids.values()))[:MAX_LINKED_ARTICLES]
        if not wanted:
            return {}
        rows = con.execute(
            "SELECT article_id FROM articles WHERE site = ? AND article_id IN"
            f" ({', '.join('?' for _ in wanted)})",
            [site, *wanted],
        ).fetchall()
        held = {row[0] for row in rows}
        return {url: article_path(site, i) for url, i in ids.items() if i in held}

    return lookup


def archived_image(request: Request) -> Response:
    site, aid = _article_key(request)
    raw = str(request.path_params["position"])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise HTTPException(404, f"{raw[:40]!r} không phải số thứ tự ảnh.")
    web = web_of(request)
    with web.reading() as con:
        body, kind = image_bytes(con, web.config.warc_dir, site, aid, int(raw))
    mime = kind.split(";", 1)[0].strip().lower()
    if not mime.startswith("image/"):
        raise NotFoundError(
            f"Bản lưu trữ của ảnh {raw} không phải ảnh ({mime or 'không rõ kiểu'})."
        )
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": "inline",
    }
    if mime == "image/svg+xml":
        # An SVG opened as a document can run script: shown in an <img> it is a picture,
        # opened directly it is a download, never a page.
        headers["Content-Disposition"] = f'attachment; filename="{site}-{aid}-{raw}.svg"'
    return Response(body, media_type=mime, headers=headers)


_ROUTE = "/a/{site}/{article_id}"


def routes() -> list[BaseRoute]:
    """One article's pages, for :func:`web.app.routes`."""
    return [
        Route(_ROUTE, _canonical(article_page), methods=["GET", "HEAD"]),
        Route(f"{_ROUTE}/versions", _canonical(versions_page), methods=["GET", "HEAD"]),
        Route(f"{_ROUTE}/diff", _canonical(diff_page), methods=["GET", "HEAD"]),
        Route(f"{_ROUTE}/captures", _canonical(captures_page), methods=["GET", "HEAD"]),
        Route(f"{_ROUTE}/page", _canonical(archived_wrapper), methods=["GET", "HEAD"]),
        Route(f"{_ROUTE}/raw", _canonical(archived_raw), methods=["GET", "HEAD"]),
        Route(_ROUTE + "/img/{position}", _canonical(archived_image), methods=["GET", "HEAD"]),
    ]


def _canonical(page: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """``page``, with an address naming the article by a non-canonical number answered
    by a 301 to its stable address (same path after the id, same query)."""

    @wraps(page)
    def answer(request: Request) -> Response:
        try:
            return page(request)
        except NotCanonical as moved:
            return RedirectResponse(moved.location, status_code=301)

    return answer
