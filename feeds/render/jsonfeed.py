"""JSON Feed 1.1, built directly.  Spec: https://www.jsonfeed.org/version/1.1/"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..reading.article import Article
from ..reading.dates import rfc3339
from .feed import Feed, content_html, provider_home

VERSION = "https://jsonfeed.org/version/1.1"


def render_json(feed: Feed, items: Sequence[Article]) -> bytes:
    head, tail = json_frame(feed, bool(items))
    return head + b",\n".join(json_item(article) for article in items) + tail


def json_frame(feed: Feed, has_items: bool) -> tuple[bytes, bytes]:
    """The document around the items: everything up to `"items":[` and from `]`."""
    # An archive document is a later page of the same feed: its feed_url names the feed (the
    # subscription document), and next_url leads on to the next older page. JSON Feed has no
    # archive vocabulary beyond that.
    document: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.link("current", "json") or feed.urls["json"],
    }
    older = feed.link("prev-archive", "json")
    if older:
        document["next_url"] = older
    document |= {"description": feed.description, "language": feed.language, "authors": [{"name": feed.author}]}
    if feed.hubs:  # WebSub discovery: JSON Feed 1.1's `hubs`, before the items (part of the frame)
        document["hubs"] = [{"type": "WebSub", "url": hub} for hub in feed.hubs]
    head = _dumps(document)[:-1] + ',\n"items":['  # drop the closing brace
    return head.encode("utf-8") + (b"\n" if has_items else b""), b"\n]}\n" if has_items else b"]}\n"


def json_item(article: Article) -> bytes:
    """One item, on one line: feeds are assembled from these without re-encoding."""
    return compact_json(_item(article))


# `<`, `>` and `&` only ever occur inside JSON strings, so `\u003c` & co. are the same document;
# written so, a body never holds a live `<script>` for a browser or a careless embedder to run.
def _html_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _dumps(document: object) -> str:
    return _html_safe(json.dumps(document, ensure_ascii=False, separators=(",", ":")))


def compact_json(document: object) -> bytes:
    """One line of UTF-8 JSON with HTML-significant characters escaped."""
    return _dumps(document).encode("utf-8")


def dump_json(document: object) -> bytes:
    """Deterministic, readable UTF-8 JSON with HTML-significant characters escaped (the catalog)."""
    return (_html_safe(json.dumps(document, ensure_ascii=False, indent=2)) + "\n").encode("utf-8")


def _item(article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": article.url,
        "url": article.url,
        "title": article.title,
        "content_html": content_html(article),
    }
    if article.summary:
        item["summary"] = article.summary
    if article.image:
        item["image"] = article.image.url
    item["date_published"] = rfc3339(article.published)
    if article.topics:
        item["tags"] = list(article.topics)
    item["authors"] = [{"name": article.provider.name, "url": provider_home(article)}]
    return item
