"""JSON Feed 1.1, field by field, for every JSON feed of a small site.

Spec: https://www.jsonfeed.org/version/1.1/ — `version`, `title` and `items` are required at the
top; each item needs a unique string `id` and `content_html` or `content_text`; `authors` is an
array of objects with at least a `name` or `url` (the 1.0 singular `author` is gone); optional
values are left out rather than `null`; extensions start with `_`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import BASE_TIME, article_text, loaded, sample_fields

BASE_URL = "https://feeds.example.org"
VERSION = "https://jsonfeed.org/version/1.1"
TOP_KEYS = {"version", "title", "home_page_url", "feed_url", "description", "user_comment", "next_url", "icon",
            "favicon", "authors", "language", "expired", "hubs", "items"}
ITEM_KEYS = {"id", "url", "external_url", "title", "content_html", "content_text", "summary", "image",
             "banner_image", "date_published", "date_modified", "authors", "tags", "language", "attachments"}
AUTHOR_KEYS = {"name", "url", "avatar"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("jsonfeed") / "articles"
    folder.mkdir()
    articles = {f"{n:03d}.txt": sample_fields(n) for n in range(5)}
    articles["tricky.txt"] = sample_fields(
        5, title='Quote "this" <b>and</b> &amp; that ]]> 🎉', excerpt="", images=[], topics=[],
        publishedDateTime="2026-01-15T20:00:00-08:00",
        related=[{"title": "Seen", "webUrl": "https://else.example.com/1"}],
    )
    articles["bare.txt"] = sample_fields(6, excerpt=None, images=None, topics=None, provider=None, quality=None)
    articles["draft.txt"] = sample_fields(7, published=False)
    for name, fields in articles.items():
        (folder / name).write_text(article_text(**fields), encoding="utf-8")
    return dict(loaded(Build(folder, Settings(base_url=BASE_URL)), now=BASE_TIME + timedelta(days=1)))


@pytest.fixture(scope="module")
def feeds(site: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {path: json.loads(o.body) for path, o in site.items() if path.endswith(".json") and path != "feeds/index.json"}
    assert {"feeds/all.json", "feeds/topics/world.json", "feeds/providers/news0.example.com.json"} <= found.keys()
    return found


def _is_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and value.isascii() and " " not in value


def _nulls(value: object, where: str = "$") -> list[str]:
    if value is None:
        return [where]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in _nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [n for i, v in enumerate(value) for n in _nulls(v, f"{where}[{i}]")]
    return []


def _unknown(keys: set[str], known: set[str]) -> set[str]:
    return {k for k in keys - known if not k.startswith("_")}


def test_media_type(site, feeds):
    for path in feeds:
        assert site[path].media_type == "application/feed+json; charset=utf-8"


def test_utf8_json_object(site, feeds):
    for path in feeds:
        body = site[path].body
        assert not body.startswith(b"\xef\xbb\xbf")
        assert isinstance(json.loads(body.decode("utf-8")), dict)


def test_top_level(feeds):
    for path, doc in feeds.items():
        assert doc["version"] == VERSION
        assert isinstance(doc["title"], str) and doc["title"].strip()
        assert _is_url(doc["home_page_url"])  # the feed's page for people, beside it
        assert unquote(urlsplit(doc["home_page_url"]).path) == "/" + path.rsplit(".", 1)[0] + ".html"
        assert _is_url(doc["feed_url"])
        assert unquote(urlsplit(doc["feed_url"]).path) == "/" + path  # its own URL
        assert isinstance(doc["items"], list)
        assert "author" not in doc
        assert not _unknown(set(doc), TOP_KEYS), path
        for author in doc.get("authors", []):
            assert isinstance(author, dict) and (author.get("name") or author.get("url"))
            assert not _unknown(set(author), AUTHOR_KEYS)
        if "language" in doc:
            assert isinstance(doc["language"], str) and doc["language"]


def test_no_null_values(feeds):
    for path, doc in feeds.items():
        assert _nulls(doc) == [], path


def test_item_ids_are_unique_strings(feeds):
    for path, doc in feeds.items():
        ids = [item["id"] for item in doc["items"]]
        assert all(isinstance(i, str) and i for i in ids), path
        assert len(ids) == len(set(ids)), path


def test_item_fields(feeds):
    for path, doc in feeds.items():
        for item in doc["items"]:
            where = (path, item.get("id"))
            assert not _unknown(set(item), ITEM_KEYS), where
            assert "author" not in item, where
            assert isinstance(item.get("content_html"), str) or isinstance(item.get("content_text"), str), where
            assert item["content_html"].strip(), where
            assert _is_url(item["url"]) and item["url"] == item["id"], where
            assert isinstance(item["title"], str) and item["title"], where
            if "summary" in item:
                assert isinstance(item["summary"], str) and item["summary"], where
            if "image" in item:
                assert _is_url(item["image"]), where
            assert RFC3339.match(item["date_published"]), where
            datetime.fromisoformat(item["date_published"])
            assert "date_modified" not in item or RFC3339.match(item["date_modified"])
            if "tags" in item:
                assert isinstance(item["tags"], list) and item["tags"], where
                assert all(isinstance(t, str) and t for t in item["tags"]), where
            authors = item["authors"]
            assert isinstance(authors, list) and authors, where
            for author in authors:
                assert isinstance(author, dict) and (author.get("name") or author.get("url")), where
                assert not _unknown(set(author), AUTHOR_KEYS), where
                if "url" in author:
                    assert _is_url(author["url"]), where


def test_items_newest_first(feeds):
    for path, doc in feeds.items():
        keys = [(-datetime.fromisoformat(i["date_published"]).timestamp(), i["id"]) for i in doc["items"]]
        assert keys == sorted(keys), path


def test_offset_date_in_utc(feeds):
    (item,) = [i for i in feeds["feeds/all.json"]["items"] if i["id"].endswith("/story/5")]
    assert item["date_published"] == "2026-01-16T04:00:00Z"


def test_optional_fields_left_out_when_missing(feeds):
    items = {i["id"]: i for i in feeds["feeds/all.json"]["items"]}
    tricky = items["https://news2.example.com/story/5"]
    assert "image" not in tricky and "summary" not in tricky and "tags" not in tricky
    assert tricky["title"] == 'Quote "this" <b>and</b> & that ]]> 🎉'
    bare = items["https://news0.example.com/story/6"]
    assert bare["authors"][0]["name"] == "news0.example.com"  # no provider: the domain names it


def test_drafts_and_secrets_absent(site):
    for path, output in site.items():
        assert b"SECRET-BLOB" not in output.body, path
        assert b"/story/7" not in output.body, path


def test_html_significant_characters_are_escaped(site, feeds):
    # Same JSON document, but no body ever carries a raw `<` (a `</script>` in a title can't break out).
    for path in [*feeds, "feeds/index.json"]:
        body = site[path].body
        assert b"<" not in body and b">" not in body, path
    assert "\\u003cb\\u003e" in site["feeds/all.json"].body.decode()


def test_tags_name_topics_and_feed_title_names_topic(feeds):
    doc = feeds["feeds/topics/science.json"]
    assert "Science" in doc["title"] and "Science" in doc["description"]
    assert all("Science" in item["tags"] for item in doc["items"])
    assert [i["id"] for i in doc["items"]] == ["https://news1.example.com/story/1", "https://news0.example.com/story/3"]

