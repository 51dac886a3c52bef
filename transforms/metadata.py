"""Machine-readable metadata of a page: JSON-LD ``NewsArticle``, OpenGraph, canonical link.

Pure: a parsed document in, a :class:`PageMeta` out. Broken JSON-LD is skipped, never
fatal (sites ship invalid JSON more often than one would think).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from baolaocai.text import normalize_or_none
from transforms.select import find_tags

ARTICLE_TYPES = frozenset(
    {
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "BlogPosting",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "VideoObject",
        "LiveBlogPosting",
    }
)


@dataclass(frozen=True)
class PageMeta:
    jsonld: dict[str, Any] = field(default_factory=dict)
    breadcrumb_names: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    canonical: str | None = None
    html_title: str | None = None
    types: frozenset[str] = frozenset()
    """Every JSON-LD ``@type`` on the page (``LiveBlogPosting``, ``VideoObject`` …)."""

    def get(self, *keys: str) -> str | None:
        """First non-empty ``<meta property|name>`` value among ``keys``."""
        for key in keys:
            value = normalize_or_none(self.meta.get(key))
            if value:
                return value
        return None


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type")
    if isinstance(t, list):
        return {str(x) for x in t}
    return {str(t)} if t else set()


def _walk_jsonld(data: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    if isinstance(data, list):
        for item in data:
            nodes.extend(_walk_jsonld(item))
    elif isinstance(data, dict):
        nodes.append(data)
        if "@graph" in data:
            nodes.extend(_walk_jsonld(data["@graph"]))
    return nodes


def _path(url: str | None) -> str | None:
    return urlsplit(url).path.rstrip("/") or None if url else None


def _own_article(articles: list[dict[str, Any]], page_url: str | None) -> dict[str, Any]:
    """The ``NewsArticle`` about this page: the one whose ``url`` / ``mainEntityOfPage``
    is the page's address, else the first (nodes inside an ``ItemList`` are never seen)."""
    target = _path(page_url)
    if target and len(articles) > 1:
        for node in articles:
            if target in {
                _path(jsonld_text(node, "url")),
                _path(jsonld_text(node, "mainEntityOfPage")),
            }:
                return node
    return articles[0] if articles else {}


def read_metadata(soup: BeautifulSoup) -> PageMeta:
    articles: list[dict[str, Any]] = []
    crumbs: list[str] = []
    all_types: set[str] = set()
    # One walk gives the head's elements (scripts, meta, canonical link, title).
    heads = find_tags(soup, ("script", "meta", "link", "title"))
    for script in heads:
        if script.name != "script" or script.get("type") != "application/ld+json":
            continue
        raw = script.string or script.get_text()
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, TypeError):
            continue
        for node in _walk_jsonld(data):
            types = _types(node)
            all_types |= types
            if types & ARTICLE_TYPES:
                articles.append(node)
            elif "BreadcrumbList" in types and not crumbs:
                for item in node.get("itemListElement") or []:
                    if not isinstance(item, dict):
                        continue
                    name = item.get("name")
                    inner = item.get("item")
                    if not name and isinstance(inner, dict):
                        name = inner.get("name")
                    if isinstance(name, str) and name.strip():
                        crumbs.append(name)
    meta: dict[str, str] = {}
    for tag in (h for h in heads if h.name == "meta"):
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str) and key.lower() not in meta:
            meta[key.lower()] = content
    canonical = None
    link = next((h for h in heads if h.name == "link" and _is_canonical(h)), None)
    if isinstance(link, Tag) and link.get("href"):
        canonical = str(link["href"]).strip()
    title_tag = next((h for h in heads if h.name == "title"), None)
    html_title = normalize_or_none(title_tag.get_text()) if isinstance(title_tag, Tag) else None
    article = _own_article(articles, canonical or meta.get("og:url"))
    return PageMeta(article, tuple(crumbs), meta, canonical, html_title, frozenset(all_types))


def _is_canonical(link: Tag) -> bool:
    """``link.find(rel="canonical")``'s test: ``rel`` (a list of words) holds the word,
    or is it."""
    rel = link.get("rel")
    if isinstance(rel, list):
        return "canonical" in rel or " ".join(rel) == "canonical"
    return rel == "canonical"


def jsonld_text(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    return normalize_or_none(value) if isinstance(value, str) else None


def jsonld_people(node: dict[str, Any]) -> list[str]:
    """Names of the ``author`` entries that are people (not organisations)."""
    raw = node.get("author")
    items = raw if isinstance(raw, list) else [raw]
    names: list[str] = []
    for item in items:
        if isinstance(item, str):
            name = normalize_or_none(item)
        elif isinstance(item, dict) and "Organization" not in _types(item):
            name = normalize_or_none(
                item.get("name") if isinstance(item.get("name"), str) else None
            )
        else:
            name = None
        if name:
            names.append(name)
    return names
