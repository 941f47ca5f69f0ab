"""uvicorn's fast HTTP protocol (httptools) with the limits it lacks on a request's head.

httptools buffers a request's headers without bound, so one client sending a 300 MB header
holds 300 MB of the server's memory, and a client that never finishes its headers holds a
connection forever. Here the head may be at most `MAX_HEAD` bytes (431 past it) and must
arrive within `HEAD_TIMEOUT` seconds (the connection is closed after).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 64 * 1024
HEAD_TIMEOUT = 10.0
_TOO_LARGE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
              b"content-length: 32\r\nconnection: close\r\n\r\nRequest header fields too large\n")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    _head_bytes = 0
    _in_head = True
    _head_started = False  # a request's first bytes arrived, its head is not complete yet
    _head_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD:
                self._cancel_head_timer()
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)
        # Only a head still incomplete once this data is parsed needs the clock: a request that
        # arrives whole (nearly all of them) costs no timer.
        if self._head_started and self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_too_slow)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_started = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._head_complete()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._message_complete()

    def _head_complete(self) -> None:
        self._in_head = False
        self._head_started = False
        self._cancel_head_timer()

    def _message_complete(self) -> None:
        self._in_head = True  # what arrives next starts another request's head
        self._head_bytes = 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_started and not self.transport.is_closing():
            self.transport.close()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
