"""The gold sets: every folder of saved pages with expected JSON, and the one rule they meet.

A gold set is a folder of saved article pages and a folder of expected JSON, one
``<stem>.json`` per ``<stem>.html``, each written by hand: what a perfect parser returns.
:data:`GOLD_SETS` is the only list of them; the tests (``test_gold_pages.py``,
``test_corpus_quality.py``) and ``benchmarks/extraction.py`` all take their sets from it.
A new set is one row there (a per-site set lives in ``sites/<site key>/{pages,expected}``
and is parsed with that site).

The rule, the same for every set (``test_gold_pages.py``, one test per page, ids
``<set>-<page stem>``, e.g. ``bundled-…-post904702``, ``nuimay-…-b999848``):

* the page is parsed as ``baolaocai parse FILE --site KEY`` parses a saved file: the
  bytes decoded as the crawler decodes them, no URL given (the page's canonical link,
  ``og:url`` or JSON-LD give it, else the file name);
* the expected file holds exactly the contract keys (``CONTRACT_KEYS``), and every one of
  them equals the parser's value exactly: url, article_id, title, sapo, body (so its
  token F1 is 1.0), author, published_at, category, tags, images with captions, source;
* the parser records no field conflict.

A failure lists every field that differs, expected against got.

After an intended parser change, rewrite the expected JSON from the parser's output and
review the change with git::

    uv run pytest tests/parsing/test_gold_pages.py --regen
    git diff tests/parsing

``--regen`` writes each file in the layout it already has (indentation, trailing
newline; keys in contract order, UTF-8 unescaped), so on unchanged output it changes no
file; a page without expected JSON gets one (2-space indent), to be checked by hand.

Scores per set (share of pages exactly right per field, mean body F1)::

    uv run python -m tests.parsing.gold
"""

from __future__ import annotations

import difflib
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baolaocai.models import CONTRACT_KEYS
from baolaocai.site import DEFAULT_SITE, Site, load_site
from scrapers.fetch import decode_html
from sitecopy import SITE_DIR
from transforms.parse import parse_article
from transforms.scoring import boilerplate_leaks, token_f1

HERE = Path(__file__).resolve().parent
SITES_ROOT = HERE / "sites"
"""Per-site sets: ``sites/<site key>/{pages,expected}``, parsed with that site."""


@dataclass(frozen=True)
class GoldSet:
    name: str
    """Short name, the first part of every test id."""
    pages: Path
    expected: Path
    site: str
    """The site key the pages are parsed with."""
    size: int
    """Pages the set holds: a lost page (or a new one) is a failure until this changes."""
    about: str
    page_glob: str = "*.html"
    """Which files of ``pages`` are the set's pages (the bundled copy holds other pages)."""

    def cases(self) -> list[GoldPage]:
        """Every page of the set and every expected file, paired by stem; a page without
        expected JSON (or the reverse) is still a case, and fails."""
        stems = {p.stem for p in self.pages.glob(self.page_glob)}
        stems |= {e.stem for e in self.expected.glob("*.json")}
        return [GoldPage(self, stem) for stem in sorted(stems)]


def site_set(key: str, size: int, about: str) -> GoldSet:
    return GoldSet(key, SITES_ROOT / key / "pages", SITES_ROOT / key / "expected", key, size, about)


