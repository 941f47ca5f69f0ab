"""What the server answers from: every path of a `Site` turned into ready headers and bodies.

Built once per change in the rebuild thread, then swapped in with one assignment: a request reads
one `Published` from start to end, so it sees the old state or the new one, never a mix. Gzip
bodies are compressed once per distinct body, on first demand, and carried over while the body
is unchanged. Archive documents (`LazyOutput`) are `LazyResource`s: a 304 needs only their ETag;
a 200 puts the document together (in a worker thread) and keeps it in a `BodyCache` of bounded size.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from feedpub.render.headers import headers_for
from feedpub.render.paths import HEADERS, INDEX
from feedpub.render.site import LazyOutput, Output, Site
from feedpub.settings import Settings

from .http import http_date, served_last_modified

if TYPE_CHECKING:
    from feedpub.render.filtered import FilterState

MIN_GZIP = 256  # smaller bodies gain nothing from compression
_BODY_ONLY = {b"content-type", b"x-content-type-options", b"access-control-expose-headers"}

Header = tuple[bytes, bytes]


@dataclass(frozen=True, slots=True)
class Resource:
    output: Output
    gzip_etag: str | None  # None: too small to be worth compressing
    headers: tuple[Header, ...]  # raw, for the hot path: all but ETag, length and encoding
    etag_header: Header
    length_header: Header
    gzip_etag_header: Header | None
    # A 304 carries the headers that update a cache (RFC 9110 §15.4.5), not the body's Content-Type.
    not_modified_headers: tuple[Header, ...]
    tags: frozenset[bytes]  # both ETags as a client sends them back: the usual If-None-Match
    # The gzip body and its headers, made on the first request that wants them and kept with
    # the resource, which lives as long as its bytes do: compressed once per change, and never
    # for the many feeds nobody asks for compressed (which keeps start-up and memory down).
    _gzip: list[tuple[bytes, tuple[Header, Header]]] = field(default_factory=list, compare=False, repr=False)
    # The response headers as written on the wire, per (status, gzip): see `wire`.
    _wire: dict[tuple[int, bool], bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def etag(self) -> str:
        return self.output.etag

    @property
    def etags(self) -> tuple[str, ...]:
        """Both representations' tags: a client holding either has the current content."""
        return (self.etag, self.gzip_etag) if self.gzip_etag else (self.etag,)

    def _compressed(self) -> tuple[bytes, tuple[Header, Header]] | None:
        """The gzip body with its Content-Encoding and Content-Length, made on first use."""
        if self.gzip_etag is None:
            return None
        if not self._gzip:
            # mtime=0 keeps the compressed bytes a function of the body alone.
            body = gzip.compress(self.output.body, compresslevel=6, mtime=0)
            self._gzip.append((body, ((b"content-encoding", b"gzip"), _length(body))))
        return self._gzip[0]

    @property
    def gzip_body(self) -> bytes | None:
        made = self._compressed()
        return None if made is None else made[0]

    def body(self, compressed: bool) -> bytes:
        """The body of a 200: gzip when the client takes it (and there is a gzip body)."""
        made = self._compressed() if compressed else None
        return self.output.body if made is None else made[0]

    def response_headers(self, status: int, compressed: bool) -> list[Header]:
        """The headers of a 200 or 304 answer, plain or gzip (the 304 carries the matching ETag)."""
        gzip_etag = self.gzip_etag_header if compressed else None
        etag = gzip_etag or self.etag_header
        if status == 304:  # no body: nothing to compress
            return [*self.not_modified_headers, etag]
        made = self._compressed() if gzip_etag else None
        extra = (self.length_header,) if made is None else made[1]
        return [*self.headers, etag, *extra]

    def wire(self, status: int, compressed: bool) -> bytes:
        """`response_headers` framed as HTTP/1.1 writes them, ending with the blank line; made once."""
        key = (status, compressed)
        framed = self._wire.get(key)
        if framed is None:
            framed = b"".join(name + b": " + value + b"\r\n" for name, value in self.response_headers(status, compressed))
            framed = self._wire[key] = framed + b"\r\n"
        return framed


class BodyCache:
    """Archive documents as last put together, by ETag, within a bound on their bytes: most are read
    once in a long while (a backfill), a few again and again (the newest of a busy feed)."""

    def __init__(self, max_bytes: int = 32 << 20) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[str, Resource] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # documents are put together in worker threads

    def get(self, etag: str) -> Resource | None:
        with self._lock:
            found = self._held.get(etag)
            if found is not None:
                self._held.move_to_end(etag)
            return found

    def put(self, resource: Resource) -> None:
        size = len(resource.output.body)
        with self._lock:
            if resource.etag in self._held or size > self.max_bytes:
                return
            self._held[resource.etag] = resource
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._held.popitem(last=False)
                self._bytes -= len(dropped.output.body)

    @property
    def size(self) -> int:
        return self._bytes


