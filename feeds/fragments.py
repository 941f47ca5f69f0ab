"""Feeds assembled from per-article fragments, each rendered once however many feeds show it.

An article sits in the feed of everything, its provider's and each of its topics': rendering
its `<item>` once and splicing the bytes into every feed is what keeps a rebuild after one
changed file cheap on a 100,000-article folder. The fragments are cut from the renderers' own
output (a feed of just the missing items, split at item boundaries), so an assembled feed is
byte-identical to rendering it whole — `tests/test_fragments.py` proves it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from .article import Article, Entry
from .atom import render_atom
from .feed import Feed
from .fragment_cache import FragmentCache
from .jsonfeed import json_frame, json_item
from .rss import render_rss

# Where items start and where the container closes, in the renderers' pretty-printed output.
_XML = {
    "rss": (render_rss, b"\n    <item>", b"\n  </channel>"),
    "atom": (render_atom, b"\n  <entry>", b"\n</feed>"),
}


Resolve = Callable[[Sequence[Entry]], list[Article]]  # entries → their full articles (Library.resolve)


class FragmentRenderer:
    """Renders feeds in one format from cached item fragments (settings fixed for its lifetime).

    Fragments are keyed by the article's digest (`Entry.digest`), so a feed is assembled from its
    entries alone: only articles without a fragment are fetched in full and rendered.
    """

    def __init__(self, fmt: str, *, store: FragmentCache | None = None) -> None:
        self.fmt = fmt
        self.store = store
        self._items: dict[str, bytes] = {}  # digest → fragment
        self.rendered_items = 0  # fragments rendered so far, for tests and logs

    def render(self, feed: Feed, resolve: Resolve) -> bytes:
        """`feed` with the spec's entries as items."""
        entries: Sequence[Entry] = feed.items  # type: ignore[assignment]
        missing = self.lookup(entries)
        if missing:
            self.add(missing, self.render_items(feed, resolve(missing)))
        head, tail = self._frame(feed)
        separator = b",\n" if self.fmt == "json" else b""
        items = self._items
        return head + separator.join(items[e.digest] for e in entries) + tail

    def lookup(self, entries: Iterable[Entry]) -> list[Entry]:
        """Take what the store has for these entries; return the ones still to render."""
        items = self._items
        missing = list({e.digest: e for e in entries if e.digest not in items}.values())
        if missing and self.store is not None:
            stored = self.store.get([self.key(e.digest) for e in missing])
            for entry in missing:
                piece = stored.get(self.key(entry.digest))
                if piece is not None:
                    items[entry.digest] = piece
            missing = [e for e in missing if e.digest not in items]
        return missing

    def add(self, entries: Sequence[Entry], pieces: list[bytes]) -> None:
        """Keep freshly rendered fragments (and put them in the store)."""
        for entry, piece in zip(entries, pieces):
            self._items[entry.digest] = piece
        self.rendered_items += len(entries)
        if self.store is not None:
            self.store.put([(self.key(e.digest), piece) for e, piece in zip(entries, pieces)])

    def key(self, digest: str) -> str:
        return f"{self.fmt}:{digest}"

    def retain(self, digests: set[str]) -> None:
        """Forget fragments of articles no feed shows any more (memory stays bounded)."""
        self._items = {key: piece for key, piece in self._items.items() if key in digests}

    @property
    def size(self) -> int:
        return len(self._items)

    def _frame(self, feed: Feed) -> tuple[bytes, bytes]:
        if self.fmt == "json":
            return json_frame(feed)
        render, _, close = _XML[self.fmt]
        if not feed.items:
            return render(feed), b""
        document = render(dataclasses.replace(feed, items=()))
        cut = document.rindex(close)
        return document[:cut], document[cut:]

    def render_items(self, feed: Feed, articles: Sequence[Article]) -> list[bytes]:
        """Fragments of `articles` as `feed` would show them (only its site-wide values matter)."""
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
