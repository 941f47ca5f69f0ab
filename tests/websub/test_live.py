"""WebSub end to end with the real `feedpub serve`: a subscriber subscribes through the server's own
hub and receives, within a second of an article file changing, exactly the served bytes of each
changed feed and nothing for the others; an outside hub stand-in is pinged once per changed feed;
both go on across a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live_server import Server, servers
from tests.websub.parts import HubStandIn, Subscriber, feedpub_yaml, running, write

# A change reaches subscribers within this; ~0.2 s on a quiet machine, the bound for a busy CI one.
WITHIN_S = 4.0
BASE = "http://feeds.test"  # the links; the server listens elsewhere, so a restart keeps every topic URL


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    yield from running(Subscriber)


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    yield from running(HubStandIn)


def topic(kind: str, key: str, fmt: str) -> str:
    return f"{BASE}/feeds/{kind}/{key}.{fmt}" if kind else f"{BASE}/feeds/{key}.{fmt}"


def served(server: Server, url: str) -> bytes:
    return server.get(url.removeprefix(BASE)).content


def subscribe(server: Server, callback: str, url: str) -> None:
    response = server.client.post("/websub", data={"hub.mode": "subscribe", "hub.topic": url,
                                                   "hub.callback": callback, "hub.secret": "shh"})
    assert response.status_code == 202, response.text


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_subscriber_gets_each_changed_feed_within_a_second_and_after_a_restart(
        tmp_path: Path, articles: Path, serve: Callable[..., Server], subscriber: Subscriber,
        hub: HubStandIn) -> None:
    settings = feedpub_yaml(tmp_path, builtin=True, allow_private_callbacks=True, hubs=[hub.url("/hub")])
    server = serve(articles, "--config", str(settings), "--base-url", BASE)
    wanted = {  # callback path → topic; a new article 6 (news0, World) changes the first three
        "/all": topic("", "all", "rss"),
        "/world": topic("topics", "world", "atom"),
        "/news0": topic("providers", "news0.example.com", "json"),
        "/science": topic("topics", "science", "rss"),
        "/news1": topic("providers", "news1.example.com", "rss"),
    }
    for path, url in wanted.items():
        subscribe(server, subscriber.behave(path), url)
    wait_until(lambda: server.health()["websub"]["hub"]["subscriptions"] == 5)
    assert subscriber.deliveries() == [] and hub.received == []  # subscribing and starting announce nothing

    written = write(articles, 6, publishedDateTime="2026-01-15T13:00:00Z")
    deliveries = subscriber.wait_for(3, "POST", timeout=20)
    assert len(deliveries) == 3
    for delivery in deliveries:
        assert delivery.at - written < WITHIN_S, f"{delivery.path} delivered {delivery.at - written:.2f} s after the write"
        assert delivery.body == served(server, wanted[delivery.path])
        assert delivery.headers["x-hub-signature"].startswith("sha256=")
        assert delivery.headers["link"] == f'<{BASE}/websub>; rel="hub", <{hub.url("/hub")}>; rel="hub", ' \
                                           f'<{wanted[delivery.path]}>; rel="self"'
    hub.wait_for(1, "POST", timeout=20)
    wait_until(lambda: server.health()["websub"]["pings"][0]["pinged"] == 9, 20)  # the ping counted
    time.sleep(0.5)  # nothing more comes
    assert sorted(d.path for d in subscriber.deliveries()) == ["/all", "/news0", "/world"]
    changed = sorted(topic(kind, key, fmt) for kind, key in [("", "all"), ("topics", "world"),
                                                              ("providers", "news0.example.com")]
                     for fmt in ("rss", "atom", "json"))
    assert sorted(hub.pinged_topics()) == changed  # each changed feed once, in every format
    health = server.health()["websub"]
    assert health["hub"]["delivered"] == 3 and health["pings"][0]["pinged"] == 9

    # The same bytes written again: no delivery, no ping.
    write(articles, 6, publishedDateTime="2026-01-15T13:00:00Z")
    time.sleep(1.0)
    assert len(subscriber.deliveries()) == 3 and len(hub.pinged_topics()) == 9

    server.stop()
    write(articles, 7, publishedDateTime="2026-01-15T14:00:00Z")  # news1, World and Science: while stopped
    server = serve(articles, "--config", str(settings), "--base-url", BASE)
    after = subscriber.wait_for(7, "POST", timeout=20)
    assert sorted(d.path for d in after[3:]) == ["/all", "/news1", "/science", "/world"]
    for delivery in after[3:]:
        assert delivery.body == served(server, wanted[delivery.path])

    written = write(articles, 8, publishedDateTime="2026-01-15T15:00:00Z")  # news2, World
    after = subscriber.wait_for(9, "POST", timeout=20)
    time.sleep(0.3)
    assert sorted(d.path for d in subscriber.deliveries()[7:]) == ["/all", "/world"]
    for delivery in after[7:]:
        assert delivery.at - written < WITHIN_S and delivery.body == served(server, wanted[delivery.path])


def test_websub_is_off_unless_configured(articles: Path, serve: Callable[..., Server]) -> None:
    server = serve(articles)
    response = server.client.post("/websub", data={"hub.mode": "subscribe"})
    assert response.status_code == 405
    assert "websub" not in server.health()
