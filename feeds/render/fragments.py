"""Feeds assembled from per-article fragments, each rendered once however many feeds show it.

An article sits in the feed of everything, its provider's and each of its topics': rendering
its `<item>` once and splicing the bytes into every feed is what keeps a rebuild after one
changed file cheap on a 100,000-article folder. The fragments are cut from the renderers' own
output (`Format.items`), so an assembled feed is byte-identical to rendering it whole —
`tests/render/test_fragments.py` proves it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ..reading.article import Article, Entry
from ..reading.library import PackedArticle, unpacked
from ..stores.fragment_spool import FragmentSpool, SpoolAppender
from ..stores.fragment_store import Fragments
from ..stores.write_behind import WriteBehind
from . import fast_items
from .feed import Feed
from .feed_pages import PAGE
from .formats import FORMATS, Format
from .outputs import Buffer

ITEM_FORMATS = (*FORMATS, PAGE)  # every kind of item fragment: the feeds' and the feed pages'

# The settings an item's bytes depend on: items are the same in every feed of a site, and only these
# reach them. The fragment store's key covers these and no other setting.
ITEM_SETTINGS = ("base_url", "language")  # RSS <source url>; the JSON API's `locale`


def framed(head: bytes, pieces: list[bytes], separator: bytes, tail: bytes) -> bytes:
    """`head + separator.join(pieces) + tail`, copying each byte once: the two `+` copied the whole
    document twice more, ~5.7 GB of copies in an export at 100k with archives."""
    return b"".join(framed_parts(head, pieces, separator, tail))


def framed_parts(head: bytes, pieces: Sequence[Buffer], separator: bytes, tail: bytes) -> list[Buffer]:
    """The buffers `framed` joins, in order."""
    parts: list[Buffer] = [head]
    if separator and pieces:
        for piece in pieces:
            parts += (piece, separator)
        parts[-1] = tail
    else:
        parts += pieces
        parts.append(tail)
    return parts


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document put together from stored fragments (an archive document): `renderer`'s frame of
    `feed` around the fragments of `entries`, for a writer that can read them itself."""

    renderer: FragmentRenderer
    feed: Feed
    entries: tuple[Entry, ...]


class FragmentMissing(LookupError):
    """A document's fragment is gone from the store: the document belongs to a site since replaced."""


