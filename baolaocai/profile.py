"""The parser's view of a site: selectors and boilerplate rules, compiled.

A :class:`SiteProfile` is built by :func:`baolaocai.site.load_site` from a site file merged
over its CMS family file; it is data the parser is handed (also in its worker processes),
never a global.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from baolaocai.dates import VIETNAM_TIME_ZONE
from baolaocai.text import fold_key

_MAX_PHRASE_WORDS = 6
_MAX_FURNITURE_WORDS = 24


@dataclass(frozen=True)
class SiteProfile:
    name: str
    """The site's key (``baolaocai``)."""
    site_name: str
    """The site's display name (``Báo Lào Cai``)."""
    selectors: dict[str, tuple[str, ...]]
    remove: str
    remove_in_body: str
    page_furniture: str
    other_articles: str
    tag_label_keys: frozenset[str]
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
    title_suffix_re: re.Pattern[str]
    """What a ``<title>`` ends with after a separator: `` | Báo Lào Cai``."""
    time_zone: str = VIETNAM_TIME_ZONE

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

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

    def strip_title_suffix(self, title: str) -> str:
        return self.title_suffix_re.sub("", title)
