"""Atom 1.0 through feedgen.  Spec: https://www.rfc-editor.org/rfc/rfc4287

feedgen 1.0.0's known bugs are worked around here and only here: entries are appended (its
default prepends), `updated` is the newest item's date (its default is now()), the generator
names no version, and entry links carry no attributes beyond `href` (issue #135 drops
`rel`/`type`), which is right for the one link an entry has: `alternate` is Atom's default.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator

from .feed import Feed, content_html, media_attributes, provider_home

MEDIA_TYPE = "application/atom+xml"


def render_atom(feed: Feed) -> bytes:
    fg = FeedGenerator()
    fg.load_extension("media", atom=True, rss=False)
    fg.id(feed.urls["atom"])
    fg.title(feed.title)
    fg.subtitle(feed.description)
    fg.language(feed.language)
    fg.author({"name": feed.author})
    fg.link(href=feed.urls["atom"], rel="self", type=MEDIA_TYPE)
    fg.link(href=feed.home_url, rel="alternate", type="text/html")
    fg.updated(feed.updated)
    fg.generator("feedpub")
    for article in feed.items:
        entry = fg.add_entry(order="append")
        entry.id(article.url)
        entry.title(article.title)
        entry.link(href=article.url)
        entry.published(article.published)
        entry.updated(article.published)
        entry.author({"name": article.provider.name, "uri": provider_home(article)})
        if article.summary:
            entry.summary(article.summary)
        entry.content(content_html(article), type="html")
        for topic in article.topics:
            entry.category(term=topic)
        if article.image:
            entry.media.content(media_attributes(article.image), group=None)
            entry.media.thumbnail({"url": article.image.url}, group=None)
    return fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)