class FragmentRenderer:
    """One format's item fragments, by article digest (`Entry.digest`), in memory and in the store."""

    def __init__(self, fmt: Format, *, store: Fragments | None = None) -> None:
        self.fmt = fmt
        self.store = store
        self._items: dict[str, bytes] = {}  # digest → fragment
        self.rendered_items = 0  # fragments rendered so far, for tests and logs

    def assemble(self, feed: Feed, entries: Sequence[Entry]) -> list[Buffer]:
        """`feed` with these items, from fragments already at hand (see `lookup` and `add`): the
        buffers its body is, in order, joined only by whoever needs it whole (see `Output.of_parts`)."""
        head, tail = self.fmt.frame(feed, bool(entries))
        items = self._items
        return framed_parts(head, [items[e.digest] for e in entries], self.fmt.separator, tail)

    def lookup(self, entries: Iterable[Entry]) -> list[Entry]:
        """Take what the store has for these entries; return the ones still to render."""
        items = self._items
        missing = list({e.digest: e for e in entries if e.digest not in items}.values())
        if missing and self.store is not None:
            keys = self._keys(missing)
            stored = self.store.get(keys)
            if stored:  # a cold build's store holds none
                for entry, key in zip(missing, keys, strict=True):
                    piece = stored.get(key)
                    if piece is not None:
                        items[entry.digest] = piece
                missing = [e for e in missing if e.digest not in items]
        return missing

    def missing(self, entries: Iterable[Entry], *, distinct: bool = False) -> list[Entry]:
        """The entries with a fragment neither in memory nor in the store (which is asked, not read).
        `distinct`: no two of the entries are of one article (they need not be made so)."""
        items = self._items
        if distinct:
            missing = [e for e in entries if e.digest not in items]
        else:
            missing = list({e.digest: e for e in entries if e.digest not in items}.values())
        if missing and self.store is not None:
            keys = self._keys(missing)
            present = self.store.present(keys)
            if present:  # a cold build's store holds none
                missing = [e for e, key in zip(missing, keys, strict=True) if key not in present]
        return missing

    def assemble_stored(self, feed: Feed, entries: Sequence[Entry]) -> bytes:
        """`feed` with these items, taking from the store the fragments not in memory (and keeping
        none of them: an archive document is put together each time it is asked for)."""
        pieces = self.pieces(entries)
        head, tail = self.fmt.frame(feed, bool(entries))
        return framed(head, pieces, self.fmt.separator, tail)

    def stored_parts(self, feed: Feed, entries: Sequence[Entry]) -> list[Buffer]:
        """What `assemble_stored` gives, as the buffers it would join: for a caller that writes the
        document out at once (the export, with `writev`) rather than holding it."""
        head, tail = self.fmt.frame(feed, bool(entries))
        return framed_parts(head, self.pieces(entries), self.fmt.separator, tail)

    def pieces(self, entries: Sequence[Entry]) -> list[bytes]:
        """These entries' fragments, from memory or the store (which are not kept in memory)."""
        items = self._items
        keys = self._keys(entries)
        if items:
            wanted = [key for e, key in zip(entries, keys, strict=True) if e.digest not in items]
        else:
            wanted = keys
        stored = self.store.get(wanted) if wanted and self.store is not None else {}
        try:
            if not items:
                return [stored[key] for key in keys]
            return [items[e.digest] if e.digest in items else stored[key] for e, key in zip(entries, keys, strict=True)]
        except KeyError as error:
            raise FragmentMissing(f"a {self.fmt.name} fragment is gone from the store") from error

    def has(self, digest: str) -> bool:
        return digest in self._items

    def add(self, digests: Sequence[str], pieces: Sequence[bytes], *, hold: Container[str] | None = None) -> None:
        """Put freshly rendered fragments in the store, and keep in memory those in `hold` (all of
        them without a store): documents put together when asked for take theirs from the store."""
        if hold is None or self.store is None:
            self._items.update(zip(digests, pieces, strict=True))
        else:
            self._items.update((digest, piece) for digest, piece in zip(digests, pieces, strict=True) if digest in hold)
        self.rendered_items += len(digests)
        if self.store is not None:
            prefix = self.fmt.name + ":"  # `key`, inlined: ~400,000 fragments in an export at 100k
            self.store.put(list(zip([prefix + digest for digest in digests], pieces, strict=True)))

    def place(self, digests: Sequence[str], places: Sequence[int], generation: int, held: dict[str, bytes]) -> None:
        """Register fragments a render worker wrote into the store's spool itself (`Spooled`), at these
        places of its file of that generation, and keep in memory the `held` ones' bytes."""
        store = self.store
        if not isinstance(store, (FragmentSpool, WriteBehind)):
            raise TypeError("only a spool's fragments are written by the workers")
        self.rendered_items += len(self.new(digests))
        self._items.update(held)
        store.place(self.fmt.name, digests, places, generation)  # False: not stored, as a failed put

    def new(self, digests: Sequence[str]) -> list[int]:
        """The positions of the digests whose fragment is not in memory."""
        if not self._items.keys() & digests:  # a cold build's every chunk: one set operation
            return list(range(len(digests)))
        return [n for n, digest in enumerate(digests) if digest not in self._items]

    def key(self, digest: str) -> str:
        return f"{self.fmt.name}:{digest}"

    def _keys(self, entries: Iterable[Entry]) -> list[str]:
        """`key` of each entry's digest, in one comprehension: ~2.4 million keys in an export at 100k."""
        prefix = self.fmt.name + ":"
        return [prefix + e.digest for e in entries]

    def retain(self, digests: set[str]) -> None:
        """Forget fragments of articles no feed shows any more (memory stays bounded)."""
        self._items = {key: piece for key, piece in self._items.items() if key in digests}

    @property
    def size(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class Spooled:
    """A chunk's fragments as a render worker wrote them into the spool's file (`appending_workers`):
    where each one lies, by format, in the file of that generation, and the bytes of the ones at the
    positions the job asked to hold (the subscription documents', put together in memory)."""

    generation: int
    places: dict[str, list[int]]
    held: dict[str, list[bytes]]


_APPENDER: SpoolAppender | None = None  # set in the parent before it forks the render workers


@contextmanager
def appending_workers(appender: SpoolAppender) -> Iterator[None]:
    """Render workers forked inside this block write their fragments with `appender` (`render_chunk`)."""
    global _APPENDER
    _APPENDER = appender
    try:
        yield
    finally:
        _APPENDER = None


ChunkJob = tuple[Feed, tuple[str, ...], list[Article | PackedArticle], tuple[int, ...] | None]


def render_chunk(job: ChunkJob) -> dict[str, list[bytes]] | Spooled:
    """In a worker process: the fragments of a chunk of articles (some still packed), in each of the
    named formats. A packed article the C writer takes is written from its stored values, never
    unpacked into an `Article` (fast_items.write_values); any other is unpacked and written by
    `Format.items`.

    With positions to hold (the job's last part) and a worker forked inside `appending_workers`, the
    fragments are written into the spool's file here, all formats in one write, and only their places
    and the held ones' bytes go back (`Spooled`); otherwise (or when the write fails) their bytes."""
    template, names, values, hold = job
    wanted = [fmt for fmt in ITEM_FORMATS if fmt.name in names]
    made: dict[str, list[bytes | None]] = {fmt.name: [None] * len(values) for fmt in wanted}
    if fast_items.available():
        stored = [fast_items.stored_values(value) for value in values]
        direct = [n for n, found in enumerate(stored) if found is not None]
        found = [values for values in stored if values is not None]  # made once for every format
        if direct:
            for fmt in wanted:
                written = fast_items.write_values(fmt.name, template, found)
                if written is not None:
                    pieces = made[fmt.name]
                    for n, piece in zip(direct, written, strict=True):
                        pieces[n] = piece
    rest = sorted({n for pieces in made.values() for n, piece in enumerate(pieces) if piece is None})
    if rest:
        articles = {n: unpacked(values[n]) for n in rest}
        for fmt in wanted:
            pieces = made[fmt.name]
            todo = [n for n in rest if pieces[n] is None]
            for n, piece in zip(todo, fmt.items(template, [articles[n] for n in todo]), strict=True):
                pieces[n] = piece
    done: dict[str, list[bytes]] = made  # type: ignore[assignment]  # every piece written
    appender = _APPENDER
    if hold is None or appender is None:
        return done
    order = list(done)
    places = appender.append([piece for name in order for piece in done[name]])
    if places is None:
        return done  # the write failed: the bytes go back, and the parent stores them
    count = len(values)
    return Spooled(appender.generation,
                   {name: places[at * count : (at + 1) * count] for at, name in enumerate(order)},
                   {name: [done[name][n] for n in hold] for name in order})
