"""Answering a published feed inside the HTTP protocol, before ASGI.

Most requests a feed server gets are feed readers polling one URL with the ETag they hold. Through
ASGI each costs uvicorn a request/response cycle object, an event, a task and two awaited sends;
a bare ASGI app that does nothing else tops out near 19,000 requests/s on two cores. Here a GET or
HEAD of a published path is answered as soon as its request is parsed, with the bytes `FeedFiles`
would send through ASGI (`FeedFiles.decide` is the one place the answer is decided; the headers
come framed from the resource), in uvicorn's own framing and with its access log line.

Only the plain case is taken: HTTP/1.1 keep-alive, no request in flight on the connection (so
pipelined answers stay in order), the transport not pushing back, no `Expect`, no upgrade, a path
without escapes, no body declared, no forwarded client to log, and a query string that filters nothing
or whose filtered feed is cached (`FilteredFeeds.cached`). Anything else goes through uvicorn and ASGI as before.
These answers need no task, so uvicorn's 503 for too many concurrent tasks does not apply to them.
tests/server/test_fast_path.py compares the bytes of both ways for 440 kinds of GET and HEAD.

The fast path leans on uvicorn's protocol internals beyond its public callbacks (`HOOKS`), so
uvicorn is pinned to the versions it is tested on, and `missing_hook()` checks at start-up that
each one is there: without one, `feedpub serve` logs it and serves through the plain protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from ..app import FeedFiles
from ..filtered import PLAIN
from ..published import Resource
from .bounded import BoundedHttpToolsProtocol

STATUS_LINES = {200: b"HTTP/1.1 200 OK\r\n", 304: b"HTTP/1.1 304 Not Modified\r\n"}

# What `FeedProtocol` uses of uvicorn's `HttpToolsProtocol` besides the asyncio and httptools
# callbacks: methods it calls or replaces, attributes of a connection, of its flow control and of
# the server's state.
HOOKS = {
    "protocol": ("_start_asgi_task", "_unset_keepalive_if_required", "on_response_complete",
                 "timeout_keep_alive_handler", "on_message_begin", "on_headers_complete", "on_body",
                 "on_message_complete"),
    "connection": ("cycle", "pipeline", "flow", "parser", "url", "headers", "scope", "expect_100_continue",
                   "access_log", "access_logger", "server_state", "timeout_keep_alive", "timeout_keep_alive_task",
                   "loop", "transport", "app"),
    "flow": ("write_paused", "resume_reading"),
    "server_state": ("default_headers", "total_requests"),
}


def missing_hook(base: type = HttpToolsProtocol) -> str | None:
    """The first hook (see `HOOKS`) this uvicorn's protocol lacks, named; None when all are there."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    for name in HOOKS["protocol"]:
        if not callable(getattr(base, name, None)):
            return f"{base.__name__}.{name}"

    async def app(scope: Any, receive: Any, send: Any) -> None: ...

    loop = asyncio.new_event_loop()
    try:
        config = Config(app=app, lifespan="off", log_config=None)
        connection = base(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        connection.connection_made(_Transport())
        connection.on_message_begin()  # what a request's first bytes set up
        for owner, names in (("connection", HOOKS["connection"]), ("flow", HOOKS["flow"])):
            target = connection if owner == "connection" else getattr(connection, "flow", None)
            for name in names:
                if not hasattr(target, name):
                    return f"{base.__name__}.{name}" if owner == "connection" else f"FlowControl.{name}"
        for name in HOOKS["server_state"]:
            if not hasattr(connection.server_state, name):
                return f"ServerState.{name}"
    except Exception as error:  # a constructor that changed shape is a missing hook too
        return f"{base.__name__}() ({type(error).__name__}: {error})"
    finally:
        loop.close()
    return None


class _Transport:
    """Just enough of a transport for `missing_hook` to open a connection that never sends."""

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self) -> None: ...


def feed_files(app: Any) -> FeedFiles | None:
    """The `FeedFiles` uvicorn runs, through the middleware that only rewrites what is logged;
    None when anything else stands in front of it (its behaviour would be skipped)."""
    while isinstance(app, ProxyHeadersMiddleware):
        app = app.app
    return app if isinstance(app, FeedFiles) else None


