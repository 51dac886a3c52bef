"""A small, fast CSS matcher for the simple selectors of a site profile.

soupsieve (BeautifulSoup's ``select``) is general and slow: it dominated parse time.
Profiles only need compound selectors — ``tag``, ``.class``, ``#id``, ``[attr]``,
``[attr=v]``, ``[attr*=v]``, ``[attr~=v]``, ``[attr^=v]``, ``[attr$=v]`` — joined by
descendant spaces, in comma lists. Anything else falls back to soupsieve, so a profile
may still use any CSS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from bs4 import Tag
from bs4.element import NavigableString

_COMPOUND_RE = re.compile(
    r"""^(?P<tag>[a-zA-Z][\w-]*|\*)?(?P<rest>(?:[.#][\w-]+|\[[\w-]+(?:[~*^$|]?=(?:"[^"]*"|'[^']*'|[^\]]*))?\])*)$"""
)
_PART_RE = re.compile(
    r"""\.(?P<cls>[\w-]+)|\#(?P<id>[\w-]+)|\[(?P<attr>[\w-]+)(?:(?P<op>[~*^$|]?=)(?P<val>"[^"]*"|'[^']*'|[^\]]*))?\]"""
)


@dataclass(frozen=True)
class Compound:
    tag: str | None
    classes: tuple[str, ...]
    ids: tuple[str, ...]
    attrs: tuple[tuple[str, str | None, str | None], ...]

    def matches(self, el: Tag) -> bool:
        if self.tag is not None and el.name != self.tag:
            return False
        if self.classes:
            found = el.get("class")
            have = found.split() if isinstance(found, str) else [str(c) for c in found or ()]
            if not all(c in have for c in self.classes):
                return False
        if self.ids and el.get("id") not in self.ids:
            return False
        for name, op, value in self.attrs:
            raw = el.get(name)
            if raw is None:
                return False
            if op is None:
                continue
            actual = " ".join(raw) if isinstance(raw, list) else str(raw)
            assert value is not None
            if not _attr_ok(op, actual, value):
                return False
        return True


def _attr_ok(op: str, actual: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "*=":
        return value in actual
    if op == "~=":
        return value in actual.split()
    if op == "^=":
        return actual.startswith(value)
    if op == "$=":
        return actual.endswith(value)
    return actual == value or actual.startswith(value + "-")  # |=


Chain = tuple[Compound, ...]


def _compound(text: str) -> Compound | None:
    match = _COMPOUND_RE.match(text)
    if not match:
        return None
    tag = match.group("tag")
    classes, ids, attrs = [], [], []
    for part in _PART_RE.finditer(match.group("rest") or ""):
        if part.group("cls"):
            classes.append(part.group("cls"))
        elif part.group("id"):
            ids.append(part.group("id"))
        else:
            value = part.group("val")
            if value is not None and value[:1] in "\"'":
                value = value[1:-1]
            attrs.append((part.group("attr"), part.group("op"), value))
    return Compound(
        None if tag in (None, "*") else tag.lower(), tuple(classes), tuple(ids), tuple(attrs)
    )


@lru_cache(maxsize=512)
def compile_selector(selector: str) -> tuple[Chain, ...] | None:
    """``"a b, c"`` -> chains of compounds; ``None`` if it needs soupsieve."""
    chains = []
    for alternative in selector.split(","):
        parts = alternative.split()
        if not parts:
            return None
        compounds = [_compound(p) for p in parts]
        if any(c is None for c in compounds):
            return None
        chains.append(tuple(c for c in compounds if c is not None))
    return tuple(chains)


def _chain_matches(el: Tag, chain: Chain) -> bool:
    if not chain[-1].matches(el):
        return False
    pending = len(chain) - 2
    parent = el.parent
    while pending >= 0 and parent is not None:
        if isinstance(parent, Tag) and chain[pending].matches(parent):
            pending -= 1
        parent = parent.parent
    return pending < 0


def is_removed(el: Tag) -> bool:
    """True once ``el`` (or an ancestor) was decomposed.

    Not ``el.decomposed``: on a Tag that was never decomposed, bs4 looks the private
    flag up through ``Tag.__getattr__``, which searches the whole subtree for a child
    tag of that name — it was most of our parse time.
    """
    return bool(el.__dict__.get("_decomposed", False))


def matches(el: Tag, selector: str) -> bool:
    chains = compile_selector(selector)
    if chains is None:
        try:
            return bool(el.css.match(selector))
        except Exception:
            return False
    return any(_chain_matches(el, chain) for chain in chains)


def matches_any(el: Tag, selectors: Iterable[str]) -> bool:
    return any(matches(el, s) for s in selectors)


class DocIndex:
    """Document order and tag/class/id postings of one parsed page, built in one walk.

    A parse runs dozens of selectors over the same document; with postings, a selector
    only looks at the elements that carry its rarest part (a class, an id, a tag name).
    Elements are only ever removed afterwards (``decompose``), which lookups check.
    Building it is iterative, so any depth is safe here; :attr:`depth` tells callers
    whose own walks recurse (the block linearizer) how deep the page goes.
    """

    def __init__(self, root: Tag) -> None:
        self.pos: dict[int, int] = {}
        self.end: dict[int, int] = {}
        self.elements: list[Tag] = []
        self.by_tag: dict[str, list[Tag]] = {}
        self.by_class: dict[str, list[Tag]] = {}
        self.by_id: dict[str, list[Tag]] = {}
        self.by_attr: dict[str, list[Tag]] = {}
        """Elements by the names of their attributes (``[onclick*=…]`` looks only at
        the elements that have an ``onclick``)."""
        self.depth = 0
        """How deeply elements nest below ``root`` (its children are at depth 1)."""
        self._class_parts: dict[str, list[Tag]] = {}
        self.matched: dict[str, frozenset[int]] = {}
        """Per-document: the ids of the elements a selector matches (:meth:`matching`)."""
        self.memo: dict[tuple[str, int], bool] = {}
        """Per-document answers of questions asked of one element many times (is it a
        boundary of the article?), keyed by the question and the element's id."""
        self._walk(root)

    def _walk(self, root: Tag) -> None:
        """Number every element in document order and note the deepest nesting.

        Iterative (an explicit stack, no recursion): a page nested thousands of levels
        deep must not exhaust Python's recursion limit.
        """
        elements, pos, end = self.elements, self.pos, self.end
        by_tag, by_class, by_id, by_attr = self.by_tag, self.by_class, self.by_id, self.by_attr
        stack: list[tuple[Tag, int]] = [(root, 0)]
        while stack:
            el, depth = stack.pop()
            if depth < 0:  # every descendant of ``el`` has been numbered
                end[id(el)] = len(elements) - 1
                continue
            if depth > self.depth:
                self.depth = depth
            pos[id(el)] = len(elements)
            elements.append(el)
            by_tag.setdefault(el.name, []).append(el)
            classes = el.attrs.get("class") or ()
            for cls in classes.split() if isinstance(classes, str) else classes:
                by_class.setdefault(cls, []).append(el)
            ident = el.attrs.get("id")
            if isinstance(ident, str):
                by_id.setdefault(ident, []).append(el)
            for name in el.attrs:
                by_attr.setdefault(name, []).append(el)
            children = [child for child in el.contents if isinstance(child, Tag)]
            if children:
                stack.append((el, -1))
                depth += 1
                stack.extend((child, depth) for child in reversed(children))
            else:
                end[id(el)] = len(elements) - 1

    def candidates(self, compound: Compound) -> list[Tag]:
        if compound.ids:
            return self.by_id.get(compound.ids[0], [])
        if compound.classes:
            return min((self.by_class.get(c, []) for c in compound.classes), key=len)
        by_part: list[Tag] | None = None
        for name, op, value in compound.attrs:
            if name == "class" and op == "*=" and value:
                # `[class*=date]`: the postings of every class name containing "date".
                by_part = self._class_parts.get(value)
                if by_part is None:
                    by_part = self._class_parts[value] = [
                        el for cls, els in self.by_class.items() if value in cls for el in els
                    ]
                break
        if by_part is None:
            for name, _op, _value in compound.attrs:
                if name != "class":
                    by_part = self.by_attr.get(name, [])  # only elements that have it
                    break
        if compound.tag is not None:
            by_tag = self.by_tag.get(compound.tag, [])
            return by_tag if by_part is None or len(by_tag) <= len(by_part) else by_part
        return self.elements if by_part is None else by_part

    def matching(self, selector: str) -> frozenset[int]:
        """Ids of the document's elements matching ``selector``, found once per document
        through the postings (asking "does this element match?" of many elements costs
        one lookup each instead of a match of every compound)."""
        found = self.matched.get(selector)
        if found is None:
            top = self.elements[0]
            found = self.matched[selector] = frozenset(id(el) for el in select(top, selector))
        return found

    def within(self, el: Tag, root: Tag) -> bool:
        start, stop = self.pos.get(id(root)), self.end.get(id(root))
        where = self.pos.get(id(el))
        return start is not None and where is not None and start < where <= stop  # type: ignore[operator]


_INDEX_ATTR = "_baolaocai_index"


def index_of(root: Tag) -> DocIndex:
    """The index of the document ``root`` belongs to (built on first use; every element
    then knows it, so asking costs one lookup, not a walk to the top)."""
    known = root.__dict__.get(_INDEX_ATTR)
    if known is not None:
        return known  # type: ignore[no-any-return]
    top = root
    while top.parent is not None:
        top = top.parent
    index = top.__dict__.get(_INDEX_ATTR)
    if index is None:
        index = DocIndex(top)
        for el in index.elements:
            el.__dict__[_INDEX_ATTR] = index
    return index


def _any_chain(el: Tag, chains: tuple[Chain, ...]) -> bool:
    # A plain loop: any() over a generator costs more on this hot path.
    for chain in chains:  # noqa: SIM110
        if _chain_matches(el, chain):
            return True
    return False


def _chain_candidates(index: DocIndex, chain: Chain) -> list[Tag]:
    """Elements that may match ``chain``: postings of its last compound, or — when an
    ancestor compound is far more selective (``.article__tag a``) — the descendants of
    that ancestor's matches."""
    last = index.candidates(chain[-1])
    if len(chain) == 1 or chain[-1].classes or chain[-1].ids:
        return last
    anchor = min((index.candidates(c) for c in chain[:-1]), key=len)
    if len(anchor) * 8 >= len(last):
        return last
    name = chain[-1].tag
    out: list[Tag] = []
    for el in anchor:
        if not is_removed(el):
            out.extend(el.find_all(name) if name else el.find_all(True))
    return out


def _select_chains(root: Tag, chains: tuple[Chain, ...]) -> list[Tag]:
    index = index_of(root)
    found: dict[int, Tag] = {}
    for chain in chains:
        for el in _chain_candidates(index, chain):
            if (
                not is_removed(el)
                and id(el) not in found
                and index.within(el, root)
                and _chain_matches(el, chain)
            ):
                found[id(el)] = el
    return sorted(found.values(), key=lambda el: index.pos[id(el)])


def select(root: Tag, selector: str) -> list[Tag]:
    """Every descendant of ``root`` matching ``selector``, in document order."""
    chains = compile_selector(selector)
    if chains is None:
        return list(root.select(selector))
    return _select_chains(root, chains)


def select_first(root: Tag, selectors: Iterable[str]) -> Tag | None:
    """The first element matching the first selector that matches anything."""
    for selector in selectors:
        chains = compile_selector(selector)
        if chains is None:
            found = root.select_one(selector)
            if found is not None:
                return found
            continue
        hits = _select_chains(root, chains)
        if hits:
            return hits[0]
    return None


def exists(root: Tag, selector: str) -> bool:
    """Whether any descendant of ``root`` matches ``selector``: the first hit answers
    (no list built, no sort)."""
    chains = compile_selector(selector)
    if chains is None:
        return root.select_one(selector) is not None
    index = index_of(root)
    for chain in chains:
        for el in _chain_candidates(index, chain):
            if not is_removed(el) and index.within(el, root) and _chain_matches(el, chain):
                return True
    return False


def text_nodes(root: Tag) -> Iterator[NavigableString]:
    """Every text node below ``root`` in document order (no comments, doctypes or the
    like): one walk, without BeautifulSoup's per-node filter machinery."""
    for node in root.descendants:
        if type(node) is NavigableString:
            yield node
