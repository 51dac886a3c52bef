"""What a search query means: the words of Vietnamese text, and the query syntax.

Two things live here because the index and the query must agree on them exactly:

**Words.** :func:`analyse_word` cuts a white-space-free piece of text into words, each in
two forms: *folded* (:func:`fold`: lower case, every diacritic removed, ``đ`` -> ``d``;
``Hoà`` -> ``hoa``) and *exact* (lower-case NFC with the tone mark placed by one convention,
:func:`normalize_tone`; ``Hoà`` and ``Hòa`` -> ``hòa``). A character belongs to a word when
it folds to one of ``[a-z0-9]``; anything else separates words. Punctuation at the edge of
a piece (``hóa.``, ``(Sa``) is a *phrase break*: the index stores :data:`PHRASE_BREAK`
there, so that ``hàng hóa. Bình`` is not the phrase ``hoa binh``. Punctuation inside a
piece (``COVID-19``, ``Lào-Cai``, ``1.000``) only separates its words, which stay a phrase.

**The query syntax** (the contract of issue #22; :func:`parse_query`):

* unquoted words form one phrase: adjacent, in this order (``sa pa``); punctuation that
  breaks a phrase in the index breaks it in the query too (``Bắc Hà - điểm hẹn``, a
  headline pasted with its dash, is the phrases ``bắc hà`` and ``điểm hẹn``), in quotes
  as well; an exclusion stays one phrase;
* ``"…"`` (or ``“…”``) quotes a phrase; several phrases must all occur, in any order; an
  unquoted run of words between quotes or operators is a phrase too;
* ``OR`` (upper case, alone) separates alternatives; AND binds tighter than OR:
  ``a b OR c`` = phrase ``a b`` or phrase ``c``; ``"a" "b" OR "c"`` = (a and b) or c;
* ``-word`` and ``-"phrase"`` leave out the articles containing them. An exclusion applies
  to the whole query, whichever side of an ``OR`` it is written on (``"sa pa" OR "bắc hà"
  -"du lịch"``: neither with ``du lịch``), because that is what a reader of the query
  expects; a query of exclusions only is refused (it would list the whole archive).
  An exclusion typed with diacritics leaves out only those diacritics (``-chợ`` keeps
  the articles with ``cho``); typed without any, every accent form.

Refused with one line (:class:`InputError`): an empty query, exclusions only, an
unbalanced quote (we do not guess where the phrase was meant to end), ``OR`` with nothing
on one side, and more than :data:`MAX_QUERY_WORDS` words (a pasted page would otherwise
become thousands of clauses). Empty quotes ``""`` are ignored.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from baolaocai.errors import InputError

PHRASE_BREAK = "\u01c2"
"""A token no query can contain (a letter for tantivy, not ``[a-z0-9]``), indexed where
punctuation separates two words so that phrase matches do not run across it."""
MAX_QUERY_WORDS = 50
"""The most words a query may have, exclusions included (each is a clause of the search)."""
MAX_ALTERNATIVES = 16
"""The most spellings one phrase is searched as (spelling variants multiply)."""
QUOTES = frozenset('"“”„')
"""Characters that open or close a quoted phrase (a straight quote, or typographic ones)."""

_TONES = {
    "\u0300": "grave",
    "\u0301": "acute",
    "\u0303": "tilde",
    "\u0309": "hook",
    "\u0323": "dot",
}
_INITIALS = frozenset("bcdđghklmnprstvx")
"""Consonants an initial of a Vietnamese syllable is made of (``q`` is apart: ``qu``)."""
_MOVABLE = ("oa", "oe", "uy")
"""The open rhymes whose tone mark the two conventions place differently."""


# -- folding and tones ------------------------------------------------------------------------


def fold_char(ch: str) -> str:
    """One character folded: lower case, no diacritics, ``đ`` -> ``d`` (may be ``""``)."""
    if ch in "đĐ":
        return "d"
    decomposed = unicodedata.normalize("NFD", ch)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def fold(text: str) -> str:
    """``"Hoà Bình, Lào Cai"`` -> ``"hoa binh, lao cai"`` (same as the indexed documents)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(fold_char(ch) for ch in text)


