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
from bs4.element import NavigableString, PageElement

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
        attrs = el.attrs  # (``el.get`` is a call more, on the hottest path)
        if self.classes:
            found = attrs.get("class")
            # The parser's class list holds strings: looked up as it is, not copied.
            have = found.split() if isinstance(found, str) else found or ()
            for c in self.classes:
                if c not in have:
                    return False
        if self.ids and attrs.get("id") not in self.ids:
            return False
        for name, op, value in self.attrs:
            raw = attrs.get(name)
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


@lru_cache(maxsize=512)
def _by_last(
    chains: tuple[Chain, ...],
) -> tuple[dict[str, tuple[Chain, ...]], dict[str, tuple[Chain, ...]], tuple[Chain, ...]]:
    """A selector list's chains by what their last compound requires of the element
    itself: a class (the first it names), else a tag, else neither."""
    by_class: dict[str, list[Chain]] = {}
    by_tag: dict[str, list[Chain]] = {}
    rest: list[Chain] = []
    for chain in chains:
        last = chain[-1]
        if last.classes:
            by_class.setdefault(last.classes[0], []).append(chain)
        elif last.tag is not None:
            by_tag.setdefault(last.tag, []).append(chain)
        else:
            rest.append(chain)
    return (
        {k: tuple(v) for k, v in by_class.items()},
        {k: tuple(v) for k, v in by_tag.items()},
        tuple(rest),
    )


_Plan = tuple[
    tuple[Chain, ...],
    dict[str, tuple[Chain, ...]],
    dict[str, tuple[Chain, ...]],
    tuple[Chain, ...],
    dict[int, tuple[str, str]],
]


@lru_cache(maxsize=512)
def _plan(selector: str) -> _Plan | None:
    """``selector`` compiled (``None`` if it needs soupsieve) with its chains split by
    :func:`_by_last`, kept by the selector's text: hashing the text is one lookup,
    hashing the compiled chains (as ``_by_last``'s cache does) a walk over all of them.
    Last, by the ``id`` of a chain needing no class (alive as long as the plan), the
    part of a class or id name its candidates must have (see :func:`_needle`)."""
    chains = compile_selector(selector)
    if chains is None:
        return None
    by_class, by_tag, rest = _by_last(chains)
    needles = {
        id(chain): needle
        for chain in (*rest, *(c for group in by_tag.values() for c in group))
        if (needle := _needle(chain[-1])) is not None
    }
    return chains, by_class, by_tag, rest, needles


def _needle(compound: Compound) -> tuple[str, str] | None:
    """``("class", "date")`` for ``[class*=date]`` (``"id"`` for an id's): when no class
    name (id) of the document holds it, :meth:`DocIndex.candidates` finds no element for
    ``compound`` (its first such part decides, as there). ``None`` for a compound whose
    candidates come otherwise (by its id, by another attribute)."""
    if compound.ids or compound.classes:
        return None
    for name, op, value in compound.attrs:
        if name == "class" and op is not None and value and " " not in value:
            return ("class", value)
        if name == "id" and op is not None and value:
            return ("id", value)
    return None


def matches(el: Tag, selector: str) -> bool:
    plan = _plan(selector)
    if plan is None:
        try:
            return bool(el.css.match(selector))
        except Exception:
            return False
    chains, by_class, by_tag, rest, _ = plan
    attrs = el.__dict__.get("attrs")
    if attrs is None:  # (a removed element: asked the long way, as it always was)
        return any(_chain_matches(el, chain) for chain in chains)
    # Only the chains the element can match by its own classes and name are tried: a
    # profile's list holds dozens, an element has a class or two.
    for chain in rest:
        if _chain_matches(el, chain):
            return True
    for chain in by_tag.get(el.name, ()):
        if _chain_matches(el, chain):
            return True
    if by_class:
        found = attrs.get("class")
        for cls in found.split() if isinstance(found, str) else found or ():
            for chain in by_class.get(cls, ()):
                if _chain_matches(el, chain):
                    return True
    return False


def matches_any(el: Tag, selectors: Iterable[str]) -> bool:
    return any(matches(el, s) for s in selectors)


