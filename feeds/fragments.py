"""Feeds assembled from per-article fragments, each rendered once however many feeds show it.

An article sits in the feed of everything, its provider's and each of its topics': rendering
its `<item>` once and splicing the bytes into every feed is what keeps a rebuild after one
changed file cheap on a 100,000-article folder. The fragments are cut from the renderers' own
output (a feed of just the missing items, split at item boundaries), so an assembled feed is
byte-identical to rendering it whole — `tests/test_fragments.py` proves it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .article import Article
from .atom import render_atom
from .feed import Feed
from .fragment_cache import FragmentCache, article_digest
from .jsonfeed import json_frame, json_item
from .rss import render_rss

# Where items start and where the container closes, in the renderers' pretty-printed output.
_XML = {
    "rss": (render_rss, b"\n    <item>", b"\n  </channel>"),
    "atom": (render_atom, b"\n  <entry>", b"\n</feed>"),
}


class FragmentRenderer:
    """Renders feeds in one format from cached item fragments (settings fixed for its lifetime)."""

    def __init__(self, fmt: str, *, store: FragmentCache | None = None,
                 digests: dict[int, tuple[Article, str]] | None = None) -> None:
        self.fmt = fmt
        self.store = store
        # Shared by the three formats' renderers, so each article is digested once.
        self.digests = digests if digests is not None else {}
        # Keyed by identity: hashing a frozen dataclass walks every field, on every lookup.
        self._items: dict[int, tuple[Article, bytes, str]] = {}  # id → (article, fragment, store key)
        self.rendered_items = 0  # fragments rendered so far, for tests and logs

    def render(self, feed: Feed) -> bytes:
        items = self._items
        missing = list({id(a): a for a in feed.items if id(a) not in items}.values())
        keys: dict[int, str] = {}
        if missing and self.store is not None:
            keys = {id(a): f"{self.fmt}:{self._digest(a)}" for a in missing}
            stored = self.store.get(list(keys.values()))
            for article in missing:
                piece = stored.get(keys[id(article)])
                if piece is not None:
                    items[id(article)] = (article, piece, keys[id(article)])
            missing = [a for a in missing if id(a) not in items]
        if missing:
            pieces = self._render_items(feed, missing)
            for article, piece in zip(missing, pieces):
                items[id(article)] = (article, piece, keys.get(id(article), ""))
            self.rendered_items += len(missing)
            if self.store is not None:
                self.store.put((keys[id(a)], piece) for a, piece in zip(missing, pieces))
        head, tail = self._frame(feed)
        separator = b",\n" if self.fmt == "json" else b""
        return head + separator.join(items[id(a)][1] for a in feed.items) + tail

    def retain(self, articles: Iterable[Article]) -> None:
        """Forget fragments of articles no feed shows any more (memory stays bounded)."""
        keep = {id(a) for a in articles}
        self._items = {key: entry for key, entry in self._items.items() if key in keep}
        for key in [key for key in self.digests if key not in keep]:
            del self.digests[key]

    def _digest(self, article: Article) -> str:
        known = self.digests.get(id(article))
        if known is None or known[0] is not article:
            known = self.digests[id(article)] = (article, article_digest(article))
        return known[1]

    @property
    def size(self) -> int:
        return len(self._items)

    def stored_keys(self) -> list[str]:
        """Store keys of the fragments held now: what a pruned store keeps."""
        return [key for _, _, key in self._items.values() if key]

    def _frame(self, feed: Feed) -> tuple[bytes, bytes]:
        if self.fmt == "json":
            return json_frame(feed)
        render, _, close = _XML[self.fmt]
        if not feed.items:
            return render(feed), b""
        document = render(dataclasses.replace(feed, items=()))
        cut = document.rindex(close)
        return document[:cut], document[cut:]

    def _render_items(self, feed: Feed, articles: list[Article]) -> list[bytes]:
        if self.fmt == "json":
            return [json_item(a) for a in articles]
        render, opening, close = _XML[self.fmt]
        document = render(dataclasses.replace(feed, items=tuple(articles)))
        body = document[document.index(opening) : document.rindex(close)]
        pieces = [opening + part for part in body[len(opening) :].split(opening)]
        # Escaped text can never hold a raw `<item>`: one piece per article, or something is wrong.
        assert len(pieces) == len(articles), (self.fmt, len(pieces), len(articles))
        return pieces