@functools.lru_cache(maxsize=8192)
def _fold_char_cached(ch: str) -> str:
    return fold_char(ch)


def normalize_tone(syllable: str) -> str:
    """The syllable in NFC with its tone mark placed the "old" way, which most of the press
    uses: on the first vowel of a final ``oa``, ``oe``, ``uy`` (``hoà`` -> ``hòa``,
    ``khoẻ`` -> ``khỏe``, ``thuỷ`` -> ``thủy``, ``Uỷ`` -> ``Ủy``). Both conventions agree
    everywhere else (``hoàng``, ``quý``, ``thuyền``, ``mùa``), and those are returned as
    they are, in NFC; so is anything that is not one Vietnamese syllable. Capitals are kept.
    """
    return _place_tone(syllable, new_style=False)


def tone_placements(syllable: str) -> tuple[str, ...]:
    """Both ways of writing the syllable (NFC): ``"hòa"`` -> ``("hòa", "hoà")``; one way
    when the conventions agree (``"hoàng"`` -> ``("hoàng",)``)."""
    old = _place_tone(syllable, new_style=False)
    new = _place_tone(syllable, new_style=True)
    return (old,) if old == new else (old, new)


def _place_tone(syllable: str, *, new_style: bool) -> str:
    text = unicodedata.normalize("NFC", syllable)
    if len(text) < 2:
        return text
    bases: list[str] = []
    tones: list[str] = []
    for ch in text:
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in decomposed if c in _TONES)
        bases.append(
            unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        )
        tones.append(tone)
    marked = [i for i, tone in enumerate(tones) if tone]
    if len(marked) != 1 or marked[0] < len(text) - 2:
        return text
    lower = "".join(bases).lower()
    rhyme = lower[-2:]
    initial = lower[:-2]
    if rhyme not in _MOVABLE or not all(c in _INITIALS for c in initial):
        return text
    where = len(text) - 1 if new_style else len(text) - 2
    if marked[0] == where:
        return text
    out = list(bases)
    out[where] = unicodedata.normalize("NFC", bases[where] + tones[marked[0]])
    return "".join(out)


