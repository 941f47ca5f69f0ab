"""Building front matter values from libyaml's node tree faster than PyYAML's constructor does.

PyYAML parses a document in C (libyaml) but builds the Python values in Python, through a general
machine (generators for two-step construction, recursion guards, merge-key flattening) that costs
~175 µs of the ~450 µs an article's front matter takes. Front matter is almost always plain
mappings, lists and scalars: `construct` builds those directly, calling PyYAML's own scalar
constructors, and gives up (`Unsupported`) on anything else — aliases of collections, merge keys,
any other tag — so the caller falls back to PyYAML for the whole document. The result is the same
values of the same types (tests/reading/test_fast_yaml.py; `bench/yaml_equal.py` checks a corpus).

Faster still, where it was built (`_frontmatter.c`, with libyaml's headers): the same libyaml parser
driven from C builds the values without any node objects, and asks `PlainScalars.resolve` (PyYAML's
resolver and constructors) only for unquoted scalars PyYAML could read as something other than a
string; before libyaml, it tries a quicker reader of the shape nearly every article's front matter
has (block mappings and sequences of one-line scalars), which gives up on anything else. What it
does not handle it leaves to the path above. `FEEDPUB_ACCELERATORS=0` turns both off
(accelerators.py); `accelerator()` says whether the C one is in use.
"""

from __future__ import annotations

from typing import Any

import yaml.resolver
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import accelerators

# Without it (no compiler or no libyaml headers at install time), PyYAML alone. The arguments `load`
# takes changed (`stamps_are_str`, then `quick`), then `plain_text` came, then what `stamps_are_str`
# promises grew (every text that starts as a date, not one form): a build left from an older checkout
# would refuse every document, each then going to PyYAML, several times slower, lack a function (as
# `front_matter`, since), or take a promise for more than it says. It is not used at all.
_frontmatter, STALE_BUILD = accelerators.compiled(f"{__package__}._frontmatter", 6)
BUILT = _frontmatter is not None  # compiled, for this version (`feedpub --version` says)

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"  # feedpub's loaders read timestamps as strings
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


# Aliases let a few lines stand for billions of values ("billion laughs"): PyYAML shares one object
# per alias, but anything that walks the value (a str(), a renderer) would expand it. A document whose
# aliases expand past this many values is refused before it is built.
MAX_EXPANDED = 100_000


class Unsupported(Exception):
    """A document this builder leaves to PyYAML."""


def accelerator() -> str | None:
    """The libyaml version the C accelerator was built with, or None when it is not in use."""
    if _frontmatter is None or not accelerators.enabled():
        return None
    return str(_frontmatter.LIBYAML_VERSION)


class PlainScalars:
    """How a loader class reads unquoted scalars, for the C accelerator: which first characters any
    of its implicit resolvers look at, and `resolve`, which gives what its resolver and constructor
    make of one text (raising `Unsupported` for a tag this module leaves to PyYAML)."""

    def __init__(self, loader_class: type) -> None:
        resolvers = loader_class.yaml_implicit_resolvers  # type: ignore[attr-defined]  # a PyYAML Resolver
        self.first_characters = "".join(sorted(key for key in resolvers if key))
        self.any_character = None in resolvers  # a resolver for every first character
        self.cache: dict[str, Any] = {}  # the C side fills it: short texts, bounded (_frontmatter.c)
        self._loader = loader_class("")
        self._constructors = {tag: loader_class.yaml_constructors[tag]  # type: ignore[attr-defined]
                              for tag in (_STR, _TIMESTAMP, _INT, _FLOAT, _BOOL, _NULL)}
        self.stamps_are_str = self._stamps_are_str(resolvers)

    def _stamps_are_str(self, resolvers: dict[str | None, list[tuple[str, Any]]]) -> bool:
        """Whether every text that starts as a date does (four digits and a '-') reads as that str, so
        the C side may give it without asking `resolve`: the digits' resolvers are PyYAML's standard
        ones (in whatever order; of them only the timestamp's matches such a text, and a text none
        matches is a str anyway), there is no resolver for every character, and timestamps are
        constructed by PyYAML's own str constructor, which gives any text as it is."""
        if self._constructors.get(_TIMESTAMP) is not yaml.constructor.SafeConstructor.construct_yaml_str:
            return False
        standard = yaml.resolver.Resolver.yaml_implicit_resolvers
        for digit in "0123456789":
            if sorted((tag, rx.pattern) for tag, rx in resolvers.get(digit, [])) != sorted(
                    (tag, rx.pattern) for tag, rx in standard.get(digit, [])):
                return False
        sample = "2026-05-31T23:59:00Z"
        if None in resolvers or _TIMESTAMP not in {tag for tag, _ in standard["2"]}:
            return False
        read = self.resolve(sample)
        return type(read) is str and read == sample

    def resolve(self, text: str) -> Any:
        tag = self._loader.resolve(ScalarNode, text, (True, False))
        make = self._constructors.get(tag)
        if make is None:  # a merge key, `=`, or a resolver this module does not know
            raise Unsupported(tag)
        return make(self._loader, ScalarNode(tag, text))


