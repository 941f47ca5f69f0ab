"""WebSub discovery on the wire: every feed response names the hubs and the feed itself in a `Link`
header when a hub is configured; with none, not one byte of any response changes."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # Starlette 1.x suggests httpx2; httpx is what is installed
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from feedpub.server.app import create_app
from feedpub.server.live.live_site import LiveSite
from feedpub.server.published import LazyResource, Resource, publish
from feedpub.settings import Settings, WebSubSettings

BASE = "https://feeds.example.org"
OUTSIDE = "https://hub.example.com/"
WORLD = "/feeds/topics/world.atom"


def loaded(articles: Path, websub: WebSubSettings) -> LiveSite:
    live = LiveSite(articles, Settings(base_url=BASE, websub=websub))
    live.load()
    return live


@pytest.fixture
def client(articles: Path) -> Iterator[TestClient]:
    live = loaded(articles, WebSubSettings(hubs=(OUTSIDE,), builtin=True))
    with TestClient(create_app(live, watch=False)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", WORLD,
                                  "/feeds/providers/news0.example.com.rss"])
def test_each_feed_names_the_hubs_and_itself(client: TestClient, path: str) -> None:
    expected = f'<{BASE}/websub>; rel="hub", <{OUTSIDE}>; rel="hub", <{BASE}{path}>; rel="self"'
    response = client.get(path)
    assert response.status_code == 200 and response.headers["link"] == expected
    assert response.headers["access-control-expose-headers"] == "ETag, Last-Modified, Link"
    assert client.head(path).headers["link"] == expected
    again = client.get(path, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304 and again.headers["link"] == expected  # a cache's copy is updated too
    gzipped = client.get(path, headers={"accept-encoding": "gzip"})
    assert gzipped.headers["link"] == expected


@pytest.mark.parametrize("path", ["/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", WORLD])
def test_each_served_body_names_the_same_hubs(client: TestClient, path: str) -> None:
    body = client.get(path).content
    if path.endswith(".json"):
        hubs = [hub["url"] for hub in json.loads(body)["hubs"]]
    else:
        hubs = re.findall(rb'<(?:atom:)?link rel="hub" href="([^"]*)"/>', body)
        hubs = [hub.decode() for hub in hubs]
    assert hubs == [f"{BASE}/websub", OUTSIDE]


@pytest.mark.parametrize("path", ["/", "/index.html", "/feeds/index.json", "/feeds/index.opml"])
def test_other_documents_name_no_hub(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and "link" not in response.headers
    assert "Link" not in response.headers.get("access-control-expose-headers", "")


def test_without_a_hub_no_byte_of_any_response_changes(articles: Path) -> None:
    """The limits alone (no hub) change nothing: every path's framed headers, plain and gzip, 200
    and 304, are those of a site published without WebSub at all."""
    plain = loaded(articles, WebSubSettings())
    limits = loaded(articles, WebSubSettings(max_subscriptions=5, max_subscriptions_per_host=1, lease_seconds=60,
                                             max_lease_seconds=60, allow_private_callbacks=True))
    reference = publish(plain.rebuilder.build.site, settings=plain.settings)
    assert sorted(limits.published.resources) == sorted(reference.resources)
    for path, resource in limits.published.resources.items():
        other = reference.resources[path]
        if isinstance(resource, LazyResource) and isinstance(other, LazyResource):  # a feed's page for people
            assert resource.not_modified(False) == other.not_modified(False), path
            assert b"link" not in b"".join(name for name, _ in resource.not_modified(False))
            continue
        assert isinstance(resource, Resource) and isinstance(other, Resource)
        for status in (200, 304):
            for compressed in (False, True):
                assert resource.wire(status, compressed) == other.wire(status, compressed), path
                assert b"link" not in resource.wire(status, compressed)
        assert resource.body(True) == other.body(True)


def test_the_fast_path_frames_the_link_header(articles: Path) -> None:
    """The protocol's fast path writes `Resource.wire`, which carries the header like the ASGI path."""
    live = loaded(articles, WebSubSettings(hubs=(OUTSIDE,)))
    resource = live.published.get("/feeds/all.rss")
    assert isinstance(resource, Resource)
    line = f'\r\nlink: <{OUTSIDE}>; rel="hub", <{BASE}/feeds/all.rss>; rel="self"\r\n'.encode()
    assert line in resource.wire(200, False) and line in resource.wire(304, True)


