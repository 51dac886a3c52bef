"""A bundled copy of a site a few days later, described as data and served over the copy.

``sitecopy/changes/<key>.toml`` says what the newsroom changed since the copy was made
(an article edited, one taken down; the keys are explained in ``baolaocai.toml``).
:func:`apply_changes` turns it into an :class:`Overlay`: the few files whose bytes
changed and the pages that now answer 404. :class:`sitecopy.SiteServer` serves it over
the unchanged copy (``serve_site(root, changes=overlay)``), so the copy is never
duplicated and a change is a few reviewable lines.

What a real EPI site does on an edit or a takedown is what the overlay does, nothing
more: the edited page carries its new text and a later ``article:modified_time``; the
*lists* (every page of the copy that is not an article page: the home page, section
listings, the feed, the sitemaps) show the new title and the later ``<lastmod>``; a
taken-down page answers 404 and its entries are gone from every list. Article pages are
the ones the copy's sitemaps list (``<url><loc>``). A change that no longer matches the
copy (a replaced text that is not there, a takedown some list keeps linking) is a
:class:`ValueError` naming it, never a silent no-op.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from sitecopy.server import DEFAULT_COPY

CHANGES_DIR = Path(__file__).with_name("changes")
"""One ``<site key>.toml`` per bundled copy that has a later state."""
TEXT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".rss"})
ENTRY_TAGS = ("li", "article", "url", "item", "entry")
"""The elements a list shows one article in (listing items, sitemap ``<url>``, feed
items): a takedown removes the smallest one around each link to the page."""
_LOC_RE = re.compile(r"<url>\s*<loc>([^<]+)</loc>")

Scope = Literal["page", "lists"]


@dataclass(frozen=True, slots=True)
class Replace:
    old: str
    new: str
    scope: Scope = "page"


@dataclass(frozen=True, slots=True)
class Edit:
    page: str
    """The article page's file, relative to the copy (as its URL path, without ``/``)."""
    note: str
    replaces: tuple[Replace, ...]


@dataclass(frozen=True, slots=True)
class Takedown:
    page: str
    note: str


@dataclass(frozen=True, slots=True)
class FileReplace:
    file: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed on a site after its copy was made (one ``changes/<key>.toml``)."""

    label: str
    last_modified: datetime
    """``Last-Modified`` of every file the change touched (tz-aware)."""
    edits: tuple[Edit, ...] = ()
    takedowns: tuple[Takedown, ...] = ()
    replaces: tuple[FileReplace, ...] = ()

    @property
    def summary(self) -> str:
        """``the same site three days later (1 article edited, 1 taken down)``."""
        edited = f"{len(self.edits)} article{'' if len(self.edits) == 1 else 's'} edited"
        return f"{self.label} ({edited}, {len(self.takedowns)} taken down)"


@dataclass(frozen=True, slots=True)
class Overlay:
    """The changed copy's differences from the copy: served in place of its files."""

    changes: ChangeSet
    files: Mapping[str, bytes]
    """Changed files by their path relative to the copy (``thoi-su/index.html``)."""
    gone: frozenset[str]
    """Files that now answer 404."""

    def lookup(self, relative: str) -> bytes | Literal[False] | None:
        """The changed bytes of ``relative``, ``None`` if it is gone, ``False`` if the
        overlay leaves it as it is."""
        if relative in self.gone:
            return None
        return self.files.get(relative, False)


def changes_file(site_key: str) -> Path | None:
    """The change file of a bundled copy, or ``None`` when it has none."""
    path = CHANGES_DIR / f"{site_key or DEFAULT_COPY}.toml"
    return path if path.is_file() else None


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: {key!r} must be a non-empty string")
    if unicodedata.normalize("NFC", value) != value:
        raise ValueError(f"{where}: {key!r} is not in NFC")
    return value


def _page(data: Mapping[str, Any], key: str, where: str) -> str:
    page = _text(data, key, where).lstrip("/")
    if ".." in Path(page).parts:
        raise ValueError(f"{where}: {key!r} must stay inside the copy")
    return page


def parse_changes(data: Mapping[str, Any], where: str = "changes") -> ChangeSet:
    """A :class:`ChangeSet` from a change file's parsed TOML (pure: no file is read)."""
    known = {"label", "last_modified", "edit", "takedown", "replace"}
    if unknown := sorted(set(data) - known):
        raise ValueError(f"{where}: unknown keys {unknown}")
    stamp = data.get("last_modified")
    if not isinstance(stamp, datetime) or stamp.tzinfo is None:
        raise ValueError(f"{where}: 'last_modified' must be a date-time with its offset")
    edits = []
    for i, raw in enumerate(data.get("edit", [])):
        at = f"{where}: edit[{i}]"
        page = _page(raw, "page", at)
        replaces = []
        for j, r in enumerate(raw.get("replace", [])):
            scope = r.get("scope", "page")
            if scope not in ("page", "lists"):
                raise ValueError(f"{at}.replace[{j}]: scope must be 'page' or 'lists'")
            rat = f"{at}.replace[{j}]"
            replaces.append(Replace(_text(r, "old", rat), _text(r, "new", rat), scope))
        if not replaces:
            raise ValueError(f"{at}: an edit changes something: add [[edit.replace]]")
        edits.append(Edit(page, _text(raw, "note", at), tuple(replaces)))
    takedowns = tuple(
        Takedown(
            _page(raw, "page", f"{where}: takedown[{i}]"),
            _text(raw, "note", f"{where}: takedown[{i}]"),
        )
        for i, raw in enumerate(data.get("takedown", []))
    )
    file_replaces = tuple(
        FileReplace(
            _page(raw, "file", f"{where}: replace[{i}]"),
            _text(raw, "old", f"{where}: replace[{i}]"),
            _text(raw, "new", f"{where}: replace[{i}]"),
        )
        for i, raw in enumerate(data.get("replace", []))
    )
    pages = [e.page for e in edits] + [t.page for t in takedowns]
    if len(set(pages)) != len(pages):
        raise ValueError(f"{where}: a page is edited or taken down twice")
    return ChangeSet(_text(data, "label", where), stamp, tuple(edits), takedowns, file_replaces)


