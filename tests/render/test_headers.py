"""The header rules of `render/headers.py`: the site's media types, and what the live server sends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.render.formats import FORMATS
from feedpub.render.headers import UnknownPathError, headers_for, media_type_for
from feedpub.render.paths import HEADERS
from feedpub.render.site import Site, make_output
from feedpub.server.published import LazyResource, publish
from feedpub.settings import Settings
from tests.helpers import article_text, held, loaded, sample_fields


def site_of(folder: Path, settings: Settings) -> Site:
    return loaded(Build(folder, settings))


@pytest.fixture
def folder(articles: Path) -> Path:
    # A unicode topic, so a slug's path goes through the rules too.
    (articles / "u.txt").write_text(article_text(**sample_fields(9, topics=["Künstliche Intelligenz"])), "utf-8")
    return articles


def test_every_path_of_the_site_has_the_media_type_it_was_rendered_with(folder: Path) -> None:
    site = site_of(folder, Settings())
    assert any(not path.isascii() for path in site)
    for path, output in site.items():
        assert headers_for(path, Settings())["Content-Type"] == output.media_type, path


@pytest.mark.parametrize("max_age", [0, 300, 86400])
def test_the_live_server_sends_every_rule_and_only_per_response_headers_besides(folder: Path, max_age: int) -> None:
    settings = Settings(max_age=max_age)
    site = site_of(folder, settings)
    published = publish(site, settings=settings)
    for path in site:
        if path == HEADERS:
            continue  # configuration for static hosts: the server does not publish it
        found = published.get("/" + path)
        assert found is not None, path
        resource = found.materialize() if isinstance(found, LazyResource) else found  # an archive document
        sent = {name.decode().lower(): value.decode() for name, value in resource.headers}
        rules = {name.lower(): value for name, value in headers_for(path, settings).items()}
        assert {name: sent.get(name) for name in rules} == rules, path
        # What the server adds depends on the response, not on the path.
        assert set(sent) - set(rules) == {"last-modified", "vary"}, path


def test_the_server_sends_the_rules_in_the_order_it_always_has() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    site = {"feeds/all.rss": make_output(b"<rss/>", "application/rss+xml", when),
            "index.html": make_output(b"<html></html>", "text/html", when)}
    published = publish(site, settings=Settings(max_age=60))
    common = [(b"last-modified", b"Thu, 01 Jan 2026 00:00:00 GMT"), (b"cache-control", b"public, max-age=60"),
              (b"vary", b"Accept-Encoding"), (b"x-content-type-options", b"nosniff")]
    feed, page = held(published, "/feeds/all.rss"), held(published, "/")
    assert list(feed.headers) == [(b"content-type", b"application/rss+xml; charset=utf-8"), *common,
                                  (b"access-control-allow-origin", b"*"),
                                  (b"access-control-expose-headers", b"ETag, Last-Modified")]
    assert list(page.headers) == [(b"content-type", b"text/html; charset=utf-8"), *common]


def test_feeds_have_cors_and_the_index_page_does_not() -> None:
    settings = Settings(max_age=60)
    assert headers_for("index.html", settings) == {
        "Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=60",
        "X-Content-Type-Options": "nosniff",
    }
    for path, media_type in (("feeds/all.rss", "application/rss+xml"), ("feeds/topics/x.atom", "application/atom+xml"),
                             ("feeds/providers/a.example.json", "application/feed+json"),
                             ("feeds/index.json", "application/json"), ("feeds/index.opml", "text/x-opml"),
                             ("/feeds/all.rss", "application/rss+xml")):
        headers = headers_for(path, settings)
        assert headers["Content-Type"] == f"{media_type}; charset=utf-8"
        assert headers["Cache-Control"] == "public, max-age=60"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Access-Control-Expose-Headers"] == "ETag, Last-Modified"


@pytest.mark.parametrize("folder", ["feeds/archive/all/", "feeds/archive/topics/künstliche-intelligenz/",
                                    "feeds/archive/providers/a.example.com/"])
def test_archive_documents_are_typed_by_their_format(folder: str) -> None:
    # Archived feeds (RFC 5005) live below feeds/archive/, one document per period, in every format.
    for fmt in FORMATS:
        assert media_type_for(f"{folder}2026-05{fmt.suffix}") == fmt.media_type


@pytest.mark.parametrize("path", ["feeds/all.xml", "feeds/topics/rss", "robots.txt", "feeds/all.", ""])
def test_a_path_without_a_rule_is_an_error_naming_it(path: str) -> None:
    with pytest.raises(UnknownPathError, match="no header rule for"):
        media_type_for(path)