_NONE: list[Tag] = []
"""No element (never added to: the postings handed out are only read)."""


class DocIndex:
    """Document order and tag/class/id postings of one parsed page, built in one walk.

    A parse runs dozens of selectors over the same document; with postings, a selector
    only looks at the elements that carry its rarest part (a class, an id, a tag name).
    Elements are only ever removed afterwards (``decompose``), which lookups check.
    Building it is iterative, so any depth is safe here; :attr:`depth` tells callers
    whose own walks recurse (the block linearizer) how deep the page goes.
    """

    def __init__(self, root: Tag | None) -> None:
        """The index of the document ``root`` (an empty one for ``None``, filled by a
        tree builder element by element: :meth:`enter`, :meth:`leave`)."""
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
        self._keys: dict[str, str] = {}
        self.present: dict[str, list[Chain]] = {}
        """Per selector, the chains that can match in this document (:func:`_present`:
        the postings never change, so the answer holds for the page)."""
        self._candidates: dict[int, tuple[Compound, list[Tag]]] = {}
        self.matched: dict[str, frozenset[int]] = {}
        """Per-document: the ids of the elements a selector matches (:meth:`matching`)."""
        self.memo: dict[tuple[str, int], bool] = {}
        """Per-document answers of questions asked of one element many times (is it a
        boundary of the article?), keyed by the question and the element's id."""
        if root is not None:
            self._walk(root)

    def enter(self, el: Tag, depth: int) -> None:
        """Number ``el``, the next element in document order, ``depth`` levels below the
        root (a builder's half of :meth:`_walk`); every element then knows its index."""
        if depth > self.depth:
            self.depth = depth
        self.pos[id(el)] = len(self.elements)
        self.elements.append(el)
        self.by_tag.setdefault(el.name, []).append(el)
        attrs = el.attrs
        if attrs:
            classes = attrs.get("class") or ()
            for cls in classes.split() if isinstance(classes, str) else classes:
                self.by_class.setdefault(cls, []).append(el)
            ident = attrs.get("id")
            if isinstance(ident, str):
                self.by_id.setdefault(ident, []).append(el)
            for name in attrs:
                self.by_attr.setdefault(name, []).append(el)
        el.__dict__[_INDEX_ATTR] = self

    def leave(self, el: Tag) -> None:
        """Every descendant of ``el`` has been numbered."""
        self.end[id(el)] = len(self.elements) - 1

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
        """The elements that may match ``compound``: the postings of its rarest part.
        The postings never change, so the answer is kept per compound (a page asks for
        the same few hundred again and again; by identity: hashing a compound costs).
        An id's or a single class's postings are one lookup, answered directly."""
        if compound.ids:
            return self.by_id.get(compound.ids[0], _NONE)
        classes = compound.classes
        if len(classes) == 1:
            return self.by_class.get(classes[0], _NONE)
        known = self._candidates.get(id(compound))
        if known is not None and known[0] is compound:
            return known[1]
        found = self._candidates_of(compound)
        self._candidates[id(compound)] = (compound, found)
        return found

    def _candidates_of(self, compound: Compound) -> list[Tag]:
        if compound.ids:
            return self.by_id.get(compound.ids[0], [])
        if compound.classes:
            return min((self.by_class.get(c, []) for c in compound.classes), key=len)
        by_part: list[Tag] | None = None
        for name, op, value in compound.attrs:
            if name == "class" and op is not None and value and " " not in value:
                # `[class*=date]`: the postings of every class name containing "date";
                # also for `[class$=__lead]`, `[class^=lead-]`, `[class=x]` …: a value
                # without a space lies within one class name of any element it matches
                # (the names are joined by single spaces), so these elements are a
                # superset the compound is matched against, far fewer than every element
                # with a class.
                by_part = self._containing(self.by_class, "class", value)
                break
            if name == "id" and op is not None and value:
                # `[id*=emagazine]`: any operator's value lies within the id it matches.
                by_part = self._containing(self.by_id, "id", value)
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

    def _containing(self, postings: dict[str, list[Tag]], kind: str, value: str) -> list[Tag]:
        """The elements of ``postings`` (by class name, by id) whose key holds ``value``;
        most such values (``emagazine``, ``live-blog``) are on no page, and one search of
        all the keys at once says so."""
        known = self._class_parts.get(f"{kind} {value}")
        if known is not None:
            return known
        keys = self.joined_keys(kind)
        found = (
            [el for key, els in postings.items() if value in key for el in els]
            if value in keys
            else []
        )
        self._class_parts[f"{kind} {value}"] = found
        return found

    def joined_keys(self, kind: str) -> str:
        """Every class name (``kind`` ``"class"``) or id (``"id"``) of the document, one
        a line: a value in none of them is not in this text."""
        keys = self._keys.get(kind)
        if keys is None:
            keys = self._keys[kind] = "\n".join(self.by_class if kind == "class" else self.by_id)
        return keys

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


