"""The rebuild side of the live server: the one owner of the `Build`, and what requests read of it.

Rebuilds run one at a time in a worker thread, so requests keep being answered while feeds
render; each ends with a single assignment of a new immutable `Published`. Requests never read the
`Build` (a worker may be changing it): `/healthz` reads what `status()` gives, taken after each
rebuild. A rebuild that raises leaves the last good site served and the failure in `status()`
until one succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from feedpub.build import Build, Rebuilt, Summary
from feedpub.progress import Progress
from feedpub.reading.folder import Folder, Survey
from feedpub.render.filtered import FilterState
from feedpub.settings import Settings
from feedpub.stores.saved_state import SavedState

from ..filtered import FilteredFeeds
from ..published import BodyCache, Published, publish

log = logging.getLogger("feedpub")
T = TypeVar("T")

# Catching up after a gap re-reads files changed since it began; file times come from the kernel's
# coarse clock, which lags by up to a tick (a network share's clock may differ more: not covered).
CTIME_SLACK_S = 0.05
_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Rebuild:
    at: datetime
    seconds: float
    files: int
    feeds: int


@dataclass(frozen=True, slots=True)
class Failure:
    """The last rebuild that raised: what an operator needs to find it in the log."""

    kind: str
    message: str  # with article file names left out
    at: datetime


class Rebuilder:
    def __init__(self, root: Path, settings: Settings, *, cache_dir: Path | None = None, jobs: int = 1) -> None:
        self.root = root
        self.settings = settings
        self.build = Build(root, settings, cache_dir=cache_dir, jobs=jobs, filters=True)
        self.building = threading.Lock()  # held by the thread that changes the build
        # What requests read, replaced whole after each rebuild.
        self.published = Published({})
        self.bodies = BodyCache()  # archive documents as last put together, for every Published
        self.filtered = FilteredFeeds(settings)  # filtered feeds' answers, for every Published
        self.summary: Summary | None = None
        self.last: Rebuild | None = None
        self.rebuilds = 0  # rebuilds that changed what is served (load included)
        self.next_due: datetime | None = None  # the next scheduled article's time
        self.held = False  # the folder vanished or was emptied: serving the last good state
        self.failure: Failure | None = None
        # Bumped whenever what the build knows changes (files read, feeds rendered): persistence
        # compares it with the version it saved last.
        self.version = 0
        self.finished = asyncio.Event()  # set after every rebuild: the scheduler re-reads `next_due`
        self._turn = asyncio.Lock()
        # WebSub: each feed's Link header (None without a hub), and the hook told of each new
        # `Published` right after the swap, in this thread (it only queues work on the loop).
        self.on_published: Callable[[Published], None] | None = None

    # -- running operations ----------------------------------------------------------------

    async def run(self, operation: Callable[..., object], *args: object) -> None:
        """Run one operation in a worker thread, after the one before it; a failure is recorded,
        logged and survived (the last good site stays served)."""
        async with self._turn:
            try:
                await asyncio.to_thread(self.locked, operation, *args)
                self.failure = None
            except Exception as error:  # a bug must not stop the watcher: keep serving the last good state
                log.exception("rebuild failed; serving the last good state")
                message = await asyncio.to_thread(self.locked, self._redacted, str(error))
                self.failure = Failure(type(error).__name__, message, datetime.now(UTC))
            finally:
                self.finished.set()

    def locked(self, operation: Callable[..., T], *args: object) -> T:
        # Held by the thread itself: a cancelled task (at shutdown) does not stop its thread, and
        # saving the state must not read a build halfway through a change.
        with self.building:
            return operation(*args)

    # -- operations (synchronous; in a worker thread once serving) -------------------------

    def load(self, survey: Survey | None = None, *, progress: Progress | None = None) -> None:
        """Read the whole folder (as `survey`ed, when given) and publish it, with `progress` bars if given."""
        started = time.perf_counter()
        if progress is None:
            done = self.build.load(survey=survey)
        else:
            with progress:
                total = len(survey) if survey is not None else len(self.build.scan())
                done = self.build.load(survey=survey, progress=progress.reading(total), rendering=progress.rendering)
        self._settle(started, done)

    def resume(self, saved: SavedState, survey: Survey) -> Rebuilt | None:
        """Publish the state an earlier run saved, with the files changed since read again; None when
        it cannot be used (see `Build.resume`)."""
        started = time.perf_counter()
        done = self.build.resume(saved, survey)
        if done is not None:
            self._settle(started, done, logged=False, changed=True)
        return done

    def apply(self, paths: Iterable[str]) -> None:
        """Re-read the given relative paths and publish the feeds they touch."""
        started = time.perf_counter()
        done = self.build.refresh(paths)
        for rel, reason, kept in done.newly_bad:
            log.warning("%s: %s%s", rel, reason, " (its last good version stays live)" if kept else "")
        self._settle(started, done)

    def changed(self, paths: set[str], others: set[str], everything_deleted: bool) -> None:
        """One batch from the watcher: article files, and other paths that came or went (maybe folders)."""
        if self.held or not self.root.is_dir() or (everything_deleted and not self._has_articles()):
            self.resync()  # decides between holding the last good state and publishing the folder
            return
        if others:
            paths = paths | self._files_in(others)
        if paths:
            self.apply(paths)

    def resync(self) -> None:
        """Compare the folder with what is known and apply every difference (after a gap in watching)."""
        if not self.root.is_dir():
            self.hold("is missing")
            return
        present = set(self.build.scan())
        known = self.build.known_files()
        if not present and known:
            self.hold("is empty")
            return
        if self.held:
            log.info("article folder %s is back; publishing it again", self.root)
        self.held = False
        self.apply(present | known)

    def catch_up(self, since: float) -> None:
        """Apply what changed while nothing watched (between load and the watcher starting)."""
        if self.held or not self.root.is_dir():
            self.resync()
            return
        present = set(self.build.scan())
        known = self.build.known_files()
        stale = present ^ known
        for rel in present & known:
            try:
                # ctime, not mtime: a sync tool may set an old mtime on a file it just rewrote.
                if os.stat(self.root / rel).st_ctime >= since - CTIME_SLACK_S:
                    stale.add(rel)
            except OSError:
                stale.add(rel)
        if stale:
            self.apply(stale)

    def advance(self) -> None:
        started = time.perf_counter()
        self._settle(started, self.build.advance(datetime.now(UTC)))

    def survey_behind(self) -> Callable[[], Survey]:
        """The folder's survey, taken in a forked process while this one reads a saved state."""
        return self.build.survey_behind()

    def saved_state(self) -> SavedState:
        """What the build knows, to save for the next start (the caller holds the build)."""
        return self.build.saved_state()

    @property
    def state_key(self) -> str:
        return self.build.state_key

    def tidy(self) -> None:
        """Drop stored fragments no feed shows any more (after a resumed start that changed feeds)."""
        self.build.prune_store()

    # -- after each operation ----------------------------------------------------------------

    def _settle(self, started: float, done: Rebuilt, *, logged: bool = True, changed: bool | None = None) -> None:
        changed = done.changed if changed is None else changed
        if changed:  # the swap first: readers see the change before the bookkeeping below
            filters = FilterState.of(self.build.catalog, self.build.builder, self.settings)
            self.published = publish(self.build.site, settings=self.settings, previous=self.published,
                                     cache=self.bodies, filters=filters)
            self.filtered.published(filters)
            if self.on_published is not None:
                try:
                    self.on_published(self.published)
                except Exception:  # a subscriber's notice must not fail the rebuild or skip its bookkeeping
                    log.exception("could not announce the new state (WebSub)")
        summary = self.build.summary()
        if done.files or changed:
            self.version += 1  # files read (their stamps are part of the state) or feeds changed
        if changed:  # logged and counted before /healthz shows the new summary
            seconds = time.perf_counter() - started
            if logged:
                log.info("rebuilt %d feeds in %.0f ms (%d files changed): %d articles in %d feeds, %d bad files",
                         done.rendered, seconds * 1000, done.files, summary.published, summary.feeds, len(summary.bad))
            self.last = Rebuild(datetime.now(UTC), seconds, done.files, done.rendered)
            self.rebuilds += 1
        self.next_due = self.build.next_due()
        self.summary = summary

    def hold(self, why: str) -> None:
        if not self.held:
            log.warning("article folder %s %s; serving the last good state until it is back", self.root, why)
        self.held = True

    def _has_articles(self) -> bool:
        return bool(self.build.scan()) if self.root.is_dir() else False

    def _files_in(self, others: set[str]) -> set[str]:
        """Article files in folders that came (moved in whole) or went (known files under them)."""
        found: set[str] = set()
        known = self.build.known_files()
        folders = {parent for rel in known for parent in _parents(rel)}
        for rel in others:
            if (self.root / rel).is_dir():
                found |= {f"{rel}/{sub}" for sub in Folder(self.root / rel).scan()}
            if rel in folders:
                found |= {path for path in known if path.startswith(rel + "/")}
        return found

    def _redacted(self, message: str) -> str:
        """An error message fit for `/healthz`: no article folder or file name (a draft's, say)."""
        for name in sorted({str(self.root), str(self.root.resolve())}, key=len, reverse=True):
            message = message.replace(name, "ARTICLES")
        names = [rel for rel in self.build.known_files() if rel in message]
        for rel in sorted(names, key=len, reverse=True):
            message = message.replace(rel, "<file>")
        return message[:_MESSAGE_LIMIT]


def _parents(rel: str) -> Iterable[str]:
    parts = rel.split("/")[:-1]
    return ("/".join(parts[: i + 1]) for i in range(len(parts)))
