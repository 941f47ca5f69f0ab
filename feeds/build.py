"""From an article folder to a site, one stage after another: read, index and select, render.

Both `feedpub export` and the live server go through `Build`, so they publish the same thing.
Each operation (a full `load`, a `resume` of saved state, a `refresh` of changed files, an
`advance` of the clock) runs the stages in order and reports what it did as a `Rebuilt`:

    library.load(paths)            reading/    files → entries (and the URLs they change)
    catalog.apply(changes)         catalog/    entries → groups, newest first, `limit` each
    builder.plan(catalog)          render/     which feeds to render again, which articles it takes
    library.articles_for(needed)   reading/    those full articles, from memory, cache or file
    builder.render_items(...)      render/     their items, once per format
    builder.assemble(plan)         render/     feeds spliced from items, index pages: the `Site`
    catalog.records.update(...)    catalog/    with `filters`: the filter fields of members that came
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from .catalog.catalog import Catalog, Group
from .catalog.records import Fields
from .logs import plural
from .memory import collector_paused
from .reading.article import Article, Entry
from .reading.folder import Folder, Survey
from .reading.library import Duplicate, Library
from .reading.loader import Loader
from .settings import Settings
from .stores.databases import private_folder
from .stores.fragment_spool import FragmentSpool
from .stores.fragment_store import Fragments, FragmentStore
from .stores.keys import StoreKeys
from .stores.parse_cache import ParseCache
from .stores.saved_state import SavedState
from .stores.write_behind import WriteBehind
from .workers import Crew

if TYPE_CHECKING:  # the renderers load when first needed: while the workers parse (see `load`'s `meanwhile`)
    from .render.site import Site, SiteBuilder

# Past this share of the folder changed, resuming costs more than loading: the catalog's removals
# are a list deletion each, where a load appends and sorts once.
RESUME_MAX_FRACTION = 0.25
RESUME_MIN_FILES = 1000  # below this many, either way is quick: resume
# A file whose version is gone from under its entry is read again before rendering; it can only
# keep happening if something rewrites files and the shared cache faster than they can be read.
MAX_REREADS = 3
_FETCH_CHUNK = 1000  # full articles fetched at a time for rendering, so they need not all be held


class RebuildError(RuntimeError):
    """A rebuild that could not finish; the site built before it stays as it was."""


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
            f"{plural(self.files, 'file')} read: {self.published} published, {plural(self.drafts, 'draft')}, "
            f"{self.scheduled} scheduled, {plural(len(self.duplicates), 'duplicate')}, "
            f"{plural(len(self.bad), 'bad file')}; {plural(self.feeds, 'feed')}"
        )


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What one operation of a `Build` did."""

    files: int  # files read (or read again)
    touched: frozenset[Group]  # groups whose feeds changed
    read: frozenset[str]  # the files read again (a refresh or a resume; empty for a load)
    rendered: int  # feeds rendered again
    newly_bad: tuple[tuple[str, str, bool], ...] = ()  # (file, reason, its last good version stays live)

    @property
    def changed(self) -> bool:
        return bool(self.touched)


