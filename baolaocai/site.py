"""A newspaper as one file: the site model and its loader.

A **site file** (TOML) holds everything site-specific: key and name, origin and hosts,
time zone, URL patterns, names, and the CMS family it ``extends``. A **family file**
(``baolaocai/families/epi.toml``) holds what every paper on that CMS shares: selectors,
furniture, generic URL patterns. The site file's tables (``urls``, ``names``,
``selectors``, ``boilerplate``) replace the family's keys one by one; ``[append.<table>]``
adds to the family's lists instead. ``{name}`` and ``{host}`` in any string stand for the
site's name and origin host (regex-escaped inside regular expressions).

A file with an error (an unknown key, an empty list where one is needed, a bad regular
expression, an article pattern without ``(?P<id>…)``) is refused when it is loaded, in one
line naming the file, the key and the reason. The README documents every key.

Bundled sites are found by name (``baolaocai/sites/<key>.toml``); any other file by path.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.errors import ConfigError
from baolaocai.models import PAGE_KINDS
from baolaocai.profile import KindRule, SiteProfile
from baolaocai.text import fold_key

DEFAULT_SITE = "baolaocai"
"""The key of the site every command uses unless told otherwise (``--site``,
``BAOLAOCAI_SITE``)."""
SITES_DIR = Path(__file__).with_name("sites")
FAMILIES_DIR = Path(__file__).with_name("families")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_HOST_RE = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)

_TOP_KEYS = frozenset(
    {
        "key",
        "name",
        "extends",
        "origin",
        "hosts",
        "asset_hosts",
        "time_zone",
        "description",
        "parser",
        "urls",
        "names",
        "selectors",
        "boilerplate",
        "kinds",
        "search",
        "append",
    }
)
_FAMILY_TOP_KEYS = frozenset(
    {
        "family",
        "parser",
        "time_zone",
        "description",
        "urls",
        "names",
        "selectors",
        "boilerplate",
        "kinds",
        "search",
    }
)
_SEARCH_KEYS = frozenset({"variants"})
"""``[search]``: ``variants``, groups of spellings of one name (a list of lists)."""
_WORD_RE = re.compile(r"\w")
# Every key of every table, with whether it is a regular expression and whether it may
# be an empty list.
_URL_KEYS: dict[str, tuple[bool, bool]] = {
    "article": (True, False),
    "tag_page": (True, True),
    "not_article": (True, True),
    "section": (True, False),
    "section_exclude": (True, True),
    "pagination": (True, True),
    "month_sitemap": (True, True),
    "sitemaps": (False, True),
    "feeds": (False, True),
    "copies": (False, True),
    "copy_hosts": (False, True),
}
_NAME_KEYS: dict[str, tuple[bool, bool]] = {
    "title_suffixes": (False, True),
    "organisations": (False, True),
    "dateline_prefixes": (False, True),
}
_SELECTOR_KEYS: dict[str, tuple[bool, bool]] = {
    key: (False, False)
    for key in (
        "title",
        "sapo",
        "body",
        "meta",
        "time",
        "byline",
        "tags",
        "breadcrumbs",
        "picture",
        "author_name",
        "photo_credit",
        "caption",
        "legacy_markers",
        "cover",
        "category_link",
        "section_links",
        "pagination_links",
    )
}
_BOILERPLATE_KEYS: dict[str, tuple[bool, bool]] = {
    "remove": (False, False),
    "remove_in_body": (False, False),
    "page_furniture": (False, False),
    "other_articles": (False, False),
    "tag_labels": (False, False),
    "modified_prefixes": (False, False),
    "modified_class_parts": (False, False),
    "phrases": (False, False),
    "legacy_phrases": (False, False),
    "section_markers": (False, False),
    "footer_patterns": (True, False),
    "source_patterns": (True, False),
    "source_excludes": (True, False),
    "byline_prefixes": (False, False),
    "generic_descriptions": (True, False),
    "agency_prefixes": (False, False),
    "credit_labels": (False, True),
    "non_author_credit_labels": (False, True),
    "byline_suffixes": (True, True),
    "furniture_patterns": (True, True),
    "social_hosts": (False, True),
    "category_labels": (False, True),
    "note_boxes": (False, True),
    "not_pictures": (False, True),
    "body_signatures": (False, True),
    "honorifics": (False, True),
    "house_ad_phrases": (False, True),
    "error_pages": (False, True),
}
_KIND_KEYS: dict[str, tuple[bool, bool]] = {kind: (False, True) for kind in PAGE_KINDS}
TABLES: dict[str, dict[str, tuple[bool, bool]]] = {
    "urls": _URL_KEYS,
    "names": _NAME_KEYS,
    "selectors": _SELECTOR_KEYS,
    "boilerplate": _BOILERPLATE_KEYS,
    "kinds": _KIND_KEYS,
}
"""The tables of a site file and their keys: ``{table: {key: (is_regex, may_be_empty)}}``."""
SELECTOR_KEYS = (
    *(f"selectors.{k}" for k in _SELECTOR_KEYS),
    "boilerplate.remove",
    "boilerplate.remove_in_body",
    "boilerplate.page_furniture",
    "boilerplate.other_articles",
    "boilerplate.note_boxes",
)
"""The keys whose values are CSS selectors (checked for balanced brackets at load)."""


@dataclass(frozen=True)
class Site:
    """One newspaper: who it is, where it lives, how its addresses and pages read."""

    key: str
    """Short name: the warehouse's ``site`` column, the default file names, ``--site``."""
    name: str
    origin: str
    """Canonical origin of every stored URL (``https://baolaocai.vn``): scheme and host."""
    hosts: frozenset[str]
    """Hosts that serve the site's pages (the origin's, ``www.`` …), lower-case."""
    asset_hosts: tuple[str, ...]
    time_zone: str
    family: str
    parser: str
    path: str
    """The site file it was loaded from."""
    article_res: tuple[re.Pattern[str], ...]
    tag_page_res: tuple[re.Pattern[str], ...]
    not_article_res: tuple[re.Pattern[str], ...]
    """``[urls] not_article``: never articles (tag pages are not articles either)."""
    section_res: tuple[re.Pattern[str], ...]
    section_exclude_res: tuple[re.Pattern[str], ...]
    pagination_res: tuple[re.Pattern[str], ...]
    month_sitemap_res: tuple[re.Pattern[str], ...]
    sitemap_paths: tuple[str, ...]
    feed_paths: tuple[str, ...]
    section_links: str
    pagination_links: str
    profile: SiteProfile = field(repr=False)
    copy_rules: tuple[tuple[re.Pattern[str], str], ...] = ()
    """``[urls] copies``: ``pattern => replacement`` on the path of a copy of an article
    (AMP, print) giving the article's own path; every address is canonicalised through them."""
    variants: tuple[tuple[str, ...], ...] = ()
    """``[search] variants``: groups of spellings of one place or thing (``("Sa Pa",
    "Sapa")``, a commune's old and new name); a search for one member finds the others."""

    def article_path(self, path: str) -> str:
        """The path of the article a copy's path (``/amp/x-post1.html``) is a copy of."""
        for pattern, replacement in self.copy_rules:
            if pattern.search(path):
                return pattern.sub(replacement, path, count=1)
        return path

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_next_page(self, url: str) -> bool:
        """A listing's next page by the ``pagination`` patterns, searched in the URL's
        path and query (``/muc/x/page/2/``, ``/x/?trang=2``), like every ``[urls]``
        pattern is on the path."""
        parts = urlsplit(url)
        where = parts.path + (f"?{parts.query}" if parts.query else "")
        return any(p.search(where) for p in self.pagination_res)

    def month_of_sitemap(self, url: str) -> tuple[int, int] | None:
        """``(year, month)`` a child sitemap covers by the ``month_sitemap`` patterns,
        searched in the URL's path (its file name first)."""
        path = urlsplit(url).path
        for pattern in self.month_sitemap_res:
            match = pattern.search(path.rsplit("/", 1)[-1]) or pattern.search(path)
            if match:
                year, month = int(match.group("year")), int(match.group("month"))
                if 1 <= month <= 12 and 1900 < year < 3000:
                    return year, month
        return None

    def url(self, path: str = "/") -> str:
        """The canonical URL of a path on this site."""
        return self.origin + (path if path.startswith("/") else "/" + path)

    def default_db_path(self) -> str:
        return f"warehouse/{self.key}.duckdb"


