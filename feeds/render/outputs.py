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

    A feed put together from fragments may be made of its buffers (`of_parts`): they are joined
    into the body the first time it is asked for. An export writes them out with `writev` and never
    asks: joining the ~100 MB of a cold export at 10k took the parent ~80 ms, under the GIL, while
    the kernel's copy of the buffers runs in the writer threads.
    """

    __slots__ = ("_body", "_etag", "_parts", "growing", "last_modified", "media_type")

    def __init__(self, body: bytes, media_type: str, etag: str | None, last_modified: datetime,
                 growing: bool = False) -> None:
        self._body: bytes | None = body
        self._parts: list[Buffer] | None = None
        self.media_type = media_type  # with charset, ready for a Content-Type header
        self._etag = etag
        self.last_modified = last_modified
        # The newest archive document of a feed, which takes each item pushed out of the subscription
        # document: it changes as often, so it is cached as briefly (`headers.headers_for`).
        self.growing = growing

    @classmethod
    def of_parts(cls, parts: list[Buffer], media_type: str, last_modified: datetime) -> Output:
        """The document whose body is these buffers one after another (the list is not copied: the
        caller hands it over)."""
        output = cls(b"", media_type, None, last_modified)
        output._body, output._parts = None, parts
        return output

    @property
    def body(self) -> bytes:
        body = self._body
        if body is None:
            parts = self._parts
            if parts is None:  # another thread joined them since: `_body` is set before `_parts` goes
                body = self._body
                assert body is not None
                return body
            # Two threads of a server may both join them: the same bytes, and one of them is kept.
            body = b"".join(parts)
            self._body = body
            self._parts = None  # the body holds the bytes now: the fragments may go with their renderer's
        return body

    def parts(self) -> list[Buffer]:
        """The body as buffers to write out in one go (`writev`), without joining them."""
        parts = self._parts  # read once: another thread may join them meanwhile
        return list(parts) if parts is not None else [self.body]

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


def make_output(body: bytes | list[Buffer], media_type: str, last_modified: datetime) -> Output:
    """A document of `media_type` in UTF-8: its bytes, or the buffers they are joined from when asked for."""
    if isinstance(body, list):
        return Output.of_parts(body, f"{media_type}; charset=utf-8", last_modified)
    return Output(body, f"{media_type}; charset=utf-8", None, last_modified)
