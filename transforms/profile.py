"""Load a site profile (selectors and boilerplate rules) from its TOML file.

The profile is data: see ``baolaocai.toml`` beside this module. Loading checks that no
group is empty, because an empty selector list or phrase list silently changes meaning.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from baolaocai.errors import ConfigError
from transforms.text import fold_key

DEFAULT_PROFILE_PATH = Path(__file__).with_name("baolaocai.toml")
_MAX_PHRASE_WORDS = 6
_MAX_FURNITURE_WORDS = 24


@dataclass(frozen=True)
class SiteProfile:
    name: str
    site_name: str
    selectors: dict[str, tuple[str, ...]]
    remove: str
    remove_in_body: str
    page_furniture: str
    other_articles: str
    tag_label_keys: frozenset[str]
    article_res: tuple[re.Pattern[str], ...]
    not_article_res: tuple[re.Pattern[str], ...]
    tag_page_res: tuple[re.Pattern[str], ...]
    modified_prefix_keys: tuple[str, ...]
    modified_class_parts: tuple[str, ...]
    phrase_keys: frozenset[str]
    marker_keys: tuple[str, ...]
    footer_re: re.Pattern[str]
    source_res: tuple[re.Pattern[str], ...]
    source_exclude_re: re.Pattern[str]
    byline_prefix_re: re.Pattern[str]
    byline_agency_re: re.Pattern[str]
    dateline_prefix_re: re.Pattern[str]
    generic_description_re: re.Pattern[str]
    organisation_keys: frozenset[str]
    legacy_phrase_keys: frozenset[str]
    legacy_phrases: tuple[str, ...]

    def select(self, group: str) -> tuple[str, ...]:
        return self.selectors[group]

    def is_phrase(self, text: str) -> bool:
        """The whole block is furniture: one phrase (``Các tin khác:``) or a run of them
        (a share bar read as one block: ``Chia sẻ Zalo Facebook``)."""
        if fold_key(text) in self.phrase_keys:
            return True
        words = text.split()
        if not words or len(words) > _MAX_FURNITURE_WORDS:
            return False
        # reachable[i]: the first i words split into whole phrases.
        reachable = [True] + [False] * len(words)
        for end in range(1, len(words) + 1):
            reachable[end] = any(
                reachable[start] and fold_key(" ".join(words[start:end])) in self.phrase_keys
                for start in range(max(0, end - _MAX_PHRASE_WORDS), end)
            )
        return reachable[-1]

    def is_section_marker(self, text: str) -> bool:
        """The block opens a list of other articles (``Các tin khác``, ``Xem nhiều nhất``)."""
        key = fold_key(text)
        return any(
            key == m or (key.startswith(m) and len(key) <= len(m) + 2) for m in self.marker_keys
        )

    def is_tag_label(self, text: str) -> bool:
        """``Từ khóa:``, ``Tags`` …: the label that opens a block of tag links."""
        return fold_key(text) in self.tag_label_keys

    def is_legacy_phrase(self, text: str) -> bool:
        return fold_key(text) in self.legacy_phrase_keys

    def is_footer(self, text: str) -> bool:
        return bool(self.footer_re.search(text))


def _need(table: dict[str, object], key: str, where: str) -> list[str]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"site profile: {where}.{key} must be a non-empty list of strings")
    return value


@cache
def load_profile(path: Path = DEFAULT_PROFILE_PATH) -> SiteProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"site profile {path}: {exc}") from None
    sel_table = data.get("selectors", {})
    bp = data.get("boilerplate", {})
    selectors = {
        key: tuple(_need(sel_table, key, "selectors"))
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
        )
    }
    urls = data.get("urls", {})
    article_res = tuple(re.compile(p, re.IGNORECASE) for p in _need(urls, "article", "urls"))
    for pattern in article_res:
        if "id" not in pattern.groupindex:
            raise ConfigError(f"site profile: urls.article {pattern.pattern!r} needs (?P<id>…)")
    tag_page_res = tuple(re.compile(p, re.IGNORECASE) for p in _need(urls, "tag_page", "urls"))
    prefixes = sorted(_need(bp, "byline_prefixes", "boilerplate"), key=len, reverse=True)
    return SiteProfile(
        name=str(data.get("name", path.stem)),
        site_name=str(data.get("site_name", "")),
        selectors=selectors,
        remove=", ".join(_need(bp, "remove", "boilerplate")),
        remove_in_body=", ".join(_need(bp, "remove_in_body", "boilerplate")),
        page_furniture=", ".join(_need(bp, "page_furniture", "boilerplate")),
        article_res=article_res,
        not_article_res=tag_page_res
        + tuple(re.compile(p, re.IGNORECASE) for p in _need(urls, "not_article", "urls")),
        tag_page_res=tag_page_res,
        tag_label_keys=frozenset(fold_key(t) for t in _need(bp, "tag_labels", "boilerplate")),
        modified_class_parts=tuple(
            p.lower() for p in _need(bp, "modified_class_parts", "boilerplate")
        ),
        other_articles=", ".join(_need(bp, "other_articles", "boilerplate")),
        modified_prefix_keys=tuple(
            fold_key(p) for p in _need(bp, "modified_prefixes", "boilerplate")
        ),
        phrase_keys=frozenset(fold_key(p) for p in _need(bp, "phrases", "boilerplate")),
        marker_keys=tuple(fold_key(p) for p in _need(bp, "section_markers", "boilerplate")),
        footer_re=re.compile(
            "|".join(f"(?:{p})" for p in _need(bp, "footer_patterns", "boilerplate")), re.IGNORECASE
        ),
        source_res=tuple(
            re.compile(p, re.IGNORECASE) for p in _need(bp, "source_patterns", "boilerplate")
        ),
        source_exclude_re=re.compile(
            "|".join(f"(?:{p})" for p in _need(bp, "source_excludes", "boilerplate")), re.IGNORECASE
        ),
        byline_prefix_re=re.compile(
            r"^(?:" + "|".join(re.escape(p) for p in prefixes) + r")\s*[:\-–—]\s*", re.IGNORECASE
        ),
        byline_agency_re=re.compile(
            r"^(?:"
            + "|".join(re.escape(p) for p in _need(bp, "agency_prefixes", "boilerplate"))
            + r")\s+\S",
            re.IGNORECASE,
        ),
        dateline_prefix_re=re.compile(
            r"^\s*(?:"
            + "|".join(re.escape(p) for p in _need(bp, "dateline_prefixes", "boilerplate"))
            + r")\s*[-–—]\s*"
        ),
        generic_description_re=re.compile(
            "|".join(f"(?:{p})" for p in _need(bp, "generic_descriptions", "boilerplate")),
            re.IGNORECASE,
        ),
        legacy_phrase_keys=frozenset(
            fold_key(p) for p in _need(bp, "legacy_phrases", "boilerplate")
        ),
        legacy_phrases=tuple(
            unicodedata.normalize("NFC", p) for p in _need(bp, "legacy_phrases", "boilerplate")
        ),
        organisation_keys=frozenset(
            fold_key(o) for o in _need(bp, "organisation_names", "boilerplate")
        ),
    )
