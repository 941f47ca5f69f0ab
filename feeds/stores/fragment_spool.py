"""Rendered item fragments for this process only, when there is no cache to keep them in.

A build without a cache (`--no-cache`, or a cache folder that cannot be opened) still needs its
fragments after rendering them: archive documents, the JSON API's pages and filtered feeds are put
together from them when asked for, and holding every fragment of 100,000 articles in memory would
not do (three formats of ~3 KB each). `FragmentStore.temporary` used a throwaway SQLite database
for that: at 10,000 articles with archives, 205,000 `pread` and 118,000 `pwrite` calls and a hundred
`fdatasync`s for data nobody keeps. Here the bodies are appended to one unlinked temporary file and
found again through an index in memory, (offset, length) by key: one write per batch put, one read per
fragment taken.

An export writes each archive document once, from ~50 fragments: `views` hands them out as views of a
read-only map of the file instead of a `pread` (and a copy) each, and the export writes them with one
`writev` (`export._write`): at 100k articles with archives, 820,000 `pread`s and two copies of ~2.5 GB
fewer, and the export's writing took 8.4 s instead of 13.3. The pages a map touches count as the
process's memory until let go, and a touch maps the page cache's whole folio around a fragment (up to
~1 MB here), so each call first lets go of what the calls before it touched (`MADV_DONTNEED`: the
pages stay in the page cache): resident memory grows by about one document's folios, not the file's.
A disk that fails under a map kills the process (SIGBUS) where a `pread` would have raised; the
export's previous tree is left whole either way.

What has the interface of `FragmentStore` that the renderers use (`get`, `present`, `put`,
`keep_only`), and its promise: any error means "not stored", never a failed build. Replaced and
dropped fragments leave dead bytes behind; once they outweigh the live ones (and 64 MiB), the live
ones are copied to a new file, so a long-running `feedpub serve --no-cache` stays bounded on disk.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import tempfile
import threading
from collections.abc import Iterable

log = logging.getLogger("feedpub")

COMPACT_MIN_BYTES = 64 << 20
_LENGTH_BITS = 32  # a fragment is far below 4 GiB; offset and length share one int in the index
_LENGTH = (1 << _LENGTH_BITS) - 1  # the low bits: the length


class FragmentSpool:
    path = None  # nothing on disk to name: the file is unlinked as it is made

    def __init__(self, *, compact_min: int = COMPACT_MIN_BYTES) -> None:
        self._fd = self._new_file()
        self._index: dict[str, int] = {}  # key → offset << 32 | length
        self._end = 0
        self._dead = 0
        self._compact_min = compact_min
        self._lock = threading.Lock()
        self._mmap: mmap.mmap | None = None  # the file's first `_mapped` bytes, read-only (see `views`)
        self._map: memoryview | None = None  # a view of all of it
        self._mapped = 0

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
            spans = sorted((where, key) for key in keys if (where := index.get(key)) is not None)
            if not spans:
                return {}
            try:
                fd = os.dup(self._fd)
            except OSError as error:
                self._failed(error)
                return {}
        found: dict[str, bytes] = {}
        try:
            for run in _runs(spans):
                start = run[0][0] >> _LENGTH_BITS
                last = run[-1][0]
                data = os.pread(fd, (last >> _LENGTH_BITS) + (last & _LENGTH) - start, start)
                for where, key in run:  # a short read (a failing disk) gives the fragments it holds
                    begin = (where >> _LENGTH_BITS) - start
                    end = begin + (where & _LENGTH)
                    if end <= len(data):
                        found[key] = data if len(run) == 1 else data[begin:end]
        except OSError as error:  # the disk failed under us: what was read is returned
            with self._lock:
                self._failed(error)
        finally:
            os.close(fd)
        return found

    def views(self, keys: list[str]) -> dict[str, memoryview]:
        """What `get` gives, as read-only views of the file rather than copies: for a caller that
        writes them out at once. A view stays valid when the spool compacts or closes (it holds the
        map it came from); {} when the file cannot be mapped (`get` then reads them)."""
        with self._lock:
            index = self._index
            spans = [(key, where) for key in keys if (where := index.get(key)) is not None]
            if not spans:
                return {}
            view = self._view()
            if view is None:
                return {}
            assert self._mmap is not None
            with contextlib.suppress(OSError):  # letting the pages go is only a saving
                self._mmap.madvise(mmap.MADV_DONTNEED)  # the pages the views handed out before touched
            found: dict[str, memoryview] = {}
            for key, where in spans:
                start = where >> _LENGTH_BITS
                found[key] = view[start : start + (where & _LENGTH)]
            return found

    def present(self, keys: list[str]) -> set[str]:
        with self._lock:
            index = self._index
            return {key for key in keys if key in index}

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
        with self._lock:
            batch: list[bytes] = []
            placed: dict[str, int] = {}
            offset = self._end
            for key, body in rows:
                if key in placed:  # the same key twice in one batch: the later body wins
                    self._dead += placed[key] & _LENGTH
                placed[key] = offset << _LENGTH_BITS | len(body)
                batch.append(body)
                offset += len(body)
            if not batch:
                return
            try:
                _write_all(self._fd, b"".join(batch), self._end)
            except OSError as error:
                self._failed(error)
                return  # not stored: those items are rendered again when next needed
            for key, where in placed.items():
                old = self._index.get(key)
                if old is not None:
                    self._dead += old & _LENGTH
                self._index[key] = where
            self._end = offset
            self._compact_if_due()

    def keep_only(self, keys: Iterable[str]) -> None:
        keep = set(keys)
        with self._lock:
            gone = [key for key in self._index if key not in keep]
            for key in gone:
                self._dead += self._index.pop(key) & _LENGTH
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
            self._unmap()
            self._index.clear()

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)

    # -- inside the lock -----------------------------------------------------------------------

    def _view(self) -> memoryview | None:
        """A view of the whole file as it is now, mapped again when it has grown."""
        if self._map is None or self._mapped < self._end:
            self._unmap()
            try:
                self._mmap = mmap.mmap(self._fd, self._end, mmap.MAP_SHARED, mmap.PROT_READ)
            except (OSError, ValueError):  # no room for a map: the caller reads instead
                return None
            with contextlib.suppress(OSError):
                # Each page touched maps only itself: a fault otherwise maps up to 16 pages around
                # it, and RSS grew twenty times as fast as the bytes handed out.
                self._mmap.madvise(mmap.MADV_RANDOM)
            self._map = memoryview(self._mmap)
            self._mapped = self._end
        return self._map

    def _unmap(self) -> None:
        # Not closed: views handed out hold the map, which goes when the last of them does.
        self._mmap, self._map, self._mapped = None, None, 0

    def _compact_if_due(self) -> None:
        live = self._end - self._dead
        if self._dead < self._compact_min or self._dead < live:
            return
        try:
            fd = self._new_file()
        except OSError:
            return  # keep appending to the old one
        index: dict[str, int] = {}
        offset = 0
        try:
            # In file order, in runs of up to 4 MiB: reads and writes stay large.
            chunk: list[bytes] = []
            start = 0
            for key, where in sorted(self._index.items(), key=lambda item: item[1]):
                length = where & _LENGTH
                chunk.append(_read_all(self._fd, length, where >> _LENGTH_BITS))
                index[key] = offset << _LENGTH_BITS | length
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
        self._unmap()
        self._fd, self._index, self._end, self._dead = fd, index, offset, 0

    def _failed(self, error: OSError) -> None:
        log.warning("feedpub: the temporary fragment file failed (%s): its items are rendered again when needed",
                    error.strerror or error)
        try:
            fd = self._new_file()
        except OSError:
            return
        os.close(self._fd)
        self._unmap()
        self._fd, self._index, self._end, self._dead = fd, {}, 0, 0


_RUN_BYTES = 1 << 20


def _runs(spans: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Fragments (by place, in file order) in runs that lie end to end, each read with one `pread`:
    items rendered together were put together, so a third of an archive's reads go (up to 1 MiB a
    read)."""
    runs: list[list[tuple[int, str]]] = []
    end = -1
    start = 0
    for span in spans:
        offset = span[0] >> _LENGTH_BITS
        if offset == end and offset + (span[0] & _LENGTH) - start <= _RUN_BYTES:
            runs[-1].append(span)
        else:
            runs.append([span])
            start = offset
        end = offset + (span[0] & _LENGTH)
    return runs


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
