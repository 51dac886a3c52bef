"""The word diff shows an editor's change as whole words, reassembles both texts exactly,
and sees a change of one tone mark (Vietnamese text written here, NFC and NFD)."""

from __future__ import annotations

import itertools
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from baolaocai.worddiff import (
    DiffPiece,
    field_changes,
    field_text,
    new_text,
    old_text,
    tokens,
    word_diff,
)


def marked(pieces: list[DiffPiece]) -> str:
    """``git diff --word-diff=plain`` notation, to read a diff in one assertion."""
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return "".join(marks[p.op].format(p.text) for p in pieces)


def test_a_changed_word_is_the_whole_word_deleted_then_inserted() -> None:
    old = "Đoàn công tác tỉnh Lào Cai thăm Sa Pa."
    new = "Đoàn công tác tỉnh Yên Bái thăm Sa Pa."
    assert marked(word_diff(old, new)) == "Đoàn công tác tỉnh [-Lào Cai-]{+Yên Bái+} thăm Sa Pa."


def test_a_word_changed_only_in_its_tone_mark_is_changed() -> None:
    old = "Giá lúa tăng mạnh trong tháng"
    new = "Giá lúa tặng mạnh trong tháng"  # ă with a dot below instead of none
    pieces = word_diff(old, new)
    assert marked(pieces) == "Giá lúa [-tăng-]{+tặng+} mạnh trong tháng"


def test_the_same_text_in_nfd_and_nfc_is_no_change() -> None:
    text = "Hòa Bình và Lào Cai hợp tác phát triển du lịch"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert word_diff(nfd, text) == [DiffPiece("equal", text)]
    # and a word of an NFD text is still one word (its combining marks stay with it)
    assert marked(word_diff(nfd, text.replace("Lào", "Lạo"))) == (
        "Hòa Bình và [-Lào-]{+Lạo+} Cai hợp tác phát triển du lịch"
    )


def test_punctuation_and_line_breaks_are_their_own_tokens() -> None:
    expected = ["Hà", " ", "Nội", ",", " ", "ngày", " ", "5", ".", "\n\n", "Tin"]
    assert tokens("Hà Nội, ngày 5.\n\nTin") == expected
    assert marked(word_diff("Hà Nội, Lào Cai", "Hà Nội. Lào Cai")) == "Hà Nội[-,-]{+.+} Lào Cai"
    old = "Đoạn một.\n\nĐoạn hai."
    new = "Đoạn một.\n\nĐoạn mới.\n\nĐoạn hai."
    pieces = word_diff(old, new)
    # one insertion, no deletion (where it starts is a matter of alignment)
    assert [p.op for p in pieces] == ["equal", "insert", "equal"]
    assert pieces[1].text in ("Đoạn mới.\n\n", "mới.\n\nĐoạn ")


def test_neighbouring_changed_words_read_as_one_change() -> None:
    assert marked(word_diff("có hai ba người", "có bốn năm người")) == (
        "có [-hai ba-]{+bốn năm+} người"
    )


def test_empty_and_equal_texts() -> None:
    assert word_diff("", "") == []
    assert word_diff("", "Tin mới") == [DiffPiece("insert", "Tin mới")]
    assert word_diff("Tin cũ", "") == [DiffPiece("delete", "Tin cũ")]
    assert word_diff("Tin", "Tin") == [DiffPiece("equal", "Tin")]


def _check_exact(old: str, new: str) -> None:
    pieces = word_diff(old, new)
    assert old_text(pieces) == unicodedata.normalize("NFC", old)
    assert new_text(pieces) == unicodedata.normalize("NFC", new)
    for before, after in itertools.pairwise(pieces):
        assert before.op != after.op, pieces  # merged
        assert not (before.op == "insert" and after.op == "delete"), pieces
    assert all(p.text for p in pieces)


WORDS = ["Lào", "Cai", "lào", "cài", "Sa", "Pa", "hòa", "hoà", "hóa", "đường", "1", ","]


def test_the_pieces_reassemble_both_texts_exactly() -> None:
    rng = random.Random(23)
    parts = [*WORDS, " ", "\n", ". ", "  "]
    for _ in range(2000):
        a = "".join(rng.choice(parts) for _ in range(rng.randrange(30)))
        b = "".join(rng.choice(parts) for _ in range(rng.randrange(30)))
        _check_exact(a, b)
        _check_exact(a, a + b)


def test_a_long_body_with_scattered_edits() -> None:
    rng = random.Random(4)
    paragraphs = [" ".join(rng.choice(WORDS[:10]) for _ in range(120)) for _ in range(60)]
    old = "\n\n".join(paragraphs)
    changed = [p.split(" ") for p in paragraphs]
    for n, i in ((0, 10), (30, 60), (59, 119)):
        changed[n][i] = "mới"
    new = "\n\n".join(" ".join(words) for words in changed)
    pieces = word_diff(old, new)
    _check_exact(old, new)
    assert [p.text for p in pieces if p.op == "insert"] == ["mới"] * 3


def test_a_rewrite_too_long_to_align_is_shown_replaced_whole() -> None:
    rng = random.Random(5)
    words = [rng.choice(WORDS[:10]) for _ in range(12_000)]
    old = "Mở đầu. " + " ".join(words) + " Kết thúc."
    new = "Mở đầu. " + " ".join(rng.sample(words, len(words))) + " Kết thúc."
    pieces = word_diff(old, new)
    _check_exact(old, new)
    assert [p.op for p in pieces] == ["equal", "delete", "insert", "equal"]
    assert pieces[0].text.startswith("Mở đầu. ") and pieces[-1].text.endswith("Kết thúc.")


@dataclass
class Version:
    title: str | None = "Lào Cai đón khách"
    sapo: str | None = None
    body: str | None = "Nội dung bài viết."
    author: str | None = "Lò Văn Minh"
    published_at: datetime | None = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
    modified_at: datetime | None = None
    category: str | None = "Thời sự"
    tags: tuple[str, ...] = field(default=("Lào Cai",))
    source: str | None = None


def test_field_changes_names_the_fields_that_differ_in_order() -> None:
    old = Version()
    new = Version(
        title="Lào Cai đón nhiều khách",
        tags=("Lào Cai", "du lịch"),
        # the same instant, given in Vietnam time: no change
        published_at=datetime(2025, 3, 10, 8, 0, tzinfo=timezone(timedelta(hours=7))),
        modified_at=datetime(2025, 3, 11, 2, 0, tzinfo=UTC),
    )
    changes = field_changes(old, new)
    assert [c.field for c in changes] == ["title", "modified_at", "tags"]
    title, modified, tags = changes
    assert marked(list(title.pieces)) == "Lào Cai đón {+nhiều +}khách"
    assert (modified.old, modified.new) == ("", "2025-03-11 09:00:00+07:00")
    assert modified.pieces == (DiffPiece("insert", "2025-03-11 09:00:00+07:00"),)
    later = field_changes(new, Version(modified_at=datetime(2025, 3, 12, tzinfo=UTC)))
    [again] = [c for c in later if c.field == "modified_at"]
    assert [p.op for p in again.pieces] == ["delete", "insert"]  # a time: whole
    assert marked(list(tags.pieces)) == "Lào Cai{+, du lịch+}"
    assert field_changes(old, Version()) == []


def test_field_text() -> None:
    assert field_text(None) == ""
    assert field_text(datetime(2025, 1, 1, 17, 30, tzinfo=UTC)) == "2025-01-02 00:30:00+07:00"
    assert field_text(["a", "b"]) == "a, b"
    assert field_text(unicodedata.normalize("NFD", "Hoà")) == "Hoà"
