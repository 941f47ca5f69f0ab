"""WebSub hub links in the feed bodies: every subscription document names the configured hubs (RSS
`atom:link rel="hub"`, Atom `<link rel="hub">`, JSON Feed `hubs`) before its items and has exactly one
self link, the URL it is served at; archive documents name no hub; with no hub no byte changes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from lxml import etree

from feedpub.build import Build
from feedpub.catalog.catalog import ALL, FeedSpec
from feedpub.render.formats import FORMATS
from feedpub.render.headers import headers_for
from feedpub.render.paths import is_archive
from feedpub.render.site import SiteBuilder, make_feed
from feedpub.render.websub import is_topic
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import SEEDS, article_text, loaded, sample_fields

BASE = "https://news.example.com"
OUTSIDE = "https://pubsubhubbub.appspot.com/"
HUBS = [f"{BASE}/websub", OUTSIDE]  # the built-in hub first, then the outside ones
WEBSUB = WebSubSettings(hubs=(OUTSIDE,), builtin=True)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
FEED_SUFFIXES = (".rss", ".atom", ".json")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """40 articles: with `limit=5, archive_size=10` every feed has a subscription document and archives."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(40):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=["World", "Künstliche Intelligenz"]
                                                                         if n % 2 else ["World"])), encoding="utf-8")
    return folder


def site_of(folder: Path, **settings: Any) -> dict[str, bytes]:
    build = Build(folder, Settings(base_url=BASE, limit=5, archive_size=10, **settings))
    return {path: output.body for path, output in loaded(build, now=NOW).items()}


def feeds(site: dict[str, bytes]) -> list[str]:
    return [path for path in site if path.endswith(FEED_SUFFIXES) and path != "feeds/index.json"]


def links(body: bytes, suffix: str) -> list[tuple[str, str]]:
    """(rel, href) of the document's own links, in document order (an RSS channel's atom:link elements)."""
    root = etree.fromstring(body)
    parent = root.find("channel") if suffix == ".rss" else root
    assert parent is not None
    return [(link.get("rel", "alternate"), link.get("href", "")) for link in parent.findall(f"{ATOM}link")]


def served_at(path: str) -> str:
    return f"{BASE}/{quote(path)}"


def test_every_subscription_document_names_the_hubs_and_itself_once(folder: Path) -> None:
    site = site_of(folder, websub=WEBSUB)
    topics = [path for path in feeds(site) if not is_archive(path)]
    assert any("künstliche" in path for path in topics) and any("/providers/" in path for path in topics)
    for path in topics:
        suffix = path[path.rindex("."):]
        if suffix == ".json":
            document = json.loads(site[path])
            assert document["hubs"] == [{"type": "WebSub", "url": hub} for hub in HUBS], path
            assert document["feed_url"] == served_at(path), path
            continue
        found = links(site[path], suffix)
        assert [href for rel, href in found if rel == "hub"] == HUBS, path
        assert [href for rel, href in found if rel == "self"] == [served_at(path)], path


def test_the_link_header_and_the_body_name_the_same_hubs_and_self(folder: Path) -> None:
    settings = Settings(base_url=BASE, limit=5, archive_size=10, websub=WEBSUB)
    site = site_of(folder, websub=WEBSUB)
    for path in feeds(site):
        media_type = headers_for(path, settings)["Content-Type"]
        if not is_topic(path, media_type):
            continue
        header = headers_for(path, settings)["Link"]
        named = re.findall(r'<([^>]*)>; rel="(\w+)"', header)
        if path.endswith(".json"):
            document = json.loads(site[path])
            body = [(hub["url"], "hub") for hub in document["hubs"]] + [(document["feed_url"], "self")]
        else:
            body = [(href, rel) for rel, href in links(site[path], path[path.rindex("."):]) if rel in ("hub", "self")]
        assert sorted(named) == sorted(body), path


def test_archive_documents_name_no_hub_and_only_themselves_as_self(folder: Path) -> None:
    """WebSub topics are the subscription documents (see site.make_archive_feed)."""
    site = site_of(folder, websub=WEBSUB)
    archives = [path for path in feeds(site) if is_archive(path)]
    assert len(archives) >= 9  # every feed has some
    for path in archives:
        suffix = path[path.rindex("."):]
        if suffix == ".json":
            assert "hubs" not in json.loads(site[path]), path
            continue
        found = links(site[path], suffix)
        assert not [rel for rel, _ in found if rel == "hub"], path
        assert [href for rel, href in found if rel == "self"] == [served_at(path)], path


def without_hub_links(body: bytes) -> bytes:
    """A document with its hub links (as the renderers print them) taken out again."""
    body = re.sub(rb'\n *<(?:atom:)?link rel="hub" href="[^"]*"/>', b"", body)
    return re.sub(rb',"hubs":\[[^\]]*\]', b"", body)


