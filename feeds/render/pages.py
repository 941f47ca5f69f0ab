"""The pages that list every feed (the HTML index, the OPML subscription list, the JSON catalog)
and the HTML page for a path that is not published (`404.html`, the live server's 404).

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
from . import formats
from .formats import BY_NAME, FORMATS
from .jsonfeed import compact_json, dump_json
from .paths import CATALOG, OPML, archive_path, feed_path, feed_url, href, url_of

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

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:0}table{border-collapse:collapse;width:100%}td,th{padding:.25rem .5rem;text-align:left;
border-bottom:1px solid #eee}th{font-weight:600}td.n{text-align:right;color:#666}a{color:#0645ad}
.muted{color:#666}.latest li{margin:.3rem 0}code{background:#f4f4f4;padding:0 .2rem}
""".strip()


def _name(spec: FeedSpec, settings: Settings) -> str:
    return spec.name or settings.title


def _urls(spec: FeedSpec, settings: Settings) -> dict[str, str]:
    return dict(_feed_urls(settings.base_url, spec.kind, spec.key))


def _hrefs(spec: FeedSpec) -> dict[str, str]:
    """Format name → the feed's URL relative to the index page (the site's root folder)."""
    return {fmt.name: href(feed_path(spec.kind, spec.key, fmt)) for fmt in FORMATS}


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


def render_index(feeds: Sequence[FeedSpec], latest: Sequence[str], settings: Settings,
                 parts: Parts | None = None) -> bytes:
    """The home page; `feeds[0]` is the feed of everything and `latest` the `latest_line`s of its
    newest articles."""
    everything = feeds[0]
    e = escape
    title = e(settings.title)
    urls = _hrefs(everything)
    discovery = "\n".join(
        f'<link rel="alternate" type="{BY_NAME[fmt].media_type}" title="{title} ({BY_NAME[fmt].label})" '
        f'href="{e(url)}">'
        for fmt, url in urls.items()
    )
    lines = "\n".join(latest[:LATEST])
    sections = []
    for kind, heading in _SECTIONS:
        rows = "\n".join(_part(parts, "row", spec, partial(_row, spec, settings))
                         for spec in feeds if spec.kind == kind)
        if rows:
            sections.append(
                f"<h2>{heading}</h2>\n<table>\n<tr><th>Feed</th><th>Articles</th><th>Newest</th><th>Subscribe</th></tr>"
                f"\n{rows}\n</table>"
            )
    body = f"""<!doctype html>
<html lang="{e(settings.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{discovery}
<link rel="alternate" type="{formats.OPML}" title="All feeds (OPML)" href="{e(href(OPML))}">
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p class="muted">{e(settings.description)}. Subscribe to everything, a topic or a provider in RSS, Atom or
JSON Feed; import <a href="{e(href(OPML))}">every feed as OPML</a> or read the
<a href="{e(href(CATALOG))}">catalog</a>.</p>
<h2>Latest</h2>
<ul class="latest">
{lines or '<li class="muted">No articles yet.</li>'}
</ul>
{chr(10).join(sections)}
</body>
</html>
"""
    return body.encode("utf-8")


def _row(spec: FeedSpec, settings: Settings) -> str:
    links = " · ".join(f'<a href="{escape(url)}">{BY_NAME[fmt].label}</a>' for fmt, url in _hrefs(spec).items())
    newest = f"{spec.newest:%Y-%m-%d}" if spec.newest else "—"
    key = f' <code>{escape(spec.key)}</code>' if spec.kind == PROVIDER else ""
    return (f"<tr><td>{escape(_name(spec, settings))}{key}</td><td class=n>{spec.total}</td>"
            f"<td>{newest}</td><td>{links}</td></tr>")


def render_opml(feeds: Sequence[FeedSpec], settings: Settings, parts: Parts | None = None) -> bytes:
    a = _attr
    newest = max((spec.newest for spec in feeds if spec.newest), default=None)
    modified = f"\n    <dateModified>{format_datetime(newest, usegmt=True)}</dateModified>" if newest else ""

    def outline(s: FeedSpec) -> str:
        return (f'\n      <outline type="rss" text={a(_name(s, settings))} title={a(_name(s, settings))}'
                f" xmlUrl={a(_urls(s, settings)['rss'])} htmlUrl={a(settings.url('/'))}/>")

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
