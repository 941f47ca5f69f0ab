"""The HTTP header rules of a published path: one function that every way of publishing calls.

`headers_for(path, settings)` gives the headers that belong to a path whatever serves it: its
Content-Type with charset, its Cache-Control, nosniff, and CORS on everything but the HTML page.
The live server (`server/published.py`) and `feedpub deploy` to object storage take them from here,
so a rule changes in one place. What depends on one response rather than on the path (ETag,
Last-Modified, Content-Length, Content-Encoding, and Vary, which only a server that negotiates
gzip sends) is added by whoever answers. The media types themselves are declared in `formats.py`
and the documents' paths in `paths.py`; this module only says which applies where.
"""

from __future__ import annotations

from ..settings import Settings
from . import formats
from .formats import FORMATS
from .paths import API, CATALOG, HEADERS, INDEX, OPML, is_archive
from .websub import discovery_link, is_topic, topic_url

# The documents whose path, not their suffix, says what they are (the catalog is plain JSON,
# not a JSON Feed); then every feed by its format's suffix, and pages and OPML by theirs.
_BY_PATH = {INDEX: formats.HTML, OPML: formats.OPML, CATALOG: formats.JSON, HEADERS: formats.TEXT}
_BY_SUFFIX = {fmt.suffix: fmt.media_type for fmt in FORMATS} | {".html": formats.HTML, ".opml": formats.OPML}


class UnknownPathError(ValueError):
    """A path no header rule covers: a new kind of output needs its rule here first."""


def media_type_for(path: str) -> str:
    """The media type of a site path (a leading slash is allowed), without charset."""
    path = path.lstrip("/")
    if path in _BY_PATH:
        return _BY_PATH[path]
    if path.startswith(API):
        return formats.JSON
    name = path.rpartition("/")[2]
    media_type = _BY_SUFFIX.get("." + name.rpartition(".")[2]) if "." in name else None
    if media_type is None:
        # Guessing (application/octet-stream) would publish a feed a browser downloads instead
        # of showing; failing names the path so the rule is added where every publisher sees it.
        raise UnknownPathError(f"no header rule for {path!r}: add its media type to feeds/render/headers.py")
    return media_type


def headers_for(path: str, settings: Settings) -> dict[str, str]:
    """The headers a published path is served with, names in their usual capitalisation.

    Every output is UTF-8 text. Feeds, the catalog and OPML are read by web apps on other origins,
    so they carry CORS; the HTML index page is not an API and does not.
    """
    media_type = media_type_for(path)
    # An archive document changes only when an article of its range does: readers and caches may
    # keep it far longer than a subscription document.
    max_age = settings.archive_max_age if is_archive(path.lstrip("/")) else settings.max_age
    headers = {
        "Content-Type": f"{media_type}; charset=utf-8",
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
    }
    if media_type != formats.HTML:
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    if settings.websub.enabled and is_topic(path, media_type):
        # WebSub discovery (W3C WebSub §4): the hubs and the feed's own URL, only when a hub is
        # configured, so that without one no response gains a byte.
        headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified, Link"
        headers["Link"] = discovery_link(settings, topic_url(settings, path))
    return headers
