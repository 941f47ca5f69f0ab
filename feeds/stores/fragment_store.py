"""A persistent store of rendered item fragments, so a restart does not re-render every item.

Keys are the format and a digest of the article's value; the whole store is dropped when what
shapes an item's bytes changes (`keys.StoreKeys.fragments`: the renderers, the settings they read,
the feedgen/lxml versions). Like the parse cache it is only an accelerator: any error means "not
stored".
Each body is kept after a digest of it and its key (`packing.digest`): a body whose bytes were flipped on disk is
dropped (one warning) and its item rendered again, never spliced into a feed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from .databases import Reopening, cache_path, keep_only, remove_unclaimed, rows_in, warn_corrupt
from .packing import DIGEST_BYTES, digest


class Fragments(Protocol):
    """What the renderers ask of a place that keeps fragments: this store, or for one process
    only, `fragment_spool.FragmentSpool`."""

    def get(self, keys: list[str]) -> dict[str, bytes]: ...

    def present(self, keys: list[str]) -> set[str]: ...

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None: ...

    def keep_only(self, keys: Iterable[str]) -> None: ...


class FragmentStore(Reopening):
    def __init__(self, path: Path, *, key: str) -> None:
        self.path = path
        self._spec = {"table": "fragments", "columns": "key TEXT PRIMARY KEY, body BLOB", "schema": key}
        self._open_claimed()
        self._lock = threading.Lock()
        self._folder: object = None  # a temporary store's folder, removed with it

    @classmethod
    def for_folder(cls, cache_dir: Path, root: Path, *, key: str) -> FragmentStore | None:
        try:
            path = cache_path(cache_dir, "fragments", root, key)
            store = cls(path, key=key)
            remove_unclaimed(path, "fragments", root)
            return store
        except (OSError, sqlite3.Error):
            return None

    def holds_any(self) -> bool:
        """Whether the store has any fragment: one deleted, or made anew after damage, has none."""
        try:
            with self._lock:
                return self._db.execute("SELECT 1 FROM fragments LIMIT 1").fetchone() is not None
        except sqlite3.Error as error:
            self._failed(error)
            return False

    def get(self, keys: list[str]) -> dict[str, bytes]:
        """The fragments of these keys that the store holds intact."""
        try:
            with self._lock:
                rows = list(rows_in(self._db, "SELECT key, body FROM fragments WHERE key IN ({marks})", keys))
        except sqlite3.Error as error:
            self._failed(error)
            return {}
        found, damaged = {}, []
        for key, sealed in rows:
            body = _opened(key, sealed)
            if body is None:
                damaged.append(key)
            else:
                found[key] = body
        if damaged:
            self._drop(damaged)
        return found

    def present(self, keys: list[str]) -> set[str]:
        """Which of these keys the store holds intact. Their bodies are read to check them: an archive
        document is put together from the store long after this says its fragments are there."""
        return set(self.get(keys))

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)",
                                     ((key, digest(body, key) + body) for key, body in rows))
                self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            self._failed(error)

    def _drop(self, keys: list[str]) -> None:
        warn_corrupt(self.path)
        try:
            with self._lock:
                self._db.executemany("DELETE FROM fragments WHERE key = ?", ((key,) for key in keys))
        except sqlite3.Error as error:
            self._failed(error)

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop fragments of articles no feed shows (after a full build)."""
        try:
            with self._lock:
                self._db.execute("BEGIN")
                keep_only(self._db, "fragments", "key", keys)
                self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            self._failed(error)

    def _rollback(self) -> None:
        with self._lock:
            try:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass


def _opened(key: str, sealed: object) -> bytes | None:
    """A stored body once its digest matches; None when it is damaged."""
    if not isinstance(sealed, bytes) or len(sealed) < DIGEST_BYTES:
        return None
    body = sealed[DIGEST_BYTES:]
    return body if digest(body, key) == sealed[:DIGEST_BYTES] else None
