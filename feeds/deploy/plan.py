"""Planning a deploy to object storage: the objects to store, what to upload, in which order, what to delete.

Pure functions of the site and of a listing of the bucket, with no network, so every rule is
unit-tested on its own; `deploy/s3.py` carries a plan out with boto3.

- An object is uploaded only when its bytes or its stored headers changed. The bytes are
  compared through the ETag, which S3 makes the MD5 of a single-part upload; a multipart ETag
  (`<md5 of md5s>-<parts>`) is not, and then the SHA-256 that feedpub keeps in the object's
  metadata decides. The headers are compared through a digest kept in metadata too.
- Uploads go in waves, leaves first: archives (everything under `feeds/archive/`), then topic
  and provider feeds, then the feeds of everything, then the index documents (catalog, OPML,
  index page) that link every feed. A reader who follows a link from a new document never meets
  a missing object, even if a deploy stops half-way.
- Deletes are of objects under the prefix that are no longer in the site, and come after every
  upload. Keys outside the prefix are never planned for, whatever the listing holds.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from ..render.headers import headers_for
from ..render.paths import ARCHIVE, HEADERS
from ..render.site import Document, Output, Site
from ..render.websub import is_topic, topic_url
from ..settings import Settings

# Deterministic gzip: no timestamp in the header and a fixed level, so the same body always
# gives the same bytes (and the same ETag: an unchanged feed is not uploaded again). Level 6
# and the size floor are the live server's (`server/published.py`).
GZIP_LEVEL = 6
MIN_GZIP = 256  # smaller bodies gain nothing from compression

# Object metadata (sent as x-amz-meta-<name>; S3 returns the names lowercased).
META_HEADERS = "feedpub-headers"  # digest of the headers the object was stored with
META_BODY = "feedpub-sha256"  # SHA-256 of the stored bytes, for ETags that are not an MD5

# The headers S3 keeps per object and serves back. The rest of `headers_for` (CORS, nosniff)
# cannot be set on an object: CORS is the bucket's configuration, nosniff a CDN's.
STORED_HEADERS = ("Content-Type", "Cache-Control")

# Archive documents (RFC 5005) link only other archives, never a newer document: they go up first.
ARCHIVES = ARCHIVE

_PLAIN_ETAG = re.compile(r"[0-9a-f]{32}")


class TargetError(ValueError):
    """An s3:// URL that cannot be deployed to; the message says what would work."""


@dataclass(frozen=True, slots=True)
class Target:
    bucket: str
    prefix: str  # no leading or trailing slash; "" is the whole bucket

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    @property
    def list_prefix(self) -> str:
        """The Prefix to list with: a trailing slash, so `site` never lists `site2/...`."""
        return f"{self.prefix}/" if self.prefix else ""

    def key(self, path: str) -> str:
        return self.list_prefix + path

    def path_of(self, key: str) -> str | None:
        """The site path a key stands for, or None for a key outside the prefix."""
        if not key.startswith(self.list_prefix):
            return None
        return key[len(self.list_prefix):]


def parse_target(url: str) -> Target:
    """`s3://BUCKET/PREFIX` → Target; the prefix may be empty, its slashes at both ends are dropped."""
    if not url.startswith("s3://"):
        raise TargetError(f"{url!r} is not an s3:// URL; give the target as s3://BUCKET/PREFIX")
    bucket, _, prefix = url[len("s3://"):].partition("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-_]{1,253}[a-z0-9]", bucket):
        raise TargetError(f"{bucket!r} is not a bucket name: give s3://BUCKET/PREFIX with a bucket "
                          "of 3 or more lowercase letters, digits, dots or hyphens")
    prefix = prefix.strip("/")
    parts = prefix.split("/") if prefix else []
    if any(part in ("", ".", "..") for part in parts):
        # "a//b" or "a/../b" name keys that many tools and web servers map somewhere else.
        raise TargetError(f"prefix {prefix!r} has an empty, '.' or '..' segment; give a plain path like site/news")
    return Target(bucket, prefix)


