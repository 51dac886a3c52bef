"""The BeautifulSoup tree of a page, built by lean handlers of lxml's parse events.

``BeautifulSoup(html, "lxml")`` has lxml parse the page and call back into Python for
every start tag, end tag and run of text; BeautifulSoup's handlers then build each node
through its general machinery (attribute dicts built twice, namespace bookkeeping,
string-container and whitespace lookups, a linkage check per node): some 14 µs an
element, about eleven times lxml's own parse, the largest cost of parsing a page.

:func:`soup_of` has lxml parse with the same settings and the same events, and handles
them with :class:`_Builder`, which makes the very same tree directly: the same node
classes (``Script`` for a script's text, ``Doctype``, ``Comment`` …), the same attributes
(``class`` split into a list, ``defer`` as ``""``, a ``<meta charset>`` set up for
substitution), whitespace-only strings as one ``" "`` or ``"\\n"`` outside
``<pre>``/``<textarea>``, text after ``</html>`` where BeautifulSoup puts it, the same
links between nodes. (lxml's own tree is no shortcut: it writes a bare ``defer`` as
``defer="defer"``, drops the whitespace after ``</html>`` and adds a default doctype.)
On the way it numbers the elements for :func:`transforms.select.index_of`, which the
parser asks for first. ``tests/parsing/test_tree.py`` checks, node for node and field
for field, that the tree is BeautifulSoup's on every gold page and on edge markup; an
event the handlers do not expect (a namespaced name, an end tag out of order) leaves
the page to ``BeautifulSoup(html, "lxml")`` itself.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.builder import HTMLTreeBuilder
from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction
from lxml import etree

from transforms.select import INDEX_ATTR as _INDEX_ATTR
from transforms.select import DocIndex

_ASCII_SPACES = "\x20\x0a\x09\x0c\x0d"
_LINK_KEYS = ("parent", "previous_element", "next_element", "next_sibling", "previous_sibling")


class _Unsupported(Exception):
    """The page has something the walk does not rebuild exactly: BeautifulSoup builds it."""


def _reference() -> tuple[dict[str, Any], HTMLTreeBuilder]:
    """What every tag of a BeautifulSoup-over-lxml tree holds besides its own name,
    attributes and links, read off a tag BeautifulSoup built (so a new release of
    BeautifulSoup that adds a field is followed, or caught by the tests)."""
    soup = BeautifulSoup("<p>x</p>", "lxml")
    p = soup.p
    assert p is not None and isinstance(soup.builder, HTMLTreeBuilder)
    skip = {"name", "attrs", "contents", "can_be_empty_element", "interesting_string_types"}
    return {k: v for k, v in p.__dict__.items() if k not in skip and k not in _LINK_KEYS}, (
        soup.builder
    )


_TAG_FIELDS, _BUILDER = _reference()
_CDATA_LISTS: dict[str, set[str]] = _BUILDER.cdata_list_attributes or {}
_UNIVERSAL_LISTS = _CDATA_LISTS.get("*", set())
_PRESERVE = frozenset(_BUILDER.preserve_whitespace_tags or ())
_CONTAINERS: dict[str, type[NavigableString]] = dict(_BUILDER.string_containers)
_ATTR_DICT = _BUILDER.attribute_dict_class
_VALUE_LIST = _BUILDER.attribute_value_list_class


@lru_cache(maxsize=1024)
def _name_fields(name: str) -> dict[str, Any]:
    """The fields of a new tag called ``name`` (a template, copied into each tag)."""
    fields = dict(_TAG_FIELDS)
    fields["name"] = name
    fields["can_be_empty_element"] = _BUILDER.can_be_empty_element(name)
    fields["interesting_string_types"] = (
        {_CONTAINERS[name]} if name in _CONTAINERS else Tag.MAIN_CONTENT_STRING_TYPES
    )
    return fields


def _tag_template(name: str) -> dict[str, Any]:
    """Every field of a new tag called ``name``, those of its place in the tree
    (``attrs``, ``contents``, its links, its index) set by the start handler: a copy of
    a dict of all its keys is one copy of its table, no resize."""
    return dict.fromkeys(
        [
            *_name_fields(name),
            "attrs",
            "contents",
            "parent",
            "previous_element",
            "next_element",
            "next_sibling",
            "previous_sibling",
            _INDEX_ATTR,
        ]
    ) | _name_fields(name)


_NameInfo = tuple[dict[str, Any], Any, "type[NavigableString] | None", bool, bool]


@lru_cache(maxsize=1024)
def _name_info(name: str) -> _NameInfo:
    """What the start handler needs per tag name: the template of its fields, the
    attributes split into lists, the class of the strings it holds (``None``: its
    parent's), whether it keeps whitespace, whether it is a ``<meta>``."""
    if name[:1] == "{":
        raise _Unsupported(f"namespaced tag {name}")
    return (
        _tag_template(name),
        _CDATA_LISTS.get(name, ()),
        _CONTAINERS.get(name),
        name in _PRESERVE,
        name == "meta",
    )


_Frame = tuple[Any, str, list[Any], "dict[str, Any] | None", type[NavigableString], bool]


class _Builder:
    """lxml's parser target: BeautifulSoup's tree from lxml's events, as
    ``BeautifulSoup``'s own handlers build it (``handle_starttag``, ``endData``,
    ``object_was_parsed``, ``_popToTag``), without their general machinery."""

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        # The innermost open tag: itself, its name, its ``contents``, the fields of its
        # last child (``None`` before the first), the class of the strings it holds
        # (``Script`` inside a ``<script>`` …) and whether it keeps whitespace (inside a
        # ``<pre>``). A node's fields are reached through the dicts the handlers made,
        # never through the node: a Tag's attributes go through its ``__getattr__``
        # hook, several times slower.
        self.parent: Any = soup
        self.name: str = soup.name
        self.kids: list[Any] = soup.contents
        self.prev: dict[str, Any] | None = None
        self.own: type[NavigableString] = NavigableString
        self.keep = False
        self.outer: list[_Frame] = []
        """The open tags around it (their fields as above, the last child's being the
        tag opened inside), outermost (the soup) first."""
        self.text: list[str] = []
        self.data = self.text.append  # (lxml calls the list's own method: no frame)
        self.last: Any = None  # the node made last (BeautifulSoup links the first to none)
        self.last_fields: dict[str, Any] | None = None
        self.index = index = DocIndex(None)
        """The postings of :func:`transforms.select.index_of`, made on the way (the
        parser asks for them first thing: a second walk over every element saved)."""
        index.enter(soup, 0)
        self.pos = index.pos
        self.elements = index.elements
        self.by_tag = index.by_tag
        self.by_class = index.by_class
        self.by_id = index.by_id
        self.by_attr = index.by_attr

    # The handlers run once per element and string of the page: the linking and the
    # index's bookkeeping are written out in them rather than called (a third of their
    # time went to calls). tests/parsing/test_tree.py holds them to BeautifulSoup's tree
    # and to DocIndex's own walk.

    def _flush(self, cls: type[NavigableString] | None = None) -> None:
        """``BeautifulSoup.endData``: the text read since the last event becomes a string;
        only ASCII whitespace is one space or newline, unless a ``<pre>`` is open."""
        buffer = self.text
        text = "".join(buffer)
        buffer.clear()
        if not self.keep and not text.strip(_ASCII_SPACES):
            text = "\n" if "\n" in text else " "
        node = str.__new__(cls or self.own, text)
        kids = self.kids
        fields = {
            "hidden": False,
            "parent": self.parent,
            "previous_element": self.last,
            "next_element": None,
            "next_sibling": None,
            "previous_sibling": kids[-1] if kids else None,
        }
        node.__dict__ = fields
        last = self.last_fields
        if last is not None:
            last["next_element"] = node
        prev = self.prev
        if prev is not None:
            prev["next_sibling"] = node
        kids.append(node)
        self.last = node
        self.last_fields = self.prev = fields

    def start(self, name: str, attrib: Any) -> None:
        if self.text:
            self._flush()
        template, lists, container, preserve, meta = _name_info(name)
        tag = Tag.__new__(Tag)
        attrs = _ATTR_DICT()
        if attrib:  # (lxml's empty mapping iterates slowly: most tags have none)
            by_attr = self.by_attr
            for key, value in attrib.items():
                if key[:1] == "{":
                    raise _Unsupported(f"namespaced attribute {key}")
                if value is None:  # (BeautifulSoup's attribute dict makes it "")
                    value = ""
                if key in _UNIVERSAL_LISTS or key in lists:
                    value = _VALUE_LIST(value.split())
                    if key == "class":
                        by_class = self.by_class
                        for cls in value:
                            known = by_class.get(cls)
                            if known is None:
                                by_class[cls] = [tag]
                            else:
                                known.append(tag)
                elif key == "id":
                    known = self.by_id.get(value)
                    if known is None:
                        self.by_id[value] = [tag]
                    else:
                        known.append(tag)
                dict.__setitem__(attrs, key, value)
                known = by_attr.get(key)
                if known is None:
                    by_attr[key] = [tag]
                else:
                    known.append(tag)
        parent = self.parent
        kids = self.kids
        contents: list[Any] = []
        fields = template.copy()
        fields["attrs"] = attrs
        fields["contents"] = contents
        fields["parent"] = parent
        fields["previous_element"] = self.last
        if kids:
            fields["previous_sibling"] = kids[-1]
        fields[_INDEX_ATTR] = self.index
        tag.__dict__ = fields
        last = self.last_fields
        if last is not None:
            last["next_element"] = tag
        prev = self.prev
        if prev is not None:
            prev["next_sibling"] = tag
        kids.append(tag)
        self.last = tag
        self.last_fields = fields
        if meta and ("charset" in attrs or "http-equiv" in attrs):
            _BUILDER.set_up_substitutions(tag)
        # DocIndex.enter, written out (the attribute postings are made above).
        outer = self.outer
        depth = len(outer) + 1
        index = self.index
        if depth > index.depth:
            index.depth = depth
        elements = self.elements
        self.pos[id(tag)] = len(elements)
        elements.append(tag)
        known = self.by_tag.get(name)
        if known is None:
            self.by_tag[name] = [tag]
        else:
            known.append(tag)
        outer.append((parent, self.name, kids, fields, self.own, self.keep))
        self.parent = tag
        self.name = name
        self.kids = contents
        self.prev = None
        if container is not None:
            self.own = container
        if preserve:
            self.keep = True

    def end(self, name: str) -> None:
        if self.text:
            self._flush()
        if not self.outer or self.name != name:
            raise _Unsupported(f"end tag {name} out of order")
        self.index.end[id(self.parent)] = len(self.elements) - 1
        self.parent, self.name, self.kids, self.prev, self.own, self.keep = self.outer.pop()

    def comment(self, text: str) -> None:
        if self.text:
            self._flush()
        self.text.append(text)
        self._flush(Comment)

    def pi(self, target: str, data: str | None) -> None:
        if self.text:
            self._flush()
        self.text.append(f"{target} {data or ''}")
        self._flush(ProcessingInstruction)

    def doctype(self, name: str | None, public: str | None, system: str | None) -> None:
        if self.text:
            self._flush()
        self.text.append(Doctype._string_for_name_and_ids(name or "", public, system))
        self._flush(Doctype)

    def close(self) -> BeautifulSoup:
        if self.text:
            self._flush()
        if self.outer:
            raise _Unsupported("elements left open")
        self.soup.__dict__["_most_recent_element"] = self.last
        self.index.leave(self.soup)
        return self.soup


_EMPTY_FIELDS = dict(BeautifulSoup("", "lxml").__dict__)
_SHARED_FIELDS = frozenset(
    ("builder", "cdata_list_attributes", "preserve_whitespace_tags", "interesting_string_types")
)
"""What every soup ``BeautifulSoup("", "lxml")`` makes holds, shared: the tree builder
(which keeps no soup once it is done: its ``soup`` is ``None``) and its settings."""


def _empty_soup() -> BeautifulSoup:
    """``BeautifulSoup("", "lxml")``, copied from one made once: making it is some
    30 µs a page of builder setup (signature inspection, a first lxml parse)."""
    soup = BeautifulSoup.__new__(BeautifulSoup)
    fields = _EMPTY_FIELDS.copy()
    for key, value in fields.items():
        if key not in _SHARED_FIELDS and isinstance(value, (list, dict, set)):
            fields[key] = type(value)(value)  # its own containers, as they were
    fields["currentTag"] = soup
    soup.__dict__ = fields
    return soup


def soup_of(html: str) -> BeautifulSoup:
    """``BeautifulSoup(html, "lxml")``, built faster (see the module's doc)."""
    if html[:1] == "\ufeff":
        html = html[1:]  # as BeautifulSoup hands a str to lxml
    builder = _Builder(_empty_soup())
    # BeautifulSoup's own settings for lxml (``LXMLTreeBuilder.parser_for``; its
    # ``strip_cdata`` does nothing for HTML).
    parser = etree.HTMLParser(target=builder, recover=True)
    try:
        parser.feed(html)
        soup: BeautifulSoup = parser.close()
    except (_Unsupported, etree.LxmlError, ValueError, UnicodeError):
        return BeautifulSoup(html, "lxml")
    return soup


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off for the block (and restored after, if
    it was on): a parse allocates thousands of tree nodes that stay alive until it
    ends, and the collections triggered meanwhile walk them again and again for
    nothing. What the block leaves behind is collected at the next collection after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
