"""Atom 1.0 through feedgen.  Spec: https://www.rfc-editor.org/rfc/rfc4287

feedgen 1.0.0's known bugs are worked around here and only here: entries are appended (its
default prepends), `updated` is the newest item's date (its default is now()), the generator
names no version, and entry links carry no attributes beyond `href` (issue #135 drops
`rel`/`type`), which is right for the one link an entry has: `alternate` is Atom's default.

Titles, the subtitle and summaries are Atom text constructs. Plain text that readers and the
W3C validator would take for HTML (`looks_like_markup`: `</b>`, `&amp;`) is published as
escaped HTML with `type="html"` instead, so it shows the same characters as in RSS and JSON.
feedgen takes no type for titles, so a small extension sets the attribute on the built tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from ..reading.article import Article
from .extensions import add_media
from .feed import Feed, as_html, content_html, looks_like_markup, media_attributes, provider_home
from .history import add_links


class _HtmlText(BaseExtension):
    """Marks the named child elements (`title`, `subtitle`) `type="html"`."""

    def __init__(self) -> None:
        self.elements: set[str] = set()

    def extend_atom(self, element: Any) -> Any:
        for child in element:
            if child.tag in self.elements:
                child.set("type", "html")
        return element


class _HtmlEntryText(_HtmlText, BaseEntryExtension):
    pass


def _text(text: str, element: str, marker: _HtmlText) -> str:
    if looks_like_markup(text):
        marker.elements.add(element)
        return as_html(text)
    return text


def render_atom(feed: Feed, items: Sequence[Article]) -> bytes:
    fg = FeedGenerator()
    add_media(fg, "atom")
    fg.register_extension("feedpub_text", _HtmlText, _HtmlEntryText, atom=True, rss=False)
    marker: _HtmlText = fg.feedpub_text
    fg.id(feed.urls["atom"])
    fg.title(_text(feed.title, "title", marker))
    fg.subtitle(_text(feed.description, "subtitle", marker))
    fg.language(feed.language)
    fg.author({"name": feed.author})
    fg.link(href=feed.urls["atom"], rel="self", type="application/atom+xml")
    fg.link(href=feed.home_url, rel="alternate", type="text/html")
    fg.updated(feed.updated)
    fg.generator("feedpub")
    add_links(fg, feed, "atom")
    for article in items:
        entry = fg.add_entry(order="append")
        entry_marker: _HtmlText = entry.feedpub_text
        entry.id(article.url)
        entry.title(_text(article.title, "title", entry_marker))
        entry.link(href=article.url)
        entry.published(article.published)
        entry.updated(article.published)
        entry.author({"name": article.provider.name, "uri": provider_home(article)})
        if article.summary:
            if looks_like_markup(article.summary):
                entry.summary(as_html(article.summary), type="html")
            else:
                entry.summary(article.summary)
        entry.content(content_html(article), type="html")
        for topic in article.topics:
            entry.category(term=topic)
        if article.image:
            entry.media.content(media_attributes(article.image), group=None)
            entry.media.thumbnail({"url": article.image.url}, group=None)
    return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
