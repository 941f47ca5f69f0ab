"""Writing the export's files: each new file in one go, and archive documents in worker processes.

An export at 100k articles with archives writes 17,000 archive documents (2.6 GB) put together from
stored fragments: making them (a feedgen frame, ~50 reads from the fragment spool) and writing them
(the kernel's copy) was one core's work, ~9–14 s, with the other core mostly idle. With `jobs`
processes, forked once the site is built, each worker reads the fragments itself from the spool's
file (the descriptor it inherited: the parent sends where they lie, not their bytes), frames them
and writes the file; the parent only looks the places up. A document the workers cannot make (a
fragment not in the spool, the spool's file replaced since the fork) is made in the parent as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from .render.feed import Feed
from .render.fragments import ITEM_FORMATS, StoredDocument, framed_parts
from .render.outputs import Buffer
from .stores.fragment_spool import FragmentSpool, read_places
from .stores.fragment_store import Fragments
from .stores.write_behind import WriteBehind
from .workers import process_pool, signals_held, stop_now

MIN_DOCUMENTS = 500  # fewer archive documents than this are written sooner than workers start
BATCH = 16  # documents sent to a worker at once: a task's round trip costs ~100 µs of the parent's time

Job = tuple[str, str, Feed, int, list[int]]  # target, format name, frame's feed, spool descriptor, places
_BY_NAME = {fmt.name: fmt for fmt in ITEM_FORMATS}


def write_new(target: Path | str, parts: Sequence[Buffer]) -> tuple[int, int]:
    """Create `target` (it must not exist) holding the buffers one after another; its (size, mtime_ns).
    A document made of fragments is written as them, with `writev`: never joined into one body."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        _write_parts(fd, list(parts))
    finally:
        os.close(fd)
    st = os.stat(target)  # once closed: some filesystems (NFS) set the mtime as the data reaches them
    return (st.st_size, st.st_mtime_ns)


_IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16


def _write_parts(fd: int, parts: list[Buffer]) -> None:
    """Write the buffers one after another, in as few calls as the system takes."""
    if not hasattr(os, "writev"):  # pragma: no cover - every POSIX system has it
        os.write(fd, b"".join(parts))
        return
    start = 0
    while start < len(parts):
        batch = parts[start : start + _IOV_MAX]
        written = os.writev(fd, batch)
        for part in batch:  # a short write (a signal, a full disk) goes on from where it stopped
            if written < len(part):
                parts[start] = memoryview(part)[written:]
                break
            written -= len(part)
            start += 1


def spool_of(store: Fragments | None) -> FragmentSpool | None:
    """The spool a fragment store reads from first: itself, or the one a write-behind fills."""
    if isinstance(store, WriteBehind):
        return store.spool
    return store if isinstance(store, FragmentSpool) else None


class DocumentWriters:
    """Worker processes that write archive documents from the spool's file (see the module's text)."""

    def __init__(self, spool: FragmentSpool, jobs: int) -> None:
        self.spool = spool
        self.generation = spool.generation
        self._pool: ProcessPoolExecutor = process_pool(jobs)
        try:
            # Forked now, before the export's writer threads start: the workers copy no thread's locks.
            self._pool.submit(os.getpid).result()
        except BaseException:
            stop_now(self._pool)  # a fork refused after another worked: that one must not outlive us
            raise

    @classmethod
    def for_site(cls, documents: Sequence[StoredDocument], jobs: int) -> DocumentWriters | None:
        """Workers for these documents, when there are enough of them and they share one spool."""
        if jobs < 2 or len(documents) < MIN_DOCUMENTS or sys.platform != "linux":
            return None  # elsewhere `process_pool` spawns: a worker would not inherit the spool's descriptor
        spools = {id(spool): spool for document in documents if (spool := spool_of(document.renderer.store))}
        if len(spools) != 1:
            return None
        return cls(next(iter(spools.values())), jobs)

    def job(self, target: Path, document: StoredDocument) -> Job | None:
        """What a worker needs to write `document` at `target`; None when it must be made here."""
        if spool_of(document.renderer.store) is not self.spool:
            return None
        found = self.spool.locate(document.renderer.fmt.name, [entry.digest for entry in document.entries])
        if found is None:
            return None
        fd, generation, places = found
        if generation != self.generation:  # the workers hold the file the spool had when they forked
            return None
        return (str(target), document.renderer.fmt.name, document.feed, fd, places)

    def submit(self, jobs: list[Job]) -> Future[list[tuple[int, int]]]:
        return self._pool.submit(write_documents, jobs)

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers once their documents are written (`cancel`: drop those not started)."""
        with signals_held():
            self._pool.shutdown(wait=True, cancel_futures=cancel)


def write_documents(jobs: list[Job]) -> list[tuple[int, int]]:
    """In a worker: write each document, read from the spool's file; each file's (size, mtime_ns)."""
    done = []
    for target, name, feed, fd, places in jobs:
        fmt = _BY_NAME[name]
        head, tail = fmt.frame(feed, bool(places))
        done.append(write_new(target, framed_parts(head, read_places(fd, places), fmt.separator, tail)))
    return done
