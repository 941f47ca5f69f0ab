"""Keeping the served site current: watch the article folder, rebuild what changed, swap atomically.

Rebuilds run one at a time in a worker thread, so requests keep being answered while feeds
render; each ends with a single assignment of a new immutable `Published`. Requests never read
the `Build` (a worker may be changing it): `/healthz` reads snapshots taken after each rebuild.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from feeds import snapshot
from feeds.build import Build, Summary, base_fingerprint
from feeds.cache_db import cache_path
from feeds.library import SUFFIXES, Library, Survey
from feeds.memory import collector_paused, release_free_memory
from feeds.settings import Settings

from .published import Published, publish

log = logging.getLogger("feedpub")

# watchfiles yields a batch once the folder has been quiet for STEP ms, or after DEBOUNCE ms of
# continuous writes: one write goes live within ~0.1 s, a 1,000-file sync in a few rebuilds.
STEP_MS = 50
DEBOUNCE_MS = 400
MISSING_POLL_S = 0.5
MAX_SLEEP_S = 60.0  # the scheduler re-reads the clock at least this often (clock changes, suspend)
# Catching up after a gap re-reads files changed since it began; file times come from the kernel's
# coarse clock, which lags by up to a tick (a network share's clock may differ more: not covered).
CTIME_SLACK_S = 0.05


@dataclass(frozen=True, slots=True)
class Rebuild:
    at: datetime
    seconds: float
    files: int
    feeds: int


class LiveSite:
    def __init__(self, root: Path, settings: Settings, *, cache_dir: Path | None = None, jobs: int = 1) -> None:
        self.root = root
        self.settings = settings
        self.build = Build(root, settings, cache_dir=cache_dir, jobs=jobs)
        self._snapshot_path = cache_path(cache_dir, "site", root, ".pickle") if cache_dir else None
        # The build's state is saved (see `feeds.snapshot`) after a full load, and at a stop when
        # files were read since it was last saved.
        self._base = base_fingerprint(settings) if cache_dir else ""
        self._dirty = False  # what the build knows differs from the state saved last (or there is none)
        self.resumed: int | None = None  # files read again by a start that resumed the last run's state
        self._untidy = False  # a resumed start read files: fragments no feed shows may be stored (see tidy)
        self._building = threading.Lock()  # held by the thread that changes the build
        # Snapshots, replaced whole by the worker and read by requests.
        self.published = Published({})
        self.summary: Summary | None = None
        self.last: Rebuild | None = None
        self.rebuilds = 0  # rebuilds that changed what is served (load included)
        self.next_due: datetime | None = None  # the next scheduled article's time
        self.held = False  # the folder vanished or was emptied: serving the last good state
        self.ready = asyncio.Event()  # set once the folder is being watched
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()  # a rebuild finished: the scheduler re-reads `next_due`
        self._loaded_at: float | None = None
        self._loaded_root: tuple[int, int] | None = None  # the folder (device, inode) that was loaded

    # -- rebuilding (synchronous; called in a worker thread once serving) --------------------

    def start(self) -> None:
        """Publish the folder before serving: by resuming the state the last run saved when there
        is one made under the same settings and code (reading only the files changed since), else
        by loading it."""
        # A start makes ~1M objects that live as long as the server, and little garbage: with the
        # collector on, publishing right after would trigger a full pass over all of them.
        with collector_paused():
            try:
                self._start()
            finally:
                gc.freeze()  # what the start built is out of the collector's way for good
        release_free_memory()

    def _start(self) -> None:
        self._loaded_at = time.time()  # the watcher catches up with files changed after this
        self._loaded_root = _identity(self.root)
        if self._snapshot_path is None:
            self.load()
            return
        started = time.perf_counter()
        # One walk and stat of every file, for either way, made in another process while this one
        # reads the saved state (unpickling holds the GIL: a thread would only take turns with it).
        surveyed = self.build.library.survey_behind()
        found = snapshot.read(self._snapshot_path, self._base)
        survey = surveyed()
        resumed = None if found is None else self.build.resume(found, survey)
        del found  # what the build did not take up (an unused snapshot's bodies) is freed now
        if resumed is None:
            self.load(survey)
            return
        stale, touched = resumed
        self.resumed = len(stale)
        self._settle(started, files=len(stale), changed=True, logged=False)
        self._dirty = bool(stale or touched)  # else the snapshot on disk holds this state already
        self._untidy = bool(touched)
        log.info("resumed the last run's state in %.0f ms (files read again: %d; feeds rendered: %d)",
                 (time.perf_counter() - started) * 1000, len(stale), self.build.builder.rendered_last)

    def load(self, survey: Survey | None = None) -> None:
        """Read the whole folder (as `survey`ed, when given) and publish it."""
        started = time.perf_counter()
        if survey is None:
            self._loaded_at = time.time()
            self._loaded_root = _identity(self.root)
        self.build.load(survey=survey)
        self._settle(started, files=len(self.build.library.good), changed=True)

    def save_on_exit(self) -> None:
        """At shutdown: save the state, so the next start reads only the files changed meanwhile."""
        with self._building:
            if not self.held:  # not the last good state of a folder that is gone
                self.save()

    def save(self) -> None:
        """Save the state if it changed since last saved (after a full load, off the start-up path,
        and at a stop)."""
        if self._dirty and self._snapshot_path is not None and self.summary is not None:
            snapshot.write(self._snapshot_path, self.build.snapshot(self._base))
            self._dirty = False

    def tidy(self) -> None:
        """After a resumed start that changed feeds: drop the stored fragments no feed shows any more,
        as a full load does (the fragment store would otherwise only grow between loads)."""
        if self._untidy:
            self.build.builder.prune_store()
            self._untidy = False

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
        self._settle(started, files=len(paths), changed=bool(touched))

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
            self._hold("is missing")
            return
        present = set(self.build.library.scan())
        known = self._known()
        if not present and known:
            self._hold("is empty")
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
        present = set(self.build.library.scan())
        known = self._known()
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
        touched = self.build.advance(datetime.now(timezone.utc))
        self._settle(started, files=0, changed=bool(touched))

    def _settle(self, started: float, *, files: int, changed: bool, logged: bool = True) -> None:
        if changed:  # the swap first: readers see the change before the bookkeeping below
            self.published = publish(self.build.site, max_age=self.settings.max_age, previous=self.published)
        summary = self.build.summary()
        if files or changed:
            self._dirty = True  # files read (their stamps are part of the state) or feeds changed
        if changed:  # logged and counted before /healthz shows the new summary
            seconds = time.perf_counter() - started
            feeds = self.build.builder.rendered_last
            if logged:
                log.info("rebuilt %d feeds in %.0f ms (%d files changed): %d articles in %d feeds, %d bad files",
                         feeds, seconds * 1000, files, summary.published, summary.feeds, len(summary.bad))
            self.last = Rebuild(datetime.now(timezone.utc), seconds, files, feeds)
            self.rebuilds += 1
        self.next_due = self.build.catalog.next_due()
        self.summary = summary

    def _hold(self, why: str) -> None:
        if not self.held:
            log.warning("article folder %s %s; serving the last good state until it is back", self.root, why)
        self.held = True

    def _known(self) -> set[str]:
        return self.build.library.good.keys() | self.build.library.bad.keys()

    def _has_articles(self) -> bool:
        return bool(self.build.library.scan()) if self.root.is_dir() else False

    def _files_in(self, others: set[str]) -> set[str]:
        """Article files in folders that came (moved in whole) or went (known files under them)."""
        found: set[str] = set()
        known = self._known()
        folders = {parent for rel in known for parent in _parents(rel)}
        for rel in others:
            if (self.root / rel).is_dir():
                found |= {f"{rel}/{sub}" for sub in Library(self.root / rel).scan()}
            if rel in folders:
                found |= {path for path in known if path.startswith(rel + "/")}
        return found

    # -- watching (async) ----------------------------------------------------------------

    async def watch(self) -> None:
        from watchfiles import Change, awatch

        since = self._loaded_at
        watched = self._loaded_root
        while True:
            root = _identity(self.root)
            if root is None:
                self._hold("is missing")
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
                if self._dirty and self.resumed is None:
                    # After a full load, its state is saved at once, so even a crash does not cost the
                    # next start another. A resumed start's few re-read files are saved at the stop:
                    # saving holds changes back for as long as it takes (~2 s at 100,000 articles).
                    await self._run(self.save)
                if self._untidy:  # off the start-up path, like the save
                    await self._run(self.tidy)
                if root != watched:
                    # Another folder under the same name (swapped in by a deploy, deleted and re-created,
                    # a symlink re-pointed): its files may be older than `since`, so compare them all.
                    log.info("article folder %s was moved or replaced; comparing every file", self.root)
                    await self._run(self.resync)
                elif since is not None:  # files written before the watcher started
                    await self._run(self.catch_up, since)
                watched = root
                while True:
                    # The OS watcher follows the folder it was given, not its name: a folder renamed
                    # or replaced (or a parent renamed, which reports nothing) is noticed by polling.
                    done, _ = await asyncio.wait({pending}, timeout=MISSING_POLL_S)
                    if not done:
                        if _identity(self.root) != root:
                            break
                        continue
                    changes = pending.result()
                    paths, others, everything_deleted = self._relevant(changes, Change.deleted)
                    if paths or others:
                        await self._run(self.changed, paths, others, everything_deleted)
                    if self._lost(changes, Change.deleted):
                        # The folder itself was deleted or moved: its OS watch is gone even if a new
                        # folder already stands there (often with the same inode number).
                        watched = None
                        break
                    if _identity(self.root) != root:
                        break
                    asked = time.time()
                    pending = asyncio.ensure_future(anext(stream))
            except (Exception, StopAsyncIteration) as error:  # e.g. the folder went away under the watcher
                log.warning("watching %s stopped: %s; restarting", self.root, str(error) or type(error).__name__)
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

    def _relevant(self, changes: set[tuple[object, str]], deleted: object) -> tuple[set[str], set[str], bool]:
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

    def _lost(self, changes: set[tuple[object, str]], deleted: object) -> bool:
        """Whether the batch reports the watched folder itself deleted (or moved away)."""
        root = str(self.root.absolute())
        return any(change == deleted and os.path.relpath(full, root) == "." for change, full in changes)

    async def schedule(self) -> None:
        """Publish scheduled articles when their time comes (woken early by every rebuild)."""
        while True:
            due = self.next_due
            self._wake.clear()
            wait = MAX_SLEEP_S if due is None else (due - datetime.now(timezone.utc)).total_seconds() + 0.005
            if wait > 0:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(wait, MAX_SLEEP_S))
            due = self.next_due
            if due is not None and due <= datetime.now(timezone.utc):
                await self._run(self.advance)
                if self.next_due == due:  # not published (a failed rebuild): don't spin
                    await asyncio.sleep(1.0)

    async def _run(self, function: object, *args: object) -> None:
        async with self._lock:
            try:
                await asyncio.to_thread(self._locked, function, *args)
            except Exception:  # a bug must not stop the watcher: keep serving the last good state
                log.exception("rebuild failed; serving the last good state")
            finally:
                self._wake.set()

    def _locked(self, function: Callable[..., None], *args: object) -> None:
        # Held by the thread itself: a cancelled task (at shutdown) does not stop its thread, and
        # `save_on_exit` must not read a build halfway through a change.
        with self._building:
            function(*args)


def _identity(path: Path) -> tuple[int, int] | None:
    """The folder a path names now (device, inode; through symlinks), or None when it is no folder."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _parents(rel: str) -> Iterable[str]:
    parts = rel.split("/")[:-1]
    return ("/".join(parts[: i + 1]) for i in range(len(parts)))
