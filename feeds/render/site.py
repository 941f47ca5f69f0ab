"""The site: every published path mapped to its bytes, media type, ETag and Last-Modified.

One map feeds both the live server and the static export, so the two can never drift. A
`SiteBuilder` keeps the previous map and re-renders a document only when what it would print
changed. A build runs in three steps, so that rendering never reaches back for data: `plan` says
which documents must be made again and which articles that needs in full, `render_items` renders
those articles' items (given to it, from the library), and `assemble` puts the documents together.

Subscription documents and the index pages are held as bytes. Archive documents (the whole
history, see `catalog/archives.py`) are many times more: each is a `LazyOutput`, put together from
stored item fragments when it is asked for, with an ETag taken from what it is made of (the
rendering code and settings, its frame, its items' digests), so it is known without the bytes.
Each feed's page for people (`feed_pages.py`) is made the same way when there is a fragment store.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import MappingProxyType

from ..catalog.catalog import ALL, PROVIDER, TOPIC, ArchiveSpec, Catalog, FeedSpec, Group
from ..reading.article import Article, Entry
from ..reading.library import Fetched
from ..settings import Settings
from ..stores.fragment_spool import FragmentSpool, SpoolAppender
from ..stores.fragment_store import Fragments
from ..stores.write_behind import WriteBehind
from ..workers import Crew, ordered_map, process_pool
from . import formats
from .api import ApiPages
from .feed import EPOCH, Feed
from .feed_pages import PAGE, page_frame
from .formats import FORMATS, RSS, Format
from .fragments import (
    ChunkJob,
    FragmentRenderer,
    Spooled,
    StoredDocument,
    appending_workers,
    framed,
    framed_parts,
    render_chunk,
)
from .front_page import render_index
from .headers import render_headers_file
from .outputs import Buffer, Document, LazyOutput, Output, made_of_etag, make_output
from .pages import LATEST, Parts, latest_line, render_catalog, render_not_found, render_opml
from .paths import CATALOG, FOLDERS, HEADERS, INDEX, NOT_FOUND, OPML, archive_path, feed_path, feed_url, page_path, url_of
from .websub import hub_urls

# Below this many items to render, worker processes cost more than they save.
PARALLEL_RENDER_MIN = 1000
_RENDER_CHUNK = 200


Site = Mapping[str, Document]  # path without a leading slash → document


def make_feed(spec: FeedSpec, settings: Settings) -> Feed:
    """The subscription document of a feed: its newest items, and where its history starts."""
    if spec.kind == TOPIC:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest {spec.name} news from {settings.title}"
    elif spec.kind == PROVIDER:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest articles from {spec.name} ({spec.key}) on {settings.title}"
    else:
        title = settings.title
        description = settings.description
    history = ""
    links: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    if settings.archives:
        if spec.archives:
            links = (("prev-archive", _urls(settings, spec, spec.archives[0])),)
        else:
            history = "complete"  # RFC 5005 §2: every item of the feed is in this document
    home = settings.url("/")
    return Feed(
        kind=spec.kind,
        key=spec.key,
        title=title,
        description=description,
        language=settings.language,
        author=settings.title,
        home_url=url_of(settings, page_path(spec.kind, spec.key)),  # the feed's page for people
        urls={fmt.name: feed_url(settings, spec.kind, spec.key, fmt) for fmt in FORMATS},
        updated=spec.newest or EPOCH,
        sources=(home + FOLDERS[PROVIDER], RSS.suffix),
        history=history,
        links=links,
        hubs=hub_urls(settings),
        max_age=settings.max_age,
    )


def make_archive_feed(spec: FeedSpec, index: int, settings: Settings) -> Feed:
    """The archive document `spec.archives[index]`: linked to its feed and to its neighbours."""
    page = spec.archives[index]
    feed = make_feed(spec, settings)
    links = [("current", tuple(feed.urls.items()))]
    if index + 1 < len(spec.archives):
        links.append(("prev-archive", _urls(settings, spec, spec.archives[index + 1])))
    if index > 0:
        links.append(("next-archive", _urls(settings, spec, spec.archives[index - 1])))
    during = page.describe()
    return Feed(
        kind=feed.kind,
        key=feed.key,
        title=f"{feed.title} (archive: {during})",
        description=f"{feed.description}: the articles from {during}",
        language=feed.language,
        author=feed.author,
        home_url=feed.home_url,
        urls=dict(_urls(settings, spec, page)),
        updated=page.newest,
        sources=feed.sources,
        history="archive",
        links=tuple(links),
        # No hub links: WebSub topics are the subscription documents only. An archive document is
        # not announced when it changes (a rare correction), the built-in hub refuses subscriptions
        # to it, and its Link header names no hub; a hub link here would invite a subscription that
        # is refused or never fed.
        hubs=(),
        # What headers.headers_for serves it with: the newest archive document changes as often as
        # the subscription document, the others only when an article of their range does.
        max_age=settings.max_age if index == 0 else settings.archive_max_age,
    )


def _urls(settings: Settings, spec: FeedSpec, page: ArchiveSpec) -> tuple[tuple[str, str], ...]:
    return tuple((fmt.name, url_of(settings, archive_path(spec.kind, spec.key, page.name, fmt))) for fmt in FORMATS)


@dataclass(frozen=True, slots=True)
class _Rendered:
    """A feed's subscription documents, with everything their bytes depend on."""

    signature: tuple[str, str, str, tuple[Entry, ...], str | None]  # kind, key, name, items, first archive
    outputs: dict[str, Document]


