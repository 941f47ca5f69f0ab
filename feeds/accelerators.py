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

import os

SWITCH = "FEEDPUB_ACCELERATORS"


def enabled() -> bool:
    """Whether accelerators are on (the default); read each time, so a test can turn them off."""
    return os.environ.get(SWITCH, "1") != "0"
