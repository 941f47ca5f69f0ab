"""The SQLite databases behind the stores: one per article folder, kind of store and key.

A store is only an accelerator. Each database holds one table and the key it was filled under
(`keys.py`: the code, settings and library versions its values depend on), and its file is named
after that key too: two processes of one folder with other settings (an export with its base URL
beside a preview without one) each read and write their own file. Sharing one, the second to open
it dropped the table and refilled it under its own key while the first kept reading and writing it:
items carrying the other's links went out from both. A process holds a shared lock on its file's
lock (`claim`); the files of other keys that no process holds are removed (`remove_unclaimed`), so a
new version or a changed setting does not leave the old file behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import sqlite3
import stat
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path

_BATCH = 500  # SQLite's default limit on host parameters is 999
log = logging.getLogger("feedpub")
_warned: set[str] = set()  # stores already reported damaged by this process: one warning each


class UnsafeFolder(OSError):
    """A cache or state folder that someone else could write: what it holds cannot be trusted."""


def private_folder(folder: Path) -> Path:
    """Make `folder` (mode 0700) if it is missing; refuse one that another user can write.

    Whoever can write the cache folder decides what the next run reads back: a store holds only
    plain values (`packing.py`), but a planted state could still publish what no article says.
    """
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.geteuid():
        raise UnsafeFolder(f"the cache folder {folder} belongs to another user (uid {info.st_uid}), who could "
                           "plant what feedpub reads back: use a folder of your own (--cache-dir) or --no-cache")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeFolder(f"the cache folder {folder} can be written by other users (mode "
                           f"{stat.S_IMODE(info.st_mode):04o}), who could plant what feedpub reads back: "
                           f"run `chmod 700 {folder}`, or use another folder (--cache-dir) or --no-cache")
    return folder


def warn_corrupt(path: Path) -> None:
    """One warning per store and process: a damaged store is dropped and made again, never used."""
    name = str(path)
    if name not in _warned:
        _warned.add(name)
        log.warning("%s was damaged (its bytes do not match what feedpub wrote): what it held is made again "
                    "from the article files", name)


def is_corruption(error: sqlite3.Error) -> bool:
    """A database file that is damaged or no database at all (truncated, overwritten)."""
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def remove_database(path: Path) -> None:
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            name.unlink()
        except FileNotFoundError:
            pass


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "feedpub"


def _folder_digest(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:20]


def cache_path(cache_dir: Path, kind: str, root: Path, key: str | None = None, *, suffix: str = ".sqlite3") -> Path:
    """`<cache_dir>/<kind>-<digest of the folder's absolute path>-<digest of key><suffix>`; without a
    key (what is kept across settings and versions: the hub's subscriptions), no `-<digest of key>`."""
    name = f"{kind}-{_folder_digest(root)}"
    if key is not None:
        name += "-" + hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_dir / f"{name}{suffix}"


def _lock_path(path: Path) -> Path:
    # Beside the database, named so that no glob of the database's own files (`fragments-*`,
    # `*.sqlite3*`) takes it in.
    return path.with_name(f".{path.name.removesuffix('.sqlite3')}.lock")


def claim(path: Path) -> int:
    """A shared lock on the lock file of the database at `path`, held while the descriptor returned is
    open (for the process's life: the stores keep their connection as long). A flock on a file of its
    own, never on the database: closing any descriptor of the database would drop SQLite's locks."""
    lock = _lock_path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while another process removes the file
            held = os.fstat(fd)
            now = os.stat(lock)
        except FileNotFoundError:  # removed meanwhile, by `remove_unclaimed`: claim the new one
            os.close(fd)
            continue
        except BaseException:
            os.close(fd)
            raise
        if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
            return fd
        os.close(fd)  # the lock of a file removed meanwhile


def remove_unclaimed(path: Path, kind: str, root: Path) -> None:
    """Remove the databases of this folder and kind under other keys that no process holds, and the
    one named before keys were in the names (it has no lock: only a feedpub older than this would use
    it). Each is removed holding its lock, so a process claiming it meanwhile waits, then makes it anew."""
    folder = _folder_digest(root)
    remove_database(path.with_name(f"{kind}-{folder}.sqlite3"))
    for other in path.parent.glob(f"{kind}-{folder}-*.sqlite3"):
        if other == path:
            continue
        lock = _lock_path(other)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # in use
            os.close(fd)
            continue
        try:
            remove_database(other)
            lock.unlink(missing_ok=True)
        except OSError:
            pass
        finally:
            os.close(fd)


def open_cache(path: Path, *, table: str, columns: str, schema: str) -> sqlite3.Connection:
    """Open (creating) a cache database; its table starts empty if it was filled under another schema.

    The connection is used from worker threads, one at a time: callers hold their own lock. A file
    that is damaged or no database is removed (with one warning) and made anew: it only accelerates.
    """
    try:
        return _open(path, table=table, columns=columns, schema=schema)
    except sqlite3.DatabaseError as error:
        if not is_corruption(error):
            raise
    warn_corrupt(path)
    remove_database(path)
    return _open(path, table=table, columns=columns, schema=schema)


def _open(path: Path, *, table: str, columns: str, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        # The table's first page too: a file cut short past its header fails here, not mid-build.
        db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchone()
        if row is None or row[0] != schema:
            # Dropped, not emptied: a new version of feedpub may store other columns.
            db.execute("BEGIN")
            db.execute(f"DROP TABLE {table}")
            db.execute(f"CREATE TABLE {table} ({columns})")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (schema,))
            db.execute("COMMIT")
    except sqlite3.Error:
        db.close()
        raise
    return db


class Reopening:
    """What a store does when its database turns out damaged while in use: it is removed and made
    anew (one warning), so the next run is quick again; the work at hand is simply not stored."""

    path: Path
    _db: sqlite3.Connection
    _spec: dict[str, str]  # open_cache's table, columns and schema
    _claim: int  # the descriptor holding `claim`'s lock

    def _open_claimed(self) -> None:
        """Claim the database at `self.path` (`claim`: held as long as the store, the process's life, so
        no other process removes its file meanwhile) and open it under `self._spec`."""
        self._claim = claim(self.path)
        try:
            self._db = open_cache(self.path, **self._spec)
        except BaseException:
            os.close(self._claim)
            raise
        # Let go with the store (a process that makes several, as the tests do, would hold each lock).
        weakref.finalize(self, os.close, self._claim)

    def _failed(self, error: sqlite3.Error) -> None:
        """Called, holding no lock, after any database error."""
        if not is_corruption(error):
            return  # locked, full disk, ...: the store stays; this operation is not stored
        warn_corrupt(self.path)
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        remove_database(self.path)
        try:
            self._db = open_cache(self.path, **self._spec)
        except (OSError, sqlite3.Error):
            self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._db.execute(f"CREATE TABLE {self._spec['table']} ({self._spec['columns']})")


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
