"""Writing the export's files: each new file in one go, and archive documents in worker processes.

An export at 100k articles with archives writes 17,000 archive documents (2.6 GB) put together from
stored fragments: making them (a feedgen frame, ~50 reads from the fragment spool) and writing them
(the kernel's copy) was one core's work, ~9–14 s, with the other core mostly idle. With `jobs`
processes, forked once the site is built, each worker reads the fragments itself from the spool's
file (the descriptor it inherited), frames them and writes the file. The parent sends only each
document's target and path: the site and the spool's index came with the fork, so a worker finds the
document's frame, items and their places itself (looking ~2.2M places up and pickling every
document's feed for the workers took the parent ~1.3 s at 100k with archives, both cores busy). A
document the workers cannot make (the spool's file replaced since the fork, a fragment not in their
copy of the index) is made in the parent.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from .render.fragments import StoredDocument, framed_parts
from .render.outputs import Buffer, Document, LazyOutput
from .stores.fragment_spool import FragmentSpool, read_places
from .stores.fragment_store import Fragments
from .stores.write_behind import WriteBehind
from .workers import process_pool, shut_down, stop_now

MIN_DOCUMENTS = 500  # fewer archive documents than this are written sooner than workers start
BATCH = 16  # documents sent to a worker at once: a task's round trip costs ~100 µs of the parent's time

Job = tuple[str, str]  # the document's target, and its path in the site the workers were forked with

# What the workers were forked with: the spool they read from and the site they write documents of.
_FORKED: tuple[FragmentSpool, Mapping[str, Document]] | None = None


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

    def __init__(self, spool: FragmentSpool, jobs: int, site: Mapping[str, Document]) -> None:
        global _FORKED
        self.spool = spool
        self.generation = spool.generation
        self._pool: ProcessPoolExecutor = process_pool(jobs)
        _FORKED = (spool, site)
        try:
            # Forked now, before the export's writer threads start: the workers copy no thread's locks.
            self._pool.submit(os.getpid).result()
        except BaseException:
            stop_now(self._pool)  # a fork refused after another worked: that one must not outlive us
            raise
        finally:
            _FORKED = None  # the workers have it: this process need not hold the site for them

    @classmethod
    def for_site(cls, documents: Sequence[StoredDocument], jobs: int, site: Mapping[str, Document]
                 ) -> DocumentWriters | None:
        """Workers for these documents of `site`, when there are enough of them and they share one spool."""
        if jobs < 2 or len(documents) < MIN_DOCUMENTS or sys.platform != "linux":
            return None  # elsewhere `process_pool` spawns: a worker would not inherit the spool's descriptor
        spools = {id(spool): spool for document in documents if (spool := spool_of(document.renderer.store))}
        if len(spools) != 1:
            return None
        return cls(next(iter(spools.values())), jobs, site)

    def job(self, target: Path, path: str, document: StoredDocument) -> Job | None:
        """What a worker needs to write the site's document at `path` (`document`, its stored parts)
        at `target`; None when it must be made here."""
        if spool_of(document.renderer.store) is not self.spool:
            return None
        if self.spool.generation != self.generation:  # the workers hold the file the spool had when they forked
            return None
        return (str(target), path)

    def submit(self, jobs: list[Job]) -> Future[list[tuple[int, int] | None]]:
        return self._pool.submit(write_documents, jobs)

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers once their documents are written (`cancel`: drop those not started)."""
        shut_down(self._pool, cancel=cancel)


def write_documents(jobs: list[Job]) -> list[tuple[int, int] | None]:
    """In a worker: write each document, read from the spool's file; each file's (size, mtime_ns), or
    None for one whose fragments are not all in the spool as it was at the fork (the parent makes it)."""
    assert _FORKED is not None, "a document writer runs in a process forked by DocumentWriters"
    spool, site = _FORKED
    done: list[tuple[int, int] | None] = []
    for target, path in jobs:
        output = site[path]
        document = output.stored if isinstance(output, LazyOutput) else None
        assert document is not None, path
        fmt = document.renderer.fmt
        places = spool.places_in_fork(fmt.name, [entry.digest for entry in document.entries])
        if places is None:
            done.append(None)
            continue
        head, tail = fmt.frame(document.feed, bool(places))
        done.append(write_new(target, framed_parts(head, read_places(spool.fd_in_fork, places), fmt.separator, tail)))
    return done