class Build:
    """The article folder, its catalog and the rendered site, kept in step."""

    def __init__(self, root: Path, settings: Settings, *, cache_dir: Path | None = None, jobs: int = 1,
                 fragments: bool = True, filters: bool = False, write_behind: bool = False) -> None:
        """`filters`: keep what query filters need (the live server): every member's filter fields
        (`catalog.records`) and every member's items stored, not only those a document shows.
        `write_behind`: fragments go to the cache's store from behind a spool (`stores.write_behind`),
        for a build that runs once (an export); `flush_fragments` then waits for them."""
        self.root = root
        self.settings = settings
        self.keys = StoreKeys(settings)
        if cache_dir is not None:
            private_folder(cache_dir)  # raises UnsafeFolder, naming why, when others could write it
        # The JSON API's own fields are read only when it is published.
        self.folder = Folder(root, max_bytes=settings.max_file_bytes, extras=settings.everyday_api)
        cache = ParseCache.for_folder(cache_dir, root, key=self.keys.parses()) if cache_dir else None
        self.library = Library(Loader(self.folder, cache, jobs=jobs))
        self.catalog = Catalog(
            limit=settings.limit,
            include_drafts=settings.include_drafts,
            include_future=settings.include_future,
            topic_titles=settings.topics,
            archive_size=settings.archive_size if settings.archives else None,
            topic_aliases=settings.topic_aliases,
            records=filters,
        )
        self.filters = filters
        store: Fragments | None = (FragmentStore.for_folder(cache_dir, root, key=self.keys.fragments())
                                   if cache_dir else None)
        if store is not None and write_behind and fragments:
            store = WriteBehind.over(store)
        self._fragment_store = store
        if store is None and fragments and (settings.archives or settings.everyday_api or filters):
            # Documents made when asked for take their items from here; for this process only.
            store = FragmentSpool.temporary()
        self._builder: SiteBuilder | None = None
        self._builder_made_of = (fragments, store, jobs)
        self._site: Site = MappingProxyType({})

    @property
    def builder(self) -> SiteBuilder:
        """What renders the site; made (and the renderers imported) when first asked for, so that a
        cold build's workers are forked from a smaller process and start parsing sooner."""
        if self._builder is None:
            from .render.site import SiteBuilder

            fragments, store, jobs = self._builder_made_of
            self._builder = SiteBuilder(self.settings, fragments=fragments, store=store, jobs=jobs)
        return self._builder

    @builder.setter
    def builder(self, builder: SiteBuilder) -> None:  # tests put the straightforward renderer in
        self._builder = builder

    @property
    def site(self) -> Site:
        """Every published path, as of the last operation."""
        return self._site

    def _fragments_kept(self) -> bool:
        """Whether the documents of a saved state can still take their items from the store. Its
        archive documents and pages are put together when asked for, from stored fragments: with the
        store deleted or made anew after damage, or this process's spool instead (the cache's could
        not be opened), every one of them would answer 503 until its feed changed. A load renders them."""
        if not self.builder.uses_store:
            return True
        store = self._fragment_store
        if isinstance(store, WriteBehind):  # the same store, written from behind a spool
            store = store.store
        return isinstance(store, FragmentStore) and store.holds_any()

    def flush_fragments(self) -> None:
        """Wait until the fragments rendered so far are in the cache (with `write_behind`)."""
        if isinstance(self._fragment_store, WriteBehind):
            self._fragment_store.flush()

    # -- operations ------------------------------------------------------------------------

    def load(self, *, now: datetime | None = None, progress: Callable[[int], None] | None = None,
             survey: Survey | None = None, rendering: Callable[[int], Callable[[int], None]] | None = None,
             meanwhile: Callable[[], None] | None = None) -> Rebuilt:
        """Read the whole folder (as `survey`ed, when given) and build the site. `progress` is told of
        each file read; `rendering`, given how many articles the render takes, returns what is told
        of each one rendered (a progress bar's, say). `meanwhile` is run once the parse workers have
        their files, if there are workers (see `parallel.parse_many`)."""
        # The parse workers, when there are any, stay to render (see `Crew`).
        with collector_paused(), Crew(self.library.loader.jobs) as crew:  # collecting was ~20% of a warm load
            urls = self.library.load(progress=progress, survey=survey, meanwhile=meanwhile, crew=crew)
            del survey  # read: the library keeps each file's stamp; the rest (~20 MB at 100k) can go
            crew.warm("feedpub.render.fragments")  # the renderers, while the catalogue is built here
            touched = self._apply(urls, now)
            touched |= self._render(now, rendering, crew)
        self.prune_store()
        return Rebuilt(len(self.library.good), frozenset(touched), frozenset(), self.builder.rendered_last)

    def refresh(self, paths: Iterable[str], *, now: datetime | None = None) -> Rebuilt:
        """Re-read changed files (relative paths) and render again the feeds they touch."""
        paths = sorted(set(paths))
        bad_before = {rel: self.library.bad.get(rel) for rel in paths}
        # One batch: one stat pass and one cache transaction, not one per file of a sync.
        touched = self._apply(self.library.load(paths), now)
        if touched:
            touched |= self._render(now)
        newly_bad = tuple((rel, reason, rel in self.library.good) for rel in paths
                          for reason in [self.library.bad.get(rel)] if reason and reason != bad_before[rel])
        return Rebuilt(len(paths), frozenset(touched), frozenset(paths), self.builder.rendered_last if touched else 0,
                       newly_bad)

    def advance(self, now: datetime) -> Rebuilt:
        """Publish scheduled articles that are due."""
        touched = self.catalog.advance(now)
        if touched:
            touched |= self._render(now)
        return Rebuilt(0, frozenset(touched), frozenset(), self.builder.rendered_last if touched else 0)

    def saved_state(self) -> SavedState:
        """What this build knows, for `resume` in a later process."""
        # Documents made when asked for are made again from the catalog at the next start.
        from .render.outputs import Output

        held = {path: output for path, output in self._site.items() if isinstance(output, Output)}
        return SavedState(self.keys.state(), self.library.state(), self.catalog, self.builder.state(), held)

    def resume(self, saved: SavedState, survey: Survey, *, now: datetime | None = None) -> Rebuilt | None:
        """Take up where an earlier build left off, then read again every file the `survey` (taken
        now) shows it did not see as it is. The result is what `load` would give, the same articles,
        catalog and bytes, for much less work when few files changed; but a file that broke meanwhile
        keeps its last good version, as it would in a server that never stopped (`tests/test_resume.py`
        proves both).

        Returns None, leaving this build as it was, when the state was saved under other settings or
        code, or so many files differ that a `load` is cheaper (a folder copied anew has new inodes
        throughout, say).
        """
        if saved.key != self.state_key or (saved.catalog.records is not None) != bool(self.filters):
            return None  # other settings or code, or saved without the filter fields this build keeps
        if not self._fragments_kept():
            return None
        probe = Library(self.library.loader)
        probe.restore(saved.library)
        stale = probe.stale(survey)
        if len(stale) > max(RESUME_MAX_FRACTION * len(survey), RESUME_MIN_FILES):
            return None
        self.library.restore(saved.library)
        self.catalog = saved.catalog
        self._site = self.builder.restore(saved.rendered, saved.site, self.catalog)
        if self.settings.everyday_api:  # its pages are made from the catalog again, as archives are
            self._render(now)
        with collector_paused():  # as in `load`: a large difference makes many long-lived objects
            rendered = 0
            touched: set[Group] = set()
            if stale:
                done = self.refresh(stale, now=now)
                touched |= done.touched
                rendered += done.rendered
            done = self.advance(now or datetime.now(UTC))
            touched |= done.touched
            rendered += done.rendered
        return Rebuilt(len(stale), frozenset(touched), frozenset(stale), rendered)

    # -- the stages ------------------------------------------------------------------------

    def _apply(self, urls: set[str], now: datetime | None) -> set[Group]:
        moment = now or datetime.now(UTC)
        changes = {url: self.library.entry(url) for url in sorted(urls)}
        touched = self.catalog.apply(changes, now=moment)
        touched |= self.catalog.advance(moment)
        return touched

    def _render(self, now: datetime | None, rendering: Callable[[int], Callable[[int], None]] | None = None,
                crew: Crew | None = None) -> set[Group]:
        """Build the site from the catalog; returns groups that changed on the way (files whose
        version was gone from under their entries, read again)."""
        touched: set[Group] = set()
        came: dict[str, Entry] = {}  # members that came, by digest, whose filter fields are wanted
        went: dict[str, Entry] = {}
        fields: dict[str, tuple[Entry, Fields]] = {}
        for _ in range(MAX_REREADS):
            self._member_changes(came, went)
            plan = self.builder.plan(self.catalog, keep=list(came.values()) if self.filters else ())
            gone: list[str] = []
            progress = rendering(len(plan.needed)) if rendering is not None and plan.needed else None
            self.builder.render_items(plan, self._noting(self._articles(plan.needed, gone, progress), came, fields),
                                      crew=crew)
            if crew is not None:
                crew.close()  # rendered: the workers need not wait through the assembly and the writing
            if not gone:
                self._site = self.builder.assemble(plan)
                self._update_records(came, went, fields)
                return touched
            # Another process re-parsed a file that changed since it was read: read it now.
            touched |= self._apply(self.library.load(gone), now)
        raise RebuildError(f"{len(gone)} files kept changing while they were read, e.g. {gone[0]}")

    # -- the filter fields (with `filters`) --------------------------------------------------

    def _member_changes(self, came: dict[str, Entry], went: dict[str, Entry]) -> None:
        if self.catalog.records is None:
            return
        now_came, now_went = self.catalog.take_member_changes()
        for entry in now_went:
            if came.pop(entry.digest, None) is None:
                went[entry.digest] = entry
        for entry in now_came:
            if went.pop(entry.digest, None) is None:
                came[entry.digest] = entry

    def _noting(self, chunks: Iterator[Mapping[str, Article]], came: Mapping[str, Entry],
                fields: dict[str, tuple[Entry, Fields]]) -> Iterator[Mapping[str, Article]]:
        """The chunks as they are, noting the fields of members that came: what rendering fetches
        anyway need not be fetched again."""
        for articles in chunks:
            if came:
                # By key: reading an article unpacks it, and most go to the workers packed.
                fields.update((digest, (came[digest], Fields.of(articles[digest])))
                              for digest in articles if digest in came)
            yield articles

    def _update_records(self, came: dict[str, Entry], went: dict[str, Entry],
                        fields: dict[str, tuple[Entry, Fields]]) -> None:
        records = self.catalog.records
        if records is None:
            return
        missing = [entry for digest, entry in came.items() if digest not in fields]
        gone: list[str] = []
        for articles in self._articles(missing, gone):
            fields.update((digest, (entry, Fields.of(articles[digest])))
                          for entry in missing for digest in [entry.digest] if digest in articles)
        for entry in missing:
            # A file replaced again while it was read: it is read again at the watcher's next batch;
            # until then it is found by what its entry says and by its scores, not by its text.
            fields.setdefault(entry.digest, (entry, Fields("", "", None, None)))
        records.update({digest: fields[digest] for digest in came}, went.values())

    def _articles(self, entries: list, gone: list[str], progress: Callable[[int], None] | None = None
                  ) -> Iterator[Mapping[str, Article]]:
        """The full articles of `entries` by digest, a chunk at a time; files whose version is gone
        are added to `gone`. `progress` hears of each chunk as the next one is asked for (rendered)."""
        for start in range(0, len(entries), _FETCH_CHUNK):
            found, lost = self.library.articles_for(entries[start : start + _FETCH_CHUNK])
            gone += lost
            yield found
            if progress is not None:
                progress(len(found))

    # -- what the server and the command line read -----------------------------------------

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

    def next_due(self) -> datetime | None:
        """When the next scheduled article is due, if any."""
        return self.catalog.next_due()

    def scan(self) -> list[str]:
        """Every article file in the folder now, as sorted relative paths."""
        return self.folder.scan()

    def survey_behind(self) -> Callable[[], Survey]:
        """The folder's survey, taken in another process while this one works (see `Folder`)."""
        return self.folder.survey_behind()

    @property
    def state_key(self) -> str:
        """The key a saved state must have for `resume` to take it (`StoreKeys.state`)."""
        return self.keys.state()

    def known_files(self) -> set[str]:
        """Every file the last operations read and still have a result for (good or bad)."""
        return self.library.known()

    def warnings(self) -> list[tuple[str, str]]:
        """(file, warning) for every good file, in path order."""
        return [(rel, warning) for rel, entry in sorted(self.library.good.items()) for warning in entry.warnings]

    def prune_store(self) -> None:
        """Drop stored fragments no feed shows now (after a resumed start, as a load does); with
        `filters`, every member's are kept (a filtered feed may show any of them)."""
        self.builder.prune_store(self.catalog.articles.values() if self.filters else ())
