"""Keeping the served site current: watch the article folder, rebuild what changed, swap atomically.

Rebuilds run one at a time in a worker thread, so requests keep being answered while feeds
render; each ends with a single assignment of a new immutable `Published`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from feeds.build import Build
from feeds.library import SUFFIXES
from feeds.settings import Settings

from .published import Published, publish

log = logging.getLogger("feedpub")

# watchfiles yields a batch once the folder has been quiet for STEP ms, or after DEBOUNCE ms of
# continuous writes: one write goes live within ~0.1 s, a 1,000-file sync in a few rebuilds.
STEP_MS = 50
DEBOUNCE_MS = 400
MISSING_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class Rebuild:
    at: datetime
    seconds: float
    files: int
    feeds: int


class LiveSite:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.settings = settings
        self.build = Build(root, settings)
        self.published = Published({})
        self.last: Rebuild | None = None
        self.held = False  # the folder vanished or was emptied: serving the last good state
        self._lock = asyncio.Lock()

    # -- rebuilding (synchronous; called in a worker thread once serving) --------------------

    def load(self) -> None:
        started = time.perf_counter()
        self.build.load()
        self._swap(started, files=len(self.build.library.good), feeds=self.build.builder.rendered_last)

    def apply(self, paths: Iterable[str]) -> None:
        """Re-read the given relative paths and publish the feeds they touch."""
        started = time.perf_counter()
        paths = sorted(set(paths))
        bad_before = dict(self.build.library.bad)
        touched = self.build.refresh(paths)
        for rel in paths:
            reason = self.build.library.bad.get(rel)
            if reason and bad_before.get(rel) != reason:
                kept = " (its last good version stays live)" if rel in self.build.library.good else ""
                log.warning("%s: %s%s", rel, reason, kept)
        if touched:
            self._swap(started, files=len(paths), feeds=self.build.builder.rendered_last)

    def resync(self) -> None:
        """Compare the folder with what is known and apply every difference (after a gap in watching)."""
        if not self.root.is_dir():
            self._hold("is missing")
            return
        present = set(self.build.library.scan())
        known = self.build.library.good.keys() | self.build.library.bad.keys()
        if not present and known:
            self._hold("is empty")
            return
        self.held = False
        self.apply(present | known)

    def advance(self) -> None:
        started = time.perf_counter()
        if self.build.advance(datetime.now(timezone.utc)):
            self._swap(started, files=0, feeds=self.build.builder.rendered_last)

    def _swap(self, started: float, *, files: int, feeds: int) -> None:
        self.published = publish(self.build.site, max_age=self.settings.max_age, previous=self.published)
        seconds = time.perf_counter() - started
        self.last = Rebuild(datetime.now(timezone.utc), seconds, files, feeds)
        summary = self.build.summary()
        log.info("rebuilt %d feeds in %.0f ms (%d files changed): %d articles in %d feeds, %d bad files",
                 feeds, seconds * 1000, files, summary.published, summary.feeds, len(summary.bad))

    def _hold(self, why: str) -> None:
        if not self.held:
            log.warning("article folder %s %s; serving the last good state until it is back", self.root, why)
        self.held = True

    # -- watching (async) ----------------------------------------------------------------

    async def watch(self) -> None:
        from watchfiles import Change, awatch

        while True:
            if not self.root.is_dir():
                self._hold("is missing")
                await asyncio.sleep(MISSING_POLL_S)
                continue
            if self.held:
                await self._run(self.resync)
            try:
                async for changes in awatch(self.root, watch_filter=None, step=STEP_MS, debounce=DEBOUNCE_MS,
                                            recursive=True, ignore_permission_denied=True):
                    paths, rescan = self._relevant(changes, Change.deleted)
                    if self.held or rescan or not self.root.is_dir():
                        await self._run(self.resync)
                        if not self.root.is_dir():
                            break
                    elif paths:
                        await self._run(self.apply, paths)
            except (OSError, RuntimeError) as error:  # the watched folder went away under the watcher
                log.warning("watching %s stopped: %s", self.root, error)
            await asyncio.sleep(MISSING_POLL_S)

    def _relevant(self, changes: set[tuple[object, str]], deleted: object) -> tuple[set[str], bool]:
        """Article paths to re-read, and whether a folder changed (which needs a full comparison)."""
        paths: set[str] = set()
        rescan = False
        root = str(self.root.absolute())
        for change, full in changes:
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel.startswith("../") or any(part.startswith(".") for part in rel.split("/")):
                continue
            if rel.endswith(SUFFIXES):
                paths.add(rel)
                if os.path.isdir(full):
                    rescan = True  # a file replaced by a folder, or a folder named like an article
            elif change == deleted or os.path.isdir(full):
                rescan = True  # a folder came or went: its files may not have been reported one by one
        if paths and all(change == deleted for change, _ in changes) and not self._has_articles():
            return set(), True  # everything deleted at once: hold the last good state (resync decides)
        return paths, rescan

    def _has_articles(self) -> bool:
        return next(iter(self.build.library.scan()), None) is not None if self.root.is_dir() else False

    async def schedule(self) -> None:
        """Publish scheduled articles when their time comes."""
        while True:
            due = self.build.catalog.next_due()
            wait = 60.0 if due is None else max(0.0, (due - datetime.now(timezone.utc)).total_seconds())
            await asyncio.sleep(min(wait, 60.0) + 0.01)
            if due is not None and due <= datetime.now(timezone.utc):
                await self._run(self.advance)

    async def _run(self, function: object, *args: object) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(function, *args)  # type: ignore[arg-type]
            except Exception:  # a bug must not stop the watcher: keep serving the last good state
                log.exception("rebuild failed; serving the last good state")
