"""uvicorn's fast HTTP protocol (httptools) with the limits it lacks on a request's head.

httptools buffers a request's headers without bound, so one client sending a 300 MB header
holds 300 MB of the server's memory, and a client that never finishes its request holds a
connection forever (uvicorn sets no timer when a connection opens: 1,000 idle sockets used to
make every ASGI request answer 503). Here a request's head may be at most `MAX_HEAD` bytes (431
past it), and each request must arrive whole within `REQUEST_TIMEOUT` seconds of its first byte
(the first one within as long of the connection's opening), or the connection is closed.

The head is measured as its own bytes: the request line and headers as the parser hands them
over, plus what arrives after the chunk the head began in while it is still incomplete (a single
header httptools is still buffering). Small pipelined requests sharing one read are each measured
alone, and a long head split over several writes is measured whole.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 64 * 1024
REQUEST_TIMEOUT = 10.0
HEAD_TIMEOUT = REQUEST_TIMEOUT  # the name the README and older tests use
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
              b"content-length: 32\r\nconnection: close\r\n\r\nRequest header fields too large\n")
# What a request line and a header line add to the values the parser hands over ("GET", spaces,
# "HTTP/1.1", CRLF; ":" and CRLF), at the least, so a head is never counted larger than it is.
_REQUEST_LINE = 14
_HEADER_LINE = 3


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _pending = False  # a request is due or under way and not yet whole: the clock runs
    _in_head = False  # the current request's head is not complete
    _fresh = False  # the current head began in the chunk being parsed
    _head_bytes = 0  # the current head's request line and headers, as parsed
    _raw_bytes = 0  # the current head's bytes as received (see data_received)
    _consumed = 0  # bytes of the chunk being parsed that went to requests before the current one
    _refused = False  # a 431 was sent: the rest of what arrives is not parsed into requests
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # A connection that never sends a byte is closed too.
        self._pending = True
        self._timer = self.loop.call_later(REQUEST_TIMEOUT, self._too_slow)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._consumed = 0
        super().data_received(data)
        if self._in_head and not self._refused:
            # A head still incomplete: what of it httptools holds unparsed (a header not yet whole)
            # is known only from the bytes. A head that began in this chunk has the chunk less what
            # went before it (earlier requests' heads and bodies); one that began before, all of it.
            if self._fresh:
                self._raw_bytes = len(data) - self._consumed
            else:
                self._raw_bytes += len(data)
            if self._raw_bytes > MAX_HEAD:
                self._refuse()
                return
        self._fresh = False
        # Only a request still incomplete once this data is parsed needs the clock: a request
        # that arrives whole (nearly all of them) costs no timer.
        if self._pending and self._timer is None and not self.transport.is_closing():
            self._timer = self.loop.call_later(REQUEST_TIMEOUT, self._too_slow)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._pending = self._in_head = self._fresh = True
        self._head_bytes = self._raw_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url) + _REQUEST_LINE)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + _HEADER_LINE)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._head_complete()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._consumed += len(body)
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._message_complete()

    def _head_complete(self) -> None:
        """The head is in (a subclass that answers on it calls this instead of the base's
        `on_headers_complete`); the rest of the request is still timed."""
        self._in_head = False
        self._consumed += self._head_bytes + 2  # and the blank line

    def _message_complete(self) -> None:
        self._pending = False
        self._cancel_timer()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD and not self._refused:
            self._refuse()

    def _refuse(self) -> None:
        self._refused = True
        self._pending = False
        self._cancel_timer()
        if not self.transport.is_closing():
            self.transport.write(_TOO_LARGE)
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._timer = None
        if self._pending and not self.transport.is_closing():
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
