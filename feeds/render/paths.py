"""Where everything is published: each feed's site path (no leading slash) and absolute URL."""

from __future__ import annotations

from urllib.parse import quote

from ..catalog.catalog import ALL, PROVIDER, TOPIC
from ..settings import Settings
from .formats import Format

# The folder of each kind of feed: stable, subscribers keep these URLs for years.
FOLDERS = {ALL: "feeds/", TOPIC: "feeds/topics/", PROVIDER: "feeds/providers/"}

INDEX = "index.html"
OPML = "feeds/index.opml"
CATALOG = "feeds/index.json"
HEADERS = "_headers"  # read by static hosts (Netlify, Cloudflare Pages); not a page to serve


def feed_path(kind: str, key: str, fmt: Format) -> str:
    """Site path of one feed file, e.g. `feeds/topics/ai.rss`."""
    return f"{FOLDERS[kind]}{key}{fmt.suffix}"


def feed_url(settings: Settings, kind: str, key: str, fmt: Format) -> str:
    """Absolute URL of one feed file: a URI, so a unicode slug (`人工知能`) is percent-encoded.

    The site path stays readable (it is the file name); feeds, pages and catalogs print this.
    """
    return settings.url(quote(feed_path(kind, key, fmt), safe="/"))
