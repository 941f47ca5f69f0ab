"""WebSub discovery in a static export: each topic's `Link` header, as `headers_for` gives it and as the
export's `_headers` file (Netlify, Cloudflare Pages) must carry it.

`_headers` is made from `headers_for` (render/headers.py) but leaves the per-feed `Link` header out:
the bodies carry the hub links instead (see the last test).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from feedpub.build import Build
from feedpub.render.headers import headers_for, media_type_for
from feedpub.render.paths import HEADERS
from feedpub.render.websub import is_topic
from feedpub.settings import Settings, WebSubSettings
from tests.helpers import loaded

BASE = "https://news.example.com"
OUTSIDE = "https://pubsubhubbub.appspot.com/"
SETTINGS = Settings(base_url=BASE, limit=2, archive_size=2, websub=WebSubSettings(hubs=(OUTSIDE,)))


@pytest.fixture
def site(articles: Path) -> dict[str, bytes]:
    return {path: output.body for path, output in loaded(Build(articles, SETTINGS)).items()}


def expected_link(path: str) -> str:
    return f'<{OUTSIDE}>; rel="hub", <{BASE}/{quote(path)}>; rel="self"'


def test_headers_for_gives_each_topic_its_link_header_and_nothing_else_one(site: dict[str, bytes]) -> None:
    topics = [path for path in site if path != HEADERS and is_topic(path, media_type_for(path))]
    assert any("/topics/" in path for path in topics) and any("/providers/" in path for path in topics)
    assert any(path.startswith("feeds/archive/") for path in site)
    for path in site:
        if path == HEADERS:
            continue
        headers = headers_for(path, SETTINGS)
        if path in topics:
            assert headers["Link"] == expected_link(path), path
            assert "Link" in headers["Access-Control-Expose-Headers"], path
        else:  # the index page, OPML, catalog and archive documents
            assert "Link" not in headers, path


def rules(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """`_headers` as (URL pattern, [(name, value), ...]), in order (Netlify's and Cloudflare's format)."""
    found: list[tuple[str, list[tuple[str, str]]]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            found.append((line.strip(), []))
        else:
            name, _, value = line.strip().partition(":")
            found[-1][1].append((name.strip(), value.strip()))
    return found


def test_a_static_export_is_discovered_from_its_bodies_and_headers_stays_within_host_limits(
        site: dict[str, bytes]) -> None:
    """`_headers` names no hub: a rule per feed would pass Cloudflare Pages' 100 rules at a few dozen
    topics and providers. WebSub lets a subscriber discover the hub from the body as well, and every
    topic's body names the hub and its own URL (test_hub_links.py checks the markup)."""
    written = rules(site[HEADERS].decode("utf-8"))
    assert len(written) <= 100
    assert not [name for _, headers in written for name, _ in headers if name.lower() == "link"]
    for path in site:
        if path == HEADERS or not is_topic(path, media_type_for(path)):
            continue
        body = site[path].decode("utf-8")
        assert OUTSIDE in body and quote(path) in body, path
