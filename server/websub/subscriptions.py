"""The hub's persistent state: verified subscriptions and what was last announced of each topic (SQLite).

It lives in the cache folder the server already uses, in a `websub/` folder of its own made
0700, the database 0600 (it holds subscribers' secrets; SQLite gives its -wal and -shm files the
database's mode). Unlike the caches beside it, it is not an accelerator: it is never dropped
on a schema change, and a restart carries every subscription over.

Used from the event loop's thread only, one short statement at a time (an index on the topic
keeps a delivery's lookup small); the lock covers the rare call from another thread.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from feedpub.stores.databases import cache_path

SCHEMA = 1
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subscriptions (
    topic TEXT NOT NULL,
    callback TEXT NOT NULL,
    host TEXT NOT NULL,              -- the callback's host, for the per-host limit
    secret BLOB,                     -- NULL: deliveries are not signed
    lease_seconds INTEGER NOT NULL,
    expires_at REAL NOT NULL,        -- Unix time the lease ends
    PRIMARY KEY (topic, callback)
);
CREATE INDEX IF NOT EXISTS subscriptions_host ON subscriptions (host);
CREATE TABLE IF NOT EXISTS announced (topic TEXT PRIMARY KEY, etag TEXT NOT NULL);
"""


class StoreError(RuntimeError):
    """The store cannot be opened; the message names the file."""


@dataclass(frozen=True, slots=True)
class Subscription:
    topic: str  # the topic's canonical URL
    callback: str
    host: str
    secret: bytes | None
    lease_seconds: int
    expires_at: float


def store_path(cache_dir: Path, root: Path) -> Path:
    """`<cache_dir>/websub/hub-<digest of the article folder>.sqlite3`: one hub per published folder,
    like the server's other state."""
    return cache_path(cache_dir / "websub", "hub", root)


class Store:
    def __init__(self, path: Path | None) -> None:
        """Open (creating) the store at `path`; None keeps it in memory (nothing survives a restart)."""
        self.path = path
        try:
            if path is not None:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.chmod(path.parent, 0o700)
                # Created 0600 before SQLite opens it, so the secrets are never readable by others.
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
                os.chmod(path, 0o600)
            self._db = sqlite3.connect(":memory:" if path is None else path, timeout=10, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_TABLES)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
            elif row[0] != str(SCHEMA):
                raise StoreError(f"{path}: made by another version of feedpub (schema {row[0]}, expected {SCHEMA})")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the WebSub store {path}: {error}") from None
        self._lock = threading.Lock()

    # -- subscriptions -----------------------------------------------------------------------

    def save(self, subscription: Subscription) -> None:
        """Add a verified subscription, or renew one (new lease and secret: the spec's re-subscribe)."""
        s = subscription
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO subscriptions VALUES (?, ?, ?, ?, ?, ?)",
                             (s.topic, s.callback, s.host, s.secret, s.lease_seconds, s.expires_at))

    def remove(self, topic: str, callback: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM subscriptions WHERE topic = ? AND callback = ?",
                                    (topic, callback)).rowcount > 0

    def get(self, topic: str, callback: str) -> Subscription | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM subscriptions WHERE topic = ? AND callback = ?",
                                   (topic, callback)).fetchone()
        return Subscription(*row) if row else None

    def active(self, topic: str, now: float) -> list[Subscription]:
        """The subscriptions of `topic` whose lease has not ended, in callback order (deterministic)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM subscriptions WHERE topic = ? AND expires_at > ? "
                                    "ORDER BY callback", (topic, now)).fetchall()
        return [Subscription(*row) for row in rows]

    def all(self) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM subscriptions ORDER BY topic, callback").fetchall()
        return [Subscription(*row) for row in rows]

    def count(self, host: str | None = None) -> int:
        """Subscriptions stored, in all or for one callback host (expired ones until `expire` runs)."""
        with self._lock:
            if host is None:
                return self._db.execute("SELECT COUNT(*) FROM subscriptions").fetchone()[0]
            return self._db.execute("SELECT COUNT(*) FROM subscriptions WHERE host = ?", (host,)).fetchone()[0]

    def expire(self, now: float) -> list[Subscription]:
        """Delete the subscriptions whose lease has ended; returns them."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM subscriptions WHERE expires_at <= ?", (now,)).fetchall()
            if rows:
                self._db.execute("DELETE FROM subscriptions WHERE expires_at <= ?", (now,))
        return [Subscription(*row) for row in rows]

    # -- what was announced ------------------------------------------------------------------

    def announced(self) -> dict[str, str] | None:
        """Topic URL → ETag of the version last announced (delivered and pinged); None before the
        first announcement ever, which is only recorded (see `WebSub`)."""
        with self._lock:
            started = self._db.execute("SELECT 1 FROM meta WHERE key = 'announced'").fetchone()
            rows = self._db.execute("SELECT topic, etag FROM announced").fetchall()
        return dict(rows) if started else None

    def record_announced(self, changed: Mapping[str, str], gone: Iterable[str]) -> None:
        """Note new versions (topic → ETag) and topics no longer published, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('announced', '1')")
                self._db.executemany("INSERT OR REPLACE INTO announced VALUES (?, ?)", changed.items())
                self._db.executemany("DELETE FROM announced WHERE topic = ?", ((topic,) for topic in gone))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()
