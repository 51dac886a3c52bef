"""Credit lines: who made an article, as the page credits them. Pure functions.

Long-forms, photo stories, videos and interviews credit their makers in lines of their
own instead of a byline: ``Thực hiện: Minh Anh - Quốc Huy``, ``Bài: Lan Hương; Ảnh:
Đức Toàn``, ``Nội dung: Hà Vy | Đồ họa: Tuấn Kiệt``, ``Thu Hằng (thực hiện)``. The labels
are the site file's (``boilerplate.credit_labels`` name authors,
``boilerplate.non_author_credit_labels`` name designers, editors and technicians, who are
not). A credit line is never body text; its author names become the article's authors.

A line is a credit line only when it opens with a label and every name in it looks like a
name (capitalised words, at most five): ``Ảnh: Toàn cảnh buổi lễ.`` is a caption, not a
credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from baolaocai.profile import SiteProfile
from baolaocai.text import fold_key, normalize_text

_MAX_CREDIT_CHARS = 200
_MAX_NAME_WORDS = 5
_MAX_NAME_CHARS = 40
_NAME_SPLIT_RE = re.compile(r"\s*(?:,|;|\||/|\s[-–—]\s|\bvà\b)\s*")
_EDGE = " \t-–—:;|,.•*"


@dataclass(frozen=True)
class Credits:
    """What one credit line says: the author names, and whether it named anyone else."""

    authors: tuple[str, ...]
    others: bool
    other_names: tuple[str, ...] = ()
    """The names of the makers who are no authors (``Đồ họa: Quang Huy``)."""


def looks_like_name(text: str) -> bool:
    """Capitalised words (``Thu Hằng``, ``Nhóm PV``), at most five, no sentence."""
    words = text.split()
    if not words or len(words) > _MAX_NAME_WORDS or len(text) > _MAX_NAME_CHARS:
        return False
    if text.endswith(("!", "?")):
        return False
    return all(w[:1].isupper() or w[:1] in "(" or w.isdigit() for w in words)


def split_names(text: str) -> list[str]:
    """``A - B``, ``A, B và C``: the names of one credit."""
    return [n.strip(_EDGE) for n in _NAME_SPLIT_RE.split(text) if n.strip(_EDGE)]


def read_credits(text: str, profile: SiteProfile) -> Credits | None:
    """The credits of a line that is a credit line, else ``None``."""
    text = normalize_text(text)
    if not text or len(text) > _MAX_CREDIT_CHARS:
        return None
    suffixed = profile.byline_suffix_re.search(text)
    if suffixed and suffixed.start() > 0:  # "Thu Hằng (thực hiện)"
        names = split_names(text[: suffixed.start()])
        if names and all(looks_like_name(n) for n in names):
            return Credits(tuple(names), False)
        return None
    matches = list(profile.credit_re.finditer(text))
    if not matches or matches[0].start() != 0:
        return None
    authors: list[str] = []
    others = False
    other_names: list[str] = []
    named = 0
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        names = split_names(text[match.end() : end])
        if not all(looks_like_name(n) for n in names):
            return None
        named += len(names)  # a label left empty by the page ("Bài: - Ảnh: …") names no one
        if profile.credit_label(match.group("label")):
            authors.extend(n for n in names if fold_key(n) not in profile.organisation_keys)
        elif names:
            others = True
            other_names.extend(names)
    if not named:
        return None
    return Credits(tuple(dict.fromkeys(authors)), others, tuple(other_names))


def join_authors(
    *groups: list[str] | tuple[str, ...], never: frozenset[str] = frozenset()
) -> str | None:
    """Names of several sources in order, each once (compared case- and accent-exactly
    after folding punctuation), joined with ``", "``. ``never`` (folded names) are the
    page's credited designers and editors: no source makes them authors."""
    seen: dict[str, str] = {}
    for group in groups:
        for name in group:
            key = fold_key(name)
            if key and key not in seen and key not in never:
                seen[key] = name
    return ", ".join(seen.values()) or None