class FeedProtocol(BoundedHttpToolsProtocol):
    _files: FeedFiles | None = None
    _answer: bytes | None = None  # a request answered on its head, written once the whole request is in

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._files = feed_files(self.app)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        files = self._files
        answer = None if files is None else self._fast_answer(files)
        if answer is None:
            super().on_headers_complete()
            return
        self._head_complete()
        self._answer = answer

    def on_body(self, body: bytes) -> None:
        if self._answer is None:
            super().on_body(body)
        # else: a GET's body means nothing to a feed; ASGI would have ignored it too

    def on_message_complete(self) -> None:
        answer = self._answer
        if answer is None:
            super().on_message_complete()
            return
        self._answer = None
        self._message_complete()
        self.transport.write(answer)
        self.on_response_complete()

    # -- keep-alive: one timer per idle spell, not one per request ------------------------------
    # uvicorn cancels its keep-alive timer when data arrives and makes a new one after each
    # response: ~12% of a 304's cost. Here the timer stays, and when it fires it closes the
    # connection only if it has been idle for the whole timeout since the last response.

    _idle_until: float | None = None  # None: a request is being read or answered

    def _unset_keepalive_if_required(self) -> None:
        self._idle_until = None

    def on_response_complete(self) -> None:
        # uvicorn's, with the timer above.
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._idle_until = None
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_until = self.loop.time() + self.timeout_keep_alive
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_at(self._idle_until, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        until = self._idle_until
        if until is None or self.transport.is_closing():
            return  # busy: the end of the response sets the timer again
        if self.loop.time() < until:
            self.timeout_keep_alive_task = self.loop.call_at(until, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    def _fast_answer(self, files: FeedFiles) -> bytes | None:
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.pipeline or self.flow.write_paused \
                or self.expect_100_continue or self.transport.is_closing():
            return None
        parser = self.parser
        method = parser.get_method()
        if method != b"GET" and method != b"HEAD":
            return None
        if parser.get_http_version() != "1.1" or not parser.should_keep_alive() or parser.should_upgrade():
            return None
        url = self.url
        path, _, query = url.partition(b"?")
        if not url.startswith(b"/") or b"%" in path:  # absolute-form or an escaped path: uvicorn parses those
            return None
        published = files.live.published
        name = path.decode("ascii", "replace")
        resource = published.get(name)
        if not isinstance(resource, Resource):  # none, or an archive document made when asked for
            return None
        if query:
            answer = files.live.filtered.cached(published, name, query)
            if answer is None:  # a filtered feed still to make, or a bad query: ASGI answers those
                return None
            if answer is not PLAIN:
                assert isinstance(answer, Resource)
                resource = answer
        headers = self.headers
        for header, value in headers:
            # A GET that declares a body is answered through ASGI at once, without waiting for
            # the body (which may never come: the request's clock then closes the connection).
            if (header == b"content-length" and value != b"0") or header == b"transfer-encoding":
                return None
            # The forwarded client is what the log shows; leave rewriting it to the middleware.
            if self.access_log and header.startswith(b"x-forwarded-"):
                return None
        status, compressed = files.decide(resource, headers)
        if self.access_log:
            scope = self.scope
            scope["method"] = method.decode("ascii")
            scope["path"] = path.decode("ascii")
            scope["query_string"] = url.partition(b"?")[2]
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                    get_path_with_query_string(scope), scope["http_version"], status)
        body = b"" if status == 304 or method == b"HEAD" else resource.body(compressed)
        return b"".join((STATUS_LINES[status], _framed(self.server_state.default_headers),
                         resource.wire(status, compressed), body))


_last_defaults: list[tuple[bytes, bytes]] | None = None
_last_framed = b""


def _framed(defaults: list[tuple[bytes, bytes]]) -> bytes:
    """uvicorn's default headers (the Date) framed; uvicorn replaces the list once a second."""
    global _last_defaults, _last_framed
    if defaults is not _last_defaults:
        _last_framed = b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
        _last_defaults = defaults
    return _last_framed
