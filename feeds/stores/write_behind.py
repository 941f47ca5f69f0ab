"""The fragment store behind a spool, for a cold export that fills its cache.

Putting 400,000 fragments (1.1 GB at 100k articles with archives) into SQLite goes at ~77 MB/s: done as
they were rendered, it held the rendering up for ten seconds, and the export's writing after it read
them back out of SQLite. Here fragments go to this process's spool (`fragment_spool.FragmentSpool`, an
unlinked file), which the build renders into and the export reads its documents from, and a thread
copies them into the store meanwhile: the copy overlaps the rest of the build and the writing of the
export. `flush` waits for it, so the next run finds every fragment stored.

It has the interface the renderers use (`Fragments`). A fragment's key is its format and its article's
digest, so the spool and the store never disagree about a key's bytes: `get` asks the spool first and
the store for the rest. Whatever fails is "not stored", as in either store.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Container, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from .fragment_spool import FragmentSpool, SpoolAppender
from .fragment_store import Fragments

log = logging.getLogger("feedpub")

# ("copy", keys), ("place", (kind, names)): keys `kind:name` to copy; ("keep", keys), ("keep kinds", {kind:
# names}): the keys to keep; or None: stop
_Job = tuple[str, Any] | None


class WriteBehind:
    def __init__(self, spool: FragmentSpool, store: Fragments) -> None:
        self.spool = spool
        self.store = store
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._thread = threading.Thread(target=self._copy, name="feedpub-fragments", daemon=True)
        self._thread.start()

    @classmethod
    def over(cls, store: Fragments) -> Fragments:
        """`store` behind a new spool; `store` itself when no spool can be made."""
        spool = FragmentSpool.temporary()
        return store if spool is None else cls(spool, store)

    def get(self, keys: list[str]) -> dict[str, bytes]:
        found = self.spool.get(keys)
        rest = [key for key in keys if key not in found]
        if rest:
            found.update(self.store.get(rest))
        return found

    def present(self, keys: list[str]) -> set[str]:
        found = self.spool.present(keys)
        rest = [key for key in keys if key not in found]
        return found | self.store.present(rest) if rest else found

    def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
        rows = list(rows)
        self.spool.put(rows)
        self._jobs.put(("copy", [key for key, _ in rows]))

    def appending(self) -> AbstractContextManager[SpoolAppender | None]:
        return self.spool.appending()

    def place(self, kind: str, names: Sequence[str], places: Sequence[int], generation: int) -> bool:
        if not self.spool.place(kind, names, places, generation):
            return False
        self._jobs.put(("place", (kind, list(names))))  # the keys are made in the copying thread
        return True

    def keep_only(self, keys: Iterable[str]) -> None:
        keep = set(keys)
        self.spool.keep_only(keep)
        self._jobs.put(("keep", keep))  # after the copies already asked for, in order

    def keep_kinds(self, keep: Mapping[str, Container[str]]) -> None:
        self.spool.keep_kinds(keep)
        self._jobs.put(("keep kinds", keep))  # the store's keys are made in the copying thread

    def flush(self) -> None:
        """Wait until every fragment put so far is in the store (or failed to go there)."""
        self._jobs.join()

    def close(self) -> None:
        self.flush()
        self._jobs.put(None)
        self._thread.join()
        self.spool.close()

    def _copy(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                what, keys = job
                if what == "place":
                    prefix, names = keys
                    keys = [f"{prefix}:{name}" for name in names]
                if what == "keep kinds":
                    keys = [f"{kind}:{name}" for kind, names in keys.items() for name in names]
                if what in ("keep", "keep kinds"):
                    self.store.keep_only(keys)
                else:
                    bodies = self.spool.get(list(keys))
                    self.store.put([(key, bodies[key]) for key in keys if key in bodies])
            except Exception as error:  # never the build's failure: those fragments are rendered again
                log.warning("feedpub: fragments not stored (%s: %s)", type(error).__name__, error)
            finally:
                self._jobs.task_done()
        self._jobs.task_done()
