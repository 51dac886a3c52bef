"""Scoring an extractor against gold records: field accuracy, body token F1, leaks. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from baolaocai.profile import SiteProfile

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def tokens(text: str | None) -> list[str]:
    return _TOKEN_RE.findall(unicodedata.normalize("NFC", text or "").casefold())


@dataclass(frozen=True)
class F1:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def token_f1(predicted: str | None, gold: str | None) -> F1:
    """Bag-of-words precision and recall of ``predicted`` against ``gold``."""
    pred, ref = Counter(tokens(predicted)), Counter(tokens(gold))
    if not pred and not ref:
        return F1(1.0, 1.0)
    overlap = sum((pred & ref).values())
    precision = overlap / sum(pred.values()) if pred else 0.0
    recall = overlap / sum(ref.values()) if ref else 0.0
    return F1(precision, recall)


def boilerplate_leaks(body: str | None, gold_body: str | None, profile: SiteProfile) -> list[str]:
    """Lines of ``body`` that are page furniture (share bars, list headings, footer) and
    are not in the gold body."""
    gold_lines = {line.strip() for line in (gold_body or "").splitlines()}
    leaks = []
    for line in (body or "").splitlines():
        line = line.strip()
        if (
            line
            and line not in gold_lines
            and (
                profile.is_phrase(line)
                or profile.is_section_marker(line)
                or profile.is_footer(line)
            )
        ):
            leaks.append(line)
    return leaks