INDEX_ATTR = "_baolaocai_index"
"""Where an element keeps the index of its document (see :func:`index_of`)."""
_INDEX_ATTR = INDEX_ATTR


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
            out.extend(find_tags(el, name) if name else find_tags(el))
    return out


def _present(
    index: DocIndex,
    by_class: dict[str, tuple[Chain, ...]],
    by_tag: dict[str, tuple[Chain, ...]],
    rest: tuple[Chain, ...],
    needles: dict[int, tuple[str, str]],
) -> list[Chain]:
    """The chains of a selector list (split by :func:`_by_last`) that can match anything
    in the document: a chain whose last compound needs a class or a tag no element has
    matches nothing (its postings are empty), and a profile's list holds dozens of
    classes a page mostly lacks; one intersection of the key sets drops them all. So
    does one whose ``[class*=…]`` (``[id*=…]``) part is in no class name (id) of the
    document (:func:`_needle`)."""
    present = []
    for chain in rest:
        needle = needles.get(id(chain))
        if needle is None or needle[1] in index.joined_keys(needle[0]):
            present.append(chain)
    if by_class:
        for key in by_class.keys() & index.by_class.keys():
            present.extend(by_class[key])
    if by_tag:
        for key in by_tag.keys() & index.by_tag.keys():
            for chain in by_tag[key]:
                needle = needles.get(id(chain))
                if needle is None or needle[1] in index.joined_keys(needle[0]):
                    present.append(chain)
    return present


def _present_in(index: DocIndex, selector: str, plan: _Plan) -> list[Chain]:
    """:func:`_present` for ``selector``, once per document."""
    known = index.present.get(selector)
    if known is None:
        known = index.present[selector] = _present(index, *plan[1:])
    return known


def _select_chains(root: Tag, chains: list[Chain]) -> list[Tag]:
    index = index_of(root)
    found: dict[int, Tag] = {}
    whole = root is index.elements[0]  # (every element is within the document)
    for chain in chains:
        last = chain[-1]
        if len(chain) == 1:
            # One compound (most of a profile's selectors): its postings, matched by it
            # alone (what _chain_candidates and _chain_matches come to, without them).
            for el in index.candidates(last):
                if (
                    "_decomposed" not in el.__dict__
                    and id(el) not in found
                    and (whole or index.within(el, root))
                    and last.matches(el)
                ):
                    found[id(el)] = el
            continue
        for el in _chain_candidates(index, chain):
            if (
                not is_removed(el)
                and id(el) not in found
                and (whole or index.within(el, root))
                and _chain_matches(el, chain)
            ):
                found[id(el)] = el
    if len(found) < 2:
        return list(found.values())
    return sorted(found.values(), key=lambda el: index.pos[id(el)])


def select(root: Tag, selector: str) -> list[Tag]:
    """Every descendant of ``root`` matching ``selector``, in document order."""
    plan = _plan(selector)
    if plan is None:
        return list(root.select(selector))
    return _select_chains(root, _present_in(index_of(root), selector, plan))


def select_first(root: Tag, selectors: Iterable[str]) -> Tag | None:
    """The first element matching the first selector that matches anything."""
    for selector in selectors:
        plan = _plan(selector)
        if plan is None:
            found = root.select_one(selector)
            if found is not None:
                return found
            continue
        hits = _select_chains(root, _present_in(index_of(root), selector, plan))
        if hits:
            return hits[0]
    return None


