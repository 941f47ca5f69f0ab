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


class Unsupported(Exception):
    """A document this builder leaves to PyYAML."""


def load(source: str, loader_class: type) -> Any:
    """`yaml.load(source, Loader=loader_class)`, faster for plain documents; the same result or error."""
    loader = loader_class(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return construct(node, loader)
        except Exception:  # Unsupported, a bad key or value, too deep: PyYAML's own path decides
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
