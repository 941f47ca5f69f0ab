"""A persistent cache of parsed article files, so an unchanged file is never parsed twice.

Rows are keyed by file identity — relative path, size, mtime (ns) and inode — in one SQLite
database per article folder under `$XDG_CACHE_HOME/feedpub` (default `~/.cache/feedpub`). The
whole cache is dropped when anything that shapes a parse changes (`keys.StoreKeys.parses`). A
file modified less than a second ago is not cached, since a second write within the clock's
granularity could keep the same mtime.

Each good file's row holds two blobs of plain values (`packing.py`: msgpack behind a digest, so
nothing read back can run code and flipped bytes are found): its small `Entry` (see `entry_row`),
which a warm load streams for every file, and its full outcome, fetched (by path and digest) only
for articles that get rendered. A blob that does not open is dropped and its file parsed again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..reading.article import Entry
from ..reading.article_file import ParsedFile
from ..reading.folder import Identity, Outcome
from .databases import Reopening, cache_path, keep_only, remove_unclaimed, rows_in, warn_corrupt
from .packing import (  # noqa: F401  # entry_from_row and SharedValues are used through this module
    Corrupt,
    EntryRow,
    SharedValues,
    entry_from_row,
    entry_row,
    opened,
    outcome_from,
    outcome_values,
    packed_outcome,
    seal,
    sealed,
)

# One parsed file as stored: path, identity, entry blob (None for a bad file), digest (None for a
# bad file) and the outcome blob (a ParsedFile, or the reason the file is bad).
Row = tuple[str, Identity, "bytes | None", "str | None", bytes]
RACY_SECONDS = 1.0


class ParseCache(Reopening):
    def __init__(self, path: Path, *, key: str) -> None:
        self.path = path
        self._spec = {"table": "files", "schema": key,
                      "columns": "path TEXT PRIMARY KEY, size INT, mtime INT, inode INT, entry BLOB, digest TEXT, "
                                 "outcome BLOB"}
        self._open_claimed()
        # Rebuilds run in worker threads, one at a time; the lock makes that a guarantee.
        self._lock = threading.Lock()

    @classmethod
    def for_folder(cls, cache_dir: Path, root: Path, *, key: str) -> ParseCache | None:
        """The cache of one article folder, or None (with no error) when it cannot be opened."""
        try:
            path = cache_path(cache_dir, "parsed", root, key)
            store = cls(path, key=key)
            remove_unclaimed(path, "parsed", root)
            return store
        except (OSError, sqlite3.Error):
            return None  # a cache is an accelerator: without one, everything is parsed

    def entries(self) -> Iterator[tuple[str, Identity, bytes]]:
        """Every cached (path, identity, entry or bad-file outcome), a batch at a time to bound memory.

        A good file gives its `Entry` blob, a bad one its reason's; the full articles stay
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
            except sqlite3.Error as error:
                self._failed(error)
                return
            if not rows:
                return
            for _, path, size, mtime, inode, blob in rows:
                yield path, (size, mtime, inode), blob
            after = rows[-1][0]

    def outcomes(self, wanted: Iterable[tuple[str, str]]) -> dict[str, bytes]:
        """Full outcomes (blobs) of (path, digest) pairs; a path whose row has another digest is left out."""
        found: dict[str, bytes] = {}
        pairs = dict(wanted)
        try:
            with self._lock:
                for path, digest, outcome in rows_in(
                        self._db, "SELECT path, digest, outcome FROM files WHERE path IN ({marks})", list(pairs)):
                    if digest is not None and digest == pairs[path]:
                        found[path] = outcome
        except sqlite3.Error as error:
            self._failed(error)
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
        except sqlite3.Error as error:
            with self._lock:
                try:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            self._failed(error)
            return set()
        return {row[0] for row in settled}

    def corrupt(self, rel: str | None = None) -> None:
        """A row whose blob did not open (see `packing`): warn once, and drop the row of `rel`, if
        given (a row found in a load's stream is replaced when its file is parsed again)."""
        warn_corrupt(self.path)
        if rel is not None:
            self.forget(rel)

    def forget(self, rel: str) -> None:
        if not storable(rel):
            return
        try:
            with self._lock:
                self._db.execute("DELETE FROM files WHERE path = ?", (rel,))
        except sqlite3.Error as error:
            self._failed(error)


def storable(rel: str) -> bool:
    """A file name that is not valid UTF-8 (surrogate-escaped bytes) cannot be a SQLite text key:
    such a file is simply parsed every time."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Blobs are sealed under their file's path and column, so one found in another row does not open.

def pack_entry(rel: str, entry: Entry) -> bytes:
    """A good file's entry as its row keeps it."""
    return pack_entry_row(rel, entry_row(entry))


def pack_entry_row(rel: str, row: EntryRow) -> bytes:
    """`pack_entry` from the entry's values (`packing.entry_row_of`)."""
    return sealed(row, rel + "\0entry")


def pack_outcome(rel: str, outcome: Outcome) -> bytes:
    """A file's whole outcome as its row keeps it."""
    return sealed(outcome_values(outcome), rel + "\0outcome")


def pack_parsed(rel: str, article: bytes, warnings: tuple[str, ...]) -> bytes:
    """`pack_outcome` of a good file from its article's values already packed (`packed_outcome`)."""
    return seal(packed_outcome(article, warnings), rel + "\0outcome")


def load_entry(rel: str, blob: bytes) -> EntryRow:
    return opened(blob, rel + "\0entry")


def load_outcome(rel: str, blob: bytes) -> Outcome:
    """A stored outcome: the parsed file, the reason it is bad, or None. Raises `Corrupt`."""
    return outcome_from(opened(blob, rel + "\0outcome"))


def load_entry_or_reason(rel: str, blob: bytes) -> EntryRow | str | None:
    """What `entries()` gives for a file: a good file's entry row, else its reason (or None).
    Raises `Corrupt`; the row is checked again, value by value, by `entry_from_row`."""
    try:
        values = opened(blob, rel + "\0entry")
    except Corrupt:
        values = opened(blob, rel + "\0outcome")  # a bad file's row gives its outcome
    if isinstance(values, tuple) and values and isinstance(values[0], str):
        return values  # an entry row: `entry_from_row` checks each value
    outcome = outcome_from(values)
    if isinstance(outcome, ParsedFile):
        raise Corrupt("a whole article where an entry belongs")
    return outcome
