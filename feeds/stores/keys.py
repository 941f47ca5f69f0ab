"""One way to key a store: a digest of exactly what shapes what the store holds.

Every store (parse cache, fragment store, saved server state, export record) is filled under a
key; under another key it is dropped or not used. A key covers:

- the code of the packages that shape the stored values: every `.py` file under them, found by
  walking the package itself, so a module added tomorrow is covered the day it is added;
- the settings that matter to those values, and no others;
- the versions of the libraries that parse or render.

So editing a parsing module drops the parses, while editing the command line's help text (or the
sample generator) drops nothing: `cli.py` and `corpus.py` shape no stored value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

from ..settings import Settings

# The folder of the package `feedpub` (`feeds/` in a checkout).
PACKAGE = Path(__file__).resolve().parent.parent

# What shapes each store, as paths under the package: a folder means every module in it.
_PARSES = ("reading", "stores/parse_cache.py", "stores/packing.py", "stores/databases.py")
# Items are keyed by their article's digest, so only the model (which the digest covers) and the
# renderers shape them: not the parsing rules that produced the article.
_FRAGMENTS = ("reading/article.py", "render", "stores/fragment_store.py", "stores/packing.py", "stores/databases.py")
_BUILD = ("reading", "catalog", "render", "build.py")
_STATE = (*_BUILD, "stores/saved_state.py", "stores/packing.py")
_EXPORT = (*_BUILD, "export.py", "exchange.py", "stores/export_record.py")


@dataclass(frozen=True, slots=True)
class StoreKeys:
    settings: Settings
    root: Path = PACKAGE  # tests point it at a copy of the package, to edit modules and watch the keys

    def parses(self) -> str:
        """The parse cache: a file's outcome depends on the parsing code, PyYAML, the size limit and
        whether the JSON API's fields are read."""
        return _digest("parses", self.code(*_PARSES), _parser_versions(), self.settings.max_file_bytes,
                       self.settings.everyday_api)

    def fragments(self) -> str:
        """The fragment store: an item's bytes depend on the renderers and the settings they read."""
        from ..render.fragments import ITEM_SETTINGS

        values = tuple(getattr(self.settings, name) for name in ITEM_SETTINGS)
        return _digest("fragments", self.code(*_FRAGMENTS), _renderer_versions(), values)

    def state(self) -> str:
        """The saved server state: everything a build holds, so every stage and every setting."""
        return _digest("state", self.code(*_STATE), _parser_versions(), _renderer_versions(), _settings(self.settings))

    def export(self) -> str:
        """The export's record of its inputs: what the export writes depends on every stage too."""
        return _digest("export", self.code(*_EXPORT), _parser_versions(), _renderer_versions(),
                       _settings(self.settings))

    def code(self, *parts: str) -> str:
        return _code(self.root, parts)


@cache
def _code(root: Path, parts: tuple[str, ...]) -> str:
    """Digest of every module under the given package-relative folders and files, with their names
    (C sources too: the YAML accelerator shapes parses as much as the Python beside it)."""
    digest = hashlib.sha256()
    for part in parts:
        where = root / part
        modules = sorted([*where.rglob("*.py"), *where.rglob("*.c")]) if where.is_dir() else [where]
        for module in modules:
            digest.update(module.relative_to(root).as_posix().encode() + b"\0")
            digest.update(module.read_bytes() + b"\0")
    return digest.hexdigest()


def _digest(*values: object) -> str:
    return hashlib.sha256(repr(values).encode("utf-8", "surrogatepass")).hexdigest()


def _settings(settings: Settings) -> tuple[tuple[str, object], ...]:
    # Digested by repr: a field declared repr=False (the WebSub limits, see WebSubSettings) shapes
    # no stored value, so it moves no key.
    return tuple((f.name, getattr(settings, f.name)) for f in fields(settings))


@cache
def _parser_versions() -> tuple[str, bool]:
    import yaml

    return (yaml.__version__, bool(yaml.__with_libyaml__))


@cache
def _renderer_versions() -> tuple[object, ...]:
    import feedgen.version
    import lxml.etree
    import slugify

    # python-slugify names the topic feeds; feedgen and lxml write the XML. Their versions as the
    # modules give them: `importlib.metadata.version` scans site-packages for each name, ~25 ms of
    # every cold build's start (it is the same version string as the package's metadata).
    return (feedgen.version.version_str, lxml.etree.LXML_VERSION, slugify.__version__)
