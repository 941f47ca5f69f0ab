"""JSON Feed 1.1, built directly.  Spec: https://www.jsonfeed.org/version/1.1/"""

from __future__ import annotations

import json
from typing import Any

from .article import Article
from .dates import rfc3339
from .feed import Feed, content_html, provider_home

MEDIA_TYPE = "application/feed+json"
VERSION = "https://jsonfeed.org/version/1.1"


def render_json(feed: Feed) -> bytes:
    document: dict[str, Any] = {
        "version": VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.urls["json"],
        "description": feed.description,
        "language": feed.language,
        "authors": [{"name": feed.author}],
        "items": [_item(article) for article in feed.items],
    }
    return dump_json(document)


# `<`, `>` and `&` only ever occur inside JSON strings, so `\u003c` & co. are the same document;
# written so, a body never holds a live `<script>` for a browser or a careless embedder to run.
_HTML_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def dump_json(document: object) -> bytes:
    """Deterministic UTF-8 JSON with HTML-significant characters escaped."""
    return (json.dumps(document, ensure_ascii=False, indent=2).translate(_HTML_SAFE) + "\n").encode("utf-8")


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
