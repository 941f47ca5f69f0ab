"""Where everything is published: each feed's site path (no leading slash) and absolute URL."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote

from ..catalog.catalog import ALL, PROVIDER, TOPIC
from ..settings import Settings
from .formats import Format

# The folder of each kind of feed: stable, subscribers keep these URLs for years.
FOLDERS = {ALL: "feeds/", TOPIC: "feeds/topics/", PROVIDER: "feeds/providers/"}

# Archive documents of each kind of feed, in a folder of their own below `feeds/archive/` (so no
# subscription document's folder holds anything else): `feeds/archive/topics/<slug>/<name>.rss`.
ARCHIVE = "feeds/archive/"
_ARCHIVES = {ALL: ARCHIVE + "all/", TOPIC: ARCHIVE + "topics/{key}/", PROVIDER: ARCHIVE + "providers/{key}/"}

API = "api/"  # the seed site's JSON API (render/api.py): plain JSON, not JSON Feed

INDEX = "index.html"
OPML = "feeds/index.opml"
CATALOG = "feeds/index.json"
HEADERS = "_headers"  # read by static hosts (Netlify, Cloudflare Pages); not a page to serve
NOT_FOUND = "404.html"  # the page for a path that is not published: static hosts serve it for every one

_AS_IT_IS = re.compile(r"[A-Za-z0-9_.~/-]*")  # the characters `quote(path, safe="/")` leaves alone


def feed_path(kind: str, key: str, fmt: Format) -> str:
    """Site path of one feed file, e.g. `feeds/topics/ai.rss`."""
    return f"{FOLDERS[kind]}{key}{fmt.suffix}"


def page_path(kind: str, key: str) -> str:
    """Site path of a feed's HTML page for people, beside its files: `feeds/topics/ai.html`."""
    return f"{FOLDERS[kind]}{key}.html"


def relative(source: str, target: str) -> str:
    """The link from the page at site path `source` to site path `target`, relative and
    percent-encoded, so a copy of the site served from another host or folder still browses."""
    return quote(_relpath(target, posixpath.dirname(source)), safe="/")


def _relpath(target: str, start: str) -> str:
    """`posixpath.relpath(target, start or ".")` for site paths, without its two `abspath`s (each a
    `getcwd` call: ~60 µs a link, ~3,400 links in a build at 10k). Paths that are not plain (absolute,
    `.` or `..` segments, doubled or trailing slashes) go to `relpath` itself."""
    if not (_plain(target) and (not start or _plain(start))):
        return posixpath.relpath(target, start or ".")
    to = target.split("/")
    here = start.split("/") if start else []
    common = 0
    for a, b in zip(to, here, strict=False):
        if a != b:
            break
        common += 1
    parts = [".."] * (len(here) - common) + to[common:]
    return "/".join(parts) if parts else "."


def _plain(path: str) -> bool:
    # No segment starting with "." (so none that is "." or ".."; a hidden name is sent to relpath too).
    return bool(path) and path[0] != "/" and path[-1] != "/" and "//" not in path and "/." not in "/" + path


def archive_path(kind: str, key: str, name: str, fmt: Format) -> str:
    """Site path of one archive document, e.g. `feeds/archive/topics/ai/2026.rss`."""
    return f"{_ARCHIVES[kind].format(key=key)}{name}{fmt.suffix}"


def is_archive(path: str) -> bool:
    return path.startswith(ARCHIVE)


def url_of(settings: Settings, path: str) -> str:
    """Absolute URL of a site path, percent-encoded where it must be."""
    return settings.url(href(path))


def href(path: str) -> str:
    """A site path as a relative URL from the site's root folder (where the index page is)."""
    if _AS_IT_IS.fullmatch(path):  # nearly every path: `quote` took ~4 µs each, ~100,000 at 100k
        return path
    return quote(path, safe="/")


def feed_url(settings: Settings, kind: str, key: str, fmt: Format) -> str:
    """Absolute URL of one feed file: a URI, so a unicode slug (`人工知能`) is percent-encoded.

    The site path stays readable (it is the file name); feeds, pages and catalogs print this.
    """
    return url_of(settings, feed_path(kind, key, fmt))
