"""Watching the article folder: every batch of changes goes to the rebuilder, in order.

watchfiles yields a batch once the folder has been quiet for STEP ms, or after DEBOUNCE ms of
continuous writes: one write goes live within ~0.1 s, a 1,000-file sync in a few rebuilds. The OS
watcher follows the folder it was given, not its name, so a folder renamed or replaced is noticed
by polling its identity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Collection

from feedpub.reading.folder import SUFFIXES

from .persistence import Persistence
from .rebuilder import Rebuilder
from .startup import Started, folder_identity

log = logging.getLogger("feedpub")

STEP_MS = 50
DEBOUNCE_MS = 400
MISSING_POLL_S = 0.5


class Watcher:
    def __init__(self, rebuilder: Rebuilder, persistence: Persistence) -> None:
        self.rebuilder = rebuilder
        self.persistence = persistence
        self.root = rebuilder.root
        self.ready = asyncio.Event()  # set once the folder is being watched
        self.started: Started | None = None  # how the folder was first published (see `startup`)
        self._undecodable: set[str] = set()  # file names watchfiles could not decode, already reported

    async def run(self) -> None:
        from watchfiles import Change, awatch

        rebuilder = self.rebuilder
        started = self.started
        since = started.at if started else None
        watched = started.root if started else None
        while True:
            root = folder_identity(self.root)
            if root is None:
                rebuilder.hold("is missing")
                self.ready.set()
                await asyncio.sleep(MISSING_POLL_S)
                continue
            stream = awatch(self.root, watch_filter=None, step=STEP_MS, debounce=DEBOUNCE_MS,
                            recursive=True, ignore_permission_denied=True)
            asked = time.time()  # changes the stream holds when it dies happened after this
            pending = asyncio.ensure_future(anext(stream))
            try:
                await asyncio.sleep(0)  # the stream's first step starts the OS watcher
                self.ready.set()
                await self._after_start()
                if root != watched:
                    # Another folder under the same name (swapped in by a deploy, deleted and re-created,
                    # a symlink re-pointed): its files may be older than `since`, so compare them all.
                    log.info("article folder %s was moved or replaced; comparing every file", self.root)
                    await rebuilder.run(rebuilder.resync)
                elif since is not None:  # files written before the watcher started
                    await rebuilder.run(rebuilder.catch_up, since)
                watched = root
                while True:
                    done, _ = await asyncio.wait({pending}, timeout=MISSING_POLL_S)
                    if not done:
                        if folder_identity(self.root) != root:
                            break
                        continue
                    changes = pending.result()
                    paths, others, everything_deleted = self._relevant(changes, Change.deleted)
                    if paths or others:
                        await rebuilder.run(rebuilder.changed, paths, others, everything_deleted)
                    if self._lost(changes, Change.deleted):
                        # The folder itself was deleted or moved: its OS watch is gone even if a new
                        # folder already stands there (often with the same inode number).
                        watched = None
                        break
                    if folder_identity(self.root) != root:
                        break
                    asked = time.time()
                    pending = asyncio.ensure_future(anext(stream))
            except (Exception, StopAsyncIteration) as error:  # e.g. the folder went away under the watcher
                name = _undecodable(error)
                if name is None:
                    log.warning("watching %s stopped: %s; restarting", self.root, str(error) or type(error).__name__)
                elif name not in self._undecodable:
                    # watchfiles gives up on a batch that holds a name it cannot decode: the restart's
                    # catch-up reads what the batch held, this file too. Said once per file.
                    self._undecodable.add(name)
                    log.warning("%s: the file name is not UTF-8, so changes to it are seen only by a catch-up "
                                "(within a second); rename it to a UTF-8 name", name)
                if name is not None:
                    since = asked
                    continue
            finally:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
                with contextlib.suppress(BaseException):
                    await stream.aclose()
            # Catch up from the last time a batch was asked for, not from now: a batch the dead
            # stream was still gathering (up to DEBOUNCE_MS of writes) would otherwise be lost.
            since = asked
            await asyncio.sleep(MISSING_POLL_S)

    async def _after_start(self) -> None:
        """Work a start leaves for once the folder is watched, off the start-up path."""
        started, self.started = self.started, None
        if started is None:
            return
        if self.persistence.dirty and started.resumed is None:
            # After a full load, its state is saved at once, so even a crash does not cost the next
            # start another. A resumed start's few re-read files are saved at the stop: saving holds
            # changes back for as long as it takes (~2 s at 100,000 articles).
            await self.rebuilder.run(self.persistence.save)
        if started.untidy:
            await self.rebuilder.run(self.rebuilder.tidy)

    def _relevant(self, changes: Collection[tuple[object, str]], deleted: object) -> tuple[set[str], set[str], bool]:
        """Article paths to re-read; other paths that came or went; whether the batch only deleted."""
        paths: set[str] = set()
        others: set[str] = set()
        root = str(self.root.absolute())
        for change, full in changes:
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel == "." or rel.startswith("../") or any(part.startswith(".") for part in rel.split("/")):
                continue
            if rel.endswith(SUFFIXES):
                paths.add(rel)
            if change == deleted or os.path.isdir(full):
                others.add(rel)  # maybe a folder: its files may not have been reported one by one
        everything_deleted = bool(paths) and all(change == deleted for change, _ in changes)
        return paths, others, everything_deleted

    def _lost(self, changes: Collection[tuple[object, str]], deleted: object) -> bool:
        """Whether the batch reports the watched folder itself deleted (or moved away)."""
        root = str(self.root.absolute())
        return any(change == deleted and os.path.relpath(full, root) == "." for change, full in changes)


# watchfiles (notify, in Rust) cannot hand over a path that is not UTF-8: it fails the whole batch.
_UNDECODABLE = re.compile(r'Unable to decode path "(.*)" to string', re.DOTALL)


def _undecodable(error: BaseException) -> str | None:
    """The file name of a watchfiles error about a path it could not decode (as Rust escapes it)."""
    if isinstance(error, BaseExceptionGroup):  # from watchfiles' task group
        return next((name for each in error.exceptions if (name := _undecodable(each)) is not None), None)
    match = _UNDECODABLE.search(str(error))
    return match.group(1) if match else None
