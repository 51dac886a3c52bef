"""The engine's English error lines said in Vietnamese, for the web view's pages.

The warehouse modules (:mod:`warehouse.reader`, :mod:`warehouse.search_query`,
:mod:`warehouse.search`) speak English: the CLI and its scripts read their one-line errors,
and tests match them. The web view's interface is Vietnamese, so what it shows of those
errors goes through :func:`vietnamese`: a table of regular expressions over the known
messages, each giving a Vietnamese sentence with the same facts (the article, the
version numbers, the quoted query kept as typed). ``tests/web/test_messages.py`` reads
every ``raise InputError/NotFoundError(f"…")`` of those modules and checks each has a rule
here, so a new message cannot reach a reader in English unnoticed.

A message with no rule is kept, after a Vietnamese lead saying it is English; one the web
view wrote itself (already Vietnamese) is kept as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

ENGLISH_LEAD = "Chi tiết (tiếng Anh): "
"""Before a message no rule knows (kept in English rather than lost)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One English message (``pattern``, matched in full) and its Vietnamese sentence:
    ``template`` formatted with the pattern's named groups, after ``shape`` (if any)
    rewrote some of them."""

    pattern: re.Pattern[str]
    template: str
    shape: Callable[[dict[str, str]], dict[str, str]] | None = None


def _versions(groups: dict[str, str]) -> dict[str, str]:
    """``versions 1 to 2`` and its kin (:func:`warehouse.reader._numbers`) in Vietnamese."""
    text = groups["versions"]
    if text == "none stored":
        vietnamese_text = "chưa lưu phiên bản nào"
    elif m := re.fullmatch(r"version (\d+) only", text):
        vietnamese_text = f"chỉ có phiên bản {m[1]}"
    elif m := re.fullmatch(r"versions (\d+) to (\d+)", text):
        vietnamese_text = f"có các phiên bản từ {m[1]} đến {m[2]}"
    elif m := re.fullmatch(r"versions ([\d, ]+)", text):
        vietnamese_text = f"có các phiên bản {m[1]}"
    else:
        vietnamese_text = text
    return {**groups, "versions": vietnamese_text}


def _last_of(groups: dict[str, str]) -> dict[str, str]:
    """The optional ``(the last 5 of 12)`` after a list of captures."""
    last, total = groups.get("last"), groups.get("total")
    more = f" ({last} bản cuối trong {total} bản)" if last and total else ""
    return {**groups, "more": more}


def _known(groups: dict[str, str]) -> dict[str, str]:
    return {**groups, "known": "(chưa có)" if groups["known"] == "(none)" else groups["known"]}


def _rule(
    pattern: str, template: str, shape: Callable[[dict[str, str]], dict[str, str]] | None = None
) -> Rule:
    return Rule(re.compile(pattern, re.DOTALL), template, shape)


RULES: tuple[Rule, ...] = (
    # warehouse/reader.py
    _rule(r"no article (?P<name>.+) in the warehouse", "Kho lưu trữ không có bài {name}."),
    _rule(
        r"article (?P<name>.+) has no version (?P<version>.+?); it has (?P<versions>.+)",
        "Bài {name} không có phiên bản {version}; bài này {versions}.",
        _versions,
    ),
    _rule(
        r"article (?P<name>.+) has no capture in the archive",
        "Bài {name} chưa có bản lưu trữ nào (no capture).",
    ),
    _rule(
        r"article (?P<name>.+) has no capture of (?P<ts>.+?); its captures: (?P<listed>.+?)"
        r"(?: \(the last (?P<last>\d+) of (?P<total>\d+)\))?",
        "Bài {name} không có bản lưu trữ lúc {ts}; các bản lưu trữ: {listed}{more}.",
        _last_of,
    ),
    _rule(
        r"article (?P<name>.+) has no capture at or before (?P<at>.+?);"
        r" the first is of (?P<first>.+)",
        "Bài {name} không có bản lưu trữ nào lúc hoặc trước {at} (giờ Việt Nam);"
        " bản đầu tiên là lúc {first}.",
    ),
    _rule(
        r"article (?P<name>.+) has no picture at position (?P<position>.+)",
        "Bài {name} không có ảnh ở vị trí {position}.",
    ),
    _rule(
        r"picture (?P<position>.+?) of article (?P<name>.+) is not in the archive",
        "Ảnh {position} của bài {name} không được lưu trong kho (not archived).",
    ),
    # warehouse/search_query.py
    _rule(
        r'unbalanced quote in (?P<q>.+): close the phrase with a second "',
        'Dấu ngoặc kép chưa đóng trong {q}: hãy thêm một dấu " nữa để đóng cụm từ.',
    ),
    _rule(
        r"the query has more than (?P<n>.+) words: search for fewer, more telling phrases",
        "Câu tìm có hơn {n} từ: hãy tìm ít cụm từ hơn, chọn những cụm đặc trưng hơn.",
    ),
    _rule(
        r"OR needs a phrase on both sides, in (?P<q>.+)",
        "OR cần một cụm từ ở cả hai bên, trong {q}.",
    ),
    _rule(
        r"nothing to search for in (?P<q>.+): a query of exclusions only \(-word\) would list"
        r" every article; add a word or phrase to find",
        "Không có gì để tìm trong {q}: câu tìm chỉ có từ loại trừ (-từ) sẽ liệt kê mọi bài;"
        " hãy thêm một từ hoặc cụm từ cần tìm.",
    ),
    _rule(
        r"nothing to search for in (?P<q>.+): give at least one word",
        "Không có gì để tìm trong {q}: hãy gõ ít nhất một từ.",
    ),
    # warehouse/search.py
    _rule(
        r"no name to find in the author (?P<author>.+)",
        "Không có tên nào để tìm trong tác giả {author}.",
    ),
    _rule(
        r"the author (?P<author>.+)… has more than (?P<n>.+) words",
        "Tên tác giả {author}… có hơn {n} từ.",
    ),
    _rule(
        r"the limit must be from 1 to (?P<most>.+), not (?P<value>.+)",
        "Số kết quả (limit) phải từ 1 đến {most}, không phải {value}.",
    ),
    _rule(
        r"the offset must be from 0 to (?P<most>.+), not (?P<value>.+)",
        "Vị trí bắt đầu (offset) phải từ 0 đến {most}, không phải {value}.",
    ),
    _rule(
        r"the last day (?P<until>.+) is before the first day (?P<since>.+)",
        "Đến ngày {until} trước Từ ngày {since}.",
    ),
    _rule(
        r"no category (?P<category>.+?); known: (?P<known>.+)",
        "Không có chuyên mục {category}; các chuyên mục có: {known}.",
        _known,
    ),
    # Warehouse errors a page may meet (503): the index, the lock, the time limit.
    _rule(
        r"no search index yet: run 'baolaocai reindex' \(or a crawl\) to build (?P<folder>.+)",
        "Chưa có chỉ mục tìm kiếm (no search index yet): hãy chạy 'baolaocai reindex'"
        " (hoặc một lần crawl) để dựng {folder}.",
    ),
    _rule(
        r"the query took longer than (?P<seconds>.+) s and was stopped",
        "Truy vấn chạy quá {seconds} giây nên đã bị dừng; hãy thử lại sau.",
    ),
    _rule(
        r"the warehouse (?P<path>.+) is locked by another process \(a crawl\?\)"
        r" for more than (?P<seconds>\d+)s; try again when it has finished",
        "Kho {path} đang bị một tiến trình khác (một lần crawl?) giữ quá {seconds} giây;"
        " hãy thử lại khi nó xong.",
    ),
)
"""Every known English message, most specific first where two could match."""

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def rule_for(message: str) -> Rule | None:
    """The rule that says ``message`` in Vietnamese, if any."""
    return next((r for r in RULES if r.pattern.fullmatch(message)), None)


def is_vietnamese(message: str) -> bool:
    """Whether ``message`` is already Vietnamese: a letter with a diacritic (or ``đ``)
    outside its quoted parts (an English line quotes Vietnamese text only in quotes)."""
    bare = _QUOTED.sub("", message)
    return any(
        not c.isascii() and c.isalpha() and unicodedata.name(c, "").startswith("LATIN")
        for c in bare
    )


def vietnamese(message: str) -> str:
    """``message`` (one line from the engine or the web view) in Vietnamese: by its rule;
    as it is when already Vietnamese; otherwise kept in English after
    :data:`ENGLISH_LEAD`."""
    message = message.strip()
    if not message:
        return ""
    rule = rule_for(message)
    if rule is not None:
        match = rule.pattern.fullmatch(message)
        assert match is not None
        groups = {k: v for k, v in match.groupdict().items() if v is not None}
        if rule.shape is not None:
            groups = rule.shape(groups)
        return rule.template.format(**groups)
    if is_vietnamese(message):
        return message
    return ENGLISH_LEAD + message


def is_reason_phrase(detail: str, status: int) -> bool:
    """Whether ``detail`` is only the status's standard phrase (Starlette's default
    detail, ``Not Found``): no detail at all, the page's Vietnamese title says it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return False
    return detail.strip().casefold() == phrase.casefold()