class LazyResource:
    """A document put together when a 200 asks for it. What decides 200 or 304 (its ETags) is
    worked out on the first request, not when it is published: a change can publish thousands of
    these (every page of the JSON API shifts when an article arrives)."""

    __slots__ = ("_ready", "cache", "output", "path", "settings")

    def __init__(self, output: LazyOutput, path: str, settings: Settings, cache: BodyCache) -> None:
        self.output = output
        self.path = path
        self.settings = settings
        self.cache = cache
        self._ready: tuple[str, frozenset[bytes], tuple[Header, ...], Header, Header] | None = None

    def _made(self) -> tuple[str, frozenset[bytes], tuple[Header, ...], Header, Header]:
        if self._ready is None:
            etag = self.output.etag
            gzip_etag = etag[:-1] + '-gz"'  # archive documents and API pages exceed MIN_GZIP: a frame alone does
            # A 304 repeats what `_resource` would send, less what describes a body.
            raw = _headers_of(self.path, self.output, self.settings)
            updates = tuple((name, value) for name, value in raw if name not in _BODY_ONLY)
            tags = frozenset(tag.encode("latin-1") for tag in (etag, gzip_etag))
            self._ready = (gzip_etag, tags, updates, (b"etag", etag.encode("latin-1")),
                           (b"etag", gzip_etag.encode("latin-1")))
        return self._ready

    @property
    def etag(self) -> str:
        return self.output.etag

    @property
    def gzip_etag(self) -> str:
        return self._made()[0]

    @property
    def tags(self) -> frozenset[bytes]:
        return self._made()[1]

    @property
    def etags(self) -> tuple[str, ...]:
        return (self.etag, self.gzip_etag)

    def not_modified(self, compressed: bool) -> list[Header]:
        """The headers of a 304, which needs no body."""
        _, _, updates, plain, packed = self._made()
        return [*updates, packed if compressed else plain]

    def materialize(self) -> Resource:
        """The document with its bytes (blocking: it reads stored fragments; call it off the event loop)."""
        made = self.cache.get(self.etag)
        if made is None:
            output = self.output
            made = _resource(self.path, Output(output.body, output.media_type, output.etag, output.last_modified,
                                               output.growing), self.settings)
            self.cache.put(made)
        return made


@dataclass(frozen=True, slots=True)
class Published:
    resources: Mapping[str, Resource | LazyResource]  # URL path ("/", "/feeds/all.rss") → resource
    filters: FilterState | None = None  # what query filters read of this state (server/filtered.py)

    def get(self, path: str) -> Resource | LazyResource | None:
        return self.resources.get(path)


def publish(site: Site, *, settings: Settings, previous: Published | None = None,
            cache: BodyCache | None = None, filters: FilterState | None = None) -> Published:
    """Every path of `site`, ready to answer, with the headers `render/headers.py` gives its path."""
    reuse: dict[str, Resource] = {}
    if previous is not None:  # documents held as bytes, by ETag (documents made when asked for go by path)
        reuse = {resource.etag: resource for resource in previous.resources.values() if isinstance(resource, Resource)}
    bodies = cache if cache is not None else BodyCache()
    resources: dict[str, Resource | LazyResource] = {}
    for path, output in site.items():
        if path == HEADERS:  # configuration for static hosts, not a page
            continue
        if isinstance(output, LazyOutput):
            earlier = previous.resources.get("/" + path) if previous is not None else None
            if isinstance(earlier, LazyResource) and earlier.output is output:
                resources["/" + path] = earlier
            else:
                resources["/" + path] = LazyResource(output, path, settings, bodies)
            continue
        old = reuse.get(output.etag)
        if isinstance(old, Resource) and old.output is output:
            resource = old
        else:
            # A new output object, even with equal bytes, gets a new resource: keeping the old one
            # would keep a second copy of the body alive (a re-rendered index page, say).
            resource = _resource(path, output, settings)
            if isinstance(old, Resource) and old.output.body == output.body:
                resource._gzip[:] = old._gzip  # the same bytes compress the same
        resources["/" + path] = resource
        if path == INDEX:
            resources["/"] = resource
    return Published(MappingProxyType(resources), filters)


def _headers_of(path: str, output: Output | LazyOutput, settings: Settings) -> tuple[Header, ...]:
    """The headers of a 200 but for ETag, length and encoding: the path's rules (render/headers.py,
    which the deploy to object storage follows too), with what this server adds per response in
    between, in the order the server has always sent them."""
    rules = headers_for(path, settings, growing=output.growing)
    last_modified = served_last_modified(output.last_modified)
    headers = [
        ("content-type", rules.pop("Content-Type")),
        ("last-modified", http_date(last_modified)),
        ("cache-control", rules.pop("Cache-Control")),
        ("vary", "Accept-Encoding"),
        *((name.lower(), value) for name, value in rules.items()),  # nosniff, then CORS on all but the page
    ]
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)


def make_resource(path: str, output: Output, settings: Settings, *, feed: bool = True) -> Resource:
    """`path`'s document ready to serve. `feed=False`: a filtered feed, which is no WebSub topic,
    so it names no hub (a reader would subscribe to the plain feed through it)."""
    resource = _resource(path, output, settings)
    if feed or not settings.websub.enabled:
        return resource
    drop = {b"link"}
    headers = tuple((name, b"ETag, Last-Modified" if name == b"access-control-expose-headers" else value)
                    for name, value in resource.headers if name not in drop)
    updates = tuple((name, value) for name, value in resource.not_modified_headers if name not in drop)
    return Resource(output, resource.gzip_etag, headers, resource.etag_header, resource.length_header,
                    resource.gzip_etag_header, updates, resource.tags)


def _resource(path: str, output: Output, settings: Settings) -> Resource:
    gzip_etag = gzip_etag_header = None
    if len(output.body) >= MIN_GZIP:
        gzip_etag = output.etag[:-1] + '-gz"'
        gzip_etag_header = (b"etag", gzip_etag.encode("latin-1"))
    raw = _headers_of(path, output, settings)
    updates = tuple((name, value) for name, value in raw if name not in _BODY_ONLY)
    tags = frozenset(tag.encode("latin-1") for tag in (output.etag, gzip_etag) if tag)
    return Resource(output, gzip_etag, raw, (b"etag", output.etag.encode("latin-1")),
                    _length(output.body), gzip_etag_header, updates, tags)


def _length(body: bytes) -> Header:
    return (b"content-length", str(len(body)).encode("latin-1"))
