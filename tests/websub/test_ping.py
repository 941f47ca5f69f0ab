"""Publish pings to outside hubs, against a local hub stand-in: one ping per changed topic, none
when nothing changed, retries, failures kept in the status; and the bounded reads of `exchange`."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from feedpub.server.websub.delivery import exchange
from feedpub.server.websub.service import WebSub
from feedpub.server.websub.subscriptions import Store
from feedpub.settings import Settings, WebSubSettings
from tests.websub.parts import ALL, BASE, FAST, PROVIDER, TOPIC, HubStandIn, running, site, until


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    yield from running(HubStandIn)


def pinging(tmp_path: Path, hubs: list[str], scenario: Any) -> WebSub:
    async def main() -> WebSub:
        websub = WebSub(Settings(base_url=BASE, websub=WebSubSettings(hubs=tuple(hubs))),
                        Store(tmp_path / "hub.sqlite3"), ping_retry_delays=FAST)
        websub.announce(site(1))
        await websub.start()
        try:
            await asyncio.wait_for(scenario(websub), 20)
        finally:
            await websub.stop()
        return websub

    return asyncio.run(main())


def test_one_ping_per_changed_topic_and_none_without_a_change(tmp_path: Path, hub: HubStandIn) -> None:
    async def scenario(websub: WebSub) -> None:
        await asyncio.sleep(0.3)
        assert hub.received == []  # the first state is the baseline
        websub.announce(site(2, topic=1))
        await asyncio.to_thread(hub.wait_for, 1, "POST")
        websub.announce(site(2, topic=1))  # the same bytes again
        await asyncio.sleep(0.3)
        assert sorted(hub.pinged_topics()) == [ALL, TOPIC]
        assert len(hub.received) == 1  # one batch
        websub.announce(site(2, topic=1, provider=5))
        await asyncio.to_thread(hub.wait_for, 2, "POST")
        await until(lambda: websub.status()["pings"][0]["pinged"] == 3)  # counted once the hub has answered
        assert sorted(hub.pinged_topics()) == [ALL, PROVIDER, TOPIC]
        [status] = websub.status()["pings"]
        assert status["pinged"] == 3 and status["failed"] == 0 and status["last_error"] is None
        assert "hub" not in websub.status()  # the built-in hub is off

    pinging(tmp_path, [hub.url("/hub")], scenario)
    assert hub.received[0].headers["content-type"] == "application/x-www-form-urlencoded"


def test_a_failing_hub_is_retried_and_its_failure_shown(tmp_path: Path, hub: HubStandIn) -> None:
    hub.statuses = [503, 500]  # then 204

    async def scenario(websub: WebSub) -> None:
        websub.announce(site(2))
        await asyncio.to_thread(hub.wait_for, 3, "POST")
        await asyncio.sleep(0.1)
        assert hub.pinged_topics() == [ALL]
        hub.statuses = [500] * 6  # every try of the next ping fails
        websub.announce(site(3))
        await asyncio.to_thread(hub.wait_for, 9, "POST")
        await until(lambda: websub.status()["pings"][0]["failed"] == 1)
        [status] = websub.status()["pings"]
        assert status["pinged"] == 1 and status["failed"] == 1
        assert status["last_error"] == f"{hub.url('/hub')}: answered 500"

    pinging(tmp_path, [hub.url("/hub")], scenario)
    assert len(hub.received) == 9  # 3 for the first change; 1 + 5 retries (FAST) for the second


def test_an_unreachable_hub_does_not_stop_the_others(tmp_path: Path, hub: HubStandIn) -> None:
    with socket_closed() as dead:
        async def scenario(websub: WebSub) -> None:
            websub.announce(site(2))
            await asyncio.to_thread(hub.wait_for, 1, "POST")
            await until(lambda: next(s for s in websub.status()["pings"] if s["url"] == dead)["failed"] == 1)
            dead_status = next(s for s in websub.status()["pings"] if s["url"] == dead)
            assert dead_status["failed"] == 1 and dead_status["last_error"].startswith(dead)

        pinging(tmp_path, [dead, hub.url("/hub")], scenario)
    assert hub.pinged_topics() == [ALL]


class socket_closed:
    """The URL of a port nothing listens on."""

    def __enter__(self) -> str:
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return f"http://127.0.0.1:{sock.getsockname()[1]}/hub"

    def __exit__(self, *args: object) -> None:
        pass


class _Endless(BaseHTTPRequestHandler):
    """Answers 200 and then sends bytes for as long as the client reads."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"x" * 65536)
                time.sleep(0.001)
        except OSError:
            pass


def test_exchange_reads_at_most_its_cap_and_keeps_its_deadline() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    async def main() -> None:
        async with httpx.AsyncClient() as client:
            started = time.perf_counter()
            status, body = await exchange(client, "GET", url, cap=100_000, deadline=5)
            assert (status, len(body)) == (200, 100_000)
            assert time.perf_counter() - started < 2
            with pytest.raises(TimeoutError):
                await exchange(client, "GET", url, cap=10**12, deadline=0.3)

    try:
        asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