@pytest.mark.parametrize("archives", [True, False])
def test_hubs_add_their_links_and_not_one_byte_more(folder: Path, archives: bool) -> None:
    plain = site_of(folder, archives=archives)
    hubs = site_of(folder, archives=archives, websub=WEBSUB)
    assert plain.keys() == hubs.keys()
    changed = sorted(path for path in plain if plain[path] != hubs[path])
    assert changed == sorted(path for path in feeds(plain) if not is_archive(path))
    assert [path for path in changed if without_hub_links(hubs[path]) != plain[path]] == []
    if not archives:  # a hub needs no history namespace
        assert not [path for path in changed if b"xmlns:fh" in hubs[path]]


def test_websub_limits_alone_change_no_byte(folder: Path) -> None:
    limits = WebSubSettings(max_subscriptions=5, max_subscriptions_per_host=1, lease_seconds=60,
                            max_lease_seconds=60, allow_private_callbacks=True)
    assert site_of(folder, websub=limits) == site_of(folder)


# Without a hub, the frames are byte for byte what they were before hubs existed: the document of
# a feed whose every item fits (fh:complete), and of one with archives off (no history at all). The
# RSS polling hints (`<ttl>`, `sy:`, polling.py) came after, for every feed, hub or not, and so did
# the feed's page for people as its alternate link (feed_pages.py).
COMPLETE = {
    "rss": b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:fh="http://purl.org/syndication/history/1.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">
  <channel>
    <title>feedpub</title>
    <link>https://news.example.com/feeds/all.html</link>
    <description>The latest news</description>
    <atom:link href="https://news.example.com/feeds/all.rss" rel="self" type="application/rss+xml"/>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <generator>feedpub</generator>
    <language>en</language>
    <lastBuildDate>Thu, 01 Jan 1970 00:00:00 +0000</lastBuildDate>
    <ttl>5</ttl>
    <fh:complete/>
    <sy:updatePeriod>hourly</sy:updatePeriod>
    <sy:updateFrequency>12</sy:updateFrequency>""",
    "atom": b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:media="http://search.yahoo.com/mrss/" xmlns:fh="http://purl.org/syndication/history/1.0" \
xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <id>https://news.example.com/feeds/all.atom</id>
  <title>feedpub</title>
  <updated>1970-01-01T00:00:00+00:00</updated>
  <author>
    <name>feedpub</name>
  </author>
  <link href="https://news.example.com/feeds/all.atom" rel="self" type="application/atom+xml"/>
  <link href="https://news.example.com/feeds/all.html" rel="alternate" type="text/html"/>
  <generator>feedpub</generator>
  <subtitle>The latest news</subtitle>
  <fh:complete/>""",
    "json": b'{"version":"https://jsonfeed.org/version/1.1","title":"feedpub","home_page_url":"https://news.example.com/feeds/all.html",'
            b'"feed_url":"https://news.example.com/feeds/all.json","description":"The latest news","language":"en",'
            b'"authors":[{"name":"feedpub"}],\n"items":[\n',
}
NO_ARCHIVES = {
    "rss": COMPLETE["rss"].replace(b' xmlns:fh="http://purl.org/syndication/history/1.0"', b"")
                          .replace(b"\n    <fh:complete/>", b""),
    "atom": COMPLETE["atom"].replace(b' xmlns:fh="http://purl.org/syndication/history/1.0"', b"")
                            .replace(b"\n  <fh:complete/>", b""),
    "json": COMPLETE["json"],
}


@pytest.mark.parametrize("archives,expected", [(True, COMPLETE), (False, NO_ARCHIVES)], ids=["complete", "no-archives"])
def test_without_a_hub_the_frames_are_as_before(archives: bool, expected: dict[str, bytes]) -> None:
    spec = FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0)
    feed = make_feed(spec, Settings(base_url=BASE, archives=archives))
    assert feed.hubs == ()
    for fmt in FORMATS:
        head, _ = fmt.frame(feed, True)
        assert head == expected[fmt.name], fmt.name


def test_hub_links_are_in_the_frame_before_the_items() -> None:
    spec = FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0)
    feed = make_feed(spec, Settings(base_url=BASE, websub=WEBSUB))
    for fmt in FORMATS:
        head, tail = fmt.frame(feed, True)
        for hub in HUBS:
            assert hub.encode() in head and hub.encode() not in tail, fmt.name


def test_whole_and_assembled_feeds_with_hubs_are_byte_identical() -> None:
    settings = Settings(limit=20, websub=WEBSUB)
    fast = Build(SEEDS, settings)
    plain = Build(SEEDS, settings)
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    a = {p: o.body for p, o in loaded(fast, now=NOW).items()}
    b = {p: o.body for p, o in loaded(plain, now=NOW).items()}
    assert a.keys() == b.keys()
    assert [p for p in a if a[p] != b[p]] == []
    assert b'rel="hub"' in a["feeds/all.rss"] and b'"hubs":' in a["feeds/all.json"]
