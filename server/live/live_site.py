"""The live site: the live server's parts put together, as the app and `feedpub serve` use them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from feedpub.build import Summary
from feedpub.progress import Progress
from feedpub.settings import Settings

from ..filtered import FilteredFeeds
from ..published import Published
from . import startup
from .persistence import Persistence
from .rebuilder import Failure, Rebuild, Rebuilder
from .scheduler import Scheduler
from .watcher import Watcher


class LiveSite:
    def __init__(self, root: Path, settings: Settings, *, cache_dir: Path | None = None, jobs: int = 1) -> None:
        self.root = root
        self.settings = settings
        self.cache_dir = cache_dir  # the server's cache folder: WebSub keeps its subscriptions there
        self.rebuilder = Rebuilder(root, settings, cache_dir=cache_dir, jobs=jobs)
        self.persistence = Persistence(self.rebuilder, cache_dir)
        self.watcher = Watcher(self.rebuilder, self.persistence)
        self.scheduler = Scheduler(self.rebuilder)
        self.resumed: int | None = None  # files read again by a start that resumed the last run's state

    # -- what requests read ------------------------------------------------------------------

    @property
    def published(self) -> Published:
        return self.rebuilder.published

    @property
    def filtered(self) -> FilteredFeeds:
        """Filtered feeds' answers (`filtered.py`)."""
        return self.rebuilder.filtered

    @property
    def summary(self) -> Summary | None:
        return self.rebuilder.summary

    @property
    def last(self) -> Rebuild | None:
        return self.rebuilder.last

    @property
    def rebuilds(self) -> int:
        return self.rebuilder.rebuilds

    @property
    def held(self) -> bool:
        return self.rebuilder.held

    @property
    def failure(self) -> Failure | None:
        return self.rebuilder.failure

    @property
    def ready(self) -> asyncio.Event:
        return self.watcher.ready

    @property
    def on_published(self) -> Callable[[Published], None] | None:
        """Told of each new `Published` right after the swap, in the rebuild thread (WebSub)."""
        return self.rebuilder.on_published

    @on_published.setter
    def on_published(self, hook: Callable[[Published], None] | None) -> None:
        self.rebuilder.on_published = hook

    # -- starting, running, stopping ---------------------------------------------------------

    def start(self, progress: Progress | None = None) -> None:
        """Publish the folder before serving (see `startup`)."""
        started = startup.start(self.rebuilder, self.persistence, progress)
        self.resumed = started.resumed
        self.watcher.started = started

    def load(self) -> None:
        """Read the whole folder and publish it (no saved state is looked at)."""
        self.watcher.started = startup.loaded(self.rebuilder)

    def apply(self, paths: Iterable[str]) -> None:
        """Re-read the given relative paths and publish the feeds they touch."""
        self.rebuilder.locked(self.rebuilder.apply, paths)

    def catch_up(self, since: float) -> None:
        self.rebuilder.locked(self.rebuilder.catch_up, since)

    async def watch(self) -> None:
        await self.watcher.run()

    async def schedule(self) -> None:
        await self.scheduler.run()

    def save_on_exit(self) -> None:
        self.persistence.save_on_exit()
