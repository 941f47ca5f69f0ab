"""The SQLite databases behind the stores: one per article folder and kind of store.

A store is only an accelerator. Each database holds one table and the key it was filled under
(`keys.py`); when the key changes (new code, settings or library versions) the table is dropped
and made anew rather than trusted.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

_BATCH = 500  # SQLite's default limit on host parameters is 999


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "feedpub"


def cache_path(cache_dir: Path, kind: str, root: Path, suffix: str = ".sqlite3") -> Path:
    """`<cache_dir>/<kind>-<digest of the folder's absolute path><suffix>`."""
    name = hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    return cache_dir / f"{kind}-{name}{suffix}"


def open_cache(path: Path, *, table: str, columns: str, schema: str) -> sqlite3.Connection:
    """Open (creating) a cache database; its table starts empty if it was filled under another schema.

    The connection is used from worker threads, one at a time: callers hold their own lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None or row[0] != schema:
        # Dropped, not emptied: a new version of feedpub may store other columns.
        db.execute("BEGIN")
        db.execute(f"DROP TABLE {table}")
        db.execute(f"CREATE TABLE {table} ({columns})")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (schema,))
        db.execute("COMMIT")
    return db


def keep_only(db: sqlite3.Connection, table: str, column: str, keys: Iterable[str]) -> None:
    """Delete every row whose `column` is not among `keys` (inside the caller's transaction)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key TEXT PRIMARY KEY)")
    db.execute("DELETE FROM keep")
    db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", ((key,) for key in keys))
    db.execute(f"DELETE FROM {table} WHERE {column} NOT IN (SELECT key FROM keep)")


def rows_in(db: sqlite3.Connection, query: str, keys: list[str]) -> Iterator[tuple]:
    """The rows of `query` (whose `{marks}` stands for the keys' placeholders), a batch of keys at a time."""
    for start in range(0, len(keys), _BATCH):
        batch = keys[start : start + _BATCH]
        yield from db.execute(query.format(marks=",".join("?" * len(batch))), batch)
