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
        missing = self.lookup(feed.items)
        if missing:
            self.add(missing, self._render_items(feed, missing))
        head, tail = self._frame(feed)
        separator = b",\n" if self.fmt == "json" else b""
        items = self._items
        return head + separator.join(items[id(a)][1] for a in feed.items) + tail

    def lookup(self, articles: Iterable[Article]) -> list[Article]:
        """Take what the store has for these articles; return the ones still to render."""
        items = self._items
        missing = list({id(a): a for a in articles if id(a) not in items}.values())
        if missing and self.store is not None:
            keys = {id(a): self._key(a) for a in missing}
            stored = self.store.get(list(keys.values()))
            for article in missing:
                piece = stored.get(keys[id(article)])
                if piece is not None:
                    items[id(article)] = (article, piece, keys[id(article)])
            missing = [a for a in missing if id(a) not in items]
        return missing

    def add(self, articles: list[Article], pieces: list[bytes]) -> None:
        """Keep freshly rendered fragments (and put them in the store)."""
        keys = [self._key(a) if self.store is not None else "" for a in articles]
        for article, piece, key in zip(articles, pieces, keys):
            self._items[id(article)] = (article, piece, key)
        self.rendered_items += len(articles)
        if self.store is not None:
            self.store.put(zip(keys, pieces))

    def _key(self, article: Article) -> str:
        return f"{self.fmt}:{self._digest(article)}"

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

    def render_items(self, feed: Feed, articles: list[Article]) -> list[bytes]:
        """Fragments of `articles` as `feed` would show them (only its site-wide values matter)."""
        return self._render_items(feed, articles)

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



def render_chunk(job: tuple[Feed, tuple[str, ...], list[Article]]) -> dict[str, list[bytes]]:
    """In a worker process: the fragments of a chunk of articles, in each of the given formats."""
    template, formats, articles = job
    return {fmt: FragmentRenderer(fmt).render_items(template, articles) for fmt in formats}
