"""A persistent cache of parsed article files, so an unchanged file is never parsed twice.

Rows are keyed by file identity — relative path, size, mtime (ns) and inode — in one SQLite
database per article folder under `$XDG_CACHE_HOME/feedpub` (default `~/.cache/feedpub`). The
whole cache is dropped when anything that shapes a parse changes (`keys.StoreKeys.parses`). A
file modified less than a second ago is not cached, since a second write within the clock's
granularity could keep the same mtime.

Each good file's row holds two pickles: its small `Entry` (as a plain row, see `entry_row`),
which a warm load streams for every file, and its full outcome, fetched (by path and digest) only
for articles that get rendered.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..reading.article import Entry, Provider
from ..reading.folder import Identity, Outcome
from .databases import cache_path, keep_only, open_cache, rows_in

# One parsed file as stored: path, identity, entry pickle (None for a bad file), digest (None for a
# bad file) and the outcome pickle (a ParsedFile, or the reason the file is bad).
Row = tuple[str, Identity, "bytes | None", "str | None", bytes]
# An entry as plain values (its file is the row's key): url, published (µs since 1970), provider
# name and domain, topics, draft, digest, warnings.
EntryRow = tuple[str, int, str, str, tuple[str, ...], bool, str, tuple[str, ...]]
# One object per distinct provider and topic list, shared by every entry that has it.
SharedValues = tuple[dict[tuple[str, str], Provider], dict[tuple[str, ...], tuple[str, ...]]]
RACY_SECONDS = 1.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class ParseCache:
    def __init__(self, path: Path, *, key: str) -> None:
        self._db = open_cache(path, table="files", schema=key,
                              columns="path TEXT PRIMARY KEY, size INT, mtime INT, inode INT, entry BLOB, "
                                      "digest TEXT, outcome BLOB")
        # Rebuilds run in worker threads, one at a time; the lock makes that a guarantee.
        self._lock = threading.Lock()

    @classmethod
    def for_folder(cls, cache_dir: Path, root: Path, *, key: str) -> ParseCache | None:
        """The cache of one article folder, or None (with no error) when it cannot be opened."""
        try:
            return cls(cache_path(cache_dir, "parsed", root), key=key)
        except (OSError, sqlite3.Error):
            return None  # a cache is an accelerator: without one, everything is parsed

    def entries(self) -> Iterator[tuple[str, Identity, bytes]]:
        """Every cached (path, identity, entry or bad-file outcome), a batch at a time to bound memory.

        A good file gives its pickled `Entry`, a bad one its pickled reason; the full articles stay
        on disk.
        """
        after = 0
        while True:
            try:
                with self._lock:
                    rows = self._db.execute(
                        "SELECT rowid, path, size, mtime, inode, "
                        "CASE WHEN entry IS NULL THEN outcome ELSE entry END "
                        "FROM files WHERE rowid > ? ORDER BY rowid LIMIT 2000", (after,)).fetchall()
            except sqlite3.Error:
                return
            if not rows:
                return
            for _, path, size, mtime, inode, blob in rows:
                yield path, (size, mtime, inode), blob
            after = rows[-1][0]

    def outcomes(self, wanted: Iterable[tuple[str, str]]) -> dict[str, bytes]:
        """Pickled full outcomes of (path, digest) pairs; a path whose row has another digest is left out."""
        found: dict[str, bytes] = {}
        pairs = dict(wanted)
        try:
            with self._lock:
                for path, digest, outcome in rows_in(
                        self._db, "SELECT path, digest, outcome FROM files WHERE path IN ({marks})", list(pairs)):
                    if digest is not None and digest == pairs[path]:
                        found[path] = outcome
        except sqlite3.Error:
            return {}
        return found

    def will_store(self, rel: str, identity: Identity) -> bool:
        """Would `store` keep this file? Not when it changed within the last second, or its name can't be a key."""
        return time.time_ns() - identity[1] > int(RACY_SECONDS * 1e9) and storable(rel)

    def store(self, rows: Iterable[Row], *, keep: Iterable[str] | None = None) -> set[str]:
        """Record parsed files; with `keep`, drop rows of every other path (files now gone).

        Returns the paths stored, so their full articles need not stay in memory.
        """
        settled = [(rel, *ident, entry, digest, outcome) for rel, ident, entry, digest, outcome in rows
                   if self.will_store(rel, ident)]
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", settled)
                if keep is not None:
                    keep_only(self._db, "files", "path", (rel for rel in keep if storable(rel)))
                self._db.execute("COMMIT")
        except sqlite3.Error:
            with self._lock:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            return set()
        return {row[0] for row in settled}

    def forget(self, rel: str) -> None:
        if not storable(rel):
            return
        try:
            with self._lock:
                self._db.execute("DELETE FROM files WHERE path = ?", (rel,))
        except sqlite3.Error:
            pass


def storable(rel: str) -> bool:
    """A file name that is not valid UTF-8 (surrogate-escaped bytes) cannot be a SQLite text key:
    such a file is simply parsed every time."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def entry_row(entry: Entry) -> EntryRow:
    """The entry as plain values: a few times quicker to unpickle for 100,000 files than
    dataclasses, datetimes and time zones."""
    micros = (entry.published - _EPOCH) // _MICROSECOND
    return (entry.url, micros, entry.provider.name, entry.provider.domain, entry.topics, entry.draft, entry.digest,
            entry.warnings)


def entry_from_row(row: EntryRow, source: str, shared: SharedValues) -> Entry:
    """The entry back from `entry_row`; `shared` maps equal providers and topic lists to one object
    each, so 100,000 entries hold a few hundred of them."""
    url, micros, name, domain, topics, draft, digest, warnings = row
    providers, topic_lists = shared
    provider = providers.get((name, domain))
    if provider is None:
        provider = providers[(name, domain)] = Provider(name, domain)
    topics = topic_lists.setdefault(topics, topics)
    return Entry(url, _EPOCH + _MICROSECOND * micros, provider, topics, draft, digest, source, warnings)


def dump(value: Outcome | EntryRow) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def load_outcome(blob: bytes) -> Outcome:
    """A stored outcome: the parsed file, the reason it is bad, or None."""
    return pickle.loads(blob)


def load_entry_row(blob: bytes) -> EntryRow:
    return pickle.loads(blob)


def load_entry_or_reason(blob: bytes) -> EntryRow | str | None:
    """What `entries()` gives for a file: a good file's entry row, else its reason (or None)."""
    return pickle.loads(blob)
