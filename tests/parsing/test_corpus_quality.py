"""Every gold set, scored as the benchmark scores it: body F1 and zero leaks."""

from __future__ import annotations

import pytest
from gold import GOLD_SETS, GoldSet, score

from baolaocai.site import default_site
from transforms.scoring import boilerplate_leaks, token_f1


def test_corpus_has_at_least_40_pages() -> None:
    assert sum(len(s.cases()) for s in GOLD_SETS) >= 40


@pytest.mark.parametrize("gold_set", GOLD_SETS, ids=lambda s: s.name)
def test_body_f1_and_no_boilerplate_leaks(gold_set: GoldSet) -> None:
    result = score(gold_set)
    assert result.pages == gold_set.size
    assert sum(result.body_f1) / result.pages >= 0.98
    assert min(result.body_f1) >= 0.9
    assert result.leaks == []


def test_scoring_functions() -> None:
    assert token_f1("Lào Cai đẹp", "lào cai đẹp").f1 == 1.0
    half = token_f1("Sa Pa", "Sa Pa mùa đông lạnh")
    assert half.precision == 1.0 and half.recall == 0.4
    assert boilerplate_leaks(
        "Đoạn văn.\nChia sẻ Zalo\nCác tin khác", "Đoạn văn.", default_site().profile
    ) == [
        "Chia sẻ Zalo",
        "Các tin khác",
    ]
