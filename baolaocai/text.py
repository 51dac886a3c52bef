"""Comparison keys for text: the floor's one text helper, shared by the site model and
the parser."""

from __future__ import annotations

import re
import unicodedata

_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def fold_key(text: str) -> str:
    """A comparison key: NFC, case-folded, punctuation and spaces removed.

    ``"Các tin khác:"`` and ``"CÁC TIN KHÁC"`` share a key; diacritics are kept, because
    in Vietnamese they distinguish words.
    """
    return _PUNCT_RE.sub("", unicodedata.normalize("NFC", text).casefold())
