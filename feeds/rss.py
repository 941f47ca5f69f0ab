"""RSS 2.0 through feedgen.  Spec: https://www.rssboard.org/rss-specification

feedgen 1.0.0's known bugs are worked around here and only here: entries are appended (its
default prepends), `lastBuildDate` is set from the newest item (its default is now()), the
self link is added before the alternate one (the channel `<link>` is the last link added),
and the generator names no version.
"""

from __future__ import annotations

from html import escape

from feedgen.feed import FeedGenerator

from .feed import Feed, content_html, media_attributes

MEDIA_TYPE = "application/rss+xml"


def render_rss(feed: Feed) -> bytes:
    fg = FeedGenerator()
    fg.load_extension("media", atom=False, rss=True)
    fg.load_extension("dc", atom=False, rss=True)
    fg.title(feed.title)
    fg.description(feed.description)
    fg.language(feed.language)
    fg.link(href=feed.urls["rss"], rel="self", type=MEDIA_TYPE)
    fg.link(href=feed.home_url, rel="alternate")
    fg.lastBuildDate(feed.updated)
    fg.generator("feedpub")
    for article in feed.items:
        entry = fg.add_entry(order="append")
        entry.title(article.title)
        entry.link(href=article.url)
        entry.guid(article.url, permalink=True)
        entry.pubDate(article.published)
        if article.summary:
            # <description> is HTML by convention: escaping the plain-text excerpt keeps its markup visible.
            entry.description(escape(article.summary, quote=False))
        entry.content(content_html(article))
        for topic in article.topics:
            entry.category(term=topic)
        entry.dc.dc_creator(article.provider.name)
        entry.source(url=feed.source_url(article), title=article.provider.name)
        if article.image:
            entry.media.content(media_attributes(article.image), group=None)
            entry.media.thumbnail({"url": article.image.url}, group=None)
    return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)

