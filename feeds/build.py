"""From an article folder to a site: read, resolve, select, render, with a summary of what happened.

Both `feedpub export` and the live server go through `Build`, so they publish the same thing.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

from .catalog import Catalog, Group
from .library import Duplicate, Library, StaleEntries, Survey
from .memory import collector_paused
from .fragment_cache import FragmentCache, code_digest
from .parse_cache import ParseCache
from .settings import Settings
from .site import Site, SiteBuilder
from .snapshot import Snapshot

# Past this share of the folder changed, resuming costs more than loading: the catalog's removals
# are a list deletion each, where a load appends and sorts once.
RESUME_MAX_FRACTION = 0.25
RESUME_MIN_FILES = 1000  # below this many, either way is quick: resume


@dataclass(frozen=True, slots=True)
class Summary:
    files: int
    articles: int  # distinct articles (duplicates folded)
    published: int
    drafts: int
    scheduled: int
    duplicates: tuple[Duplicate, ...]
    bad: tuple[tuple[str, str], ...]  # (file, reason), sorted by file
    feeds: int

    def describe(self) -> str:
        return (
            f"{self.files} files read: {self.published} published, {self.drafts} drafts, "
            f"{self.scheduled} scheduled, {len(self.duplicates)} duplicates, {len(self.bad)} bad files; "
            f"{self.feeds} feeds"
        )


def fingerprint(root: Path, settings: Settings) -> str:
    """A digest of everything an export is made from: each file's identity, the settings and the code.

    Equal fingerprints mean an export would come out byte-identical, so a warm export can stop
    after a folder walk instead of parsing and rendering (`feedpub export` records it).
    """
    survey = Library(root).survey()
    digest = hashlib.sha256(base_fingerprint(settings).encode())
    digest.update(len(survey).to_bytes(8, "little"))  # where the paths end and the stamps begin
    digest.update("\0".join(survey).encode("utf-8", "surrogateescape"))  # paths have no NUL
    digest.update(array("q", [marked for marked, _ in survey.values()]).tobytes())  # a stamp is a 64-bit hash
    return digest.hexdigest()


def base_fingerprint(settings: Settings) -> str:
    """A digest of what shapes the output besides the files: the settings, feedpub's code and the
    libraries that parse and render. A build's saved state applies only under an equal one."""
    import yaml

    digest = hashlib.sha256(code_digest(settings).encode())
    digest.update(f"{yaml.__version__}|{yaml.__with_libyaml__}".encode())
    return digest.hexdigest()


class Build:
    """The article folder, its catalog and the rendered site, kept in step.

    `refresh(paths)` re-reads only the given files and re-renders only the feeds they touch.
    """

    def __init__(self, root: Path, settings: Settings, *, cache_dir: Path | None = None, jobs: int = 1) -> None:
        self.root = root
        self.settings = settings
        cache = ParseCache.for_folder(cache_dir, root, max_bytes=settings.max_file_bytes) if cache_dir else None
        self.library = Library(root, max_bytes=settings.max_file_bytes, cache=cache, jobs=jobs)
        self.catalog = Catalog(
            limit=settings.limit,
            include_drafts=settings.include_drafts,
            include_future=settings.include_future,
            topic_titles=settings.topics,
        )
        fragments = FragmentCache.for_folder(cache_dir, root, settings) if cache_dir else None
        self.builder = SiteBuilder(settings, store=fragments, jobs=jobs)
        self.site: Site = {}

    def load(self, *, now: datetime | None = None, progress: Callable[[int], None] | None = None,
             survey: Survey | None = None) -> Site:
        """Read the whole folder (as `survey`ed, when given) and build the site."""
        with collector_paused():  # collecting along the way was ~20% of a warm load
            urls = self.library.load(progress=progress, survey=survey)
            site = self._publish(urls, now)
        self.builder.prune_store()
        return site

    def snapshot(self, base: str) -> Snapshot:
        """What this build knows, for `resume` in a later process (`base`: its `base_fingerprint`)."""
        return Snapshot(base, self.library.state(), self.catalog, self.builder.state(), dict(self.site))

    def resume(self, snapshot: Snapshot, survey: Survey, *,
               now: datetime | None = None) -> tuple[set[str], set[Group]] | None:
        """Take up where an earlier build left off, then read again every file the `survey` (taken
        now) shows it did not see as it is; returns those files and the groups whose feeds changed
        (by them, or by scheduled articles that came due meanwhile). The result is what `load` would
        give, the same articles, catalog and bytes, for much less work when few files changed; but
        a file that broke meanwhile keeps its last good version, as it would in a server that never
        stopped (`tests/test_resume.py` proves both).

        Returns None, leaving this build as it was, when so many files differ that a `load` is
        cheaper (a folder copied anew has new inodes throughout, say).
        """
        probe = Library(self.root)
        probe.restore(snapshot.library)
        stale = probe.stale(survey)
        if len(stale) > max(RESUME_MAX_FRACTION * len(survey), RESUME_MIN_FILES):
            return None
        self.library.restore(snapshot.library)
        self.catalog = snapshot.catalog
        self.builder.restore(snapshot.rendered)
        self.site = MappingProxyType(snapshot.site)
        with collector_paused():  # as in `load`: a large difference makes many long-lived objects
            touched = self.refresh(stale, now=now) if stale else set()
            touched |= self.advance(now or datetime.now(timezone.utc))
        return stale, touched

    def refresh(self, paths: Iterable[str], *, now: datetime | None = None) -> set[Group]:
        """Re-read changed files (relative paths); return the groups whose feeds changed."""
        # One batch: one stat pass and one cache transaction, not one per file of a sync.
        touched = self._apply(self.library.load(paths), now)
        if touched:
            touched |= self._render(now)
        return touched

    def advance(self, now: datetime) -> set[Group]:
        """Publish scheduled articles that are due."""
        touched = self.catalog.advance(now)
        if touched:
            touched |= self._render(now)
        return touched

    def _publish(self, urls: set[str], now: datetime | None) -> Site:
        self._apply(urls, now)
        self._render(now)
        return self.site

    def _render(self, now: datetime | None) -> set[Group]:
        """Build the site; returns groups that changed on the way (files re-read as stale)."""
        touched: set[Group] = set()
        for _ in range(3):
            try:
                self.site = self.builder.build(self.catalog, self.library.resolve)
                return touched
            except StaleEntries as stale:
                # Another process re-parsed a file that changed since it was read: read it now.
                touched |= self._apply(self.library.load(stale.paths), now)
        self.site = self.builder.build(self.catalog, self.library.resolve)
        return touched

    def _apply(self, urls: set[str], now: datetime | None) -> set[Group]:
        moment = now or datetime.now(timezone.utc)
        changes = {url: self.library.entry(url) for url in sorted(urls)}
        touched = self.catalog.apply(changes, now=moment)
        touched |= self.catalog.advance(moment)
        return touched

    def summary(self) -> Summary:
        """Counts kept up to date by the library and catalog: cheap enough for every rebuild."""
        library, catalog = self.library, self.catalog
        return Summary(
            files=len(library.good) + sum(1 for rel in library.bad if rel not in library.good),
            articles=library.article_count,
            published=len(catalog.articles),
            drafts=catalog.drafts,
            scheduled=catalog.scheduled,
            duplicates=tuple(library.duplicates()),
            bad=tuple(sorted(library.bad.items())),
            feeds=catalog.feed_count,
        )
