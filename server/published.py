"""What the server answers from: every path of a `Site` turned into ready headers and bodies.

Built once per change in the rebuild thread, then swapped in with one assignment: a request reads
one `Published` from start to end, so it sees the old state or the new one, never a mix. Gzip
bodies are compressed once per distinct body, on first demand, and carried over while the body
is unchanged.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from feedpub.render.paths import HEADERS, INDEX
from feedpub.render.site import Output, Site

from .http import http_date

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


@dataclass(frozen=True, slots=True)
class Published:
    resources: Mapping[str, Resource]  # URL path ("/", "/feeds/all.rss") → resource

    def get(self, path: str) -> Resource | None:
        return self.resources.get(path)


def publish(site: Site, *, max_age: int, previous: Published | None = None,
            links: Callable[[str, Output], str] | None = None) -> Published:
    """`links(path, output)`: the `Link` header of a path, if any (WebSub discovery; see
    `feedpub.render.websub.feed_links`)."""
    reuse: dict[str, Resource] = {}
    if previous is not None:
        reuse = {resource.etag: resource for resource in previous.resources.values()}
    resources: dict[str, Resource] = {}
    for path, output in site.items():
        if path == HEADERS:  # configuration for static hosts, not a page
            continue
        link = links(path, output) if links is not None else ""
        old = reuse.get(output.etag)
        if old is not None and old.output is output and _link_of(old) == link:
            resource = old
        else:
            # A new output object, even with equal bytes, gets a new resource: keeping the old one
            # would keep a second copy of the body alive (a re-rendered index page, say).
            resource = _resource(output, max_age, link)
            if old is not None and old.output.body == output.body:
                resource._gzip[:] = old._gzip  # the same bytes compress the same
        resources["/" + path] = resource
        if path == INDEX:
            resources["/"] = resource
    return Published(MappingProxyType(resources))


def _resource(output: Output, max_age: int, link: str = "") -> Resource:
    headers = [
        ("content-type", output.media_type),
        ("last-modified", http_date(output.last_modified)),
        ("cache-control", f"public, max-age={max_age}"),
        ("vary", "Accept-Encoding"),
        ("x-content-type-options", "nosniff"),
    ]
    if not output.media_type.startswith("text/html"):
        # Feeds and catalogs are read by web apps on other origins; the index page is not an API.
        exposed = "ETag, Last-Modified, Link" if link else "ETag, Last-Modified"
        headers += [("access-control-allow-origin", "*"), ("access-control-expose-headers", exposed)]
    if link:  # WebSub discovery: the hubs and the feed's own URL (only when a hub is configured)
        headers.append(("link", link))
    gzip_etag = gzip_etag_header = None
    if len(output.body) >= MIN_GZIP:
        gzip_etag = output.etag[:-1] + '-gz"'
        gzip_etag_header = (b"etag", gzip_etag.encode("latin-1"))
    raw = tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers)
    updates = tuple((name, value) for name, value in raw if name not in _BODY_ONLY)
    tags = frozenset(tag.encode("latin-1") for tag in (output.etag, gzip_etag) if tag)
    return Resource(output, gzip_etag, raw, (b"etag", output.etag.encode("latin-1")),
                    _length(output.body), gzip_etag_header, updates, tags)


def _link_of(resource: Resource) -> str:
    return next((value.decode("latin-1") for name, value in resource.headers if name == b"link"), "")


def _length(body: bytes) -> Header:
    return (b"content-length", str(len(body)).encode("latin-1"))
