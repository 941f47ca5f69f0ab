"""Comparing front matter loaders with PyYAML: values with their types, and errors.

Shared by the YAML tests, the suite-wide audit of the C accelerator (tests/conftest.py) and
bench/yaml_equal.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from feedpub.reading import article_file, fast_yaml
from tests.audit_log import AuditLog


def same(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Equal with equal types all the way down (`True == 1` and `1 == 1.0` are not the same here);
    a structure that contains itself is compared once."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        seen = set() if seen is None else seen
        if (id(a), id(b)) in seen:
            return True
        seen.add((id(a), id(b)))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(x, y) for x, y in zip(a, b, strict=True)) and \
            all(same(a[k], b[k], seen) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y, seen) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def outcome(load: Callable[[str], Any], source: str) -> tuple[str, object]:
    try:
        return "value", load(source)
    except Exception as error:
        return "error", (type(error), str(error))


def node_tree(source: str) -> Any:
    """The node-tree builder alone (`fast_yaml.construct`), without the fallback: raises `Unsupported`
    where it leaves the document to PyYAML."""
    loader = article_file._Loader(source)
    try:
        return fast_yaml.construct(loader.get_single_node(), loader)
    finally:
        loader.dispose()


def front_matter(path: Path) -> str:
    text = article_file.decode(path.read_bytes())
    opening = article_file._FENCE.match(text)
    assert opening
    closing = article_file._CLOSE.search(text, opening.end())
    assert closing
    return text[opening.end() : closing.start()]


def pyyaml(source: str) -> tuple[str, object]:
    """What PyYAML itself makes of a front matter source, with the loader feedpub reads with."""
    return outcome(lambda text: yaml.load(text, Loader=article_file._Loader), source)


class Audit(AuditLog):
    """Every document the C accelerator builds in this process (and in processes forked from it)
    is loaded by PyYAML too; a difference is noted, so that the test session can fail on it
    wherever it happened (see tests/conftest.py)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.checked = 0
        self._original = fast_yaml.load_accelerated

    def install(self) -> None:
        original = self._original

        def load_accelerated(source: str | bytes, loader_class: type, **paths: str) -> Any:
            value = original(source, loader_class, **paths)
            if value is not fast_yaml._FALLBACK and loader_class is article_file._Loader:
                self.checked += 1
                if isinstance(source, bytes):  # a file's front matter, read from its bytes
                    source = source.decode("utf-8")
                theirs = pyyaml(source)
                if theirs[0] != "value" or not same(value, theirs[1]):
                    self.note(f"{source!r}\n  accelerator: {value!r}\n  PyYAML: {theirs!r}")
            return value

        fast_yaml.load_accelerated = load_accelerated

    def uninstall(self) -> None:
        fast_yaml.load_accelerated = self._original