GOLD_SETS: tuple[GoldSet, ...] = (
    # name, pages, expected, site, size, about
    GoldSet(
        "bundled",
        SITE_DIR,
        HERE / "expected",
        DEFAULT_SITE,
        22,
        "the bundled site copy's article pages, both layouts",
        page_glob="*-post*.html",
    ),
    GoldSet(
        "independent",
        HERE / "independent" / "pages",
        HERE / "independent" / "expected",
        DEFAULT_SITE,
        26,
        "written by testers from the site notes, not our fixtures",
    ),
    GoldSet(
        "unseen",
        HERE / "unseen" / "pages",
        HERE / "unseen" / "expected",
        DEFAULT_SITE,
        44,
        "written from SITE.md only, three eras",
    ),
    GoldSet(
        "kinds-a",
        HERE / "kinds-a" / "pages",
        HERE / "kinds-a" / "expected",
        DEFAULT_SITE,
        20,
        "the page kinds of issue 19: e-magazine, paged, AMP, live, print, video, interview …",
    ),
    GoldSet(
        "kinds-b",
        HERE / "kinds-b" / "pages",
        HERE / "kinds-b" / "expected",
        DEFAULT_SITE,
        18,
        "kinds beyond news: radio, infographic, opinion, Q&A, series, tables, poem, obituary",
    ),
    GoldSet(
        "kinds-holdout",
        HERE / "kinds-holdout" / "pages",
        HERE / "kinds-holdout" / "expected",
        DEFAULT_SITE,
        18,
        "every kind, held out: scored once the parser was done with the other sets",
    ),
    GoldSet(
        "kinds-holdout2",
        HERE / "kinds-holdout2" / "pages",
        HERE / "kinds-holdout2" / "expected",
        DEFAULT_SITE,
        18,
        "every kind again, a second held-out set with rarer layouts",
    ),
    GoldSet(
        "kinds-holdout3",
        HERE / "kinds-holdout3" / "pages",
        HERE / "kinds-holdout3" / "expected",
        DEFAULT_SITE,
        18,
        "every kind in markup of a redesign: no EPI class names at all",
    ),
    GoldSet(
        "kinds-holdout4",
        HERE / "kinds-holdout4" / "pages",
        HERE / "kinds-holdout4" / "expected",
        DEFAULT_SITE,
        18,
        "every kind with the field traps an archive meets: dates, authors, sources, tags",
    ),
    GoldSet(
        "kinds-holdout5",
        HERE / "kinds-holdout5" / "pages",
        HERE / "kinds-holdout5" / "expected",
        DEFAULT_SITE,
        18,
        "the hardest kinds in depth: live, e-magazine, paged, AMP and print copies of them",
    ),
    GoldSet(
        "kinds-holdout6",
        HERE / "kinds-holdout6" / "pages",
        HERE / "kinds-holdout6" / "expected",
        DEFAULT_SITE,
        16,
        "every kind as a journalist of the paper would expect it, held out",
    ),
    GoldSet(
        "kinds-holdout7",
        HERE / "kinds-holdout7" / "pages",
        HERE / "kinds-holdout7" / "expected",
        DEFAULT_SITE,
        14,
        "every kind in its less common, still realistic, variants, held out",
    ),
    site_set("nuimay", 4, "the sister paper Báo Núi Mây, its bundled copy"),
    GoldSet(
        "nuimay-kinds",
        SITES_ROOT / "nuimay" / "kinds" / "pages",
        SITES_ROOT / "nuimay" / "kinds" / "expected",
        "nuimay",
        12,
        "every kind on the sister paper: the family file's kinds, for free",
    ),
    GoldSet(
        "nuimay-kinds2",
        SITES_ROOT / "nuimay" / "kinds2" / "pages",
        SITES_ROOT / "nuimay" / "kinds2" / "expected",
        "nuimay",
        12,
        "the sister paper again, held out: live election night, long-form, radio, print …",
    ),
    GoldSet(
        "nuimay-kinds3",
        SITES_ROOT / "nuimay" / "kinds3" / "pages",
        SITES_ROOT / "nuimay" / "kinds3" / "expected",
        "nuimay",
        12,
        "the sister paper a third time, held out, its templates by another agency",
    ),
)
"""Every gold set. The one table: tests, scores and the benchmark read it."""


def gold_set(name: str) -> GoldSet:
    return next(s for s in GOLD_SETS if s.name == name)


@dataclass(frozen=True)
class GoldPage:
    gold_set: GoldSet
    stem: str

    @property
    def id(self) -> str:
        return f"{self.gold_set.name}-{self.stem}"

    @property
    def page(self) -> Path:
        return self.gold_set.pages / f"{self.stem}.html"

    @property
    def expected_file(self) -> Path:
        return self.gold_set.expected / f"{self.stem}.json"

    @property
    def site(self) -> Site:
        return load_site(self.gold_set.site)

    @property
    def fallback_url(self) -> str:
        """What ``baolaocai parse`` falls back on: the file name on the site."""
        return self.site.url(self.page.name)

    def html(self) -> str:
        """The page as ``baolaocai parse`` reads a saved file (charset from BOM or meta)."""
        return decode_html(self.page.read_bytes(), None)

    def expected(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.expected_file.read_text(encoding="utf-8"))
        return data

    def parse(self) -> dict[str, Any]:
        """The parser's record for the page (``Article.to_contract()``)."""
        article = parse_article(self.html(), None, site=self.site, fallback_url=self.fallback_url)
        return article.to_contract()


def all_cases() -> list[GoldPage]:
    return [case for s in GOLD_SETS for case in s.cases()]


# -- the rule ---------------------------------------------------------------------------

MISSING = "<missing>"


