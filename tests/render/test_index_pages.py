"""The pages that list every feed: `index.html`, `feeds/index.opml`, `feeds/index.json`, and the
topic slugs in their URLs.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, article_text, loaded, sample_fields

BASE_URL = "https://news.example.org/hub"
NOW = BASE_TIME + timedelta(days=1)
TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
# Names that share a slug under naive slugifiers, or under any ("AI"/"ai"), and unicode names.
TOPICS = ["AI", "A.I.", "ai", "C++", "C", "C#", "Künstliche Intelligenz", "人工知能", "Здоровье", "Markup <3 & Co"]


def _files() -> dict[str, dict[str, Any]]:
    files = {f"{n:03d}.txt": sample_fields(n) for n in range(6)}
    for i, topic in enumerate(TOPICS):
        files[f"topic-{i:02d}.txt"] = sample_fields(10 + i, topics=[topic, "World"])
    files["draft.txt"] = sample_fields(40, published=False, topics=["Secret Draft Topic"],
                                       provider={"name": "Draft Only", "domain": "draft-only.example.com"})
    return files


def _write(folder: Path, files: dict[str, dict[str, Any]]) -> Path:
    folder.mkdir(parents=True)
    for name, fields in files.items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    return folder


def _build(folder: Path) -> dict[str, Any]:
    return dict(loaded(Build(folder, Settings(base_url=BASE_URL, title="Hub")), now=NOW))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _build(_write(tmp_path_factory.mktemp("index") / "articles", _files()))


@pytest.fixture(scope="module")
def catalog(site: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(site["feeds/index.json"].body)["feeds"]


def _feed_paths(site: dict[str, Any]) -> set[str]:
    return {p for p in site if p.startswith("feeds/") and p.endswith((".rss", ".atom", ".json")) and p != "feeds/index.json"}


def _path_of(url: str) -> str:
    assert url.startswith(BASE_URL + "/"), url
    return unquote(urlsplit(url).path)[len(urlsplit(BASE_URL).path) + 1:]


class Page(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str | None]] = []
        self.anchors: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link":
            self.links.append(found)
        elif tag == "a" and found.get("href"):
            self.anchors.append(found["href"] or "")


# -- catalog ------------------------------------------------------------------------------------


def test_catalog_shape(catalog):
    assert catalog, "no feeds"
    for entry in catalog:
        assert {"kind", "key", "title", "items", "newest", "urls"} <= entry.keys()
        assert entry["kind"] in ("all", "topic", "provider")
        assert set(entry["urls"]) == {"rss", "atom", "json"}
        assert isinstance(entry["items"], int) and entry["items"] >= 1
        assert isinstance(entry["title"], str) and entry["title"]
    assert catalog[0]["kind"] == "all" and catalog[0]["key"] == "all"


def test_catalog_lists_every_feed_once(site, catalog):
    listed = [_path_of(url) for entry in catalog for url in entry["urls"].values()]
    assert len(listed) == len(set(listed))
    assert set(listed) == _feed_paths(site)
    for entry in catalog:
        for fmt, url in entry["urls"].items():
            assert url.isascii() and urlsplit(url).scheme == "https"
            assert site[_path_of(url)].media_type.startswith(TYPES[fmt])


def test_catalog_counts_and_dates_match_the_feeds(site, catalog):
    for entry in catalog:
        doc = json.loads(site[_path_of(entry["urls"]["json"])].body)
        assert entry["items"] == len(doc["items"])
        assert entry["newest"] == doc["items"][0]["date_published"]
        assert entry["title"] in doc["title"]


def test_catalog_names(catalog):
    providers = {e["key"]: e["title"] for e in catalog if e["kind"] == "provider"}
    assert providers == {f"news{n}.example.com": f"News {n}" for n in range(3)}
    topics = {e["title"] for e in catalog if e["kind"] == "topic"}
    # "AI" and "ai" differ only in case: one topic, named by its most common spelling (a tie: "AI" sorts first).
    assert topics == {*TOPICS, "World", "Science"} - {"ai"}


def test_drafts_leave_no_trace(site, catalog):
    assert all("Draft" not in e["title"] and "draft" not in e["key"] for e in catalog)
    for path in ("index.html", "feeds/index.opml", "feeds/index.json"):
        body = site[path].body
        assert b"Draft" not in body and b"draft-only" not in body and b"SECRET" not in body


# -- slugs ----------------------------------------------------------------------------------------


def _slugs(catalog: list[dict[str, Any]]) -> dict[str, str]:
    return {e["title"]: e["key"] for e in catalog if e["kind"] == "topic"}


def test_slugs_unique_and_path_safe(catalog):
    slugs = _slugs(catalog)
    assert len(set(slugs.values())) == len(slugs)
    for slug in slugs.values():
        assert re.fullmatch(r"[\w-]+", slug), slug
        assert slug == slug.lower() and not slug.startswith("-") and not slug.endswith("-")


def test_slugs_readable(catalog):
    slugs = _slugs(catalog)
    assert slugs["Künstliche Intelligenz"] == "künstliche-intelligenz"
    assert slugs["人工知能"] == "人工知能"
    assert slugs["Здоровье"] == "здоровье"
    assert slugs["C++"] == "c-plus-plus"
    assert slugs["C#"] == "c-sharp"
    assert slugs["C"] == "c"
    assert slugs["A.I."] == "a-i"
    assert slugs["World"] == "world"
    # "AI" and "ai" are one topic, "ai"; "A.I." differs in punctuation: a topic of its own.
    assert slugs["AI"] == "ai" and "ai" not in slugs


def test_slugs_do_not_depend_on_reading_order(tmp_path, site, catalog):
    files = _files()
    # Reverse order, other file names; and without "ai" at all: nobody else is renamed.
    reordered = {f"x{99 - i}.txt": fields for i, (_, fields) in enumerate(reversed(list(files.items())))}
    again = _build(_write(tmp_path / "again", reordered))
    assert {p: o.body for p, o in again.items()} == {p: o.body for p, o in site.items()}
    without = {name: fields for name, fields in files.items() if fields["topics"][0] != "ai"}
    fewer = json.loads(_build(_write(tmp_path / "fewer", without))["feeds/index.json"].body)["feeds"]
    kept = _slugs(catalog)
    assert all(kept[name] == slug for name, slug in _slugs(fewer).items() if name != "AI")


def test_unicode_slug_urls_are_percent_encoded(site, catalog):
    (entry,) = [e for e in catalog if e["title"] == "人工知能"]
    assert entry["urls"]["rss"] == BASE_URL + "/feeds/topics/%E4%BA%BA%E5%B7%A5%E7%9F%A5%E8%83%BD.rss"
    assert "feeds/topics/人工知能.rss" in site  # the file (and the server's decoded path) stays readable


# -- index.html --------------------------------------------------------------------------------


def test_index_autodiscovery(site):
    page = Page(site["index.html"].body.decode())
    alternates = {link["type"]: link["href"] for link in page.links if link.get("rel") == "alternate"}
    for fmt, media in TYPES.items():  # relative, so a copy of the site on another host still works
        assert alternates[media] == f"feeds/all.{fmt}"
        assert urljoin(f"{BASE_URL}/index.html", alternates[media]) == f"{BASE_URL}/feeds/all.{fmt}"
    assert alternates["text/x-opml"] == "feeds/index.opml"
    assert site["index.html"].media_type == "text/html; charset=utf-8"


def test_index_links_every_feed_in_three_formats_relatively(site, catalog):
    page = Page(site["index.html"].body.decode())
    own = [href for href in page.anchors if not href.startswith("https://news")]  # articles link their sites
    assert own and not any("//" in href or href.startswith("/") for href in own), own
    resolved = {urljoin(f"{BASE_URL}/index.html", href) for href in own}
    for entry in catalog:
        for url in [*entry["urls"].values(), entry["page"]]:  # the catalog's URLs are absolute
            assert url.startswith(BASE_URL + "/") and url in resolved, url
    assert {urljoin(BASE_URL + "/", href) for href in ("feeds/index.opml", "feeds/index.json")} <= resolved


def test_index_escapes_topic_names(site):
    body = site["index.html"].body.decode()
    assert "Markup <3" not in body  # topic names are plain text (markup is stripped when parsing)
    assert "Markup &lt;3 &amp; Co" in body


def test_index_latest_articles(site):
    page = Page(site["index.html"].body.decode())
    assert "https://news0.example.com/story/0" in page.anchors


# -- OPML -----------------------------------------------------------------------------------------


def test_opml_parses_with_one_rss_outline_per_feed(site, catalog):
    root = ET.fromstring(site["feeds/index.opml"].body)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Hub"
    outlines = [o for o in root.iter("outline") if o.get("type") == "rss"]
    assert len(outlines) == len(catalog)
    assert [o.get("xmlUrl") for o in outlines] == [e["urls"]["rss"] for e in catalog]
    for outline, entry in zip(outlines, catalog, strict=True):
        assert outline.get("text") == (entry["title"] if entry["kind"] != "all" else "Hub")
        assert outline.get("htmlUrl") == entry["page"]  # the feed's page for people
        assert site[_path_of(outline.get("xmlUrl", ""))].media_type.startswith(TYPES["rss"])
