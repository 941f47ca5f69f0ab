"""The site: every published path mapped to its bytes, media type, ETag and Last-Modified.

One map feeds both the live server and the static export, so the two can never drift. A
`SiteBuilder` keeps the previous map and re-renders a feed only when what it would print
changed (its items, its name or its key); the index pages are rebuilt on every change because
they list every feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from .article import Entry
from .atom import MEDIA_TYPE as ATOM_TYPE
from .atom import render_atom
from .catalog import Catalog, FeedSpec, Group
from .feed import EPOCH, FORMATS, Feed, feed_path, make_feed
from .fragment_cache import FragmentCache
from .fragments import FragmentRenderer, Resolve, render_chunk
from .index_pages import LATEST, Parts, render_catalog, render_headers, render_index, render_opml
from .jsonfeed import MEDIA_TYPE as JSON_FEED_TYPE
from .jsonfeed import render_json
from .processes import process_pool
from .rss import MEDIA_TYPE as RSS_TYPE
from .rss import render_rss
from .settings import Settings

# Output formats as plain data: suffix → (media type, renderer), as Hugo and Datasette declare them.
RENDERERS: dict[str, tuple[str, Callable[[Feed], bytes]]] = {
    "rss": (RSS_TYPE, render_rss),
    "atom": (ATOM_TYPE, render_atom),
    "json": (JSON_FEED_TYPE, render_json),
}
assert tuple(RENDERERS) == FORMATS

# Below this many items to render, worker processes cost more than they save.
PARALLEL_RENDER_MIN = 1000

INDEX = "index.html"
OPML = "feeds/index.opml"
CATALOG = "feeds/index.json"
HEADERS = "_headers"  # read by static hosts (Netlify, Cloudflare Pages); not a page to serve


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


@dataclass(frozen=True, slots=True)
class _Rendered:
    signature: tuple[str, str, str, tuple[Entry, ...]]  # everything the feed's bytes depend on: kind, key, name, items
    outputs: dict[str, Output]


class SiteBuilder:
    def __init__(self, settings: Settings, *, fragments: bool = True, store: FragmentCache | None = None,
                 jobs: int = 1) -> None:
        self.settings = settings
        self.jobs = jobs
        self._rendered: dict[Group, _Rendered] = {}
        self.rendered_last = 0  # feeds re-rendered by the last build, for logs and tests
        # Rendering whole feeds (fragments=False) is the straightforward path the fast one is
        # proven byte-identical to.
        self._fragments = {fmt: FragmentRenderer(fmt, store=store) for fmt in RENDERERS} if fragments else None
        self._parts = Parts()  # the index pages' per-feed lines (settings are fixed for a builder's life)

    def build(self, catalog: Catalog, resolve: Resolve) -> Site:
        """Every published path, from the catalog's specs; `resolve` fetches the full articles of
        the items that have to be rendered (all of them when rendering whole feeds)."""
        specs = [(group, catalog.spec(group)) for group in catalog.groups()]
        self._prefill(specs, resolve)
        paths: dict[str, Output] = {}
        rendered: dict[Group, _Rendered] = {}
        self.rendered_last = 0
        for group, spec in specs:
            signature = (spec.kind, spec.key, spec.name, spec.items)
            previous = self._rendered.get(group)
            if previous is None or previous.signature != signature:
                previous = _Rendered(signature, self._render_feed(spec, resolve))
                self.rendered_last += 1
            rendered[group] = previous
            paths.update(previous.outputs)
        self._rendered = rendered
        if self._fragments is not None and self.rendered_last:
            slots = sum(len(spec.items) for _, spec in specs)
            for fragments in self._fragments.values():
                if fragments.store is not None:
                    # The feeds' bytes already hold every fragment once more (~110 MB at 100,000
                    # articles): the next change takes the few it needs from the store again.
                    fragments.retain(set())
                elif fragments.size > slots:
                    # Prune fragments of articles that left every feed once they could outnumber
                    # the live ones: memory stays within about twice what the feeds show, and a
                    # one-file change does not pay for a sweep.
                    fragments.retain({entry.digest for _, spec in specs for entry in spec.items})

        feeds = [spec for _, spec in specs]
        newest = max((spec.newest for spec in feeds if spec.newest), default=EPOCH)
        everything = feeds[0]  # groups() always lists the feed of everything first
        latest = resolve(everything.items[:LATEST])
        parts = self._parts
        parts.retain(feeds)
        paths[INDEX] = make_output(render_index(feeds, latest, self.settings, parts), "text/html", newest)
        paths[OPML] = make_output(render_opml(feeds, self.settings, parts), "text/x-opml", newest)
        paths[CATALOG] = make_output(render_catalog(feeds, self.settings, parts), "application/json", newest)
        paths[HEADERS] = make_output(render_headers(), "text/plain", EPOCH)
        return MappingProxyType(dict(sorted(paths.items())))

    def state(self) -> dict[Group, _Rendered]:
        """The feeds as last rendered, each with what it was rendered from (see `feeds.snapshot`)."""
        return self._rendered

    def restore(self, rendered: dict[Group, _Rendered]) -> None:
        """Take `state()` of an earlier builder with the same settings: its feeds are not rendered again."""
        self._rendered = rendered

    def _prefill(self, specs: list[tuple[Group, FeedSpec]], resolve: Resolve) -> None:
        """On a cold build, render the missing fragments across processes before assembling feeds."""
        if self._fragments is None or self.jobs < 2 or self._rendered:
            return  # only a first build can have thousands of items to render
        shown = list({e.digest: e for _, spec in specs for e in spec.items}.values())
        missing = {fmt: renderer.lookup(shown) for fmt, renderer in self._fragments.items()}
        todo = list({e.digest: e for entries in missing.values() for e in entries}.values())
        if len(todo) < PARALLEL_RENDER_MIN:
            return  # the renderers do it in this process, feed by feed
        # Items' bytes depend only on site-wide values, so any feed is the template.
        template = make_feed(specs[0][1], self.settings, items=())
        formats = tuple(self._fragments)
        chunks = [todo[i : i + 200] for i in range(0, len(todo), 200)]
        wanted = {fmt: {e.digest for e in entries} for fmt, entries in missing.items()}
        with process_pool(self.jobs) as pool:
            jobs = ((template, formats, resolve(chunk)) for chunk in chunks)
            for chunk, pieces in zip(chunks, pool.map(render_chunk, jobs)):
                for fmt, renderer in self._fragments.items():
                    keep = [(e, piece) for e, piece in zip(chunk, pieces[fmt]) if e.digest in wanted[fmt]]
                    if keep:
                        renderer.add([e for e, _ in keep], [piece for _, piece in keep])

    def prune_store(self) -> None:
        """Drop stored fragments no feed shows now (after a full build, so the store stays bounded)."""
        if self._fragments is None:
            return
        stores = {id(f.store): f.store for f in self._fragments.values() if f.store is not None}
        if not stores:
            return
        digests = {entry.digest for rendered in self._rendered.values() for entry in rendered.signature[3]}
        keys = [fragments.key(digest) for fragments in self._fragments.values() for digest in digests]
        for store in stores.values():
            store.keep_only(keys)

    def _render_feed(self, spec: FeedSpec, resolve: Resolve) -> dict[str, Output]:
        if self._fragments is not None:
            feed = make_feed(spec, self.settings)  # items stay entries: see FragmentRenderer.render
        else:
            feed = make_feed(spec, self.settings, items=tuple(resolve(spec.items)))
        outputs = {}
        for fmt, (media_type, render) in RENDERERS.items():
            body = self._fragments[fmt].render(feed, resolve) if self._fragments is not None else render(feed)
            outputs[feed_path(spec.kind, spec.key, fmt)] = make_output(body, media_type, feed.updated)
        return outputs
