"""RSS 2.0 through feedgen.  Spec: https://www.rssboard.org/rss-specification

feedgen 1.0.0's known bugs are worked around here and only here: entries are appended (its
default prepends), `lastBuildDate` is set from the newest item (its default is now()), the
self link is added before the alternate one (the channel `<link>` is the last link added),
and the generator names no version.

The channel's `<ttl>` and `sy:updatePeriod` / `sy:updateFrequency` repeat the document's
Cache-Control max-age for readers that poll (`polling.py`).

Text follows the RSS Advisory Board's profile, because RSS never said whether a title is
text or HTML and readers guess (feedparser treats a title with `</b>` or `&amp;` as HTML):

- readers take an item's and the channel's `<description>` as HTML, so plain text goes in
  escaped (`<b>` → `&lt;b&gt;`), which every reader shows as the characters typed;
- a title is plain text, always, as the profile says: `<em>(video)</em>` is written
  `&#x3C;em&#x3E;(video)&#x3C;/em&#x3E;`, which a reader that takes titles as text (newsboat) shows
  as typed. Escaping it as HTML first would make those readers show `&lt;em&gt;` (double escaping);
- in the elements the profile treats as plain text (titles, the channel description,
  categories, source, creator) `&`, `<` and `>` are written as the hexadecimal references
  `&#x26;`, `&#x3C;`, `&#x3E;`: the encoding the profile recommends and the W3C validator
  expects (`CharacterData`, `ContainsHTML`). XML parsers read the same characters either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from ..reading.article import Article
from .extensions import add_dc, add_media
from .feed import Feed, as_html, content_html, media_attributes
from .history import add_links
from .polling import add_polling

_PLAIN_ITEM = re.compile(rb"(<(title|category|source|dc:creator)(?: [^>]*)?>)([^<]*)(?=</\2>)")
_PLAIN_CHANNEL = re.compile(rb"(<(title|description)(?: [^>]*)?>)([^<]*)(?=</\2>)")
HEX_REFERENCES = (("&amp;", "&#x26;"), ("&lt;", "&#x3C;"), ("&gt;", "&#x3E;"))  # in this order (items.py too)
_HEX = tuple((entity.encode(), reference.encode()) for entity, reference in HEX_REFERENCES)


def render_rss(feed: Feed, items: Sequence[Article]) -> bytes:
    fg = FeedGenerator()
    add_media(fg, "rss")
    add_dc(fg, "rss")
    fg.title(rss_title(feed.title))
    fg.description(as_html(feed.description))
    fg.language(feed.language)
    fg.link(href=feed.urls["rss"], rel="self", type="application/rss+xml")
    fg.link(href=feed.home_url, rel="alternate")
    fg.lastBuildDate(feed.updated)
    fg.generator("feedpub")
    add_links(fg, feed, "rss")
    add_polling(fg, feed.max_age)
    for article in items:
        entry = fg.add_entry(order="append")
        entry.title(rss_title(article.title))
        entry.link(href=article.url)
        entry.guid(article.url, permalink=True)
        entry.pubDate(article.published)
        if article.summary:
            # <description> is HTML by convention: escaping the plain-text excerpt keeps its markup visible.
            entry.description(as_html(article.summary))
        entry.content(content_html(article))
        for topic in article.topics:
            entry.category(term=topic)
        entry.dc.dc_creator(article.provider.name)
        entry.source(url=feed.source_url(article), title=article.provider.name)
        if article.image:
            entry.media.content(media_attributes(article.image), group=None)
            entry.media.thumbnail({"url": article.image.url}, group=None)
    return _hex_plain_text(fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))


def rss_title(text: str) -> str:
    """An item's or the channel's title as it goes into `<title>` (before lxml escapes it): plain text,
    whose `&` and `<` `_hex_plain_text` writes as the profile asks."""
    return text


def _hex_plain_text(body: bytes) -> bytes:
    """Rewrite `&amp;`/`&lt;`/`&gt;` in plain-text elements as hex references (the same characters).

    lxml cannot be asked for character references, so the serialised bytes are rewritten; the
    patterns only match an element's own text (`[^<]*`), which lxml always escapes.
    """
    cut = body.find(b"<item>")
    head, items = (body, b"") if cut < 0 else (body[:cut], body[cut:])
    return _PLAIN_CHANNEL.sub(_hex, head) + _PLAIN_ITEM.sub(_hex, items)


def _hex(match: re.Match[bytes]) -> bytes:
    text = match.group(3)
    for entity, reference in _HEX:
        text = text.replace(entity, reference)
    return match.group(1) + text
