"""Bytes of an HTML page to text: the one decoder of fetched and archived pages.

In the floor so that the warehouse (reading captures back from the web archive) and the
scrapers (decoding what they fetch) decode a page the same way without importing each
other.
"""

from __future__ import annotations

import re

from bs4.dammit import UnicodeDammit

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)


def decode_html(body: bytes, content_type: str | None) -> str:
    """Charset from the header, then ``<meta charset>``, then detection; never fails."""
    declared: list[str] = []
    if content_type:
        match = re.search(r"charset\s*=\s*[\"']?([\w-]+)", content_type, re.I)
        if match:
            declared.append(match.group(1))
    meta = _META_CHARSET_RE.search(body[:4096])
    if meta:
        declared.append(meta.group(1).decode("ascii", "ignore"))
    for encoding in declared:
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    dammit = UnicodeDammit(body, ["utf-8", "windows-1258", "windows-1252"], is_html=True)
    return (
        dammit.unicode_markup
        if dammit.unicode_markup is not None
        else body.decode("utf-8", "replace")
    )
