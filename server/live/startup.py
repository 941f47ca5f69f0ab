"""Start-up: publish the folder before serving, by resuming the last run's saved state when one
fits (reading only the files changed since), else by loading the folder."""

from __future__ import annotations

import gc
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from feedpub.memory import collector_paused, release_free_memory
from feedpub.progress import Progress

from .persistence import Persistence
from .rebuilder import Rebuilder

log = logging.getLogger("feedpub")


@dataclass(frozen=True, slots=True)
class Started:
    at: float  # when the folder was looked at: the watcher catches up with files changed after this
    root: tuple[int, int] | None  # the folder (device, inode) that was published
    resumed: int | None  # files read again by a start that resumed the last run's state; None: loaded
    untidy: bool  # a resumed start changed feeds: fragments no feed shows may be stored


def start(rebuilder: Rebuilder, persistence: Persistence, progress: Progress | None = None) -> Started:
    # A start makes ~1M objects that live as long as the server, and little garbage: with the
    # collector on, publishing right after would trigger a full pass over all of them.
    with collector_paused():
        try:
            started = _start(rebuilder, persistence, progress)
        finally:
            gc.freeze()  # what the start built is out of the collector's way for good
    release_free_memory()
    return started


def loaded(rebuilder: Rebuilder, progress: Progress | None = None) -> Started:
    """Load the whole folder (no saved state to take up)."""
    at, root = time.time(), folder_identity(rebuilder.root)
    rebuilder.load(progress=progress)
    return Started(at, root, None, False)


def _start(rebuilder: Rebuilder, persistence: Persistence, progress: Progress | None) -> Started:
    if persistence.path is None:
        return loaded(rebuilder, progress)
    at, root = time.time(), folder_identity(rebuilder.root)
    began = time.perf_counter()
    # One walk and stat of every file, for either way, made in another process while this one
    # reads the saved state (unpickling holds the GIL: a thread would only take turns with it).
    surveyed = rebuilder.survey_behind()
    found = persistence.read()
    survey = surveyed()
    done = None if found is None else rebuilder.resume(found, survey)
    del found  # what the build did not take up (an unused state's bodies) is freed now
    if done is None:
        rebuilder.load(survey, progress=progress)
        return Started(at, root, None, False)
    if not (done.files or done.touched):
        persistence.mark_saved()  # the state on disk is this one already
    log.info("resumed the last run's state in %.0f ms (files read again: %d; feeds rendered: %d)",
             (time.perf_counter() - began) * 1000, done.files, done.rendered)
    return Started(at, root, done.files, bool(done.touched))


def folder_identity(path: Path) -> tuple[int, int] | None:
    """The folder a path names now (device, inode; through symlinks), or None when it is no folder."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None