def differences(expected: dict[str, Any], got: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``field -> (expected, got)`` for every way ``got`` breaks the rule (empty: it meets it)."""
    wrong: dict[str, tuple[Any, Any]] = {}
    for key in CONTRACT_KEYS:
        if key not in expected or key not in got or expected[key] != got[key]:
            wrong[key] = (expected.get(key, MISSING), got.get(key, MISSING))
    for key in expected.keys() - set(CONTRACT_KEYS):
        wrong[key] = (expected[key], "<not a contract key: remove it from the expected file>")
    if got.get("field_conflicts"):
        wrong["field_conflicts"] = ([], got["field_conflicts"])
    return wrong


def explain(case: GoldPage, wrong: dict[str, tuple[Any, Any]]) -> str:
    """A failure message: every field that differs, expected against got."""
    lines = [f"{case.id}: {len(wrong)} field(s) differ from {case.expected_file.name}"]
    for key, (want, have) in wrong.items():
        if key == "body" and isinstance(want, str) and isinstance(have, str):
            f1 = token_f1(have, want)
            lines.append(f"  body: token F1 {f1.f1:.3f} (P {f1.precision:.3f}, R {f1.recall:.3f})")
            diff = difflib.unified_diff(
                want.split("\n\n"), have.split("\n\n"), "expected", "got", n=0, lineterm=""
            )
            lines += [f"    {line}" for line in list(diff)[:40]]
        else:
            lines += [f"  {key}:", f"    expected: {want!r}", f"    got:      {have!r}"]
    return "\n".join(lines)


# -- --regen ----------------------------------------------------------------------------


def render(record: dict[str, Any], indent: int = 2, newline: str = "\n") -> str:
    """Expected JSON as the files hold it: contract keys in order, UTF-8 unescaped."""
    data = {key: record[key] for key in CONTRACT_KEYS}
    return json.dumps(data, ensure_ascii=False, indent=indent) + newline


def layout(text: str) -> tuple[int, str]:
    """The indentation and final newline of an expected file (two layouts exist)."""
    lines = text.splitlines()
    indent = len(lines[1]) - len(lines[1].lstrip(" ")) if len(lines) > 1 else 2
    return indent or 2, "\n" if text.endswith("\n") else ""


def regenerate(case: GoldPage, got: dict[str, Any]) -> bool:
    """Write the expected JSON of ``case`` from ``got``; ``True`` if the file changed."""
    path = case.expected_file
    old = path.read_text(encoding="utf-8") if path.exists() else None
    new = render(got, *layout(old)) if old else render(got)
    if new == old:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8", newline="\n")
    return True


# -- scores -----------------------------------------------------------------------------


@dataclass
class SetScore:
    gold_set: GoldSet
    exact: dict[str, list[bool]] = field(default_factory=lambda: {k: [] for k in CONTRACT_KEYS})
    """Per field, per page: the parser's value equals the expected one."""
    body_f1: list[float] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    """Furniture lines (share bars, list headings, footer) found in a body."""
    passed: list[bool] = field(default_factory=list)
    """Per page: the whole rule met."""

    @property
    def pages(self) -> int:
        return len(self.body_f1)

    def share(self, key: str) -> float:
        return statistics.mean(self.exact[key]) if self.exact[key] else 0.0


def score(gold_set: GoldSet) -> SetScore:
    result = SetScore(gold_set)
    profile = load_site(gold_set.site).profile
    for case in gold_set.cases():
        if not (case.page.exists() and case.expected_file.exists()):
            continue  # the page test names it
        expected, got = case.expected(), case.parse()
        for key in CONTRACT_KEYS:
            result.exact[key].append(key in expected and got[key] == expected[key])
        result.body_f1.append(token_f1(got["body"], expected.get("body")).f1)
        body = (got["body"] or "").replace("\n\n", "\n")
        result.leaks += boilerplate_leaks(body, expected.get("body"), profile)
        result.passed.append(not differences(expected, got))
    return result


def score_table(scores: list[SetScore]) -> str:
    """A Markdown table: one column per set, one row per measure."""
    head = "| measure | " + " | ".join(s.gold_set.name for s in scores) + " |"
    rows = [head, "|---" * (len(scores) + 1) + "|"]

    def row(name: str, cells: list[str]) -> None:
        rows.append(f"| {name} | " + " | ".join(cells) + " |")

    row("site", [s.gold_set.site for s in scores])
    row("pages", [str(s.pages) for s in scores])
    for key in CONTRACT_KEYS:
        row(key, [f"{s.share(key):.3f}" for s in scores])
    row("body F1 (mean)", [f"{statistics.mean(s.body_f1 or [0.0]):.3f}" for s in scores])
    row("body F1 (min)", [f"{min(s.body_f1 or [0.0]):.3f}" for s in scores])
    row("leaks", [str(len(s.leaks)) for s in scores])
    row("pages meeting the rule", [f"{sum(s.passed)}/{s.pages}" for s in scores])
    return "\n".join(rows)


def main() -> None:
    print("Gold sets: share of pages whose field equals the expected value exactly.\n")
    for s in GOLD_SETS:
        print(f"- {s.name}: {s.about} (site {s.site})")
    print()
    print(score_table([score(s) for s in GOLD_SETS]))


if __name__ == "__main__":
    main()