_FALLBACK = object()
_plain: dict[type, PlainScalars] = {}
# Which of its paths the C accelerator may take (see `load_accelerated`).
_PATHS: dict[str, int] = {} if _frontmatter is None else {
    "quick, then libyaml": _frontmatter.QUICK_THEN_LIBYAML, "libyaml": _frontmatter.LIBYAML_ONLY,
    "quick": _frontmatter.QUICK_ONLY}


def accelerated() -> bool:
    """Whether `load_accelerated` may be used now: built, and accelerators not switched off."""
    return _frontmatter is not None and accelerators.enabled()


def plain_text(data: bytes) -> bool:
    """Whether the C accelerator finds `data` to be text `article_file.decode` takes as UTF-8 without a
    word (not empty, no UTF-16 mark, no NUL, valid UTF-8): False when it is not in use, or it is not."""
    return _frontmatter is not None and accelerators.enabled() and _frontmatter.plain_text(data)


def front_matter(data: bytes) -> bytes | None:
    """The bytes between a file's opening fence and the line that closes it, as `article_file` cuts
    them (`_FENCE`, then the first line `_CLOSE` matches); None without both. Only while `accelerated()`."""
    found: bytes | None = _frontmatter.front_matter(data)
    return found


def load_accelerated(source: str | bytes, loader_class: type, *, paths: str = "quick, then libyaml") -> Any:
    """What the C accelerator makes of `source` (a str, or its UTF-8 bytes), or `_FALLBACK` when it
    leaves the document to PyYAML. `paths`: "libyaml" reads every document through libyaml, "quick"
    only through the quick path for the usual shape of front matter (`_FALLBACK` where it gives up);
    the tests and `bench/yaml_equal.py` compare the two."""
    if _frontmatter is None:
        return _FALLBACK
    plain = _plain.get(loader_class)
    if plain is None:
        plain = _plain[loader_class] = PlainScalars(loader_class)
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = source.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: PyYAML has its own way (article_file.py)
            return _FALLBACK
    try:
        return _frontmatter.load(data, plain.first_characters, plain.any_character, plain.resolve, plain.cache,
                                 _FALLBACK, plain.stamps_are_str, _PATHS[paths])
    except Exception:  # Unsupported, or a constructor's error: PyYAML's own path decides
        return _FALLBACK


class TooLarge(ValueError):
    """A document whose aliases expand past `MAX_EXPANDED` values, or refer to themselves."""


def load(source: str, loader_class: type, *, max_expanded: int | None = None) -> Any:
    """`yaml.load(source, Loader=loader_class)`, faster for plain documents; the same result or error.

    With `max_expanded`, a document whose aliases expand past that many values (or refer to the
    value that holds them) raises `TooLarge` instead of being built."""
    accelerated = accelerators.enabled()
    if accelerated and _frontmatter is not None:
        value = load_accelerated(source, loader_class)  # it builds no alias: never larger than the text
        if value is not _FALLBACK:
            return value
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if accelerated:
            try:
                return construct(node, loader)
            except Exception:  # Unsupported, a bad key or value, too deep: PyYAML's own path decides
                pass
        if max_expanded is not None:  # only aliases make a document larger than its text
            check_expansion(node, max_expanded)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def construct(root: Node, loader: Any) -> Any:
    """The value of a node tree built from plain mappings, lists and scalars (str, timestamp as str,
    int, float, bool, null); raises `Unsupported` for anything else."""
    seen: set[int] = set()
    scalars = {
        _INT: loader.construct_yaml_int,
        _FLOAT: loader.construct_yaml_float,
        _BOOL: loader.construct_yaml_bool,
    }

    def build(node: Node) -> Any:
        kind = node.__class__
        tag = node.tag
        if kind is ScalarNode:
            if tag in (_STR, _TIMESTAMP):
                return node.value
            if tag == _NULL:
                return None
            make = scalars.get(tag)
            if make is None:
                raise Unsupported(tag)
            return make(node)
        # A collection reached twice is an alias: PyYAML shares one object (or builds a cycle).
        if id(node) in seen:
            raise Unsupported("alias")
        seen.add(id(node))
        if kind is MappingNode and tag == _MAP:
            result = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode:
                    raise Unsupported("a collection as a key")
                result[build(key_node)] = build(value_node)
            return result
        if kind is SequenceNode and tag == _SEQ:
            return [build(child) for child in node.value]
        raise Unsupported(tag)

    return build(root)


def check_expansion(root: Node, limit: int) -> None:
    """Raise `TooLarge` when the values under `root`, each alias counted as what it stands for,
    number more than `limit` (each distinct node is sized once, so this is quick however large)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if node.__class__ is ScalarNode:
            return 1
        if id(node) in open_nodes:
            raise TooLarge("an alias refers to the value that holds it")
        open_nodes.add(id(node))
        children = [part for pair in node.value for part in pair] if node.__class__ is MappingNode else node.value
        total = 1
        for child in children:
            total += size(child)
            if total > limit:
                raise TooLarge(f"aliases expand to more than {limit:,} values (a 'billion laughs' document)")
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)
