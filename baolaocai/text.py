"""Text normalisation: NFC, entities, invisible characters, whitespace; comparison keys.
Pure functions, shared by the site model, discovery and the parser."""

from __future__ import annotations

import html
import re
import unicodedata

_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def fold_key(text: str) -> str:
    """A comparison key: NFC, case-folded, punctuation and spaces removed.

    ``"Các tin khác:"`` and ``"CÁC TIN KHÁC"`` share a key; diacritics are kept, because
    in Vietnamese they distinguish words.
    """
    return _PUNCT_RE.sub("", unicodedata.normalize("NFC", text).casefold())


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES_RE = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_text(text: str | None) -> str:
    """Decode stray entities, drop invisible characters, NFC, collapse whitespace."""
    if not text:
        return ""
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_INVISIBLE)
    text = unicodedata.normalize("NFC", text)
    return _SPACES_RE.sub(" ", text).strip()


def normalize_or_none(text: str | None) -> str | None:
    cleaned = normalize_text(text)
    return cleaned or None


def strip_accents(text: str) -> str:
    """``"Lào Cai"`` -> ``"Lao Cai"``; ``đ`` -> ``d``. For accent-insensitive matching."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))
