"""What a published path holds: its bytes (`Output`), or a document made when asked for (`LazyOutput`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .fragments import StoredDocument

Buffer = bytes | memoryview  # what `os.writev` takes


class Output:
    """A document held as its bytes.

    Its ETag is strong, quoted and from the body alone; when not given it is taken the first time
    it is asked for, since only a server or a deploy record needs it: a cold export writes ~100 MB
    of documents at 10k articles and hashing them all would cost it ~70 ms for nothing.
    """

    __slots__ = ("_etag", "body", "growing", "last_modified", "media_type")

    def __init__(self, body: bytes, media_type: str, etag: str | None, last_modified: datetime,
                 growing: bool = False) -> None:
        self.body = body
        self.media_type = media_type  # with charset, ready for a Content-Type header
        self._etag = etag
        self.last_modified = last_modified
        # The newest archive document of a feed, which takes each item pushed out of the subscription
        # document: it changes as often, so it is cached as briefly (`headers.headers_for`).
        self.growing = growing

    @property
    def etag(self) -> str:
        if self._etag is None:
            self._etag = _strong_etag(self.body)
        return self._etag

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Output):
            return NotImplemented
        return (self.body, self.media_type, self.last_modified, self.growing) == (
            other.body, other.media_type, other.last_modified, other.growing) and self.etag == other.etag

    def __hash__(self) -> int:  # equal by value, as the frozen dataclass it replaces
        return hash((self.body, self.media_type, self.last_modified, self.growing))

    def __repr__(self) -> str:
        return f"Output({len(self.body)} bytes, {self.media_type!r}, {self.last_modified.isoformat()})"


class LazyOutput:
    """A document whose bytes are made when asked for; its ETag is known without them.

    The ETag is a digest of what the document is made of (`made_of`: the rendering code and
    settings, its frame, its items' digests), taken the first time it is asked for: a change that
    makes thousands of these (every page of the JSON API shifts when an article arrives) pays for
    none of them until they are served or written.
    """

    __slots__ = ("_etag", "growing", "last_modified", "made_of", "make", "make_parts", "media_type", "stored")

    def __init__(self, media_type: str, last_modified: datetime, make: Callable[[], bytes],
                 made_of: Callable[[], str], *, parts: Callable[[], list[Buffer]] | None = None,
                 stored: StoredDocument | None = None, growing: bool = False) -> None:
        self.media_type = media_type  # with charset, ready for a Content-Type header
        self.last_modified = last_modified
        self.make = make
        self.made_of = made_of
        self.make_parts = parts  # the same bytes as buffers to write out in one go, when cheaper than `make`
        self.stored = stored  # what it is put together from, when that is stored fragments
        self.growing = growing  # as `Output.growing`
        self._etag: str | None = None

    @property
    def etag(self) -> str:
        """Strong: equal ETags mean equal bytes, since the same inputs always give the same bytes."""
        if self._etag is None:
            self._etag = made_of_etag(self.made_of())
        return self._etag

    @property
    def body(self) -> bytes:
        """The bytes, made now (and not kept: the caller decides whether to hold them)."""
        return self.make()

    def parts(self) -> list[Buffer]:
        """The bytes as buffers whose concatenation is `body`, for a caller that writes them out at
        once (`writev`): an archive document's frame and fragments, never joined into one body."""
        return self.make_parts() if self.make_parts is not None else [self.make()]


def made_of_etag(made_of: str) -> str:
    """The ETag of a document that is known by what it is made of rather than by its bytes."""
    return _strong_etag(made_of.encode("utf-8", "surrogatepass"))


def _strong_etag(data: bytes) -> str:
    """The one spelling of both kinds of ETag: quoted, the first 128 bits of a SHA-256."""
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


Document = Output | LazyOutput


def make_output(body: bytes, media_type: str, last_modified: datetime) -> Output:
    return Output(body, f"{media_type}; charset=utf-8", None, last_modified)
