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
class KindRule:
    """How one kind of page (``live``, ``e-magazine`` …) is told: the site file's
    ``[kinds]`` signals, compiled. Any signal tells the kind; constraints must all hold."""

    kind: str
    css: str = ""
    """``css:`` selectors, joined: an element the page has (before any clean-up)."""
    url_res: tuple[re.Pattern[str], ...] = ()
    """``url:`` patterns, searched in the address the page was read from."""
    jsonld_types: frozenset[str] = frozenset()
    """``jsonld:`` types of the page's JSON-LD (``LiveBlogPosting``, ``VideoObject``)."""
    text_keys: frozenset[str] = frozenset()
    """``text:`` a whole text block of the page (``Quay về E-magazine``), folded."""
    prefix_keys: tuple[str, ...] = ()
    """``prefix:`` at least two body paragraphs start with it (``PV:``), case-folded."""
    pictures: int | None = None
    """``pictures:N``: at least N pictures, and less than 30 words of text per picture."""
    max_words: int | None = None
    """``max-words:N`` (a constraint): the body has at most N words."""

    @property
    def has_signals(self) -> bool:
        return bool(
            self.css
            or self.url_res
            or self.jsonld_types
            or self.text_keys
            or self.prefix_keys
            or self.pictures
        )


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
    credit_re: re.Pattern[str] = re.compile(r"(?!)")
    """A credit label and its colon (``Thực hiện:``, ``Trình bày:``); group ``label``."""
    author_credit_keys: tuple[str, ...] = ()
    """Folded credit labels that name authors (``Thực hiện``, ``Ảnh``, ``Bài, ảnh``)."""
    other_credit_keys: tuple[str, ...] = ()
    """Folded credit labels that name no author (``Trình bày``, ``Đồ họa``)."""
    byline_suffix_re: re.Pattern[str] = re.compile(r"(?!)")
    """What ends a byline and is no part of the name: `` (thực hiện)``."""
    furniture_re: re.Pattern[str] = re.compile(r"(?!)")
    """A whole block that is furniture by its form: a player's ``00:00 / 04:26``, a pager."""
    social_hosts: tuple[str, ...] = ()
    """Hosts of social networks: a quote or box that links to one is an embedded post."""
    category_label_keys: tuple[str, ...] = ()
    """Folded labels of a plain-text category line (``Chuyên mục: Kinh tế``)."""
    tag_page_res: tuple[re.Pattern[str], ...] = ()
    """The site's tag-page addresses (``[urls] tag_page``): a link to one is a tag."""
    honorific_re: re.Pattern[str] = re.compile(r"(?!)")
    """A name after an honorific (``Ông …``): someone quoted or portrayed, no author."""
    not_picture_parts: tuple[str, ...] = ()
    """Parts of a picture's address that make it no article picture (``logo``)."""
    note_boxes: str = ""
    """Note boxes of the body: text, unless they link elsewhere or are a house ad."""
    body_signature_re: re.Pattern[str] = re.compile(r"(?!)")
    """A closing line that signs for a body (``BAN LỄ TANG``): text, never an author."""
    house_ad_keys: tuple[str, ...] = ()
    """Folded phrases of the paper's own calls (``mời bạn đọc gửi …``) in a note box."""
    error_page_keys: tuple[str, ...] = ()
    """Folded texts of the site's error page (``Trang không tồn tại``): a page titled
    with one, or a short page holding one, is an error page served as 200 (a soft 404),
    never an article."""
    kinds: tuple[KindRule, ...] = ()
    """How each kind of page is told, in :data:`baolaocai.models.PAGE_KINDS` order."""
    name_key: str = ""
    """The site's name, folded: a ``<title>`` part holding it names the site."""

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

    def is_article_picture(self, src: str) -> bool:
        low = src.lower()
        return not any(part in low for part in self.not_picture_parts)

    def is_furniture_form(self, text: str) -> bool:
        return bool(self.furniture_re.fullmatch(text.strip()))

    def credit_label(self, label: str) -> bool | None:
        """``True`` for a label that names authors (``Ảnh``), ``False`` for one that names
        other makers (``Trình bày``), ``None`` for no credit label at all."""
        key = fold_key(label)
        if key in self.author_credit_keys:
            return True
        if key in self.other_credit_keys:
            return False
        return None
