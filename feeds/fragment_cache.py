"""A persistent cache of rendered item fragments, so a restart does not re-render every item.

Keys are the format and a digest of the article's value; the whole cache is dropped when the
settings, feedpub's code or the feedgen/lxml versions change, since any of them can change
the bytes. Like the parse cache it is only an accelerator: any error means "not cached".
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from .cache_db import cache_path, keep_only, open_cache, rows_in
from .settings import Settings


def code_digest(settings: Settings) -> str:
    """Digest of what shapes rendered bytes besides the articles: settings, feedpub's code, and the
    versions of the libraries that render (feedgen, lxml) or name things (python-slugify)."""
    from importlib.metadata import version

    import lxml.etree

    libraries = (version("feedgen"), lxml.etree.LXML_VERSION, version("python-slugify"))
    digest = hashlib.sha256(repr((settings, libraries)).encode())
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()


class FragmentCache:
    def __init__(self, path: Path, settings: Settings) -> None:
        self._db = open_cache(path, table="fragments", columns="key TEXT PRIMARY KEY, body BLOB",
                              schema=code_digest(settings))
        self._lock = threading.Lock()

    @classmethod
    def for_folder(cls, cache_dir: Path, root: Path, settings: Settings) -> FragmentCache | None:
        try:
            return cls(cache_path(cache_dir, "fragments", root), settings)
        except (OSError, sqlite3.Error):
            return None

    def get(self, keys: list[str]) -> dict[str, bytes]:
        try:
            with self._lock:
                found = dict(rows_in(self._db, "SELECT key, body FROM fragments WHERE key IN ({marks})", keys))
        except sqlite3.Error:
            return {}
        return found

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