@dataclass(frozen=True, slots=True)
class _RenderedPage:
    """An archive document in every format, with what it was made from."""

    page: ArchiveSpec  # the catalog hands out the same object while the document's items stay
    around: tuple[str, str, str, str | None, str | None]  # kind, key, feed name, older and newer page names
    outputs: dict[str, Document]


# The feeds' subscription documents as last rendered, and the index page's latest lines by digest
# (`SiteBuilder.state`). Archive documents are made again from the catalog: it is all they are.
BuilderState = tuple[dict[Group, _Rendered], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a build must do: every feed, which documents to make again, and the articles that takes."""

    feeds: list[tuple[Group, FeedSpec]]  # in URL order, the feed of everything first
    stale: frozenset[Group]  # feeds whose subscription documents must be made again
    pages: frozenset[tuple[Group, str]]  # archive documents (group, page name) to make again
    needed: list[Entry]  # entries whose full article rendering needs (distinct)
    held: frozenset[str] = frozenset()  # digests whose fragments the documents made now need in memory
    api: Mapping[Group, tuple[Entry, ...]] = field(default_factory=dict)  # JSON API groups to page again


class SiteBuilder:
    def __init__(self, settings: Settings, *, fragments: bool = True, store: Fragments | None = None,
                 jobs: int = 1) -> None:
        from ..stores.keys import StoreKeys

        self.settings = settings
        self.jobs = jobs
        self._rendered: dict[Group, _Rendered] = {}
        self._pages: dict[Group, dict[str, _RenderedPage]] = {}
        self._seen: dict[Group, FeedSpec] = {}  # the specs the last build made its documents from
        self.rendered_last = 0  # feeds re-rendered by the last build, for logs and tests
        # Rendering whole feeds (fragments=False) is the straightforward path the fast one is
        # proven byte-identical to: it keeps the articles of one build instead of fragments.
        self._fragments = [FragmentRenderer(fmt, store=store) for fmt in FORMATS] if fragments else None
        self._page = FragmentRenderer(PAGE, store=store) if fragments else None  # the feeds' pages' items
        self._feed_pages: dict[Group, tuple[tuple[object, ...], Document]] = {}  # what each page was made of
        self._articles: dict[str, Article] = {}  # digest → article, for this build (whole feeds only)
        self._latest: dict[str, str] = {}  # digest → its line in the index page's latest list
        self._parts = Parts()  # the index pages' per-feed lines (settings are fixed for a builder's life)
        # Items' bytes depend only on site-wide values, so any feed of the site is their template.
        self._template = make_feed(FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0), settings)
        # What an archive document's bytes depend on besides its frame and items: the renderers'
        # code and the settings they read (the fragment store's key says exactly that).
        self._code = StoreKeys(settings).fragments()
        self._api = ApiPages(settings, store=store, code=self._code, fragments=fragments) if settings.everyday_api \
            else None
        self._api_all = False  # after a restore, every group's API pages are made again
        self._order: dict[str, None] = {}  # the last site's paths, in order (`_in_order`)

        # The documents that depend on the settings alone, made once (the same objects every build).
        self._fixed = {NOT_FOUND: make_output(render_not_found(settings), formats.HTML, EPOCH),
                       HEADERS: make_output(render_headers_file(settings), formats.TEXT, EPOCH)}

    def build(self, catalog: Catalog, articles: Mapping[str, Article]) -> Site:
        """Plan, render and assemble in one step, for a caller that holds every article in full (by
        digest); `Build` fetches only the articles a plan needs instead."""
        plan = self.plan(catalog)
        self.render_items(plan, [{entry.digest: articles[entry.digest] for entry in plan.needed}])
        return self.assemble(plan)

    # -- 1. plan ---------------------------------------------------------------------------

    def plan(self, catalog: Catalog, *, keep: Sequence[Entry] = ()) -> Plan:
        """`keep`: entries whose items must be stored though no document may show them (the items
        of filtered feeds, see `Build`)."""
        feeds = [(group, catalog.spec(group)) for group in catalog.groups()]
        stale: set[Group] = set()
        pages: set[tuple[Group, str]] = set()
        api: dict[Group, tuple[Entry, ...]] = {}
        for group, spec in feeds:
            if self._api is not None and spec.kind in (ALL, TOPIC) and (self._api_all or self._seen.get(group) is not spec):
                api[group] = catalog.entries(group)
            if self._seen.get(group) is spec:
                continue  # the catalog hands out a new spec for every feed a change touched
            if self._changed(group, spec):
                stale.add(group)
            pages |= {(group, spec.archives[index].name) for index in self._pages_to_make(group, spec)}
        shown = [entry for group, spec in feeds if group in stale for entry in spec.items]
        # Distinct, once: an article is in the archives of three or four feeds, and each format asks (a cold
        # build at 100k asked each renderer about ~370,000 entries for ~92,000 articles).
        archived = list({entry.digest: entry for group, spec in feeds for page in spec.archives
                         if (group, page.name) in pages for entry in page.items}.values())
        if self._fragments is None:
            needed = shown + archived + [entry for group, spec in feeds
                                         if self._page_key(spec) != self._feed_pages.get(group, ((),))[0]
                                         for entry in spec.items]
        else:
            # Subscription documents are put together now: their items are taken into memory.
            # Archive documents are put together when asked for: their items need only be stored.
            needed = [entry for renderer in self._fragments for entry in renderer.lookup(shown)]
            needed += [entry for renderer in self._fragments for entry in renderer.missing(archived, distinct=True)]
            needed += [entry for renderer in self._fragments for entry in renderer.missing(keep)]
            # Pages are put together when asked for when there is a store, so their items need only be stored.
            on_pages = [entry for group, spec in feeds if self._page_key(spec) != self._feed_pages.get(group, ((),))[0]
                        for entry in spec.items]
            assert self._page is not None
            needed += self._page.missing(on_pages) if self._page.store is not None else self._page.lookup(on_pages)
        latest = feeds[0][1].items[:LATEST]  # groups() always lists the feed of everything first
        needed += [entry for entry in latest if entry.digest not in self._latest]
        if self._api is not None:
            needed += self._api.plan(api)
            self._api_all = False
        needed = list({entry.digest: entry for entry in needed}.values())
        if len(needed) >= PARALLEL_RENDER_MIN:
            # Rendered in the order of the feed of everything, and so stored: each of its archive
            # documents' fragments then lie end to end in the spool, one read a format instead of ~50
            # (at 10k, 77,163 fragment reads of the archive documents came in 75,555 runs before).
            rank = {entry.digest: n for n, entry in enumerate(_shown(feeds[0][1]))}
            last = len(rank)
            needed.sort(key=lambda entry: rank.get(entry.digest, last))
        return Plan(feeds, frozenset(stale), frozenset(pages), needed, frozenset(entry.digest for entry in shown),
                    MappingProxyType(api))

    def _changed(self, group: Group, spec: FeedSpec) -> bool:
        previous = self._rendered.get(group)
        return previous is None or previous.signature != _signature(spec)

    def _pages_to_make(self, group: Group, spec: FeedSpec) -> list[int]:
        """The archive documents of a feed whose bytes may differ from the ones last made."""
        previous = self._pages.get(group, {})
        todo = []
        for index, page in enumerate(spec.archives):
            made = previous.get(page.name)
            if made is None or made.page is not page or made.around != _around(spec, index):
                todo.append(index)
        return todo

    # -- 2. render the items ---------------------------------------------------------------

    def render_items(self, plan: Plan, chunks: Iterable[Mapping[str, Article]], *, crew: Crew | None = None) -> None:
        """Render the items (and index lines) the plan needs, from its articles by digest, a chunk at a
        time; across processes when there are many (the `crew`'s, when it can take them)."""
        latest = {entry.digest for entry in plan.feeds[0][1].items[:LATEST]}
        parallel = self._fragments is not None and self.jobs > 1 and len(plan.needed) >= PARALLEL_RENDER_MIN
        if parallel:
            self._render_across_processes(chunks, latest, plan.held, crew)
            return
        for articles in chunks:
            for digest, article in articles.items():
                if digest in latest and digest not in self._latest:
                    self._latest[digest] = latest_line(article)
            if self._api is not None:
                self._api.render(self._template, articles)
            if self._fragments is None:
                self._articles.update(articles)
                continue
            for renderer in self._item_renderers:
                todo = [digest for digest in articles if not renderer.has(digest)]
                if todo:
                    renderer.add(todo, renderer.fmt.items(self._template, [articles[d] for d in todo]), hold=plan.held)

    def _render_across_processes(self, chunks: Iterable[Mapping[str, Article]], latest: set[str],
                                 held: frozenset[str], crew: Crew | None) -> None:
        assert self._fragments is not None
        names = tuple(renderer.fmt.name for renderer in self._item_renderers)
        spool = self._spool_for_workers()
        if spool is not None and crew is not None:
            crew.close()  # workers that write into the spool must be forked with its file: new ones, below
            crew = None
        appender: SpoolAppender | None = None  # set below, before the first job is made

        def jobs() -> Iterable[ChunkJob]:
            for articles in chunks:
                for digest in articles:
                    if digest in latest and digest not in self._latest:
                        self._latest[digest] = latest_line(articles[digest])
                if self._api is not None:  # a JSON object each: quick enough here
                    self._api.render(self._template, articles)
                # Articles held packed go packed: the workers unpack them (see `Fetched`).
                raw = articles.raw if isinstance(articles, Fetched) else articles.__getitem__
                keys = list(articles)
                for start in range(0, len(keys), _RENDER_CHUNK):
                    part = keys[start : start + _RENDER_CHUNK]
                    digests.append(part)
                    hold = tuple(n for n, digest in enumerate(part) if digest in held) if appender is not None else None
                    yield self._template, names, [raw(digest) for digest in part], hold

        digests: list[list[str]] = []
        with ExitStack() as stack:
            appender = stack.enter_context(spool.appending()) if spool is not None else None
            if appender is not None:
                stack.enter_context(appending_workers(appender))
            pool = crew.pool() if crew is not None else stack.enter_context(process_pool(self.jobs))
            for index, pieces in enumerate(ordered_map(pool, render_chunk, jobs(), ahead=4 * self.jobs)):
                chunk = digests[index]
                digests[index] = []  # done with: the list of chunks does not grow with the corpus
                if isinstance(pieces, Spooled):
                    kept = [digest for digest in chunk if digest in held]
                    for renderer in self._item_renderers:
                        name = renderer.fmt.name
                        renderer.place(chunk, pieces.places[name], pieces.generation,
                                       dict(zip(kept, pieces.held[name], strict=True)))
                    continue
                for renderer in self._item_renderers:
                    made = pieces[renderer.fmt.name]
                    new = renderer.new(chunk)
                    if len(new) == len(chunk):
                        renderer.add(chunk, made, hold=held)
                    elif new:
                        renderer.add([chunk[n] for n in new], [made[n] for n in new], hold=held)

    def _spool_for_workers(self) -> FragmentSpool | WriteBehind | None:
        """The spool the render workers write their fragments into themselves, when every item renderer
        keeps its fragments in the same one and the workers are forked (they inherit its file)."""
        stores = {id(renderer.store): renderer.store for renderer in self._item_renderers}
        store = next(iter(stores.values())) if len(stores) == 1 else None
        if sys.platform != "linux" or not isinstance(store, (FragmentSpool, WriteBehind)):
            return None
        return store

    # -- 3. assemble -----------------------------------------------------------------------

    def assemble(self, plan: Plan) -> Site:
        """Every published path: documents the plan marks made again, the others as they were."""
        paths: dict[str, Document] = {}
        rendered: dict[Group, _Rendered] = {}
        pages: dict[Group, dict[str, _RenderedPage]] = {}
        feed_pages: dict[Group, tuple[tuple[object, ...], Document]] = {}
        self.rendered_last = 0
        for group, spec in plan.feeds:
            previous = self._rendered.get(group)
            if group in plan.stale or previous is None:
                previous = _Rendered(_signature(spec), self._render_feed(spec))
                self.rendered_last += 1
            rendered[group] = previous
            paths.update(previous.outputs)
            made = self._pages.get(group, {})
            kept: dict[str, _RenderedPage] = {}
            for index, page in enumerate(spec.archives):
                document = made.get(page.name)
                if document is None or (group, page.name) in plan.pages:
                    document = _RenderedPage(page, _around(spec, index), self._render_page(spec, index))
                kept[page.name] = document
                paths.update(document.outputs)
            if kept:
                pages[group] = kept
            page_key = self._page_key(spec)
            known_page = self._feed_pages.get(group)
            if known_page is None or known_page[0] != page_key:
                known_page = (page_key, self._render_feed_page(spec))
            feed_pages[group] = known_page
            paths[page_path(spec.kind, spec.key)] = known_page[1]
        self._rendered, self._pages, self._feed_pages = rendered, pages, feed_pages
        self._seen = dict(plan.feeds)
        self._articles = {}
        self._retain(plan)

        feeds = [spec for _, spec in plan.feeds]
        newest = max((spec.newest for spec in feeds if spec.newest), default=EPOCH)
        latest = [self._latest[entry.digest] for entry in feeds[0].items[:LATEST]]
        self._latest = {entry.digest: self._latest[entry.digest] for entry in feeds[0].items[:LATEST]}
        parts = self._parts
        parts.retain(feeds)
        paths[INDEX] = make_output(render_index(feeds, latest, self.settings, parts), formats.HTML, newest)
        paths[OPML] = make_output(render_opml(feeds, self.settings, parts), formats.OPML, newest)
        paths[CATALOG] = make_output(render_catalog(feeds, self.settings, parts), formats.JSON, newest)
        paths.update(self._fixed)
        if self._api is not None:
            paths.update(self._api.assemble(plan.feeds, plan.api, self._template))
        return self._in_order(paths)

    def _render_feed(self, spec: FeedSpec) -> dict[str, Document]:
        feed = make_feed(spec, self.settings)
        outputs: dict[str, Document] = {}
        for index, fmt in enumerate(FORMATS):
            body: bytes | list[Buffer]
            if self._fragments is not None:
                body = self._fragments[index].assemble(feed, spec.items)
            else:
                body = fmt.render(feed, [self._articles[entry.digest] for entry in spec.items])
            outputs[feed_path(spec.kind, spec.key, fmt)] = make_output(body, fmt.media_type, feed.updated)
        return outputs

    @staticmethod
    def _page_key(spec: FeedSpec) -> tuple[object, ...]:
        """What a feed's page shows: its page is made again only when this changes."""
        return (spec.kind, spec.key, spec.name, spec.items, bool(spec.archives))

    def _render_feed_page(self, spec: FeedSpec) -> Document:
        """The feed's page for people: made when asked for when its items are stored, else now."""
        feed = make_feed(spec, self.settings)
        updated = spec.newest or EPOCH
        renderer = self._page
        if renderer is not None and renderer.store is not None:
            code = self._code
            items = spec.items
            settings = self.settings

            def make() -> bytes:
                head, tail = page_frame(spec, feed, settings)
                return framed(head, renderer.pieces(items), b"", tail)

            def made_of() -> str:
                head, tail = page_frame(spec, feed, settings)
                return f"{code}\0page\0{head!r}{tail!r}\0" + ",".join(entry.digest for entry in items)

            return LazyOutput(f"{formats.HTML}; charset=utf-8", updated, make, made_of)
        head, tail = page_frame(spec, feed, self.settings)
        if renderer is not None:
            return make_output(framed_parts(head, renderer.pieces(spec.items), b"", tail), formats.HTML, updated)
        body = PAGE.render(feed, [self._articles[entry.digest] for entry in spec.items])
        return make_output(head + body + tail, formats.HTML, updated)

    @property
    def _item_renderers(self) -> list[FragmentRenderer]:
        """Every item renderer: the feeds' formats and the pages'."""
        return [*(self._fragments or ()), *((self._page,) if self._page is not None else ())]

    def _render_page(self, spec: FeedSpec, index: int) -> dict[str, Document]:
        page = spec.archives[index]
        feed = make_archive_feed(spec, index, self.settings)
        outputs: dict[str, Document] = {}
        shared = _MadeOf(feed, page.items)
        for position, fmt in enumerate(FORMATS):
            made_of = shared.of(self._code, fmt)
            media_type = f"{fmt.media_type}; charset=utf-8"
            path = archive_path(spec.kind, spec.key, page.name, fmt)
            if self._fragments is not None:
                renderer = self._fragments[position]
                outputs[path] = LazyOutput(media_type, page.newest, _assembler(renderer, feed, page.items), made_of,
                                           parts=_parts_maker(renderer, feed, page.items),
                                           stored=StoredDocument(renderer, feed, page.items), growing=index == 0)
            else:  # the straightforward path holds every document, with the ETag a lazy one would have
                body = fmt.render(feed, [self._articles[entry.digest] for entry in page.items])
                outputs[path] = Output(body, media_type, made_of_etag(made_of()), page.newest, growing=index == 0)
        return outputs

    def _retain(self, plan: Plan) -> None:
        if self._fragments is None or not (self.rendered_last or plan.pages):
            return
        slots = sum(len(spec.items) + sum(len(page.items) for page in spec.archives) for _, spec in plan.feeds)
        for fragments in self._item_renderers:
            if fragments.store is not None:
                # The feeds' bytes already hold every fragment once more (~110 MB at 100,000
                # articles), and archive documents take theirs from the store when asked for: the
                # next change takes the few it needs from the store again.
                fragments.retain(set())
            elif fragments.size > slots:
                # Prune fragments of articles that left every document once they could outnumber
                # the live ones: memory stays within about twice what the documents show, and a
                # one-file change does not pay for a sweep.
                fragments.retain({entry.digest for _, spec in plan.feeds for entry in _shown(spec)})

    # -- between runs ----------------------------------------------------------------------

    def state(self) -> BuilderState:
        """The subscription documents as last made, each with what it was made from, and the index
        page's latest lines (see `stores.saved_state`)."""
        return self._rendered, self._latest

    def restore(self, state: BuilderState, site: Mapping[str, Output], catalog: Catalog) -> Site:
        """Take `state()` of an earlier builder with the same settings, with the `site` it made (its
        documents held as bytes) and the catalog it made them from; returns the whole site.

        Archive documents are made again from the catalog, cheaply (their bytes wait until asked for),
        with the same ETags."""
        self._rendered, self._latest = state
        paths: dict[str, Document] = dict(site)
        self._pages = {}
        self._feed_pages = {}
        for group in catalog.groups():
            spec = catalog.spec(group)
            if spec.archives:
                made = {page.name: _RenderedPage(page, _around(spec, index), self._render_page(spec, index))
                        for index, page in enumerate(spec.archives)}
                self._pages[group] = made
                for document in made.values():
                    paths.update(document.outputs)
            path = page_path(spec.kind, spec.key)
            page = site.get(path)  # held as bytes when there is no store
            self._feed_pages[group] = (self._page_key(spec), page if page is not None else self._render_feed_page(spec))
            paths[path] = self._feed_pages[group][1]
            self._seen[group] = spec
        self._api_all = True  # API pages are not saved either: the next build makes them again
        return self._in_order(paths)

    def _in_order(self, paths: dict[str, Document]) -> Site:
        """The site, its paths in sorted order. A rebuild that neither adds nor drops a path (an edit:
        nearly every live change) takes the last site's order, which is that: sorting the 18,592 paths
        of a site at 100k with archives made a live edit's assemble take 50 ms instead of 22."""
        order = self._order
        if len(order) != len(paths) or order.keys() != paths.keys():
            order = self._order = dict.fromkeys(sorted(paths))
        return MappingProxyType({path: paths[path] for path in order})

    @property
    def uses_store(self) -> bool:
        """Whether some documents are put together from the fragment store when asked for."""
        return any(f.store is not None for f in (*(self._fragments or ()), self._page) if f is not None)

    def prune_store(self, keep: Iterable[Entry] = ()) -> None:
        """Drop stored fragments no document shows now (after a full build, so the store stays bounded),
        but for those of `keep` (filtered feeds may show any member)."""
        if self._fragments is None:
            return
        stores = {id(f.store): f.store for f in self._fragments if f.store is not None}
        if not stores:
            return
        shown = {entry.digest for rendered in self._rendered.values() for entry in rendered.signature[3]}
        digests = shown | {entry.digest for made in self._pages.values() for page in made.values()
                           for entry in page.page.items}
        digests |= {entry.digest for entry in keep}
        # By kind (the key's part before ":") and digest: the spool keeps them so, and ~400,000 keys
        # made here only to be taken apart again were ~0.4 s of a cold export at 100k.
        kinds: dict[str, set[str]] = {fragments.fmt.name: digests for fragments in self._fragments}
        if self._page is not None:
            kinds[self._page.fmt.name] = shown
        if self._api is not None:
            kinds[self._api.kind] = self._api.digests()
        for store in stores.values():
            if isinstance(store, (FragmentSpool, WriteBehind)):
                store.keep_kinds(kinds)
            else:
                store.keep_only([f"{kind}:{digest}" for kind, names in kinds.items() for digest in names])

    @property
    def fragments(self) -> Sequence[FragmentRenderer]:
        """The renderers of item fragments, one per format (none when rendering whole feeds)."""
        return self._fragments or ()


def _signature(spec: FeedSpec) -> tuple[str, str, str, tuple[Entry, ...], str | None]:
    return (spec.kind, spec.key, spec.name, spec.items, spec.archives[0].name if spec.archives else None)


def _around(spec: FeedSpec, index: int) -> tuple[str, str, str, str | None, str | None]:
    older = spec.archives[index + 1].name if index + 1 < len(spec.archives) else None
    newer = spec.archives[index - 1].name if index > 0 else None
    return (spec.kind, spec.key, spec.name, older, newer)


def _shown(spec: FeedSpec) -> Iterable[Entry]:
    yield from spec.items
    for page in spec.archives:
        yield from page.items


class _MadeOf:
    """What an archive document is made of: the same code, frame and items give the same bytes. The
    part its formats share (the frame's feed and the items' digests, ~4 KB) is made once for the three,
    when the first ETag is asked for (an export at 100k asks for ~14,000), and let go once each format
    took it: a server holds every archive document's `LazyOutput`, and so this, for its whole life."""

    __slots__ = ("_feed", "_items", "_shared", "_takers")

    def __init__(self, feed: Feed, items: Sequence[Entry]) -> None:
        self._feed = feed
        self._items = items
        self._shared: str | None = None
        self._takers = len(FORMATS)

    def of(self, code: str, fmt: Format) -> Callable[[], str]:
        return lambda: f"{code}\0{fmt.name}\0" + self._take()

    def _take(self) -> str:
        shared = self._shared
        if shared is None:
            shared = f"{self._feed!r}\0" + ",".join([entry.digest for entry in self._items])
        self._takers -= 1
        self._shared = shared if self._takers > 0 else None  # asked again later: made again
        return shared


def _assembler(renderer: FragmentRenderer, feed: Feed, items: tuple[Entry, ...]) -> Callable[[], bytes]:
    return lambda: renderer.assemble_stored(feed, items)


def _parts_maker(renderer: FragmentRenderer, feed: Feed, items: tuple[Entry, ...]) -> Callable[[], list[Buffer]]:
    return lambda: renderer.stored_parts(feed, items)