def _fail(path: Path | str, key: str, reason: str) -> ConfigError:
    return ConfigError(f"site file {path}: {key}: {reason}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"site file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"site file {path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"site file {path}: not valid TOML: {exc}") from None


def _strings(value: object, path: Path | str, where: str, may_be_empty: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, where, "must be a list of strings")
    if not value and not may_be_empty:
        raise _fail(path, where, "must not be empty (an empty list would match everything)")
    if any(not v.strip() for v in value):
        raise _fail(path, where, "holds an empty string")
    return [unicodedata.normalize("NFC", v) for v in value]


def _string(data: Mapping[str, Any], key: str, path: Path | str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise _fail(path, key, "is required")
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, "must be a non-empty string")
    return unicodedata.normalize("NFC", value.strip())


def _check_keys(
    data: Mapping[str, Any], allowed: Iterable[str], path: Path | str, where: str
) -> None:
    known = set(allowed)
    for key in data:
        if key not in known:
            hint = ", ".join(sorted(known))
            raise _fail(path, f"{where}{key}", f"unknown key (known: {hint})")


def resolve_site_path(name_or_path: str | Path) -> Path:
    """A bundled site's file by key, or the file at a path."""
    text = str(name_or_path).strip()
    if not text:
        raise ConfigError("site: an empty name; give a bundled site's key or a site file's path")
    if _KEY_RE.match(text) and not text.endswith(".toml"):
        path = SITES_DIR / f"{text}.toml"
        if not path.is_file():
            known = ", ".join(key for key, _ in bundled_sites())
            raise ConfigError(f"site {text!r}: no bundled site of that name (bundled: {known})")
        return path
    return Path(text).expanduser()


def _family_path(extends: str, site_path: Path) -> Path:
    if _KEY_RE.match(extends) and not extends.endswith(".toml"):
        path = FAMILIES_DIR / f"{extends}.toml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in FAMILIES_DIR.glob("*.toml")))
            raise _fail(site_path, "extends", f"no CMS family {extends!r} (known: {known})")
        return path
    path = Path(extends).expanduser()
    return path if path.is_absolute() else site_path.parent / path


def bundled_sites() -> list[tuple[str, Path]]:
    """``(key, path)`` of every site file bundled with the package, by key."""
    return sorted((p.stem, p) for p in SITES_DIR.glob("*.toml"))


def bundled_variants(site_keys: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """The spelling variants (``[search] variants``) of every bundled site whose key is
    among ``site_keys`` (e.g. the sites of a search index), each group once: what a search
    that names no site file uses. A site searched with its own file brings its own."""
    wanted = set(site_keys)
    groups: list[tuple[str, ...]] = []
    for key, file in bundled_sites():
        if key in wanted:
            groups.extend(g for g in load_site(file).variants if g not in groups)
    return tuple(groups)


def load_site(name_or_path: str | Path = DEFAULT_SITE) -> Site:
    """The site of a bundled key or a site file's path, checked and compiled."""
    return _load(resolve_site_path(name_or_path).resolve())


def default_site() -> Site:
    return load_site(DEFAULT_SITE)


@cache
def _load(path: Path) -> Site:
    data = _read_toml(path)
    _check_keys(data, _TOP_KEYS, path, "")
    extends = _string(data, "extends", path)
    family_path = _family_path(extends, path)
    family = _read_toml(family_path)
    _check_keys(family, _FAMILY_TOP_KEYS, family_path, "")
    key = _string(data, "key", path)
    if not _KEY_RE.match(key):
        raise _fail(path, "key", "must be lower-case letters, digits, '-' or '_' (at most 40)")
    name = _string(data, "name", path)
    origin = _check_origin(_string(data, "origin", path), path)
    host = urlsplit(origin).netloc
    hosts = {host}
    for extra in _strings(data.get("hosts", []), path, "hosts", True):
        hosts.add(_check_host(extra, path, "hosts"))
    asset_hosts = tuple(
        _check_host(h, path, "asset_hosts")
        for h in _strings(data.get("asset_hosts", []), path, "asset_hosts", True)
    )
    time_zone = _string(data, "time_zone", path, family.get("time_zone", VIETNAM_TIME_ZONE))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(path, "time_zone", f"unknown time zone {time_zone!r}") from None
    parser = _string(data, "parser", path, family.get("parser", extends))
    append = data.get("append", {})
    if not isinstance(append, dict):
        raise _fail(path, "append", "must be a table of tables")
    _check_keys(append, [*TABLES, "search"], path, "append.")

    merged: dict[str, dict[str, list[str]]] = {}
    for table, keys in TABLES.items():
        ours = data.get(table, {})
        theirs = family.get(table, {})
        extra = append.get(table, {})
        for where, src, tpath in (
            (table, ours, path),
            (table, theirs, family_path),
            (f"append.{table}", extra, path),
        ):
            if not isinstance(src, dict):
                raise _fail(tpath, where, "must be a table")
            _check_keys(src, keys, tpath, f"{where}.")
        merged[table] = {}
        for k, (is_regex, may_be_empty) in keys.items():
            if k in ours:
                values = _strings(ours[k], path, f"{table}.{k}", may_be_empty)
            elif k in theirs:
                values = _strings(theirs[k], family_path, f"{table}.{k}", True)
            else:
                values = []
            if k in extra:
                values = values + _strings(extra[k], path, f"append.{table}.{k}", True)
            values = [_fill(v, name, host, is_regex) for v in values]
            if not values and not may_be_empty:
                raise _fail(path, f"{table}.{k}", "is empty (in the site file and its family)")
            merged[table][k] = values

    def regexes(table: str, k: str, flags: int = re.IGNORECASE) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, pattern in enumerate(merged[table][k]):
            try:
                out.append(re.compile(pattern, flags))
            except re.error as exc:
                raise _fail(path, f"{table}.{k}[{i}]", f"bad regular expression: {exc}") from None
        return tuple(out)

    article_res = regexes("urls", "article")
    for i, rx in enumerate(article_res):
        if "id" not in rx.groupindex:
            raise _fail(path, f"urls.article[{i}]", "needs a group (?P<id>…) for the article id")
        if "(?P<id>)" in rx.pattern or rx.match("") is not None:
            raise _fail(
                path,
                f"urls.article[{i}]",
                "the group (?P<id>…) is empty or the pattern matches an empty path",
            )
    month_res = regexes("urls", "month_sitemap")
    for i, rx in enumerate(month_res):
        if not {"year", "month"} <= set(rx.groupindex):
            raise _fail(
                path, f"urls.month_sitemap[{i}]", "needs groups (?P<year>…) and (?P<month>…)"
            )
    tag_page_res = regexes("urls", "tag_page")
    copy_rules = _copy_rules(merged["urls"]["copies"], path)
    for i, extra in enumerate(merged["urls"]["copy_hosts"]):
        hosts.add(_check_host(extra, path, f"urls.copy_hosts[{i}]"))
    for k in SELECTOR_KEYS:
        table, key_name = k.split(".")
        for i, sel in enumerate(merged[table][key_name]):
            _check_selector(sel, path, f"{k}[{i}]")
    profile = dataclasses.replace(
        _build_profile(
            path, key, name, host, time_zone, merged, regexes("boilerplate", "source_patterns")
        ),
        tag_page_res=tag_page_res,
    )
    return Site(
        key=key,
        name=name,
        origin=origin,
        hosts=frozenset(hosts),
        asset_hosts=asset_hosts,
        time_zone=time_zone,
        family=_string(family, "family", family_path, family_path.stem),
        parser=parser,
        path=str(path),
        article_res=article_res,
        tag_page_res=tag_page_res,
        not_article_res=regexes("urls", "not_article"),
        section_res=regexes("urls", "section"),
        section_exclude_res=regexes("urls", "section_exclude"),
        pagination_res=regexes("urls", "pagination"),
        month_sitemap_res=month_res,
        sitemap_paths=tuple(_path_of(p, path, "urls.sitemaps") for p in merged["urls"]["sitemaps"]),
        feed_paths=tuple(_path_of(p, path, "urls.feeds") for p in merged["urls"]["feeds"]),
        section_links=", ".join(merged["selectors"]["section_links"]),
        pagination_links=", ".join(merged["selectors"]["pagination_links"]),
        profile=profile,
        copy_rules=copy_rules,
        variants=_search_variants(data, family, append, path, family_path),
    )


def _search_variants(
    data: Mapping[str, Any],
    family: Mapping[str, Any],
    append: Mapping[str, Any],
    path: Path,
    family_path: Path,
) -> tuple[tuple[str, ...], ...]:
    """``[search] variants`` of the site (else of its family), plus ``[append.search]``'s;
    each group checked: two members or more, each with a letter or digit, no member twice
    (ignoring case; runs of spaces count as one) in the same group or in two groups."""
    found: list[tuple[str, ...]] = []
    sources = []
    for where, src, tpath in (
        ("search", data.get("search"), path),
        ("search", family.get("search"), family_path),
        ("append.search", append.get("search"), path),
    ):
        if src is None:
            continue
        if not isinstance(src, dict):
            raise _fail(tpath, where, "must be a table")
        _check_keys(src, _SEARCH_KEYS, tpath, f"{where}.")
        sources.append((where, src, tpath))
    ours = [s for s in sources if s[0] == "search" and s[2] == path]
    theirs = [s for s in sources if s[0] == "search" and s[2] != path]
    extra = [s for s in sources if s[0] == "append.search"]
    seen: dict[str, str] = {}
    for where, src, tpath in [*(ours or theirs), *extra]:
        groups = src.get("variants", [])
        if not isinstance(groups, list):
            raise _fail(tpath, f"{where}.variants", "must be a list of lists of names")
        for i, group in enumerate(groups):
            key = f"{where}.variants[{i}]"
            names = _strings(group, tpath, key, False)
            if len(names) < 2:
                raise _fail(tpath, key, "needs two spellings or more (one alone changes nothing)")
            members = tuple(" ".join(n.split()) for n in names)
            for name in members:
                if not _WORD_RE.search(name):
                    raise _fail(tpath, key, f"{name!r} has no letter or digit to search for")
                folded = name.casefold()  # 'Sa Pa' and 'Sapa' differ: that is the point
                if folded in seen:
                    raise _fail(
                        tpath,
                        key,
                        f"{name!r} is already in a group ({seen[folded]!r}):"
                        " put the spellings of one name in one group",
                    )
                seen[folded] = name
            found.append(members)
    return tuple(found)


def _copy_rules(rules: list[str], path: Path) -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for i, rule in enumerate(rules):
        pattern, sep, replacement = rule.partition(" => ")
        if not sep or not pattern.strip() or not replacement.strip():
            raise _fail(path, f"urls.copies[{i}]", "must read 'PATTERN => REPLACEMENT'")
        try:
            compiled = re.compile(pattern.strip(), re.IGNORECASE)
            compiled.sub(replacement.strip(), "/x")  # a bad group reference fails here
        except (re.error, IndexError) as exc:
            raise _fail(path, f"urls.copies[{i}]", f"bad rule: {exc}") from None
        out.append((compiled, replacement.strip()))
    return tuple(out)


_SIGNAL_KINDS = ("css", "url", "jsonld", "text", "prefix", "pictures", "max-words")


def _kind_rule(kind: str, signals: list[str], path: Path) -> KindRule:
    found: dict[str, list[str]] = {k: [] for k in _SIGNAL_KINDS}
    for i, signal in enumerate(signals):
        what, sep, value = signal.partition(":")
        value = value.strip()
        if not sep or what not in found or not value:
            raise _fail(
                path,
                f"kinds.{kind}[{i}]",
                f"{signal!r} is not 'SIGNAL:VALUE' (signals: {', '.join(_SIGNAL_KINDS)})",
            )
        if what in ("pictures", "max-words") and not value.isdigit():
            raise _fail(path, f"kinds.{kind}[{i}]", f"{signal!r}: the value must be a number")
        if what == "css":
            _check_selector(value, path, f"kinds.{kind}[{i}]")
        found[what].append(value)
    url_res = []
    for value in found["url"]:
        try:
            url_res.append(re.compile(value, re.IGNORECASE))
        except re.error as exc:
            raise _fail(path, f"kinds.{kind}", f"bad regular expression {value!r}: {exc}") from None
    return KindRule(
        kind=kind,
        css=", ".join(found["css"]),
        url_res=tuple(url_res),
        jsonld_types=frozenset(found["jsonld"]),
        text_keys=frozenset(fold_key(t) for t in found["text"]),
        prefix_keys=tuple(t.casefold() for t in found["prefix"]),
        pictures=min((int(v) for v in found["pictures"]), default=None),
        max_words=min((int(v) for v in found["max-words"]), default=None),
    )


def _fill(value: str, name: str, host: str, is_regex: bool) -> str:
    if is_regex:
        return value.replace("{name}", re.escape(name)).replace("{host}", re.escape(host))
    return value.replace("{name}", name).replace("{host}", host)


def _check_origin(origin: str, path: Path | str) -> str:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _fail(path, "origin", f"{origin!r} must be an http(s) URL such as https://example.vn")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise _fail(path, "origin", f"{origin!r} must be a scheme and host only, no path")
    _check_host(parts.netloc, path, "origin")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _check_host(host: str, path: Path | str, key: str) -> str:
    host = host.strip().lower()
    if not _HOST_RE.match(host):
        raise _fail(path, key, f"{host!r} is not a host name")
    return host


def _path_of(value: str, path: Path | str, key: str) -> str:
    if not value.startswith("/") or "://" in value:
        raise _fail(path, key, f"{value!r} must be a path on the site, starting with '/'")
    return value


def _check_selector(selector: str, path: Path | str, key: str) -> None:
    if selector.count("[") != selector.count("]") or selector.count("(") != selector.count(")"):
        raise _fail(path, key, f"{selector!r} is not a CSS selector")


def _joined(patterns: list[str], path: Path | str, key: str) -> re.Pattern[str]:
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as exc:
        raise _fail(path, key, f"bad regular expression: {exc}") from None


def _build_profile(
    path: Path,
    key: str,
    name: str,
    host: str,
    time_zone: str,
    merged: dict[str, dict[str, list[str]]],
    source_res: tuple[re.Pattern[str], ...],
) -> SiteProfile:
    bp = merged["boilerplate"]
    names = merged["names"]
    prefixes = sorted(bp["byline_prefixes"], key=len, reverse=True)
    suffixes = _unique([name, host, *names["title_suffixes"]])
    organisations = _unique([name, host, *names["organisations"]])
    datelines = names["dateline_prefixes"]
    return SiteProfile(
        name=key,
        site_name=name,
        selectors={k: tuple(v) for k, v in merged["selectors"].items()},
        remove=", ".join(bp["remove"]),
        remove_in_body=", ".join(bp["remove_in_body"]),
        page_furniture=", ".join(bp["page_furniture"]),
        other_articles=", ".join(bp["other_articles"]),
        tag_label_keys=frozenset(fold_key(t) for t in bp["tag_labels"]),
        modified_class_parts=tuple(p.lower() for p in bp["modified_class_parts"]),
        modified_prefix_keys=tuple(fold_key(p) for p in bp["modified_prefixes"]),
        phrase_keys=frozenset(fold_key(p) for p in bp["phrases"]),
        marker_keys=tuple(fold_key(p) for p in bp["section_markers"]),
        footer_re=_joined(bp["footer_patterns"], path, "boilerplate.footer_patterns"),
        source_res=source_res,
        source_exclude_re=_joined(bp["source_excludes"], path, "boilerplate.source_excludes"),
        byline_prefix_re=re.compile(
            r"^(?:" + "|".join(re.escape(p) for p in prefixes) + r")\s*[:\-–—]\s*", re.IGNORECASE
        ),
        byline_agency_re=re.compile(
            r"^(?:" + "|".join(re.escape(p) for p in bp["agency_prefixes"]) + r")\s+\S",
            re.IGNORECASE,
        ),
        dateline_prefix_re=re.compile(
            r"^\s*(?:" + "|".join(re.escape(p) for p in datelines) + r")\s*[-–—]\s*"
            if datelines
            else r"(?!)"
        ),
        generic_description_re=_joined(
            bp["generic_descriptions"], path, "boilerplate.generic_descriptions"
        ),
        legacy_phrase_keys=frozenset(fold_key(p) for p in bp["legacy_phrases"]),
        legacy_phrases=tuple(bp["legacy_phrases"]),
        organisation_keys=frozenset(fold_key(o) for o in organisations),
        title_suffix_re=re.compile(
            r"\s*[|\-–—]\s*(" + "|".join(re.escape(s) for s in suffixes) + r")\s*$", re.IGNORECASE
        ),
        time_zone=time_zone,
        credit_re=_credit_re([*bp["credit_labels"], *bp["non_author_credit_labels"]]),
        author_credit_keys=tuple(fold_key(c) for c in bp["credit_labels"]),
        other_credit_keys=tuple(fold_key(c) for c in bp["non_author_credit_labels"]),
        byline_suffix_re=_joined(bp["byline_suffixes"], path, "boilerplate.byline_suffixes")
        if bp["byline_suffixes"]
        else re.compile(r"(?!)"),
        furniture_re=_joined(bp["furniture_patterns"], path, "boilerplate.furniture_patterns")
        if bp["furniture_patterns"]
        else re.compile(r"(?!)"),
        social_hosts=tuple(h.lower() for h in bp["social_hosts"]),
        category_label_keys=tuple(fold_key(c) for c in bp["category_labels"]),
        note_boxes=", ".join(bp["note_boxes"]),
        not_picture_parts=tuple(x.lower() for x in bp["not_pictures"]),
        honorific_re=re.compile(
            r"^(?:" + "|".join(re.escape(h) for h in bp["honorifics"]) + r")\s+\S"
        )
        if bp["honorifics"]
        else re.compile(r"(?!)"),
        body_signature_re=re.compile(
            r"^(?:" + "|".join(re.escape(p) for p in bp["body_signatures"]) + r")\b",
            re.IGNORECASE,
        )
        if bp["body_signatures"]
        else re.compile(r"(?!)"),
        house_ad_keys=tuple(fold_key(c) for c in bp["house_ad_phrases"]),
        error_page_keys=tuple(k for c in bp["error_pages"] if (k := fold_key(c))),
        kinds=tuple(_kind_rule(k, merged["kinds"][k], path) for k in PAGE_KINDS),
        name_key=fold_key(name),
    )


def _credit_re(labels: list[str]) -> re.Pattern[str]:
    if not labels:
        return re.compile(r"(?!)")
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    return re.compile(rf"(?:^|(?<=[\s;|,.–—-]))(?P<label>{alternatives})\s*[:：]\s*", re.IGNORECASE)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
