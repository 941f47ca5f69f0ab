"""Rendered item fragments for this process only, when there is no cache to keep them in.

A build without a cache (`--no-cache`, or a cache folder that cannot be opened) still needs its
fragments after rendering them: archive documents, the JSON API's pages and filtered feeds are put
together from them when asked for, and holding every fragment of 100,000 articles in memory would
not do (three formats of ~3 KB each). `FragmentStore.temporary` used a throwaway SQLite database
for that: at 10,000 articles with archives, 205,000 `pread` and 118,000 `pwrite` calls and a hundred
`fdatasync`s for data nobody keeps. Here the bodies are appended to one unlinked temporary file and
found again through an index in memory, (offset, length) by key: one write per batch put, one read per
fragment taken. The index is kept by a key's kind (what comes before its first ":", a format's name) and
then by the rest (an article's digest), so that the export's workers and the render workers, which
know the format and the digests, look places up and register them with the digests' own strings
(`locate`, `place`): making ~2.2 million "format:digest" keys to look the places of an export at 100k
up took the parent ~1.2 s.

What has the interface of `FragmentStore` that the renderers use (`get`, `present`, `put`,
`keep_only`), and its promise: any error means "not stored", never a failed build. Replaced and
dropped fragments leave dead bytes behind; once they outweigh the live ones (and 64 MiB), the live
ones are copied to a new file, so a long-running `feedpub serve --no-cache` stays bounded on disk.

An export writes each archive document once, from ~50 fragments: its worker processes read them
from this file themselves (`places_in_fork` says where they lie, `read_places` reads them), or `get` does, one
`pread` each (fragments asked for one after another that lie end to end, with one), and the document
is written as its pieces with one `writev` (`export_writers.write_new`), never joined. A read-only
map of the file was tried instead of the reads: each fragment touched mapped the page cache's whole
folio around it (up to ~1 MB), which was slower than the copies (~3× in a micro-benchmark) and
needed an `madvise` after every few documents to keep resident memory from growing by the file.

A cold build's render workers write their fragments into the file themselves (`appending`, `place`):
sending ~530 MB of fragments back through the pool's pipes at 100k articles with archives, to be
unpickled and written here by the parent, made the parent the render step's bottleneck.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

log = logging.getLogger("feedpub")

COMPACT_MIN_BYTES = 64 << 20
_LENGTH_BITS = 32  # a fragment is far below 4 GiB; offset and length share one int in the index
_LENGTH = (1 << _LENGTH_BITS) - 1  # the low bits: the length


class FragmentSpool:
    path = None  # nothing on disk to name: the file is unlinked as it is made

    def __init__(self, *, compact_min: int = COMPACT_MIN_BYTES) -> None:
        self._fd = self._new_file()
        self._index: dict[str, dict[str, int]] = {}  # kind → the rest of the key → offset << 32 | length
        self._end = 0
        self._dead = 0
        self._compact_min = compact_min
        self._lock = threading.Lock()
        self.generation = 0  # counts the files the spool has had: a place is only good in its own
        self._appender: SpoolAppender | None = None  # while forked processes append (`appending`)

    @classmethod
    def temporary(cls) -> FragmentSpool | None:
        try:
            return cls()
        except OSError:
            return None

    @staticmethod
    def _new_file() -> int:
        """A descriptor of a new file no name leads to (gone with the process, however it ends)."""
        with tempfile.TemporaryFile(prefix="feedpub-fragments-") as handle:
            return os.dup(handle.fileno())

    def get(self, keys: list[str]) -> dict[str, bytes]:
        # Looked up under the lock, read outside it, through a descriptor of this get's own: the
        # export's writer threads each put a document together at once (the lock held through
        # every read made them take turns), and a compaction meanwhile closes only the original.
        with self._lock:
            index = self._index
            if not index:
                return {}
            spans = [(key, where) for key in keys if (where := _find(index, key)) is not None]
            if not spans:
                return {}
            try:
                fd = os.dup(self._fd)
            except OSError as error:
                self._failed(error)
                return {}
        found: dict[str, bytes] = {}
        pread = os.pread
        try:
            count = len(spans)
            at = 0
            while at < count:
                key, where = spans[at]
                start = where >> _LENGTH_BITS
                end = start + (where & _LENGTH)
                last = at + 1
                # Fragments asked for one after another that lie end to end (items rendered together,
                # an archive of the feed of everything) are read with one `pread`, up to 1 MiB.
                while last < count and spans[last][1] >> _LENGTH_BITS == end and end - start < _RUN_BYTES:
                    end += spans[last][1] & _LENGTH
                    last += 1
                data = pread(fd, end - start, start)
                if last == at + 1:
                    if len(data) == end - start:  # a short read (a failing disk) gives what it holds
                        found[key] = data
                else:
                    for key, where in spans[at:last]:
                        begin = (where >> _LENGTH_BITS) - start
                        stop = begin + (where & _LENGTH)
                        if stop <= len(data):
                            found[key] = data[begin:stop]
                at = last
        except OSError as error:  # the disk failed under us: what was read is returned
            with self._lock:
                self._failed(error)
        finally:
            os.close(fd)
        return found

    def locate(self, kind: str, names: Sequence[str]) -> tuple[int, int, list[int]] | None:
        """Where the fragments of these keys (`kind:name` each) are: (the file's descriptor, its
        generation, each one's offset << 32 | length), taken under the lock; None unless every one is
        here. (The export's workers use `places_in_fork`, from the index they were forked with.)"""
        with self._lock:
            places = self.places_in_fork(kind, names)
            return None if places is None else (self._fd, self.generation, places)

    def places_in_fork(self, kind: str, names: Sequence[str]) -> list[int] | None:
        """`locate`'s places, in a process forked from this one (the export's document writers): read
        from its copy of the index without the lock, which another thread may have held at the fork
        and which would then never be released here (`locate` asks it under the lock). Only what was in
        the spool at the fork is found."""
        index = self._index.get(kind, {})
        try:
            return [index[name] for name in names]
        except KeyError:
            return None

    @property
    def fd_in_fork(self) -> int:
        """The file's descriptor, as the fork inherited it (see `places_in_fork`)."""
        return self._fd

    def present(self, keys: list[str]) -> set[str]:
        with self._lock:
            index = self._index
            if not index:  # nothing put yet: a cold build asks about every archived item
                return set()
            return {key for key in keys if _find(index, key) is not None}

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
        # A cold export puts ~400,000 fragments at 100k articles, 200 a call: the per-row work is done
        # by list, set and dict operations in C rather than a loop of Python statements.
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return
        keys = [key for key, _ in rows]
        bodies = [body for _, body in rows]
        lengths = list(map(len, bodies))
        total = sum(lengths)
        with self._lock:
            appender = self._appender
            if appender is not None and appender.generation == self.generation:
                start = appender.reserve(total)  # forked processes append to this file meanwhile
            else:
                start = self._end
            places = _places(start, lengths)
            try:
                _write_all(self._fd, b"".join(bodies), start)
            except OSError as error:
                self._failed(error)
                return  # not stored: those items are rendered again when next needed
            self._end = max(self._end, start + total)
            kinds: dict[str, tuple[list[str], list[int]]] = {}
            for key, where in zip(keys, places, strict=True):
                kind, _, name = _split(key)
                names, spots = kinds.setdefault(kind, ([], []))
                names.append(name)
                spots.append(where)
            for kind, (names, spots) in kinds.items():
                self._register(kind, names, spots)
            self._compact_if_due()

    @contextmanager
    def appending(self) -> Iterator[SpoolAppender | None]:
        """While this block runs, processes forked inside it may append to the file with the appender
        it gives (`SpoolAppender.append`, at offsets it reserves, as `put` here does meanwhile), and
        the places they report are registered with `place`. The file is not compacted meanwhile.
        None when no appender can be made (no descriptor left): the fragments come back as bytes."""
        with self._lock:
            try:
                appender = SpoolAppender(self._fd, self.generation, self._end)
            except OSError:
                appender = None
            self._appender = appender
        try:
            yield appender
        finally:
            with self._lock:
                self._appender = None
                if appender is not None:
                    appender.close()
                    if appender.generation == self.generation:
                        self._end = max(self._end, appender.end)
                self._compact_if_due()

    def place(self, kind: str, names: Sequence[str], places: Sequence[int], generation: int) -> bool:
        """Register the fragments of these keys (`kind:name` each) a forked process appended
        (`appending`) at these places of the file of that generation; False (not stored) when the file
        was replaced since."""
        with self._lock:
            if generation != self.generation or self._fd < 0:
                return False
            self._register(kind, names, places)
            self._compact_if_due()
            return True

    def keep_only(self, keys: Iterable[str]) -> None:
        keep: dict[str, set[str]] = {}
        for key in keys:
            kind, _, name = _split(key)
            keep.setdefault(kind, set()).add(name)
        self.keep_kinds(keep)

    def keep_kinds(self, keep: Mapping[str, Container[str]]) -> None:
        """`keep_only` of the keys `kind:name` for each kind and each of its names: for a caller that
        knows them so (the builder's prune, by format and digest) and need not make ~400,000 keys."""
        with self._lock:
            for kind, index in list(self._index.items()):
                kept = keep.get(kind, ())
                gone = [name for name in index if name not in kept]
                for name in gone:
                    self._dead += index.pop(name) & _LENGTH
                if not index:
                    del self._index[kind]
            self._compact_if_due()

    @property
    def size_on_disk(self) -> int:
        return self._end

    @property
    def dead_bytes(self) -> int:
        return self._dead

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                self.generation += 1
            self._index.clear()

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)

    # -- inside the lock -----------------------------------------------------------------------

    def _register(self, kind: str, names: Sequence[str], places: Sequence[int]) -> None:
        """Index fragments of one kind just written at these places (one each, in order)."""
        index = self._index.setdefault(kind, {})
        placed = dict(zip(names, places, strict=True))  # the same key twice in one batch: the later wins
        if len(placed) != len(names):
            self._dead += sum(where & _LENGTH for where in places) - sum(where & _LENGTH for where in placed.values())
        replaced = index.keys() & placed.keys()
        if replaced:
            self._dead += sum(index[name] & _LENGTH for name in replaced)
        index.update(placed)

    def _compact_if_due(self) -> None:
        if self._appender is not None:
            return  # forked processes write into this file: compacted when they are done
        live = self._end - self._dead
        if self._dead < self._compact_min or self._dead < live:
            return
        try:
            fd = self._new_file()
        except OSError:
            return  # keep appending to the old one
        index: dict[str, dict[str, int]] = {kind: {} for kind in self._index}
        offset = 0
        try:
            # In file order, in runs of up to 4 MiB: reads and writes stay large.
            chunk: list[bytes] = []
            start = 0
            spans = [(where, kind, name) for kind, names in self._index.items() for name, where in names.items()]
            for where, kind, name in sorted(spans, key=lambda item: item[0]):
                length = where & _LENGTH
                chunk.append(_read_all(self._fd, length, where >> _LENGTH_BITS))
                index[kind][name] = offset << _LENGTH_BITS | length
                offset += length
                if offset - start >= 4 << 20:
                    _write_all(fd, b"".join(chunk), start)
                    chunk, start = [], offset
            if chunk:
                _write_all(fd, b"".join(chunk), start)
        except OSError as error:
            os.close(fd)
            self._failed(error)
            return
        os.close(self._fd)
        self._fd, self._index, self._end, self._dead = fd, index, offset, 0
        self.generation += 1

    def _failed(self, error: OSError) -> None:
        log.warning("feedpub: the temporary fragment file failed (%s): its items are rendered again when needed",
                    error.strerror or error)
        try:
            fd = self._new_file()
        except OSError:
            return
        os.close(self._fd)
        self._fd, self._index, self._end, self._dead = fd, {}, 0, 0
        self.generation += 1


class SpoolAppender:
    """Appends to a spool's file from a process forked while the spool's `appending` block runs (a
    render worker): each `append` reserves its span from a counter in memory the processes share, and
    writes there through the descriptor the fork inherited. The spool learns of the fragments only
    when `place` is called with what `append` returned."""

    def __init__(self, fd: int, generation: int, end: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")  # shared memory and a lock a fork inherits
        # A descriptor of its own: should the spool replace its file meanwhile (a failed write), the
        # appenders go on writing into the old one, never at the counter's offsets of the new one.
        self.fd = os.dup(fd)
        self.generation = generation
        self._end: Any = context.RawValue("Q", end)
        self._lock = context.Lock()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def reserve(self, length: int) -> int:
        """The start of `length` bytes of the file no other process writes."""
        with self._lock:
            start: int = self._end.value
            self._end.value = start + length
        return start

    @property
    def end(self) -> int:
        return int(self._end.value)

    def append(self, pieces: Sequence[bytes]) -> list[int] | None:
        """Write the pieces end to end; each one's place (offset << 32 | length), or None when the
        write failed (the caller sends the bytes instead)."""
        lengths = list(map(len, pieces))
        start = self.reserve(sum(lengths))
        try:
            _write_all(self.fd, b"".join(pieces), start)
        except OSError:
            return None
        return _places(start, lengths)


_RUN_BYTES = 1 << 20


def _places(start: int, lengths: list[int]) -> list[int]:
    """The places (offset << 32 | length) of pieces of these lengths written end to end from `start`."""
    return [at << _LENGTH_BITS | length
            for at, length in zip(accumulate(lengths, initial=start), lengths, strict=False)]  # one more start


def _split(key: str) -> tuple[str, str, str]:
    """A key's kind (up to its first ":"), ":", and the rest. A key without a ":" has the kind ":",
    which no key with one can have (":x" has the kind "")."""
    kind, colon, name = key.partition(":")
    return (kind, colon, name) if colon else (":", "", key)


def _find(index: dict[str, dict[str, int]], key: str) -> int | None:
    kind, _, name = _split(key)
    names = index.get(kind)
    return None if names is None else names.get(name)


def read_places(fd: int, places: list[int]) -> list[bytes]:
    """The fragments at these places (`FragmentSpool.locate`) of the file open at `fd`, in order: for a
    process that reads them itself. Places that lie end to end are read with one `pread`."""
    pieces: list[bytes] = []
    count = len(places)
    at = 0
    while at < count:
        start = places[at] >> _LENGTH_BITS
        end = start + (places[at] & _LENGTH)
        last = at + 1
        while last < count and places[last] >> _LENGTH_BITS == end and end - start < _RUN_BYTES:
            end += places[last] & _LENGTH
            last += 1
        data = _read_all(fd, end - start, start)
        if last == at + 1:
            pieces.append(data)
        else:
            for where in places[at:last]:
                begin = (where >> _LENGTH_BITS) - start
                pieces.append(data[begin : begin + (where & _LENGTH)])
        at = last
    return pieces


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


def _read_all(fd: int, length: int, offset: int) -> bytes:
    body = os.pread(fd, length, offset)
    if len(body) != length:
        raise OSError(f"short read: {len(body)} of {length} bytes at {offset}")
    return body
