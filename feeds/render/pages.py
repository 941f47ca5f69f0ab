"""The documents that list every feed for programs (the OPML subscription list, the JSON catalog),
the HTML page for a path that is not published (`404.html`, the live server's 404), and what the
HTML pages share (the front page is `front_page.py`, each feed's page `feed_pages.py`).

The HTML pages link the site's own documents relatively, so a copy of the site served from another
host or folder still browses; the documents meant for other programs (OPML, catalog, and the feeds
themselves) carry absolute URLs from the base URL, as their formats require or readers expect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from email.utils import format_datetime
from functools import partial
from html import escape
from typing import Any
from urllib.parse import urlsplit

from ..catalog.catalog import ALL, PROVIDER, TOPIC, FeedSpec
from ..reading.article import Article
from ..reading.dates import rfc3339
from ..settings import Settings
from .formats import FORMATS
from .jsonfeed import compact_json, dump_json
from .paths import archive_path, feed_url, page_path, url_of

_SECTIONS = ((ALL, "Everything"), (TOPIC, "Topics"), (PROVIDER, "Providers"))
LATEST = 20


class Parts:
    """Each feed's line in the index page, OPML and catalog, kept while the catalog hands out the
    same spec object (it makes a new one only for a feed a change touched): the index pages list all
    381 feeds of a 100k site on every rebuild, but re-render only the few lines that changed."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, int], tuple[FeedSpec, Any]] = {}

    def get(self, what: str, spec: FeedSpec, make: Callable[[], Any]) -> Any:
        key = (what, id(spec))
        known = self._made.get(key)
        if known is not None and known[0] is spec:  # the spec is held, so its id is not reused
            return known[1]
        value = make()
        self._made[key] = (spec, value)
        return value

    def retain(self, specs: Sequence[FeedSpec]) -> None:
        live = {id(spec) for spec in specs}
        self._made = {key: value for key, value in self._made.items() if key[1] in live}


def _part(parts: Parts | None, what: str, spec: FeedSpec, make: Callable[[], Any]) -> Any:
    return make() if parts is None else parts.get(what, spec, make)


def _name(spec: FeedSpec, settings: Settings) -> str:
    return spec.name or settings.title


def _urls(spec: FeedSpec, settings: Settings) -> dict[str, str]:
    return dict(_feed_urls(settings.base_url, spec.kind, spec.key))


@functools.lru_cache(maxsize=65536)
def _feed_urls(base_url: str, kind: str, key: str) -> tuple[tuple[str, str], ...]:
    # Every index page lists every feed on every rebuild; the URLs only change with the base.
    settings = Settings(base_url=base_url)
    return tuple((fmt.name, feed_url(settings, kind, key, fmt)) for fmt in FORMATS)


def latest_line(article: Article) -> str:
    """One article's line in the index page's list of the latest."""
    e = escape
    return (f'<li><a href="{e(article.url)}">{e(article.title)}</a> <span class="muted">— {e(article.provider.name)}, '
            f'<time datetime="{rfc3339(article.published)}">{article.published:%Y-%m-%d %H:%M} UTC</time></span></li>')


def render_opml(feeds: Sequence[FeedSpec], settings: Settings, parts: Parts | None = None) -> bytes:
    a = _attr
    newest = max((spec.newest for spec in feeds if spec.newest), default=None)
    modified = f"\n    <dateModified>{format_datetime(newest, usegmt=True)}</dateModified>" if newest else ""

    def outline(s: FeedSpec) -> str:
        return (f'\n      <outline type="rss" text={a(_name(s, settings))} title={a(_name(s, settings))}'
                f" xmlUrl={a(_urls(s, settings)['rss'])} htmlUrl={a(url_of(settings, page_path(s.kind, s.key)))}/>")

    groups = []
    for kind, heading in _SECTIONS:
        outlines = "".join(
            _part(parts, "outline", s, partial(outline, s)) for s in feeds if s.kind == kind
        )
        if outlines:
            groups.append(f"\n    <outline text={a(heading)} title={a(heading)}>{outlines}\n    </outline>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n  <head>\n'
        f"    <title>{escape(settings.title)}</title>{modified}\n  </head>\n  <body>{''.join(groups)}\n  </body>\n</opml>\n"
    ).encode()


def _attr(value: str) -> str:
    return '"' + escape(value, quote=True) + '"'


def render_catalog(feeds: Sequence[FeedSpec], settings: Settings, parts: Parts | None = None) -> bytes:
    def entry(spec: FeedSpec) -> bytes:
        document: dict[str, Any] = {
            "kind": spec.kind,
            "key": spec.key,
            "title": _name(spec, settings),
            "items": len(spec.items),
            "articles": spec.total,
            "newest": rfc3339(spec.newest) if spec.newest else None,
            "urls": _urls(spec, settings),
            "page": url_of(settings, page_path(spec.kind, spec.key)),  # the feed's page for people
        }
        if settings.archives:
            # How many archive documents hold the feed's older items, and the newest of them: where
            # a reader walking back through the history starts (the feed itself links it too).
            first = spec.archives[0] if spec.archives else None
            document["archives"] = {
                "documents": len(spec.archives),
                "first": None if first is None else {
                    fmt.name: url_of(settings, archive_path(spec.kind, spec.key, first.name, fmt)) for fmt in FORMATS},
            }
        return compact_json(document)

    # One feed per line, through the C encoder: the catalog is rebuilt on every change.
    head = dump_json({"title": settings.title, "home_page_url": settings.url("/"), "feeds": []})
    head = head[: head.rindex(b"[]")] + b"["
    rows = b",\n".join(_part(parts, "entry", spec, partial(entry, spec)) for spec in feeds)
    return head + (b"\n" + rows + b"\n]\n}\n" if feeds else b"]\n}\n")


def render_not_found(settings: Settings) -> bytes:
    """The page for a path that is not published: the live server's 404 body and the export's
    `404.html`. A static host serves it in place of any missing path, at any depth, so its one link
    cannot be relative: it is the site's root path from the base URL (`/`, or `/news/` for a site
    under a folder), which still works on another host."""
    home = urlsplit(settings.url("/")).path or "/"
    return (
        f'<!doctype html>\n<html lang="{escape(settings.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Not found</title></head>\n'
        '<body><h1>Not found</h1><p>There is no feed at this address. '
        f'<a href="{escape(home)}">See every feed</a>.</p></body></html>\n'
    ).encode()
