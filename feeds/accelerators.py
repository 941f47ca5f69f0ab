"""The one switch for feedpub's accelerators: code that only makes the same result faster.

`FEEDPUB_ACCELERATORS=0` turns every one off, leaving the straightforward path the tests compare
with (tests/test_straightforward.py): front matter through PyYAML's own loader, not the C builder
(reading/_frontmatter.c) or the node-tree builder (reading/fast_yaml.py), articles built in Python,
not by the C article builder (reading/_articles.c), and items cut from feedgen's documents instead of
written directly (render/items.py) or in C (render/_items.c, which writes JSON Feed and feed page items
too). The caches and worker processes
have switches of their own (`--no-cache`, `--jobs 1`).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

SWITCH = "FEEDPUB_ACCELERATORS"

# `os.environ` keeps the environment as bytes in `_data`, which its setters and `del` keep current: a
# lookup there is one dict lookup, where `os.environ.get` encodes the name and decodes the value
# (~2.5 µs; asked twice for every file read, ~7% of a file's parse). Elsewhere, the usual way.
_ENVIRON = os.environ
_RAW: dict[bytes, bytes] | None = getattr(_ENVIRON, "_data", None) if os.name == "posix" else None
_RAW_SWITCH = os.fsencode(SWITCH)


def enabled() -> bool:
    """Whether accelerators are on (the default); read each time, so a test can turn them off."""
    if _RAW is not None and os.environ is _ENVIRON:  # not replaced by another mapping since
        return _RAW.get(_RAW_SWITCH, b"1") != b"0"
    return os.environ.get(SWITCH, "1") != "0"


def compiled(name: str, interface: int) -> tuple[Any, bool]:
    """The C accelerator `name` (a module setup.py builds where a C compiler is) and whether a build of
    it was found but not used: (module, False) when built for this version; (None, True) for a build
    left from another checkout, whose `INTERFACE` differs (it could take other arguments or lay its
    values out otherwise: `feedpub --version` says to reinstall); (None, False) when not built. The
    module is `Any`: a C module has no stubs, and each caller types what it takes from it."""
    try:
        module = importlib.import_module(name)
    except ImportError:  # no C compiler (or no libyaml headers) at install time: Python alone
        return None, False
    if getattr(module, "INTERFACE", None) != interface:
        return None, True
    return module, False