@functools.lru_cache(maxsize=500_000)
def analyse_word(piece: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of one white-space-free piece of text, folded and exact, with
    :data:`PHRASE_BREAK` (in both) where punctuation starts or ends the piece.

    ``"(Hoà,"`` -> ``(("ǂ", "hoa", "ǂ"), ("ǂ", "hòa", "ǂ"))``; ``"COVID-19"`` ->
    ``(("covid", "19"), ("covid", "19"))``. Pure, so remembered (Vietnamese has a few
    thousand syllables; the bound only matters for text full of unique tokens).
    """
    text = unicodedata.normalize("NFC", piece)
    folded: list[str] = []
    exact: list[str] = []
    word_f: list[str] = []
    word_e: list[str] = []
    lead = trail = False
    for ch in text:
        f = _fold_char_cached(ch)
        if len(f) == 1 and ("a" <= f <= "z" or "0" <= f <= "9"):
            word_f.append(f)
            word_e.append(ch.lower())
            trail = False
        elif f == "":  # a combining mark NFC could not compose: fold drops it, so do we
            continue
        else:
            if word_f:
                folded.append("".join(word_f))
                exact.append(normalize_tone("".join(word_e)))
                word_f, word_e = [], []
            elif not folded:
                lead = True
            trail = True
    if word_f:
        folded.append("".join(word_f))
        exact.append(normalize_tone("".join(word_e)))
    if not folded:
        return ((PHRASE_BREAK,), (PHRASE_BREAK,)) if text else ((), ())
    if lead:
        folded.insert(0, PHRASE_BREAK)
        exact.insert(0, PHRASE_BREAK)
    if trail:
        folded.append(PHRASE_BREAK)
        exact.append(PHRASE_BREAK)
    return tuple(folded), tuple(exact)


def text_words(text: str) -> list[tuple[str, str]]:
    """The ``(folded, exact)`` words of ``text``, in order, without the phrase breaks."""
    out: list[tuple[str, str]] = []
    for piece in text.split():
        folded, exact = analyse_word(piece)
        out.extend((f, e) for f, e in zip(folded, exact, strict=True) if f != PHRASE_BREAK)
    return out


# -- the query ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must occur together, in order (one word is a phrase too)."""

    folded: tuple[str, ...]
    exact: tuple[str, ...]
    """The words as typed: lower-case NFC, tone placement normalised."""
    quoted: bool = False

    @property
    def accented(self) -> bool:
        """Whether it was typed with any diacritic (then exact matches rank first)."""
        return self.folded != self.exact

    def text(self) -> str:
        return " ".join(self.exact)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    groups: tuple[tuple[Phrase, ...], ...]
    """Alternatives (``OR``), each phrases that must all occur."""
    excluded: tuple[Phrase, ...] = ()

    def phrases(self) -> list[Phrase]:
        """Every phrase to find, once each, in the order written."""
        return list(dict.fromkeys(p for group in self.groups for p in group))

    def loose_phrases(self) -> list[Phrase]:
        """Unquoted phrases of two words or more (a user may have meant the words apart)."""
        return [p for p in self.phrases() if not p.quoted and len(p.folded) > 1]


def _phrase(text: str, quoted: bool) -> Phrase | None:
    words = text_words(text)
    if not words:
        return None
    return Phrase(tuple(f for f, _ in words), tuple(e for _, e in words), quoted)


def _phrases(text: str, quoted: bool) -> list[Phrase]:
    """The phrases of a run of words or a quoted phrase, cut where punctuation breaks it
    as the index does (``Bắc Hà - điểm hẹn`` -> ``bắc hà``, ``điểm hẹn``): the index
    keeps a phrase break there, so the words as one phrase never matched a headline
    pasted with its dash or colon. Each part must occur, as quoted phrases do."""
    out: list[Phrase] = []
    folded: list[str] = []
    exact: list[str] = []
    for piece in text.split():
        for f, e in zip(*analyse_word(piece), strict=True):
            if f != PHRASE_BREAK:
                folded.append(f)
                exact.append(e)
            elif folded:
                out.append(Phrase(tuple(folded), tuple(exact), quoted))
                folded, exact = [], []
    if folded:
        out.append(Phrase(tuple(folded), tuple(exact), quoted))
    return out


def _tokens(text: str) -> list[tuple[str, str]]:
    """``(kind, text)``: ``word``, ``quoted``, ``not-word``, ``not-quoted``, ``or``."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        negative = ch == "-" and i + 1 < n and not text[i + 1].isspace()
        start = i + 1 if negative else i
        if start < n and text[start] in QUOTES:
            end = next((j for j in range(start + 1, n) if text[j] in QUOTES), -1)
            if end < 0:
                raise InputError(
                    f'unbalanced quote in {_shown(text)}: close the phrase with a second "'
                )
            out.append(("not-quoted" if negative else "quoted", text[start + 1 : end]))
            i = end + 1
            continue
        j = start
        while j < n and not text[j].isspace() and text[j] not in QUOTES:
            j += 1
        word = text[start:j]
        if negative:
            out.append(("not-word", word))
        elif word == "OR":
            out.append(("or", word))
        else:
            out.append(("word", word))
        i = j
    return out


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "…")


def parse_query(text: str) -> ParsedQuery:
    """The query ``text`` in the syntax above; :class:`InputError` (one line) when it is
    empty, only exclusions, has an unbalanced quote, a dangling ``OR``, or too many words."""
    text = unicodedata.normalize("NFC", text)
    groups: list[list[Phrase]] = [[]]
    excluded: list[Phrase] = []
    run: list[str] = []
    words = 0

    def add(phrase: Phrase | None, into: list[Phrase]) -> None:
        nonlocal words
        if phrase is None:
            return
        words += len(phrase.folded)
        if words > MAX_QUERY_WORDS:
            raise InputError(
                f"the query has more than {MAX_QUERY_WORDS} words: search for fewer,"
                " more telling phrases"
            )
        if phrase not in into:
            into.append(phrase)

    def end_run() -> None:
        if run:
            for phrase in _phrases(" ".join(run), quoted=False):
                add(phrase, groups[-1])
            run.clear()

    for kind, value in _tokens(text):
        if kind == "word":
            run.append(value)
            continue
        end_run()
        if kind == "quoted":
            for phrase in _phrases(value, quoted=True):
                add(phrase, groups[-1])
        elif kind in ("not-word", "not-quoted"):
            add(_phrase(value, quoted=kind == "not-quoted"), excluded)
        else:  # OR
            if not groups[-1]:
                raise InputError(f"OR needs a phrase on both sides, in {_shown(text)}")
            groups.append([])
    end_run()
    if len(groups) > 1 and not groups[-1]:
        raise InputError(f"OR needs a phrase on both sides, in {_shown(text)}")
    if not groups[0]:
        if excluded:
            raise InputError(
                f"nothing to search for in {_shown(text)}: a query of exclusions only"
                " (-word) would list every article; add a word or phrase to find"
            )
        raise InputError(f"nothing to search for in {_shown(text)}: give at least one word")
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


# -- spelling variants --------------------------------------------------------------------------


Spelling = tuple[tuple[str, ...], tuple[str, ...]]
"""A phrase's words, folded and exact."""


def variant_groups(groups: Iterable[Sequence[str]]) -> tuple[tuple[Spelling, ...], ...]:
    """Site-file variant groups (``[["Sa Pa", "Sapa"], …]``) as words; members that have
    no word are dropped, groups left with fewer than two members too."""
    out: list[tuple[Spelling, ...]] = []
    for group in groups:
        members: dict[tuple[str, ...], Spelling] = {}
        for name in group:
            words = text_words(name)
            if words:
                folded = tuple(f for f, _ in words)
                members.setdefault(folded, (folded, tuple(e for _, e in words)))
        if len(members) > 1:
            out.append(tuple(members.values()))
    return tuple(out)


def spellings(
    phrase: Phrase,
    groups: Sequence[Sequence[Spelling]],
    limit: int = MAX_ALTERNATIVES,
    *,
    exact: bool = False,
) -> list[Spelling]:
    """The phrase as typed, then with every part that is a member of a variant group
    replaced by the other members (``du lịch sa pa`` -> ``du lịch sapa``), at most
    ``limit`` in all. Parts are matched folded, the longest member first.

    ``exact`` (``--exact``: diacritics as typed): a part is replaced only when it was
    typed with the member's own diacritics (``Sa Pa`` -> ``Sapa``); ``Sà Pà`` is then a
    spelling of its own, never the group's (it would find ``Sa Pa`` against the
    accents typed)."""
    by_first: dict[str, list[tuple[Spelling, Sequence[Spelling]]]] = {}
    for group in groups:
        for member in group:
            by_first.setdefault(member[0][0], []).append((member, group))
    for candidates in by_first.values():
        candidates.sort(key=lambda c: -len(c[0][0]))
    options: list[list[Spelling]] = []
    words = phrase.folded
    i = 0
    while i < len(words):
        for member, group in by_first.get(words[i], ()):
            size = len(member[0])
            if words[i : i + size] == member[0]:
                typed = (words[i : i + size], phrase.exact[i : i + size])
                if exact and typed[1] != member[1]:
                    options.append([typed])
                else:
                    options.append([typed, *(m for m in group if m[0] != member[0])])
                i += size
                break
        else:
            options.append([((words[i],), (phrase.exact[i],))])
            i += 1
    out: list[Spelling] = []
    for combination in itertools.islice(itertools.product(*options), limit):
        folded = tuple(w for part in combination for w in part[0])
        written = tuple(w for part in combination for w in part[1])
        if all(folded != f for f, _ in out):
            out.append((folded, written))
    return out
