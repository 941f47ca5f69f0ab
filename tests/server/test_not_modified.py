"""A 304 repeats what updates a cache: ETag, Last-Modified and Cache-Control (RFC 9110 §15.4.5), and the
WebSub Link header, on every way the server answers: the protocol's fast path, the ASGI path, and
archive documents (`LazyResource`), which are answered 304 from their ETag without their bytes.

Once in process, driving the HTTP protocol byte by byte (so each way is known to be taken), and once
against the real `feedpub serve` over TCP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from feedpub.server.live.live_site import LiveSite
from feedpub.server.published import LazyResource, Resource
from feedpub.settings import Settings, WebSubSettings
from tests.live_server import Server, servers
from tests.server.conftest import loaded_site
from tests.server.test_fast_path import exchange, request

BASE = "https://feeds.example.org"
OUTSIDE = "https://hub.example.com/"
SETTINGS = Settings(base_url=BASE, limit=2, archive_size=2, max_age=123, archive_max_age=4567,
                    websub=WebSubSettings(hubs=(OUTSIDE,)))
REPEATED = ("etag", "last-modified", "cache-control", "link")
FEEDS = ["/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", "/feeds/topics/world.rss"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSite:
    return loaded_site(tmp_path_factory, 6, SETTINGS)


def archives(live: LiveSite) -> list[str]:
    found = sorted(path for path, resource in live.published.resources.items()
                   if isinstance(resource, LazyResource) and path.startswith("/feeds/archive/"))  # not the pages
    assert found, "no archive documents: the settings should make some"
    return found


def answer(written: bytes) -> tuple[int, dict[str, str]]:
    head = written.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in head[1:]:
        name, _, value = line.partition(": ")
        assert name.lower() not in headers, line  # each header once
        headers[name.lower()] = value
    return int(head[0].split()[1]), headers


def asked(live: LiveSite, loop: asyncio.AbstractEventLoop, path: str, *, fast: bool,
          **headers: str) -> tuple[int, dict[str, str], bool]:
    """Status and headers of one GET through `FeedProtocol`, and whether it took an ASGI task."""
    transport = exchange(live, loop, request(path, **headers), fast=fast)
    status, found = answer(transport.written)
    return status, found, transport.through_asgi


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_every_way_a_304_repeats_the_200s_cache_headers(live: LiveSite, loop: asyncio.AbstractEventLoop,
                                                        encoding: str) -> None:
    ways = [(path, True) for path in FEEDS] + [(path, False) for path in FEEDS] + \
           [(path, True) for path in archives(live)[:3]]
    taken = set()
    for path, fast in ways:
        status, first, _ = asked(live, loop, path, fast=fast, Accept_Encoding=encoding)
        assert status == 200
        conditions = [{"If_None_Match": first["etag"]}, {"If_Modified_Since": first["last-modified"]}]
        for condition in conditions:
            status, again, through_asgi = asked(live, loop, path, fast=fast, Accept_Encoding=encoding, **condition)
            assert status == 304, (path, condition)
            resource = live.published.get(path)
            kind = "lazy" if isinstance(resource, LazyResource) else "fast" if not through_asgi else "asgi"
            taken.add(kind)
            assert {name: again.get(name) for name in REPEATED} == {name: first.get(name) for name in REPEATED}, \
                (path, kind, condition)
            assert "content-length" not in again and "content-encoding" not in again, (path, kind)
    assert taken == {"fast", "asgi", "lazy"}


def test_the_cache_headers_are_the_documents_own(live: LiveSite, loop: asyncio.AbstractEventLoop) -> None:
    _, subscription, _ = asked(live, loop, "/feeds/all.rss", fast=True, If_None_Match="*")
    _, archive, _ = asked(live, loop, archives(live)[0], fast=True, If_None_Match="*")
    assert subscription["cache-control"] == "public, max-age=123" and "link" in subscription
    assert archive["cache-control"] == "public, max-age=4567" and "link" not in archive  # not a topic
    resource = live.published.get("/feeds/all.rss")
    assert isinstance(resource, Resource) and subscription["etag"] in (f"{resource.etag}", f"{resource.gzip_etag}")


# -- the real server ------------------------------------------------------------------------------


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def test_the_real_server_repeats_them_on_keep_alive_and_on_closing_connections(
        serve: Callable[..., Server], articles: Path, tmp_path: Path) -> None:
    config = tmp_path / "feedpub.yaml"
    config.write_text(f"limit: 2\narchive_size: 2\nmax_age: 123\narchive_max_age: 4567\n"
                      f"websub: {{hubs: ['{OUTSIDE}']}}\n", encoding="utf-8")
    server = serve(articles, "--config", str(config), "--base-url", BASE)
    first_archives = [entry["archives"]["first"] for entry in server.catalog()["feeds"] if "archives" in entry]
    assert first_archives, "no archive documents: the settings should make some"
    paths = [*FEEDS, *(httpx.URL(url).raw_path.decode("ascii") for url in first_archives[0].values())]
    with httpx.Client(base_url=server.base, timeout=5.0) as keep_alive:
        for path in paths:
            for extra in ({}, {"connection": "close"}):  # the fast path takes only keep-alive requests
                for encoding in ("identity", "gzip"):
                    headers = {"accept-encoding": encoding, **extra}
                    first = keep_alive.get(path, headers=headers)
                    assert first.status_code == 200, path
                    again = keep_alive.get(path, headers={**headers, "if-none-match": first.headers["etag"]})
                    assert again.status_code == 304 and again.content == b"", path
                    assert {name: again.headers.get(name) for name in REPEATED} == \
                           {name: first.headers.get(name) for name in REPEATED}, (path, headers)
                    assert again.headers["cache-control"] in ("public, max-age=123", "public, max-age=4567")


def test_a_scheduled_article_shown_early_never_dates_the_feed_after_now(serve: Callable[..., Server],
                                                                       articles: Path) -> None:
    """With `--include-future`, the newest item's date may be next year: Last-Modified stays at most the
    response's Date (RFC 9110 §8.8.2.1), and a client that revalidates by date alone is never told
    "not modified" about a feed that changed."""
    from email.utils import parsedate_to_datetime

    from tests.helpers import article_text, sample_fields

    (articles / "scheduled.txt").write_text(article_text(**sample_fields(
        40, title="Scheduled for next year", publishedDateTime="2027-06-01T12:00:00Z")), encoding="utf-8")
    server = serve(articles, "--include-future", "--base-url", BASE)
    first = server.get("/feeds/all.rss")
    assert first.status_code == 200 and b"Scheduled for next year" in first.content
    modified = parsedate_to_datetime(first.headers["last-modified"])
    assert modified <= parsedate_to_datetime(first.headers["date"])
    time.sleep(1.1)  # HTTP dates count whole seconds: a change within the same one cannot be told apart
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Edited since")), encoding="utf-8")
    for _ in range(100):
        if b"Edited since" in server.get("/feeds/all.rss").content:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the edit was never served")
    again = server.get("/feeds/all.rss", headers={"if-modified-since": first.headers["last-modified"]})
    assert again.status_code == 200 and b"Edited since" in again.content  # not "not modified" since then
    assert parsedate_to_datetime(again.headers["last-modified"]) <= parsedate_to_datetime(again.headers["date"])