def load_changes(path: Path) -> ChangeSet:
    with path.open("rb") as f:
        return parse_changes(tomllib.load(f), str(path))


def article_pages(root: Path) -> frozenset[str]:
    """The copy's article pages: the files of the URLs its sitemaps list."""
    pages = set()
    for sitemap in root.rglob("*.xml"):
        for loc in _LOC_RE.findall(sitemap.read_text("utf-8")):
            pages.add(unquote(urlsplit(loc.strip()).path).lstrip("/"))
    return frozenset(pages)


def _enclosing(text: str, at: int) -> tuple[int, int] | None:
    """The smallest list entry (:data:`ENTRY_TAGS`) around position ``at``."""
    best: tuple[int, int] | None = None
    for tag in ENTRY_TAGS:
        opened = max(text.rfind(f"<{tag}>", 0, at), text.rfind(f"<{tag} ", 0, at))
        closed = text.find(f"</{tag}>", at)
        if opened < 0 or closed < 0 or text.find(f"</{tag}>", opened, at) >= 0:
            continue  # no such element, or the nearest one ends before the link
        span = (opened, closed + len(tag) + 3)
        if best is None or span[1] - span[0] < best[1] - best[0]:
            best = span
    return best


def drop_entries(text: str, page: str, where: str) -> str:
    """``text`` without the list entries linking to ``page`` (relative, absolute or
    with a query string), each with its line when it stands on lines of its own."""
    link = re.compile("/" + re.escape(page) + r"(?=[\"'<?#\s])")
    while match := link.search(text):
        span = _enclosing(text, match.start())
        if span is None:
            raise ValueError(f"{where}: a link to {page} is in no list entry ({ENTRY_TAGS})")
        start, end = span
        line_start = text.rfind("\n", 0, start) + 1
        if not text[line_start:start].strip() and text[end : end + 1] == "\n":
            start, end = line_start, end + 1
        text = text[:start] + text[end:]
    return text


def apply_changes(root: Path, changes: ChangeSet) -> Overlay:
    """The :class:`Overlay` that ``changes`` make of the copy under ``root``."""
    root = root.resolve()
    articles = article_pages(root)
    lists = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.suffix in TEXT_SUFFIXES and p.is_file()
    )
    lists = [p for p in lists if p not in articles]
    texts: dict[str, str] = {}

    def text_of(rel: str) -> str:
        if rel not in texts:
            file = root / rel
            if not file.is_file():
                raise ValueError(f"{rel}: no such file in the copy {root}")
            texts[rel] = file.read_text("utf-8")
        return texts[rel]

    for page in [e.page for e in changes.edits] + [t.page for t in changes.takedowns]:
        if page not in articles:
            raise ValueError(f"{page}: not an article page of the copy (no sitemap lists it)")
    for edit in changes.edits:
        for r in edit.replaces:
            if r.old not in text_of(edit.page):
                raise ValueError(f"{edit.page}: the text to replace is not there: {r.old!r}")
            texts[edit.page] = text_of(edit.page).replace(r.old, r.new)
            if r.scope == "lists":
                for rel in lists:
                    if r.old in text_of(rel):
                        texts[rel] = text_of(rel).replace(r.old, r.new)
    for takedown in changes.takedowns:
        for rel in lists:
            texts[rel] = drop_entries(text_of(rel), takedown.page, rel)
    for fr in changes.replaces:
        if fr.old not in text_of(fr.file):
            raise ValueError(f"{fr.file}: the text to replace is not there: {fr.old!r}")
        texts[fr.file] = text_of(fr.file).replace(fr.old, fr.new)
    files = {
        rel: text.encode("utf-8")
        for rel, text in texts.items()
        if text.encode("utf-8") != (root / rel).read_bytes()
    }
    return Overlay(changes, files, frozenset(t.page for t in changes.takedowns))


def changed_copy(site_key: str, root: Path) -> Overlay | None:
    """The later state of the bundled copy of ``site_key`` at ``root``, if it has one."""
    path = changes_file(site_key)
    return apply_changes(root, load_changes(path)) if path is not None else None
