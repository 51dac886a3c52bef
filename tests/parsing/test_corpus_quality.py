"""The whole gold corpus, scored as the benchmark scores it: body F1 and zero leaks."""

from __future__ import annotations

import json
from pathlib import Path

from baolaocai.site import default_site
from scrapers.fetch import decode_html
from sitecopy import SITE_DIR
from transforms.parse import parse_article
from transforms.scoring import boilerplate_leaks, token_f1

HERE = Path(__file__).parent


def gold_corpus() -> list[tuple[Path, dict[str, object]]]:
    cases = [(SITE_DIR / f"{e.stem}.html", e) for e in sorted((HERE / "expected").glob("*.json"))]
    independent = HERE / "independent"
    cases += [
        (independent / "pages" / f"{e.stem}.html", e)
        for e in sorted((independent / "expected").glob("*.json"))
    ]
    return [(page, json.loads(exp.read_text(encoding="utf-8"))) for page, exp in cases]


def test_corpus_has_at_least_40_pages() -> None:
    assert len(gold_corpus()) >= 40


def test_body_f1_and_no_boilerplate_leaks() -> None:
    scores, leaks = [], []
    for page, gold in gold_corpus():
        html = decode_html(page.read_bytes(), None)
        got = parse_article(html, fallback_url=default_site().url(page.name))
        scores.append(token_f1(got.body, str(gold["body"])).f1)
        leaks += boilerplate_leaks(
            got.body.replace("\n\n", "\n"), str(gold["body"]), default_site().profile
        )
    assert sum(scores) / len(scores) >= 0.98
    assert min(scores) >= 0.9
    assert leaks == []


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
