"""Item fragments written in C (`_items.c`): the same bytes as the Python writers, faster.

With archives every article's item is rendered in four kinds (RSS, Atom, JSON Feed, the feed
pages'), and the Python writers (items.py, jsonfeed.json_item, feed_pages.page_item) spend ~40–50 µs
an item in calls and string copies for what is escaping and concatenation. The C writer writes the
usual article's item in a few µs; for any other (an early or non-UTC date, a provider domain that
needs quoting, a value of an unexpected type) it gives None and the Python writer writes that item,
so every rule stays written in Python, the reference. `tests/render/test_fast_items.py` proves the
bytes equal (for RSS and Atom, feedgen's too), and the suite-wide item audit checks every item any
test renders.

Built by setup.py where a C compiler is; without it, or with accelerators off
(`FEEDPUB_ACCELERATORS=0`), `write` gives None and the Python writers write everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import accelerators
from ..reading.article import Article
from ..stores.packing import ARTICLE, Corrupt, opened
from .feed import Feed, looks_like_markup

# Without it, the Python writers alone; a build left from another checkout may write other bytes.
_items, STALE_BUILD = accelerators.compiled(f"{__package__}._items", 2)
BUILT = _items is not None  # compiled, for this version (`feedpub --version` says)
if _items is not None:
    _items.configure(looks_like_markup)

# The kinds of item the C writer knows, by format name.
KINDS = {"rss": 0, "atom": 1, "json": 2, "html": 3}


def available() -> bool:
    """Whether `write` may write anything now: compiled, and accelerators not switched off."""
    return _items is not None and accelerators.enabled()


def write(kind: str, template: Feed, articles: Sequence[Article]) -> list[bytes | None] | None:
    """Each article's item of this kind as the Python writer writes it in any feed of the site
    (`template`), None for an article it leaves to the Python writer; None when not available."""
    if not available() or kind not in KINDS:
        return None
    before, after = template.sources
    made: list[bytes | None] = _items.items(KINDS[kind], list(articles), before, after)
    return made


def write_values(kind: str, template: Feed, values: Sequence[tuple[object, ...]]) -> list[bytes | None] | None:
    """`write` for articles given as the values the parse cache stores (`stores.packing.article_values`),
    as a render worker is sent them: no `Article` is built for the usual one (unpacking one took as
    long as writing its four items). None for an article whose values `packing.article_from` would
    not take, or that is not the usual kind: the caller unpacks that one."""
    if not available() or kind not in KINDS:
        return None
    before, after = template.sources
    made: list[bytes | None] = _items.items_from_values(KINDS[kind], list(values), before, after)
    return made


def stored_values(value: Article | tuple[str, bytes]) -> tuple[object, ...] | None:
    """The article values inside a packed outcome (`library.PackedArticle`), once its digest matches;
    None for anything else (an `Article`, a damaged blob, a bad file's outcome)."""
    if not isinstance(value, tuple):
        return None
    rel, blob = value
    try:
        outcome = opened(blob, rel + "\0outcome")
    except Corrupt:
        return None
    if (type(outcome) is tuple and len(outcome) == 3 and outcome[0] == ARTICLE and type(outcome[1]) is tuple
            and type(outcome[2]) is tuple and all(type(warning) is str for warning in outcome[2])):
        return outcome[1]
    return None
