"""The protocol-level fast path (server/fast_path.py) writes exactly what the ASGI path writes.

Each test drives `FeedProtocol` byte by byte over a recording transport, once with the fast path
and once with it switched off (every request then goes through uvicorn's cycle and `FeedFiles`),
and compares the bytes on the wire.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from feedpub.server.app import create_app
from feedpub.server.live.live_site import LiveSite
from feedpub.server.protocol.bounded import BoundedHttpToolsProtocol
from feedpub.server.protocol.fast_path import FeedProtocol, feed_files, missing_hook
from tests.recording_transport import RecordingTransport
from tests.server.conftest import loaded_site

DATE = (b"date", b"Sat, 28 Nov 2026 10:00:00 GMT")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSite:
    return loaded_site(tmp_path_factory, 6)


def connect(live: LiveSite, loop: asyncio.AbstractEventLoop, *, fast: bool = True,
            protocol_class: type[BoundedHttpToolsProtocol] = FeedProtocol,
            **config: object) -> tuple[BoundedHttpToolsProtocol, RecordingTransport]:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    options = {"lifespan": "off", "log_config": None, "access_log": False,
               "forwarded_allow_ips": "127.0.0.1", **config}
    # FeedFiles takes Starlette's ASGI types, which uvicorn spells its own way.
    settings = Config(app=create_app(live, watch=False), http=FeedProtocol, **options)  # type: ignore[arg-type]  # see above
    settings.load()
    state = ServerState()
    state.default_headers = [DATE]
    protocol = protocol_class(config=settings, server_state=state, app_state={}, _loop=loop)
    transport = RecordingTransport()
    protocol.connection_made(transport)
    if not fast and isinstance(protocol, FeedProtocol):
        protocol._files = None
    return protocol, transport


def exchange(live: LiveSite, loop: asyncio.AbstractEventLoop, data: bytes, *, fast: bool,
             protocol_class: type[BoundedHttpToolsProtocol] = FeedProtocol, **config: object) -> RecordingTransport:
    protocol, transport = connect(live, loop, fast=fast, protocol_class=protocol_class, **config)
    protocol.data_received(data)
    transport.through_asgi = bool(asyncio.all_tasks(loop))
    for _ in range(20):  # let ASGI tasks (and pipelined ones they start) run to the end
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not pending:
            break
        loop.run_until_complete(asyncio.gather(*pending))
    return transport


def request(path: str = "/feeds/all.rss", method: str = "GET", version: str = "1.1", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: feeds.example.org",
             *(f"{name.replace('_', '-')}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def etags(live: LiveSite, path: str) -> tuple[str, str | None]:
    resource = live.published.get(path)
    assert resource is not None
    return resource.etag, resource.gzip_etag


def variants(live: LiveSite) -> list[bytes]:
    found = []
    for path in ("/feeds/all.rss", "/feeds/all.json", "/", "/feeds/index.opml", "/feeds/all.atom?utm=x"):
        plain, gz = etags(live, path.partition("?")[0])
        conditions: list[dict[str, str]] = [
            {}, {"If_None_Match": plain}, {"If_None_Match": f"W/{plain}"}, {"If_None_Match": "*"},
            {"If_None_Match": '"other"'}, {"If_None_Match": f'"other", {plain}'},
            {"If_Modified_Since": "Sat, 28 Nov 2099 10:00:00 GMT"}, {"If_Modified_Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
            {"If_Modified_Since": "not a date"},
            {"If_None_Match": '"other"', "If_Modified_Since": "Sat, 28 Nov 2099 10:00:00 GMT"},
        ]
        if gz:
            conditions.append({"If_None_Match": gz})
        for method in ("GET", "HEAD"):
            for encoding in ({}, {"Accept_Encoding": "gzip, deflate"}, {"Accept_Encoding": "identity"},
                             {"Accept_Encoding": "gzip;q=0"}):
                for condition in conditions:
                    found.append(request(path, method, **encoding, **condition))
    return found


def test_every_kind_of_get_and_head_gets_the_bytes_the_asgi_path_gives(live: LiveSite,
                                                                       loop: asyncio.AbstractEventLoop) -> None:
    answers = variants(live)
    assert len(answers) == 440
    statuses = set()
    for data in answers:
        fast = exchange(live, loop, data, fast=True)
        slow = exchange(live, loop, data, fast=False)
        assert fast.written == slow.written, data
        assert not fast.closed and not slow.closed
        assert not fast.through_asgi and slow.through_asgi
        statuses.add(fast.written[:12])
    assert statuses == {b"HTTP/1.1 200", b"HTTP/1.1 304"}  # both kinds were compared


@pytest.mark.parametrize("data", [
    request(version="1.0"),  # HTTP/1.0: no keep-alive by default
    request(Connection="close"),
    request("/feeds/all%2Erss"),  # an escape: uvicorn decodes it
    request("/feeds/all%2Frss"),  # an encoded slash names no file: 404
    request("http://feeds.example.org/feeds/all.rss"),  # absolute form
    request("/healthz"),
    request("/no/such/feed.rss"),
    request(method="POST"),
    request(Expect="100-continue"),
], ids=["http/1.0", "connection close", "escaped", "encoded slash", "absolute form", "healthz", "404", "post",
        "expect"])
def test_requests_the_fast_path_leaves_to_uvicorn_are_answered_as_before(
        live: LiveSite, loop: asyncio.AbstractEventLoop, data: bytes) -> None:
    fast = exchange(live, loop, data, fast=True)
    slow = exchange(live, loop, data, fast=False)
    assert fast.through_asgi
    if b"/healthz" not in data:  # its body has the time of the last rebuild in it
        assert fast.written == slow.written
    assert fast.written.startswith(b"HTTP/1.1 ")
    assert fast.closed == slow.closed


def test_pipelined_requests_are_answered_in_order(live: LiveSite, loop: asyncio.AbstractEventLoop) -> None:
    # The middle one goes through ASGI (a task); the ones around it must not overtake it.
    data = request("/feeds/all.rss") + request("/no/such/feed") + request("/feeds/all.atom") + request("/feeds/all.json")
    written = exchange(live, loop, data, fast=True).written
    assert written == exchange(live, loop, data, fast=False).written
    order = [written.index(marker) for marker in (b"application/rss+xml", b"text/html",
                                                  b"application/atom+xml", b"application/feed+json")]
    assert order == sorted(order)
    assert written.count(b"HTTP/1.1 ") == 4


def test_a_get_with_a_body_is_answered_and_the_connection_goes_on(live: LiveSite,
                                                                  loop: asyncio.AbstractEventLoop) -> None:
    data = request(Content_Length="5") + b"hello" + request("/feeds/all.atom")
    written = exchange(live, loop, data, fast=True).written
    assert written.count(b"HTTP/1.1 200 OK") == 2
    assert written == exchange(live, loop, data, fast=False).written


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout_and_a_busy_one_is_not(
        live: LiveSite, loop: asyncio.AbstractEventLoop) -> None:
    # Seconds, not tenths: a "not closed yet" holds only while less than the timeout has passed, and
    # a busy CI machine can stall the test for a tenth or two between its steps.
    protocol, transport = connect(live, loop, timeout_keep_alive=1.0)
    protocol.data_received(request())
    loop.run_until_complete(asyncio.sleep(0.6))
    protocol.data_received(request())  # activity pushes the deadline back
    loop.run_until_complete(asyncio.sleep(0.6))
    assert not transport.closed  # 1.2 s since the first answer, 0.6 s since the last
    protocol.data_received(b"GET /feeds/all.rss HTTP/1.1\r\n")  # a request half-way: not idle
    loop.run_until_complete(asyncio.sleep(1.5))
    assert not transport.closed
    protocol.data_received(b"Host: x\r\n\r\n")
    loop.run_until_complete(asyncio.sleep(1.5))
    assert transport.closed
    assert transport.written.count(b"HTTP/1.1 200 OK") == 3
    protocol.connection_lost(None)
    assert protocol.timeout_keep_alive_task is None


def test_the_access_log_line_is_the_one_uvicorn_writes(live: LiveSite, loop: asyncio.AbstractEventLoop,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    lines = {}
    for fast in (True, False):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            through = exchange(live, loop, request("/feeds/all.rss?utm_source=x"), fast=fast, access_log=True)
        assert through.through_asgi is not fast
        lines[fast] = [record.getMessage() for record in caplog.records if record.name == "uvicorn.access"]
    assert lines[True] == lines[False] == ['127.0.0.1:5000 - "GET /feeds/all.rss?utm_source=x HTTP/1.1" 200']
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):  # a forwarded client is logged as the proxy says
        exchange(live, loop, request(X_Forwarded_For="203.0.113.9"), fast=True, access_log=True)
    assert [r.getMessage() for r in caplog.records] == ['203.0.113.9:0 - "GET /feeds/all.rss HTTP/1.1" 200']


def test_the_fast_path_is_off_behind_any_middleware_it_does_not_know(live: LiveSite) -> None:
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    app = create_app(live, watch=False)
    assert feed_files(app) is app
    assert feed_files(ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")) is app  # type: ignore[arg-type]  # ASGI types

    async def wrapper(scope, receive, send):
        await app(scope, receive, send)

    assert feed_files(wrapper) is None


def test_the_real_server_answers_through_the_fast_path(tmp_path: Path, articles: Path) -> None:
    """The whole thing over a socket, as wrk and feed readers meet it: many requests on one
    keep-alive connection, conditional and not, and the same bytes as the ASGI path."""
    import socket

    from tests.live_server import Server

    server = Server(articles, tmp_path)
    try:
        first = server.get("/feeds/all.rss", headers={"accept-encoding": "gzip"})
        etag = first.headers["etag"]
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            ask = (b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nIf-None-Match: "
                   + etag.encode() + b"\r\n\r\n")
            sock.sendall(ask * 50)
            received = b""
            while received.count(b"HTTP/1.1 304 Not Modified") < 50:
                chunk = sock.recv(65536)
                assert chunk, received[-500:]
                received += chunk
        assert received.count(b"etag: " + etag.encode()) == 50
        second = server.get("/feeds/all.rss", headers={"accept-encoding": "gzip"})
        assert second.content == first.content and second.headers["etag"] == etag
    finally:
        server.stop()


# -- on a leash: without a hook it needs, the plain protocol serves instead ---------------------


def test_the_plain_protocol_the_server_falls_back_to_writes_the_same_bytes(live: LiveSite,
                                                                         loop: asyncio.AbstractEventLoop) -> None:
    for data in variants(live):
        fast = exchange(live, loop, data, fast=True)
        plain = exchange(live, loop, data, fast=True, protocol_class=BoundedHttpToolsProtocol)
        assert fast.written == plain.written, data
        assert plain.through_asgi and not fast.through_asgi


def test_this_uvicorn_has_every_hook_so_the_server_takes_the_fast_path() -> None:
    from feedpub.server.run import http_protocol

    assert missing_hook() is None
    assert http_protocol() is FeedProtocol


def test_a_missing_method_or_attribute_is_named_and_the_server_serves_the_plain_way(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from feedpub.server.run import http_protocol

    class WithoutPipeline(HttpToolsProtocol):  # as if a new uvicorn kept its queue elsewhere
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            del self.pipeline

    assert missing_hook(WithoutPipeline) == "WithoutPipeline.pipeline"
    monkeypatch.delattr(HttpToolsProtocol, "_start_asgi_task")  # as in uvicorn 0.29 to 0.35
    assert missing_hook() == "HttpToolsProtocol._start_asgi_task"
    with caplog.at_level(logging.WARNING, logger="feedpub"):
        assert http_protocol() is BoundedHttpToolsProtocol
    (line,) = [record.getMessage() for record in caplog.records if record.name == "feedpub"]
    assert "_start_asgi_task" in line and "plain protocol" in line



def test_a_filtered_feed_goes_through_asgi_until_it_is_cached_and_is_never_the_plain_feed(
        live: LiveSite, loop: asyncio.AbstractEventLoop) -> None:
    plain = exchange(live, loop, request("/feeds/all.rss"), fast=True)
    data = request("/feeds/all.rss?filter_title=%5EHeadline%20number%20%5B13%5D%24&limit=2")
    first = exchange(live, loop, data, fast=True)
    assert first.through_asgi  # made in a worker thread, then cached
    again = exchange(live, loop, data, fast=True)
    slow = exchange(live, loop, data, fast=False)
    assert not again.through_asgi  # cached: answered on its head, like a plain feed
    assert again.written == first.written == slow.written != plain.written
    assert b"<title>Headline number 1</title>" in again.written and b"Headline number 0<" not in again.written
    # Parameters that filter nothing are harmless: the plain feed, on the fast path too.
    harmless = exchange(live, loop, request("/feeds/all.rss?utm_source=reader"), fast=True)
    assert not harmless.through_asgi and harmless.written == plain.written
    # A bad value goes to ASGI, which says what is wrong.
    bad = exchange(live, loop, request("/feeds/all.rss?limit=zero"), fast=True)
    assert bad.through_asgi and bad.written.startswith(b"HTTP/1.1 400")
