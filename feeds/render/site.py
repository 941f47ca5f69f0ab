"""The site: every published path mapped to its bytes, media type, ETag and Last-Modified.

One map feeds both the live server and the static export, so the two can never drift. A
`SiteBuilder` keeps the previous map and re-renders a feed only when what it would print changed
(its items, its name or its key). A build runs in three steps, so that rendering never reaches
back for data: `plan` says which feeds must be rendered again and which articles that needs in
full, `render_items` renders those articles' items (given to it, from the library), and
`assemble` splices the feeds and writes the index pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from ..catalog.catalog import ALL, PROVIDER, TOPIC, Catalog, FeedSpec, Group
from ..reading.article import Article, Entry
from ..settings import Settings
from ..stores.fragment_store import FragmentStore
from ..workers import process_pool
from . import formats
from .feed import EPOCH, Feed
from .formats import FORMATS, RSS
from .fragments import FragmentRenderer, render_chunk
from .pages import LATEST, Parts, latest_line, render_catalog, render_headers, render_index, render_opml
from .paths import CATALOG, FOLDERS, HEADERS, INDEX, OPML, feed_path, feed_url

# Below this many items to render, worker processes cost more than they save.
PARALLEL_RENDER_MIN = 1000
_RENDER_CHUNK = 200


@dataclass(frozen=True, slots=True)
class Output:
    body: bytes
    media_type: str  # with charset, ready for a Content-Type header
    etag: str  # strong, quoted, from the body alone
    last_modified: datetime


def make_output(body: bytes, media_type: str, last_modified: datetime) -> Output:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Output(body, f"{media_type}; charset=utf-8", etag, last_modified)


Site = Mapping[str, Output]  # path without a leading slash → output


def make_feed(spec: FeedSpec, settings: Settings) -> Feed:
    if spec.kind == TOPIC:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest {spec.name} news from {settings.title}"
    elif spec.kind == PROVIDER:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest articles from {spec.name} ({spec.key}) on {settings.title}"
    else:
        title = settings.title
        description = settings.description
    home = settings.url("/")
    return Feed(
        kind=spec.kind,
        key=spec.key,
        title=title,
        description=description,
        language=settings.language,
        author=settings.title,
        home_url=home,
        urls={fmt.name: feed_url(settings, spec.kind, spec.key, fmt) for fmt in FORMATS},
        updated=spec.newest or EPOCH,
        sources=(home + FOLDERS[PROVIDER], RSS.suffix),
    )


@dataclass(frozen=True, slots=True)
class _Rendered:
    signature: tuple[str, str, str, tuple[Entry, ...]]  # everything the feed's bytes depend on: kind, key, name, items
    outputs: dict[str, Output]


# The feeds as last rendered, and the index page's latest lines by digest (`SiteBuilder.state`).
BuilderState = tuple[dict[Group, _Rendered], dict[str, str]]


@dataclass(frozen=True, slots=True)
class Plan:
    """What a build must do: every feed, which of them to render again, and the articles that takes."""

    feeds: list[tuple[Group, FeedSpec]]  # in URL order, the feed of everything first
    stale: frozenset[Group]  # feeds whose bytes must be made again
    needed: list[Entry]  # entries whose full article rendering needs (distinct), newest feeds' first


class SiteBuilder:
    def __init__(self, settings: Settings, *, fragments: bool = True, store: FragmentStore | None = None,
                 jobs: int = 1) -> None:
        self.settings = settings
        self.jobs = jobs
        self._rendered: dict[Group, _Rendered] = {}
        self.rendered_last = 0  # feeds re-rendered by the last build, for logs and tests
        # Rendering whole feeds (fragments=False) is the straightforward path the fast one is
        # proven byte-identical to: it keeps the articles of one build instead of fragments.
        self._fragments = [FragmentRenderer(fmt, store=store) for fmt in FORMATS] if fragments else None
        self._articles: dict[str, Article] = {}  # digest → article, for this build (whole feeds only)
        self._latest: dict[str, str] = {}  # digest → its line in the index page's latest list
        self._parts = Parts()  # the index pages' per-feed lines (settings are fixed for a builder's life)
        # Items' bytes depend only on site-wide values, so any feed of the site is their template.
        self._template = make_feed(FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0), settings)

    def build(self, catalog: Catalog, articles: Mapping[str, Article]) -> Site:
        """Plan, render and assemble in one step, for a caller that holds every article in full (by
        digest); `Build` fetches only the articles a plan needs instead."""
        plan = self.plan(catalog)
        self.render_items(plan, [{entry.digest: articles[entry.digest] for entry in plan.needed}])
        return self.assemble(plan)

    # -- 1. plan ---------------------------------------------------------------------------

    def plan(self, catalog: Catalog) -> Plan:
        feeds = [(group, catalog.spec(group)) for group in catalog.groups()]
        stale = frozenset(group for group, spec in feeds if self._changed(group, spec))
        shown = [entry for group, spec in feeds if group in stale for entry in spec.items]
        if self._fragments is None:
            needed = shown
        else:
            needed = [entry for renderer in self._fragments for entry in renderer.lookup(shown)]
        latest = feeds[0][1].items[:LATEST]  # groups() always lists the feed of everything first
        needed += [entry for entry in latest if entry.digest not in self._latest]
        return Plan(feeds, stale, list({entry.digest: entry for entry in needed}.values()))

    def _changed(self, group: Group, spec: FeedSpec) -> bool:
        previous = self._rendered.get(group)
        return previous is None or previous.signature != (spec.kind, spec.key, spec.name, spec.items)

    # -- 2. render the items ---------------------------------------------------------------

    def render_items(self, plan: Plan, chunks: Iterable[Mapping[str, Article]]) -> None:
        """Render the items (and index lines) the plan needs, from its articles by digest, a chunk at a
        time; across processes when a first build has many."""
        latest = {entry.digest for entry in plan.feeds[0][1].items[:LATEST]}
        parallel = self._fragments is not None and self.jobs > 1 and len(plan.needed) >= PARALLEL_RENDER_MIN
        if parallel:
            self._render_across_processes(chunks, latest)
            return
        for articles in chunks:
            for digest, article in articles.items():
                if digest in latest and digest not in self._latest:
                    self._latest[digest] = latest_line(article)
            if self._fragments is None:
                self._articles.update(articles)
                continue
            for renderer in self._fragments:
                todo = [digest for digest in articles if not renderer.has(digest)]
                if todo:
                    renderer.add(todo, renderer.fmt.items(self._template, [articles[d] for d in todo]))

    def _render_across_processes(self, chunks: Iterable[Mapping[str, Article]], latest: set[str]) -> None:
        assert self._fragments is not None
        names = tuple(renderer.fmt.name for renderer in self._fragments)

        def jobs() -> Iterable[tuple[Feed, tuple[str, ...], list[Article]]]:
            for articles in chunks:
                for digest, article in articles.items():
                    if digest in latest and digest not in self._latest:
                        self._latest[digest] = latest_line(article)
                items = list(articles.items())
                for start in range(0, len(items), _RENDER_CHUNK):
                    part = items[start : start + _RENDER_CHUNK]
                    digests.append([digest for digest, _ in part])
                    yield self._template, names, [article for _, article in part]

        digests: list[list[str]] = []
        with process_pool(self.jobs) as pool:
            for index, pieces in enumerate(pool.map(render_chunk, jobs())):
                for renderer in self._fragments:
                    keep = [(d, piece) for d, piece in zip(digests[index], pieces[renderer.fmt.name], strict=True)
                            if not renderer.has(d)]
                    if keep:
                        renderer.add([d for d, _ in keep], [piece for _, piece in keep])

    # -- 3. assemble -----------------------------------------------------------------------

    def assemble(self, plan: Plan) -> Site:
        """Every published path: feeds the plan marks stale rendered again, the others as they were."""
        paths: dict[str, Output] = {}
        rendered: dict[Group, _Rendered] = {}
        self.rendered_last = 0
        for group, spec in plan.feeds:
            previous = self._rendered.get(group)
            if group in plan.stale or previous is None:
                previous = _Rendered((spec.kind, spec.key, spec.name, spec.items), self._render_feed(spec))
                self.rendered_last += 1
            rendered[group] = previous
            paths.update(previous.outputs)
        self._rendered = rendered
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
        paths[HEADERS] = make_output(render_headers(), formats.TEXT, EPOCH)
        return MappingProxyType(dict(sorted(paths.items())))

    def _render_feed(self, spec: FeedSpec) -> dict[str, Output]:
        feed = make_feed(spec, self.settings)
        outputs = {}
        for index, fmt in enumerate(FORMATS):
            if self._fragments is not None:
                body = self._fragments[index].assemble(feed, spec.items)
            else:
                body = fmt.render(feed, [self._articles[entry.digest] for entry in spec.items])
            outputs[feed_path(spec.kind, spec.key, fmt)] = make_output(body, fmt.media_type, feed.updated)
        return outputs

    def _retain(self, plan: Plan) -> None:
        if self._fragments is None or not self.rendered_last:
            return
        slots = sum(len(spec.items) for _, spec in plan.feeds)
        for fragments in self._fragments:
            if fragments.store is not None:
                # The feeds' bytes already hold every fragment once more (~110 MB at 100,000
                # articles): the next change takes the few it needs from the store again.
                fragments.retain(set())
            elif fragments.size > slots:
                # Prune fragments of articles that left every feed once they could outnumber
                # the live ones: memory stays within about twice what the feeds show, and a
                # one-file change does not pay for a sweep.
                fragments.retain({entry.digest for _, spec in plan.feeds for entry in spec.items})

    # -- between runs ----------------------------------------------------------------------

    def state(self) -> BuilderState:
        """The feeds as last rendered, each with what it was rendered from, and the index page's
        latest lines (see `stores.saved_state`)."""
        return self._rendered, self._latest

    def restore(self, state: BuilderState) -> None:
        """Take `state()` of an earlier builder with the same settings: its feeds are not rendered again."""
        self._rendered, self._latest = state

    def prune_store(self) -> None:
        """Drop stored fragments no feed shows now (after a full build, so the store stays bounded)."""
        if self._fragments is None:
            return
        stores = {id(f.store): f.store for f in self._fragments if f.store is not None}
        if not stores:
            return
        digests = {entry.digest for rendered in self._rendered.values() for entry in rendered.signature[3]}
        keys = [fragments.key(digest) for fragments in self._fragments for digest in digests]
        for store in stores.values():
            store.keep_only(keys)

    @property
    def fragments(self) -> Sequence[FragmentRenderer]:
        """The renderers of item fragments, one per format (none when rendering whole feeds)."""
        return self._fragments or ()