def exists(root: Tag, selector: str) -> bool:
    """Whether any descendant of ``root`` matches ``selector``: the first hit answers
    (no list built, no sort)."""
    plan = _plan(selector)
    if plan is None:
        return root.select_one(selector) is not None
    index = index_of(root)
    whole = root is index.elements[0]  # (every element is within the document)
    for chain in _present_in(index, selector, plan):
        for el in _chain_candidates(index, chain):
            if (
                not is_removed(el)
                and (whole or index.within(el, root))
                and _chain_matches(el, chain)
            ):
                return True
    return False


def text_nodes(root: Tag) -> Iterator[NavigableString]:
    """Every text node below ``root`` in document order (no comments, doctypes or the
    like): one walk, without BeautifulSoup's per-node filter machinery (the walk of
    ``root.descendants`` written out: one generator to resume per node, not two)."""
    if not root.contents:
        return
    last = root._last_descendant(accept_self=True)
    stop = last.next_element if last is not None else None
    node: PageElement | None = root.contents[0]
    while node is not stop and node is not None:
        successor = node.next_element
        if type(node) is NavigableString:
            yield node
        node = successor


def _wanted(names: str | Iterable[str]) -> frozenset[str]:
    return frozenset((names,)) if isinstance(names, str) else frozenset(names)


def _indexed_below(root: Tag) -> list[Tag] | None:
    """The elements below ``root`` in document order as its document's index numbered
    them, removed ones too (the caller skips them: a removed element's fields are
    cleared but for ``_decomposed``); ``None`` for a root the index does not know.

    The tree only ever loses elements after it is built (``decompose``) and is never
    given new ones, so these are ``root.descendants``' elements, and removed ones:
    each is checked for its current name (a renamed element counts by its new one)."""
    fields = root.__dict__
    index = fields.get(_INDEX_ATTR)
    if index is None or "_decomposed" in fields:
        return None
    start = index.pos.get(id(root))
    if start is None or index.elements[start] is not root:
        return None
    return index.elements[start + 1 : index.end[id(root)] + 1]  # type: ignore[no-any-return]


def find_tags(
    root: Tag, names: str | Iterable[str] | None = None, *, href: bool = False, limit: int = 0
) -> list[Tag]:
    """``root.find_all(names, href=True if href, limit=limit)``: the descendants of
    ``root`` with one of ``names`` (any tag for ``None``), in document order. One walk
    over the tree; BeautifulSoup's ``find_all`` builds a filter per call and matches
    every node through it, about seven times the cost, and the parser calls it a few
    hundred times a page."""
    wanted = None if names is None else _wanted(names)
    out: list[Tag] = []
    below = _indexed_below(root)
    if below is not None:
        # The same elements in the same order, without walking the strings between them.
        for el in below:
            fields = el.__dict__
            if (
                "_decomposed" not in fields
                and (wanted is None or fields["name"] in wanted)
                and (not href or fields["attrs"].get("href") is not None)
            ):
                out.append(el)
                if len(out) == limit:
                    break
        return out
    for node in root.descendants:
        if (
            type(node) is Tag
            and (wanted is None or node.name in wanted)
            and (not href or node.attrs.get("href") is not None)
        ):
            out.append(node)
            if len(out) == limit:
                break
    return out


def first_tag(root: Tag, names: str | Iterable[str], *, href: bool = False) -> Tag | None:
    """``root.find(names)`` (``href=True`` if ``href``): the first such descendant."""
    wanted = _wanted(names)
    for node in root.descendants:
        if (
            type(node) is Tag
            and node.name in wanted
            and (not href or node.attrs.get("href") is not None)
        ):
            return node
    return None


def parent_named(el: Tag, names: str | Iterable[str]) -> Tag | None:
    """``el.find_parent(names)``: the nearest ancestor with one of ``names``."""
    wanted = _wanted(names)
    node = el.parent
    while node is not None:
        if node.name in wanted:
            return node
        node = node.parent
    return None
