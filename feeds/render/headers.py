"""The HTTP header rules of a published path: one function that every way of publishing calls.

`headers_for(path, settings)` gives the headers that belong to a path whatever serves it: its
Content-Type with charset, its Cache-Control, nosniff, and CORS on everything but the HTML page.
The live server (`server/published.py`) and `feedpub deploy` to object storage take them from here,
so a rule changes in one place; `_headers`, the file static hosts read (Netlify, Cloudflare Pages),
is written from them too (`render_headers_file`). What depends on one response rather than on the path (ETag,
Last-Modified, Content-Length, Content-Encoding, and Vary, which only a server that negotiates
gzip sends) is added by whoever answers. The media types themselves are declared in `formats.py`
and the documents' paths in `paths.py`; this module only says which applies where.
"""

from __future__ import annotations

from ..catalog.catalog import ALL, PROVIDER, TOPIC
from ..settings import Settings
from . import formats
from .formats import FORMATS
from .paths import API, ARCHIVE, CATALOG, FOLDERS, HEADERS, INDEX, NOT_FOUND, OPML, archive_path, feed_path, is_archive, page_path
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


def headers_for(path: str, settings: Settings, *, growing: bool = False) -> dict[str, str]:
    """The headers a published path is served with, names in their usual capitalisation.

    Every output is UTF-8 text. Feeds, the catalog and OPML are read by web apps on other origins,
    so they carry CORS; the HTML index page is not an API and does not. `growing`: the document is
    the newest archive document of its feed (`Output.growing`).
    """
    media_type = media_type_for(path)
    # An archive document changes only when an article of its range does: readers and caches may
    # keep it far longer than a subscription document. All but the newest: that one takes each item
    # pushed out of the subscription document, and kept a day, it would hide from a reader walking
    # the history every article that left the subscription document that day.
    max_age = settings.archive_max_age if is_archive(path.lstrip("/")) and not growing else settings.max_age
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


# Headers whose value names the path itself. `_headers` leaves them out: it would need a rule per
# feed, and Cloudflare Pages allows 100 rules in all (Netlify's `_headers` has no way to put the
# path into a value). A feed names its WebSub hubs in its own body as well.
PER_PATH = frozenset({"Link"})


def header_rules(settings: Settings) -> list[tuple[str, dict[str, str]]]:
    """The `_headers` rules: (URL pattern, headers), in the order written.

    Netlify and Cloudflare Pages apply every rule whose pattern matches a path, and join a header
    given by two rules with a comma (two Content-Types, `Access-Control-Allow-Origin: *, *`). So no
    two patterns here may match one published path: exact paths where a folder holds documents of
    different kinds (`feeds/` holds the feeds of everything, the catalog and OPML), `*` only inside
    a folder that holds one kind (`*` matches across `/`, and `feeds/archive/` is the only folder
    below `feeds/topics/`'s and `feeds/providers/`'s level; `api/` holds only the JSON API). `tests/render/test_headers_file.py`
    applies both hosts' matching rules to every path of an export. Each rule's headers are
    `headers_for` a path it matches, less `PER_PATH` (also in Access-Control-Expose-Headers).
    """
    samples = [("/", INDEX), ("/" + INDEX, INDEX), ("/" + NOT_FOUND, NOT_FOUND), ("/" + OPML, OPML),
               ("/" + CATALOG, CATALOG)]
    for fmt in FORMATS:
        every = feed_path(ALL, ALL, fmt)
        samples.append(("/" + every, every))
        samples += [(f"/{FOLDERS[kind]}*{fmt.suffix}", feed_path(kind, "sample", fmt)) for kind in (TOPIC, PROVIDER)]
        samples.append((f"/{ARCHIVE}*{fmt.suffix}", archive_path(TOPIC, "sample", "sample", fmt)))
    # Each feed's page for people, beside its files: the feed of everything's by name, the others by
    # their folder's suffix (archive/ holds no page).
    samples.append(("/" + page_path(ALL, ALL), page_path(ALL, ALL)))
    samples += [(f"/{FOLDERS[kind]}*.html", page_path(kind, "sample")) for kind in (TOPIC, PROVIDER)]
    samples.append((f"/{API}*", f"{API}news/index.json"))  # the JSON API (everyday_api): one kind in its folder
    # The newest archive document of each feed changes as often as its subscription document, and a
    # pattern cannot single it out: every archive document gets the brief max-age here (static hosts
    # revalidate with the ETag); the live server and `feedpub deploy` give it to the newest alone.
    return [(pattern, _without_per_path(headers_for(sample, settings, growing=is_archive(sample))))
            for pattern, sample in samples]


def _without_per_path(headers: dict[str, str]) -> dict[str, str]:
    kept = {name: value for name, value in headers.items() if name not in PER_PATH}
    exposed = kept.get("Access-Control-Expose-Headers")
    if exposed is not None:  # and never expose a header the file does not send
        kept["Access-Control-Expose-Headers"] = ", ".join(
            name for name in exposed.split(", ") if name not in PER_PATH)
    return kept


def render_headers_file(settings: Settings) -> bytes:
    """`_headers` for static hosts that read it (Netlify, Cloudflare Pages): the rules above."""
    lines = ["# Response headers for Netlify and Cloudflare Pages, written by feedpub from the same rules",
             "# as the live server's. No two rules match one path.", ""]
    for pattern, headers in header_rules(settings):
        lines += [pattern, *(f"  {name}: {value}" for name, value in headers.items()), ""]
    return "\n".join(lines).encode("utf-8")
