"""The engine's English errors said in Vietnamese (:mod:`web.messages`): every message the
engine modules raise has a rule, found by reading their source, so a new one cannot
reach the web view's reader in English unnoticed."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from web.messages import ENGLISH_LEAD, is_reason_phrase, is_vietnamese, rule_for, vietnamese

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ("warehouse/reader.py", "warehouse/search_query.py", "warehouse/search.py")
RAISED = frozenset({"InputError", "NotFoundError"})
SAMPLE = "7"
"""What each ``{…}`` of a message stands for in the samples: digits fit a number, and a
rule must take any text where the engine puts a value."""


def _variants(node: ast.expr) -> list[str]:
    """Every text the message expression ``node`` can give, ``{…}`` as :data:`SAMPLE`
    (an ``a + (b if … else "")`` gives both ``a+b`` and ``a``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            "".join(_variants(v)[0] if isinstance(v, ast.Constant) else SAMPLE for v in node.values)
        ]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [a + b for a, b in itertools.product(_variants(node.left), _variants(node.right))]
    if isinstance(node, ast.IfExp):
        return [*_variants(node.body), *_variants(node.orelse)]
    raise AssertionError(f"a message that is not a literal pattern: {ast.unparse(node)}")


def engine_messages() -> list[tuple[str, str]]:
    """``(where, sample)`` for each message of ``raise InputError/NotFoundError(…)`` in
    :data:`ENGINE`."""
    found: list[tuple[str, str]] = []
    for name in ENGINE:
        tree = ast.parse((ROOT / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Name) and func.id in RAISED):
                continue
            assert node.exc.args, f"{name}:{node.lineno}: a {func.id} without a message"
            for sample in _variants(node.exc.args[0]):
                found.append((f"{name}:{node.lineno}", sample))
    return found


MESSAGES = engine_messages()


def test_the_engine_messages_were_found() -> None:
    # Each module raises several; too few found means the reading above went wrong.
    wheres = {w.split(":")[0] for w, _ in MESSAGES}
    assert wheres == set(ENGINE)
    assert len(MESSAGES) >= 18


@pytest.mark.parametrize(("where", "sample"), MESSAGES, ids=[w for w, _ in MESSAGES])
def test_every_engine_message_has_a_vietnamese_rule(where: str, sample: str) -> None:
    assert rule_for(sample) is not None, f"{where}: no rule in web/messages.py for {sample!r}"
    said = vietnamese(sample)
    assert not said.startswith(ENGLISH_LEAD)
    assert is_vietnamese(said), said
    assert SAMPLE in said, f"{where}: a fact of {sample!r} was lost: {said!r}"


@pytest.mark.parametrize(
    ("english", "expected"),
    [
        ("no article baolaocai/1 in the warehouse", "Kho lưu trữ không có bài baolaocai/1."),
        (
            "article baolaocai/909034 has no version 3; it has versions 1 to 2",
            "Bài baolaocai/909034 không có phiên bản 3; bài này có các phiên bản từ 1 đến 2.",
        ),
        (
            "article nuimay/5 has no version 9; it has version 1 only",
            "Bài nuimay/5 không có phiên bản 9; bài này chỉ có phiên bản 1.",
        ),
        (
            "picture 0 of article baolaocai/909034 is not in the archive",
            "Ảnh 0 của bài baolaocai/909034 không được lưu trong kho (not archived).",
        ),
        (
            "article baolaocai/909034 has no picture at position 5",
            "Bài baolaocai/909034 không có ảnh ở vị trí 5.",
        ),
        (
            "unbalanced quote in '\"abc': close the phrase with a second \"",
            "Dấu ngoặc kép chưa đóng trong '\"abc': hãy thêm một dấu \" nữa để đóng cụm từ.",
        ),
        (
            "nothing to search for in '漢字': give at least one word",
            "Không có gì để tìm trong '漢字': hãy gõ ít nhất một từ.",
        ),
        (
            "no category 'Thời sựu'; known: Kinh tế, Thời sự",
            "Không có chuyên mục 'Thời sựu'; các chuyên mục có: Kinh tế, Thời sự.",
        ),
        (
            "article baolaocai/1 has no capture of '20250101000000'; its captures:"
            " 20250102000000, 20250103000000 (the last 5 of 9)",
            "Bài baolaocai/1 không có bản lưu trữ lúc '20250101000000'; các bản lưu trữ:"
            " 20250102000000, 20250103000000 (5 bản cuối trong 9 bản).",
        ),
    ],
)
def test_the_facts_are_kept_in_the_vietnamese_sentence(english: str, expected: str) -> None:
    assert vietnamese(english) == expected


def test_an_unknown_english_message_is_kept_after_a_vietnamese_lead() -> None:
    said = vietnamese("cannot read the search index /x: disk on fire")
    assert said == ENGLISH_LEAD + "cannot read the search index /x: disk on fire"
    # English quoting Vietnamese text is still English.
    assert vietnamese("odd thing in 'Lào Cai'").startswith(ENGLISH_LEAD)


def test_a_message_already_in_vietnamese_is_kept() -> None:
    text = "Số trang phải là một số từ 1 đến 100.000, không phải 'x'"
    assert vietnamese(text) == text


def test_the_standard_reason_phrases_are_no_detail() -> None:
    assert is_reason_phrase("Not Found", 404)
    assert is_reason_phrase("Method Not Allowed", 405)
    assert not is_reason_phrase("Không có trang nào", 404)
    assert not is_reason_phrase("Not Found", 400)