@dataclass(frozen=True, slots=True)
class SiteObject:
    """One object as it is to be stored: its exact bytes, headers and fingerprints.

    With `again`, the bytes are not held: they are made again when uploaded (archive documents are
    made when asked for, and a site has too many to hold all at once); the fingerprints are taken
    from `body` as given.
    """

    path: str  # site path, no leading slash
    given: bytes = field(repr=False)  # the bytes to store: gzip-compressed when Content-Encoding says so
    headers: Mapping[str, str] = field(default_factory=dict)  # Content-Type, Cache-Control[, Content-Encoding]
    again: Callable[[], bytes] | None = field(default=None, repr=False, compare=False)
    md5: str = field(init=False)  # hex, what a single-part ETag is
    sha256: str = field(init=False)
    headers_digest: str = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "md5", hashlib.md5(self.given).hexdigest())
        object.__setattr__(self, "sha256", hashlib.sha256(self.given).hexdigest())
        object.__setattr__(self, "headers_digest", headers_digest(self.headers))
        object.__setattr__(self, "size", len(self.given))
        if self.again is not None:
            object.__setattr__(self, "given", b"")  # fingerprinted; made again when uploaded

    @property
    def body(self) -> bytes:
        return self.given if self.again is None else self.again()

    @property
    def content_md5(self) -> str:
        """The Content-MD5 request header: the server checks the bytes it received against it."""
        return base64.b64encode(bytes.fromhex(self.md5)).decode("ascii")

    @property
    def metadata(self) -> dict[str, str]:
        return {META_HEADERS: self.headers_digest, META_BODY: self.sha256}


def headers_digest(headers: Mapping[str, str]) -> str:
    """A short digest of stored headers, independent of the names' case and order."""
    canonical = json.dumps(sorted((name.lower(), value) for name, value in headers.items()))
    return hashlib.sha256(b"feedpub-headers-v1\n" + canonical.encode("utf-8")).hexdigest()[:32]


def deterministic_gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def body_of(output: Document) -> bytes:
    """The bytes of one output: the only place a deploy reads them, once per output.

    The ETag of an output need not be a digest of its bytes (an output made on demand is tagged by
    what it is made of), so a deploy compares only the digests it takes of these bytes itself.
    """
    return output.body


def site_objects(site: Site, settings: Settings, *, compress: bool = False) -> list[SiteObject]:
    """Every object of the site as it is to be stored, in path order.

    `_headers` is left out: it is configuration for static hosts (Netlify, Cloudflare Pages),
    and object storage takes each object's headers from the object itself. With `compress`,
    bodies of at least MIN_GZIP bytes are stored gzip-encoded (Content-Encoding: gzip).
    """
    objects = []
    for path, output in sorted(site.items()):
        if path == HEADERS:
            continue
        rules = headers_for(path, settings, growing=output.growing)
        headers = {name: rules[name] for name in STORED_HEADERS}
        body = body_of(output)
        gzipped = compress and len(body) >= MIN_GZIP
        if gzipped:
            body = deterministic_gzip(body)
            headers["Content-Encoding"] = "gzip"
        again = None if isinstance(output, Output) else _again(output, gzipped)
        objects.append(SiteObject(path, body, headers, again))
    return objects


def _again(output: Document, gzipped: bool) -> Callable[[], bytes]:
    """A document's bytes as stored, made again (it is made when asked for, and is not held)."""
    return (lambda: deterministic_gzip(body_of(output))) if gzipped else (lambda: body_of(output))


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """One object of the bucket's listing, with its metadata once it has been read (HEAD)."""

    key: str
    etag: str  # as listed, quotes and all
    size: int
    metadata: Mapping[str, str] | None = None  # None: not read

    @property
    def md5(self) -> str | None:
        """The MD5 of the bytes when the ETag is one (a single-part upload), else None."""
        tag = self.etag.strip('"').lower()
        return tag if _PLAIN_ETAG.fullmatch(tag) else None


def needs_metadata(obj: SiteObject, remote: RemoteObject) -> bool:
    """Whether the plan needs the remote object's metadata: not when its ETag already shows new bytes."""
    md5 = remote.md5
    return md5 is None or md5 == obj.md5


