"""Text normalisation: NFC, entities, invisible characters, whitespace. Pure functions."""

from __future__ import annotations

import html
import re
import unicodedata

from baolaocai.text import fold_key

__all__ = ["fold_key", "normalize_or_none", "normalize_text", "strip_accents"]

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
