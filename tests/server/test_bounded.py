"""Connections that send nothing, or stop half-way, are closed; a head is measured alone (issue 16, must-have 2).

Driven byte by byte through the real protocol classes over a recording transport (as in
test_fast_path.py), and once against a real `feedpub serve` with idle sockets.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from feedpub.server.live.live_site import LiveSite
from feedpub.server.protocol.bounded import MAX_HEAD, REQUEST_TIMEOUT, BoundedHttpToolsProtocol
from feedpub.server.protocol.fast_path import FeedProtocol
from tests.live_server import Server, servers
from tests.server.conftest import loaded_site
from tests.server.test_fast_path import connect


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSite:
    return loaded_site(tmp_path_factory, 4)


def settle(loop: asyncio.AbstractEventLoop) -> None:
    for _ in range(5000):  # pipelined requests through ASGI start one after another
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        if not pending:
            return
        loop.run_until_complete(asyncio.gather(*pending))


PROTOCOLS = [FeedProtocol, BoundedHttpToolsProtocol]


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_a_connection_that_sends_nothing_is_timed_from_its_opening(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol]) -> None:
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    assert protocol._timer is not None
    assert protocol._timer.when() - loop.time() == pytest.approx(REQUEST_TIMEOUT, abs=0.5)
    protocol._too_slow()
    assert transport.closed


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_many_small_pipelined_requests_in_one_read_are_each_measured_alone(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol]) -> None:
    request = b"GET /feeds/all.rss HTTP/1.1\r\nHost: feeds.example.org\r\nUser-Agent: poller\r\n\r\n"
    count = 82_000 // len(request) + 1
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    protocol.data_received(request * count)
    settle(loop)
    assert b" 431 " not in transport.written
    assert transport.written.count(b"HTTP/1.1 200 OK") == count and not transport.closed


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
@pytest.mark.parametrize("writes", [1, 2, 5, 30])
def test_a_long_head_is_refused_however_it_is_split(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol],
        writes: int) -> None:
    head = b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-Filler-%d: %s\r\n" % (n, b"a" * 1000) for n in range(120)) + b"\r\n"
    assert len(head) > 120_000
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    size = len(head) // writes + 1
    for start in range(0, len(head), size):
        protocol.data_received(head[start : start + size])
    settle(loop)
    assert transport.written.startswith(b"HTTP/1.1 431 ") and transport.closed
    assert transport.written.count(b"HTTP/1.1") == 1  # nothing after the refusal


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_one_header_dripped_past_the_limit_is_refused(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol]) -> None:
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    protocol.data_received(b"GET / HTTP/1.1\r\nX-Long: ")
    for _ in range(MAX_HEAD // 4096 + 2):
        if transport.closed:
            break
        protocol.data_received(b"a" * 4096)
    assert transport.written.startswith(b"HTTP/1.1 431 ") and transport.closed


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_a_get_whose_declared_body_never_comes_is_answered_then_timed(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol]) -> None:
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    protocol.data_received(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
    settle(loop)
    assert transport.written.startswith(b"HTTP/1.1 200 OK")
    assert protocol._timer is not None and not transport.closed  # the body is still due
    protocol.data_received(b"x" * 50)  # some of it: still due, still timed
    assert protocol._timer is not None
    protocol._too_slow()
    assert transport.closed


@pytest.mark.parametrize("protocol_class", PROTOCOLS)
def test_a_get_with_its_body_is_answered_once_and_the_connection_kept(
        live: LiveSite, loop: asyncio.AbstractEventLoop, protocol_class: type[BoundedHttpToolsProtocol]) -> None:
    protocol, transport = connect(live, loop, protocol_class=protocol_class)
    request = b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    protocol.data_received(request + b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\n\r\n")
    settle(loop)
    assert transport.written.count(b"HTTP/1.1 200 OK") == 2 and not transport.closed
    assert protocol._timer is None


# -- a real server ------------------------------------------------------------------------------

@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def test_idle_sockets_are_closed_and_never_starve_the_asgi_path(serve: Callable[..., Server], tmp_path: Path) -> None:
    from tests.helpers import article_text, sample_fields

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "000.txt").write_text(article_text(**sample_fields(0)), encoding="utf-8")
    server = serve(folder)
    idle = []
    try:
        for _ in range(1000):  # uvicorn's limit_concurrency: past it, every ASGI request answers 503
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT + 5)
            idle.append(sock)
        # As before: the limit is uvicorn's. Once it has accepted them all (a busy machine takes longer),
        # and well before REQUEST_TIMEOUT closes them.
        deadline = time.monotonic() + REQUEST_TIMEOUT / 2
        while server.get("/healthz").status_code != 503:
            assert time.monotonic() < deadline, "the idle sockets never reached uvicorn's limit"
            time.sleep(0.05)
        began = time.monotonic()
        for sock in idle:
            assert sock.recv(1) == b""  # closed by the server, not by this test's timeout
        assert time.monotonic() - began < REQUEST_TIMEOUT + 3
        assert server.get("/healthz").status_code == 200
        assert server.get("/no/such/page").status_code == 404
    finally:
        for sock in idle:
            sock.close()
