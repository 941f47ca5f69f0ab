"""One way to key a store: each key moves with exactly what shapes what its store holds.

The keys are computed over a copy of the package, edited as a developer would edit it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from feedpub.settings import Settings
from feedpub.stores.keys import PACKAGE, StoreKeys

STORES = ("parses", "fragments", "state", "export")
SETTINGS = Settings(base_url="https://news.example.com")


def keys_of(root: Path, settings: Settings = SETTINGS) -> dict[str, str]:
    store_keys = StoreKeys(settings, root=root)
    return {store: getattr(store_keys, store)() for store in STORES}


def copy_of(where: Path) -> Path:
    shutil.copytree(PACKAGE, where, ignore=shutil.ignore_patterns("__pycache__"))
    return where


def append(path: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        with open(root / path, "a", encoding="utf-8") as handle:
            handle.write(text)

    return edit


def replace_help(root: Path) -> None:
    cli = root / "cli.py"
    source = cli.read_text("utf-8")
    assert "Folder to write the site to" in source
    cli.write_text(source.replace("Folder to write the site to", "Where the site goes"), "utf-8")


EDITS: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    "a parsing rule": (append("reading/text.py", "\n# a new rule\n"), {"parses", "state", "export"}),
    "a new parsing module": (append("reading/new_rule.py", "RULE = 1\n"), {"parses", "state", "export"}),
    "the YAML accelerator": (append("reading/_frontmatter.c", "\n/* another case */\n"), {"parses", "state", "export"}),
    "the article model": (append("reading/article.py", "\n# a new field\n"), set(STORES)),
    "a renderer": (append("render/rss.py", "\n# another element\n"), {"fragments", "state", "export"}),
    "the catalog": (append("catalog/catalog.py", "\n# another order\n"), {"state", "export"}),
    "the export": (append("export.py", "\n# another layout\n"), {"export"}),
    "the command line's help": (replace_help, set()),
    "the sample generator": (append("corpus.py", "\n# another sample\n"), set()),
    "the deploy": (append("deploy/plan.py", "\n# another order\n"), set()),
}


@pytest.mark.parametrize("what", list(EDITS))
def test_editing_code_changes_exactly_the_keys_of_the_stores_it_shapes(tmp_path: Path, what: str) -> None:
    edit, changed = EDITS[what]
    untouched, edited = copy_of(tmp_path / "untouched"), copy_of(tmp_path / "edited")
    edit(edited)
    before, after = keys_of(untouched), keys_of(edited)
    assert before == keys_of(PACKAGE)  # a copy is the same code, wherever it lies
    assert {store for store in STORES if after[store] != before[store]} == changed


@pytest.mark.parametrize(("change", "changed"), [
    ({"max_file_bytes": 4096}, {"parses", "state", "export"}),
    ({"everyday_api": True}, {"parses", "state", "export"}),  # the API's own fields are read only for it
    ({"base_url": "https://elsewhere.example"}, {"fragments", "state", "export"}),
    ({"limit": 5}, {"state", "export"}),
    ({"max_age": 60}, {"state", "export"}),
])
def test_a_setting_changes_the_keys_of_the_stores_that_hold_what_it_shapes(change: dict[str, object],
                                                                             changed: set[str]) -> None:
    before, after = keys_of(PACKAGE), keys_of(PACKAGE, SETTINGS.replace(**change))
    assert {store for store in STORES if after[store] != before[store]} == changed


def test_the_renderers_versions_in_the_keys_are_the_installed_packages() -> None:
    """Taken from the modules (no scan of site-packages): the same versions pip installed."""
    from importlib.metadata import version

    import lxml.etree

    from feedpub.stores.keys import _renderer_versions

    assert _renderer_versions() == (version("feedgen"), lxml.etree.LXML_VERSION, version("python-slugify"))
