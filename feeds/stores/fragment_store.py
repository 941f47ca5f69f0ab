"""A persistent store of rendered item fragments, so a restart does not re-render every item.

Keys are the format and a digest of the article's value; the whole store is dropped when what
shapes an item's bytes changes (`keys.StoreKeys.fragments`: the renderers, the settings they read,
the feedgen/lxml versions). Like the parse cache it is only an accelerator: any error means "not
stored".
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from .databases import cache_path, keep_only, open_cache, rows_in


class FragmentStore:
    def __init__(self, path: Path, *, key: str) -> None:
        self._db = open_cache(path, table="fragments", columns="key TEXT PRIMARY KEY, body BLOB", schema=key)
        self._lock = threading.Lock()
        self._folder: object = None  # a temporary store's folder, removed with it

    @classmethod
    def for_folder(cls, cache_dir: Path, root: Path, *, key: str) -> FragmentStore | None:
        try:
            return cls(cache_path(cache_dir, "fragments", root), key=key)
        except (OSError, sqlite3.Error):
            return None

    @classmethod
    def temporary(cls, *, key: str) -> FragmentStore | None:
        """A store for this process only (no cache to keep between runs): archive documents are put
        together from stored fragments when asked for, and holding them all in memory would not do.
        It goes with the store object."""
        import tempfile

        folder = tempfile.TemporaryDirectory(prefix="feedpub-fragments-")
        try:
            store = cls(Path(folder.name) / "fragments.sqlite3", key=key)
        except (OSError, sqlite3.Error):
            folder.cleanup()
            return None
        store._folder = folder
        return store

    def get(self, keys: list[str]) -> dict[str, bytes]:
        try:
            with self._lock:
                found = dict(rows_in(self._db, "SELECT key, body FROM fragments WHERE key IN ({marks})", keys))
        except sqlite3.Error:
            return {}
        return found

    def present(self, keys: list[str]) -> set[str]:
        """Which of these keys the store holds (their bodies are not read)."""
        try:
            with self._lock:
                return {key for (key,) in rows_in(self._db, "SELECT key FROM fragments WHERE key IN ({marks})", keys)}
        except sqlite3.Error:
            return set()

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
        try:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO fragments VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Drop fragments of articles no feed shows (after a full build)."""
        try:
            with self._lock:
                self._db.execute("BEGIN")
                keep_only(self._db, "fragments", "key", keys)
                self._db.execute("COMMIT")
        except sqlite3.Error:
            self._rollback()

    def _rollback(self) -> None:
        with self._lock:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
