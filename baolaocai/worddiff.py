"""Word-level differences between two versions of an article: what an editor changed.

A journalist comparing two versions wants to see *words*: a corrected tone mark
(``Hòa`` -> ``Hoà`` is not one, both are NFC-equal; ``hoà`` -> ``hóa`` is) shows as the
whole word deleted and the new one inserted, not as one character of a word. So the texts
are cut into tokens, words (letters and digits, with any combining mark) and the runs of
whitespace or single punctuation marks between them, and :class:`difflib.SequenceMatcher`
(autojunk off: with it, the most frequent tokens of a long body, the spaces and common
words, would be ignored and the diff would be wrong) matches the token lists.

The pieces are exact: ``"".join`` of the ``equal`` and ``delete`` pieces is the old text
and of the ``equal`` and ``insert`` pieces the new one, after both were put in NFC (the
form the warehouse stores; a text in another form would show invisible "changes").
Adjacent pieces of one kind are merged, and whitespace alone between two changes is
counted into them (``[-hai ba-]{+bốn năm+}``, not ``[-hai-]{+bốn+} [-ba-]{+năm+}``), as
``git diff --word-diff`` reads.

:func:`field_changes` says which fields of an article differ between two versions and
diffs each as text. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from difflib import SequenceMatcher
from typing import Literal, Protocol

from baolaocai.dates import SITE_TZ

Op = Literal["equal", "insert", "delete"]

_TOKEN = re.compile(r"(?:\w|[\u0300-\u036f])+|\s+|.", re.DOTALL)
"""A word (``\\w`` is Unicode: Vietnamese letters, digits; combining marks kept with their
letter should a text not be precomposed), a run of whitespace, or any other single
character (punctuation: ``Hà Nội,`` changed to ``Hà Nội.`` is a changed comma)."""

DIFF_FIELDS: tuple[str, ...] = (
    "title",
    "sapo",
    "body",
    "author",
    "published_at",
    "modified_at",
    "category",
    "tags",
    "source",
)
"""The fields of a version that an edit can change, in the order they are shown."""


_WHOLE_VALUES = frozenset({"published_at", "modified_at"})
"""Fields shown changed as a whole (a time read digit by digit is no help)."""


@dataclass(frozen=True, slots=True)
class DiffPiece:
    """A run of text that is in both versions (``equal``), only in the new one
    (``insert``) or only in the old one (``delete``)."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs between two versions: its name, both values as text (how
    :func:`field_text` shows them; ``""`` for none) and their word diff."""

    field: str
    old: str
    new: str
    pieces: tuple[DiffPiece, ...]


class VersionLike(Protocol):
    """What :func:`field_changes` reads of a version (a
    :class:`warehouse.reader.VersionView`, or an article row)."""

    @property
    def title(self) -> str | None: ...
    @property
    def sapo(self) -> str | None: ...
    @property
    def body(self) -> str | None: ...
    @property
    def author(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def modified_at(self) -> datetime | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def source(self) -> str | None: ...


def tokens(text: str) -> list[str]:
    """``text`` (as it is: put it in NFC first) cut into words, whitespace runs and single
    other characters; ``"".join(tokens(text)) == text``."""
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[DiffPiece]:
    """The word-level difference from ``old`` to ``new`` (both put in NFC first).

    A changed word is a ``delete`` of the old word followed by an ``insert`` of the new
    one. Adjacent pieces of one op are merged; whitespace alone between two changes goes
    into both of them. Equal texts give one ``equal`` piece (none for two empty texts)."""
    old = unicodedata.normalize("NFC", old)
    new = unicodedata.normalize("NFC", new)
    if old == new:
        return [DiffPiece("equal", old)] if old else []
    raw: list[DiffPiece] = []
    # Paragraphs first: an edit of a few paragraphs of a long text is then a word diff of
    # those paragraphs only (a word diff of all of it took seconds at 20,000 words).
    for tag, before, after in _aligned(_PARAGRAPH.findall(old), _PARAGRAPH.findall(new)):
        if tag == "equal":
            raw.append(DiffPiece("equal", "".join(before)))
        else:
            raw.extend(_word_pieces("".join(before), "".join(after)))
    return _merge(_absorb_gaps(raw))


def _word_pieces(old: str, new: str) -> list[DiffPiece]:
    """The word diff of a changed run of paragraphs (unmerged pieces)."""
    a, b = _UNIT.findall(old), _UNIT.findall(new)
    head, tail = _common_ends(a, b)
    changed = (len(a) - head - tail) * (len(b) - head - tail)
    if not a or not b or changed > WORD_LIMIT:
        raw = [DiffPiece("equal", "".join(a[:head]))] if head else []
        raw.extend(_pieces("replace", a[head : len(a) - tail], b[head : len(b) - tail]))
        if tail:
            raw.append(DiffPiece("equal", "".join(a[len(a) - tail :])))
        return raw
    raw = []
    for tag, before, after in _aligned(a, b):
        if tag == "equal":
            raw.append(DiffPiece("equal", "".join(before)))
        elif before and after and len(before) * len(after) <= REFINE_LIMIT:
            # "Cai " -> "Cai, " is a comma inserted, not a word changed: the changed
            # run again, word by word with the spaces apart.
            for fine, old_part, new_part in _aligned(
                tokens("".join(before)), tokens("".join(after))
            ):
                raw.extend(_pieces(fine, old_part, new_part))
        else:
            raw.extend(_pieces(tag, before, after))
    return raw


_PARAGRAPH = re.compile(r"[^\n]+\n*|\n+")
"""A line with the line breaks after it (a paragraph of a body, and the blank line)."""
WORD_LIMIT = 40_000_000
"""A run of changed paragraphs of ``m`` old and ``n`` new words (their common start and
end aside) is diffed word by word when ``m * n`` is at most this (6,300 words each way:
about a second at worst, a shuffle of every word); a larger rewrite is shown deleted and
inserted whole. Bounds the time of a diff, whatever the texts."""
_UNIT = re.compile(r"(?:\w|[\u0300-\u036f])+ ?|\s+|.", re.DOTALL)
"""The tokens matched first: a word with the one space after it (a space between words is
half of a text's tokens: as tokens of their own they made matching a long body quadratic,
10 s for 6,000 words), a run of other whitespace, any other character."""
REFINE_LIMIT = 250_000
"""A changed run of ``m`` old and ``n`` new units is diffed again at the finer level of
:func:`tokens` when ``m * n`` is at most this (milliseconds); a larger rewrite is shown as
deleted and inserted whole, as any reader would see it."""


def _aligned(a: list[str], b: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """``(tag, old tokens, new tokens)`` runs: the common head and tail taken off first
    (an edit is mostly a few words in a long text), the middle matched by
    :class:`SequenceMatcher` (no autojunk: see the module docstring)."""
    head, tail = _common_ends(a, b)
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    runs: list[tuple[str, list[str], list[str]]] = []
    if head:
        runs.append(("equal", a[:head], b[:head]))
    matcher = SequenceMatcher(None, mid_a, mid_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        runs.append((tag, mid_a[i1:i2], mid_b[j1:j2]))
    if tail:
        runs.append(("equal", a[len(a) - tail :], b[len(b) - tail :]))
    return runs


def _common_ends(a: list[str], b: list[str]) -> tuple[int, int]:
    """How many tokens ``a`` and ``b`` share at their start, and then at their end."""
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    return head, tail


def _pieces(tag: str, before: list[str], after: list[str]) -> list[DiffPiece]:
    if tag == "equal":
        return [DiffPiece("equal", "".join(before))]
    pieces = []
    if before:
        pieces.append(DiffPiece("delete", "".join(before)))
    if after:
        pieces.append(DiffPiece("insert", "".join(after)))
    return pieces


def _absorb_gaps(pieces: list[DiffPiece]) -> list[DiffPiece]:
    """Whitespace alone between two changes becomes part of both (deleted and inserted):
    ``hai ba`` -> ``bốn năm`` reads as one change of two words, not two of one."""
    result: list[DiffPiece] = []
    for i, piece in enumerate(pieces):
        between = 0 < i < len(pieces) - 1
        if (
            between
            and piece.op == "equal"
            and piece.text.isspace()
            and pieces[i - 1].op != "equal"
            and pieces[i + 1].op != "equal"
        ):
            result.append(DiffPiece("delete", piece.text))
            result.append(DiffPiece("insert", piece.text))
        else:
            result.append(piece)
    return result


def _merge(pieces: list[DiffPiece]) -> list[DiffPiece]:
    """Pieces of one op next to each other (or separated only by pieces of the other
    changing op) joined: every change reads as its deletion, then its insertion."""
    result: list[DiffPiece] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            result.append(DiffPiece("delete", "".join(deleted)))
            deleted.clear()
        if inserted:
            result.append(DiffPiece("insert", "".join(inserted)))
            inserted.clear()

    for piece in pieces:
        if piece.op == "delete":
            deleted.append(piece.text)
        elif piece.op == "insert":
            inserted.append(piece.text)
        else:
            flush()
            if result and result[-1].op == "equal":
                result[-1] = DiffPiece("equal", result[-1].text + piece.text)
            elif piece.text:
                result.append(piece)
    flush()
    return result


def old_text(pieces: Sequence[DiffPiece]) -> str:
    """The old text the pieces were made from."""
    return "".join(p.text for p in pieces if p.op != "insert")


def new_text(pieces: Sequence[DiffPiece]) -> str:
    """The new text the pieces were made from."""
    return "".join(p.text for p in pieces if p.op != "delete")


def field_text(value: object) -> str:
    """A field's value as the diff shows it: text in NFC, a time in Vietnam time
    (``2025-03-10 08:00:00+07:00``), tags joined by ``", "``, ``""`` for none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        shown = value.astimezone(SITE_TZ) if value.tzinfo is not None else value
        return shown.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(unicodedata.normalize("NFC", str(v)) for v in value)
    return unicodedata.normalize("NFC", str(value))


def field_changes(old: VersionLike, new: VersionLike) -> list[FieldChange]:
    """The fields of :data:`DIFF_FIELDS` whose value differs from ``old`` to ``new`` (as
    :func:`field_text` shows them: one instant in two time zones is no change), each
    with its word diff, in that order."""
    changes: list[FieldChange] = []
    for name in DIFF_FIELDS:
        before = field_text(getattr(old, name))
        after = field_text(getattr(new, name))
        if before == after:
            continue
        if name in _WHOLE_VALUES:
            whole = (DiffPiece("delete", before), DiffPiece("insert", after))
            pieces = tuple(p for p in whole if p.text)
        else:
            pieces = tuple(word_diff(before, after))
        changes.append(FieldChange(name, before, after, pieces))
    return changes
