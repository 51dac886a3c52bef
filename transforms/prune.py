"""Giving BeautifulSoup less to build: the insides of elements no reader looks at.

A real article page is 60-100 KB, and most of it is inline JavaScript, CSS and SVG icon
sprites; building them into a BeautifulSoup tree was half the cost of parsing a page, only
for the profile's ``remove`` list to throw them away. :func:`strip_inert` empties
``<script>`` (except JSON-LD, which gives dates and authors), ``<style>``, ``<svg>`` and
``<template>`` and drops comments, keeping each element's start tag and attributes (the
2023 layout is recognised by its ``<script src=…/_nuxt/…>``).

One left-to-right pass, in the order an HTML tokenizer sees them: a ``<script>`` inside a
comment is part of the comment, a ``<!--`` inside a script is part of the script, and an
attribute value may hold ``>``. Pure: text in, text out.
"""

from __future__ import annotations

import re

_ATTRS = r"""(?:[^>"']|"[^"]*"|'[^']*')*"""
_INERT_RE = re.compile(
    rf"<!--.*?-->|<(script|style|svg|template)\b({_ATTRS})>(.*?)</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
_JSON_LD_RE = re.compile(r"ld\+json", re.IGNORECASE)


def _replace(match: re.Match[str]) -> str:
    name = match.group(1)
    if name is None:
        return ""  # a comment
    attrs = match.group(2)
    if name.lower() == "script" and _JSON_LD_RE.search(attrs):
        return match.group(0)
    return f"<{name}{attrs}></{name}>"


def strip_inert(html: str) -> str:
    """``html`` without comments and with empty scripts (JSON-LD kept), styles, SVGs and
    templates."""
    return _INERT_RE.sub(_replace, html)
