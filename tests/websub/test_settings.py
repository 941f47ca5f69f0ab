"""WebSub settings from feedpub.yaml (checked with errors that name the setting), the store keys they
move, and discovery: the `Link` header, which documents are topics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedpub.render.headers import headers_for
from feedpub.render.site import make_output
from feedpub.render.websub import (
    changed_topics,
    discovery_link,
    hub_urls,
    is_topic,
    link_header,
    topic_url,
    topics,
)
from feedpub.settings import Settings, SettingsError, WebSubSettings, load_settings
from feedpub.stores.keys import StoreKeys

STORES = ("parses", "fragments", "state", "export")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "feedpub.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_defaults_are_off() -> None:
    websub = Settings().websub
    assert websub == WebSubSettings() and not websub.enabled
    assert (websub.hubs, websub.builtin, websub.allow_private_callbacks) == ((), False, False)
    assert hub_urls(Settings()) == () and discovery_link(Settings(), "https://x.test/feeds/all.rss") == ""
    assert "Link" not in headers_for("feeds/all.rss", Settings())  # no hub: no response gains a header


def test_settings_from_the_file(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "base_url: https://news.example.com/\nwebsub:\n"
                                       "  hubs: [https://hub.example.com/, https://hub.example.com/]\n"
                                       "  builtin: true\n  lease_seconds: 3600\n")
    assert settings.websub.hubs == ("https://hub.example.com/",)  # duplicates dropped
    assert settings.websub.builtin and settings.websub.lease_seconds == 3600
    assert hub_urls(settings) == ("https://news.example.com/websub", "https://hub.example.com/")
    assert settings_from(tmp_path, "websub:\n  hubs: https://one.example.com/hub\n").websub.hubs == (
        "https://one.example.com/hub",)
    assert settings_from(tmp_path, "websub:\n").websub == WebSubSettings()


@pytest.mark.parametrize(("text", "message"), [
    ("websub: yes\n", "websub must be a mapping"),
    ("websub:\n  hub: https://hub.example.com/\n", "unknown setting websub.hub; known: allow_private_callbacks"),
    ("websub:\n  hubs: [ftp://hub.example.com/]\n", "websub.hubs: each hub must be an absolute http(s) URL"),
    ("websub:\n  hubs: [https://hub.example.com/#x]\n", "websub.hubs: each hub must be an absolute http(s) URL"),
    ("websub:\n  hubs: {a: 1}\n", "websub.hubs must be a list of hub URLs"),
    ("websub:\n  builtin: 1\n", "websub.builtin must be true or false, not 1"),
    ("websub:\n  allow_private_callbacks: 'yes'\n", "websub.allow_private_callbacks must be true or false"),
    ("websub:\n  lease_seconds: 0\n", "websub.lease_seconds must be a whole number of at least 1, not 0"),
    ("websub:\n  max_subscriptions: 1.5\n", "websub.max_subscriptions must be a whole number"),
    ("websub:\n  lease_seconds: 100\n  max_lease_seconds: 10\n",
     "websub.lease_seconds (100) must not be more than websub.max_lease_seconds (10)"),
    ("websub:\n  max_subscriptions: 10\n  max_subscriptions_per_host: 20\n",
     "websub.max_subscriptions_per_host (20) must not be more than websub.max_subscriptions (10)"),
    ("websubs: {}\n", "unknown setting 'websubs'"),
])
def test_wrong_settings_are_errors_that_name_them(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from(tmp_path, text)
    assert message in str(error.value) and str(tmp_path / "feedpub.yaml") in str(error.value)


def keys(settings: Settings) -> dict[str, str]:
    store_keys = StoreKeys(settings)
    return {store: getattr(store_keys, store)() for store in STORES}


@pytest.mark.parametrize(("websub", "changed"), [
    # The hubs a feed names (its Link header and the hub links in its body): the saved state and the
    # export record follow them; items never name a hub, so the fragment store does not.
    (WebSubSettings(builtin=True), {"state", "export"}),
    (WebSubSettings(hubs=("https://h.example.com/",)), {"state", "export"}),
    # Shape no byte: no key moves, so changing one costs no cold start and no full export.
    (WebSubSettings(allow_private_callbacks=True, max_subscriptions=5, max_subscriptions_per_host=5,
                    lease_seconds=60, max_lease_seconds=60), set()),
])
def test_only_the_websub_settings_that_shape_bytes_move_store_keys(websub: WebSubSettings, changed: set[str]) -> None:
    plain = Settings(base_url="https://news.example.com")
    before, after = keys(plain), keys(plain.replace(websub=websub))
    assert {store for store in STORES if after[store] != before[store]} == changed


def test_link_header() -> None:
    assert link_header(["https://a.example.com/", "https://b.example.com/hub"], "https://x.test/feeds/all.rss") == (
        '<https://a.example.com/>; rel="hub", <https://b.example.com/hub>; rel="hub", '
        '<https://x.test/feeds/all.rss>; rel="self"')
    assert link_header([], "https://x.test/feeds/all.rss") == ""
    self_url = topic_url(Settings(base_url="https://x.test"), "/feeds/topics/künstliche-intelligenz.rss")
    assert self_url == "https://x.test/feeds/topics/k%C3%BCnstliche-intelligenz.rss"
    assert link_header(["https://hub.test/"], "https://x.test/ü").endswith("<https://x.test/%C3%BC>; rel=\"self\"")
    assert link_header(["https://hub.test/"], self_url).isascii()


def test_changed_topics() -> None:
    a, b = make_output(b"a", "application/rss+xml", WHEN), make_output(b"b", "application/rss+xml", WHEN)
    assert changed_topics({"u1": a.etag, "u2": a.etag, "gone": a.etag}, {"u2": b, "u1": a, "new": a}) == ["new", "u2"]


@pytest.mark.parametrize(("path", "media_type", "topic"), [
    ("feeds/all.rss", "application/rss+xml", True),
    ("/feeds/all.atom", "application/atom+xml", True),
    ("feeds/all.json", "application/feed+json", True),
    ("feeds/topics/künstliche-intelligenz.atom", "application/atom+xml", True),
    ("feeds/providers/news0.example.com.json", "application/feed+json", True),
    ("feeds/index.json", "application/json", False),  # the catalog
    ("feeds/index.opml", "text/x-opml", False),
    ("index.html", "text/html", False),
    ("feeds/all.rss", "application/atom+xml", False),  # a suffix that does not match its type
    ("feeds/archive/all/2026-01.rss", "application/rss+xml", False),  # archive documents sit deeper
    ("feeds/topics/ai/2026-01.atom", "application/atom+xml", False),
    ("feeds/providers/news0.example.com/1.json", "application/feed+json", False),
    ("feeds/topics/.rss", "application/rss+xml", False),
    ("api/news/1.json", "application/feed+json", False),
])
def test_only_the_feeds_are_topics(path: str, media_type: str, topic: bool) -> None:
    assert is_topic(path, make_output(b"x", media_type, WHEN).media_type) is topic  # with its charset
    assert is_topic(path, media_type) is topic


def test_feed_links_name_every_hub_and_the_feed_itself() -> None:
    settings = Settings(base_url="https://news.example.com",
                        websub=WebSubSettings(hubs=("https://hub.example.com/",), builtin=True))
    feed = make_output(b"x", "application/atom+xml", WHEN)
    assert headers_for("feeds/topics/künstliche-intelligenz.atom", settings)["Link"] == (
        '<https://news.example.com/websub>; rel="hub", <https://hub.example.com/>; rel="hub", '
        '<https://news.example.com/feeds/topics/k%C3%BCnstliche-intelligenz.atom>; rel="self"')
    assert "Link" not in headers_for("index.html", settings)
    assert "Link" not in headers_for("feeds/archive/all/2026.atom", settings)  # archives are no topics
    site = {"feeds/all.rss": make_output(b"r", "application/rss+xml", WHEN), "index.html": feed}
    assert list(topics(settings, site)) == ["https://news.example.com/feeds/all.rss"]
    assert topics(settings, {"feeds/all.atom": object()}) == {}  # a document made on demand is no topic