def upload_reason(obj: SiteObject, remote: RemoteObject | None) -> str | None:
    """Why `obj` has to be uploaded over `remote`, or None when the stored object is the same."""
    if remote is None:
        return "new"
    metadata = {name.lower(): value for name, value in (remote.metadata or {}).items()}
    md5 = remote.md5
    if md5 is not None:
        if md5 != obj.md5:
            return "bytes changed"
    elif metadata.get(META_BODY) != obj.sha256:
        # A multipart (or otherwise non-MD5) ETag says nothing about the bytes: without our
        # digest of them, upload again rather than guess.
        return "bytes changed" if META_BODY in metadata else "bytes unverified"
    if metadata.get(META_HEADERS) != obj.headers_digest:
        return "headers changed"
    return None


def upload_rank(path: str) -> tuple[int, int]:
    """The wave a path is uploaded in: lower first, so documents go up before those that link them.

    Archives (under ARCHIVES) come first, since they link nothing newer; then documents deeper in
    the tree before shallower ones (`feeds/topics/x.rss` before `feeds/all.rss`); the index
    documents (`index.*`: catalog, OPML, the index page), which link every feed, come last,
    deepest first.
    """
    parts = path.split("/")
    depth = len(parts)
    if path.startswith(ARCHIVES):
        return (0, -depth)
    if parts[-1].startswith("index."):
        return (2, -depth)
    return (1, -depth)


@dataclass(frozen=True, slots=True)
class Upload:
    obj: SiteObject
    key: str
    reason: str  # "new", "bytes changed", "bytes unverified", "headers changed"


@dataclass(frozen=True, slots=True)
class Plan:
    uploads: tuple[Upload, ...]  # in upload order
    unchanged: tuple[str, ...]  # keys left as they are
    deletes: tuple[str, ...]  # keys, sorted; only ever under the target's prefix

    @property
    def upload_bytes(self) -> int:
        return sum(upload.obj.size for upload in self.uploads)

    def waves(self) -> list[tuple[Upload, ...]]:
        """The uploads grouped by rank: a wave starts only when the one before it is stored."""
        return [tuple(wave) for _, wave in groupby(self.uploads, key=lambda u: upload_rank(u.obj.path))]


def plan(objects: Sequence[SiteObject], listing: Iterable[RemoteObject], target: Target) -> Plan:
    """What a deploy of `objects` over `listing` does. Keys outside `target` are ignored."""
    remote: dict[str, RemoteObject] = {}
    for item in listing:
        if target.path_of(item.key) is not None:  # the listing was asked for the prefix; check anyway
            remote[item.key] = item
    uploads: list[Upload] = []
    unchanged: list[str] = []
    wanted: set[str] = set()
    for obj in sorted(objects, key=lambda o: (upload_rank(o.path), o.path)):
        key = target.key(obj.path)
        wanted.add(key)
        reason = upload_reason(obj, remote.get(key))
        if reason is None:
            unchanged.append(key)
        else:
            uploads.append(Upload(obj, key, reason))
    # A key ending in "/" is a folder placeholder some consoles make; no site path is one.
    deletes = sorted(key for key in remote if key not in wanted and not key.endswith("/"))
    return Plan(tuple(uploads), tuple(sorted(unchanged)), tuple(deletes))


# Uploads that change what a reader fetches; "headers changed" leaves the bytes as they were.
_NEW_BYTES = ("new", "bytes changed", "bytes unverified")


def announced_topics(planned: Plan, settings: Settings) -> list[str]:
    """The WebSub topics (feed URLs) a deploy of `planned` changes the bytes of, new feeds included,
    sorted: what to ping the outside hubs for once it is done. A first deploy (nothing under the
    prefix was part of the site) announces nothing: nobody can have subscribed yet."""
    if not planned.unchanged and all(upload.reason == "new" for upload in planned.uploads):
        return []
    return sorted(topic_url(settings, upload.obj.path) for upload in planned.uploads
                  if upload.reason in _NEW_BYTES and is_topic(upload.obj.path, upload.obj.headers["Content-Type"]))
