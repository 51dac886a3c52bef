"""Text normalisation: NFC, entities, invisible characters, whitespace; comparison keys.
Pure functions, shared by the site model, discovery and the parser."""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


_MEMO_CHARS = 4000
"""Texts up to this long are remembered (see :func:`_folded`)."""


def _plain(text: str) -> str:
    """A plain copy of a parsed page's string (a ``str`` subclass linked into its tree):
    a remembered text must not keep a page's tree alive."""
    return text if type(text) is str else str(text)


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    # Parsing a page asks for the key or the clean form of the same paragraph five or
    # six times (furniture, date, credit and repeat checks): these two were a sixth of
    # its time. Short texts only (_MEMO_CHARS), a bounded number.
    return _PUNCT_RE.sub("", unicodedata.normalize("NFC", text).casefold())


def fold_key(text: str) -> str:
    """A comparison key: NFC, case-folded, punctuation and spaces removed.

    ``"Các tin khác:"`` and ``"CÁC TIN KHÁC"`` share a key; diacritics are kept, because
    in Vietnamese they distinguish words.
    """
    if len(text) <= _MEMO_CHARS:
        return _folded(_plain(text))
    return _PUNCT_RE.sub("", unicodedata.normalize("NFC", text).casefold())


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES_RE = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_text(text: str | None) -> str:
    """Decode stray entities, drop invisible characters, NFC, collapse whitespace."""
    if not text:
        return ""
    if len(text) <= _MEMO_CHARS:
        return _normalized(_plain(text))
    return _normalize(text)


@lru_cache(maxsize=4096)
def _normalized(text: str) -> str:
    return _normalize(text)  # (remembered: see _folded)


def _normalize(text: str) -> str:
    if "&" in text:
        text = html.unescape(text)
    if _INVISIBLE_RE.search(text):  # (a search is cheaper than translating every text)
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


# -- text shown to a person or a spreadsheet: data, never instructions ---------------------------

_TERMINAL_CONTROLS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and LF, DEL, C1: ESC, BEL, CR, CSI …
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, isolates
)
_TERMINAL_RE = re.compile(f"[{_TERMINAL_CONTROLS}]")
_TERMINAL_LINE_RE = re.compile(f"[\n\t{_TERMINAL_CONTROLS}]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str, *, one_line: bool = False) -> str:
    """``text`` made safe to print on a terminal: C0 and C1 control characters (ESC, BEL,
    CR, CSI …) and the Unicode bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/F,
    U+061C) are shown as ``\\x1b`` / ``\\u202e`` instead of being obeyed, so a crawled
    title cannot recolour, retitle, clear or reorder the terminal. Tab and LF are kept,
    unless ``one_line`` (then they are escaped too). Rich markup is not this function's
    business: print the result with ``markup=False`` or through ``rich.markup.escape``."""
    pattern = _TERMINAL_LINE_RE if one_line else _TERMINAL_RE
    return pattern.sub(_escaped, text) if pattern.search(text) else text


_JSON_UNSAFE_RE = re.compile("[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def json_for_terminal(encoded: str) -> str:
    """JSON text (``json.dumps(..., ensure_ascii=False)``) with the characters that JSON
    leaves raw but a terminal obeys (DEL, C1, bidi controls) written as ``\\uXXXX``
    escapes: the same JSON value, parsed, and harmless on a terminal. (``json.dumps``
    already escapes C0: ``\\u001b``.) Such characters only occur inside JSON strings."""
    return _JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet take a CSV cell for a formula (OWASP, CSV injection)."""


def csv_lines(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV text with LF line ends, a field holding any line break quoted.

    Python's :mod:`csv` quotes a field for the characters of its line terminator only: with
    ``"\n"``, a lone CR (a title as a site wrote it) went out bare, and every reader
    (:mod:`csv`, pandas, a spreadsheet) split the row there. Each row is written with
    ``"\r\n"`` (so CR and LF both quote a field), then ends with LF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    out: list[str] = []
    for row in rows:
        writer.writerow(row)
        out.append(buffer.getvalue()[:-2] + "\n")
        buffer.seek(0)
        buffer.truncate()
    return "".join(out)


def csv_safe(text: str) -> str:
    """A CSV text cell that no spreadsheet runs: one starting with ``=``, ``+``, ``-``,
    ``@``, tab or CR gets a leading ``'`` (OWASP's advice; ``=HYPERLINK(…)`` becomes
    ``'=HYPERLINK(…)``). For text cells only: a negative number is data."""
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text
