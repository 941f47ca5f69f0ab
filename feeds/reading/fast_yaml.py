"""Building front matter values from libyaml's node tree faster than PyYAML's constructor does.

PyYAML parses a document in C (libyaml) but builds the Python values in Python, through a general
machine (generators for two-step construction, recursion guards, merge-key flattening) that costs
~175 µs of the ~450 µs an article's front matter takes. Front matter is almost always plain
mappings, lists and scalars: `construct` builds those directly, calling PyYAML's own scalar
constructors, and gives up (`Unsupported`) on anything else — aliases of collections, merge keys,
any other tag — so the caller falls back to PyYAML for the whole document. The result is the same
values of the same types (tests/test_fast_yaml.py; `bench/yaml_equal.py` checks a corpus).
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

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


class TooLarge(ValueError):
    """A document whose aliases expand past `MAX_EXPANDED` values, or refer to themselves."""


def load(source: str, loader_class: type, *, max_expanded: int | None = None) -> Any:
    """`yaml.load(source, Loader=loader_class)`, faster for plain documents; the same result or error.

    With `max_expanded`, a document whose aliases expand past that many values (or refer to the
    value that holds them) raises `TooLarge` instead of being built."""
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return construct(node, loader)
        except Exception:  # Unsupported, a bad key or value, too deep: PyYAML's own path decides
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
