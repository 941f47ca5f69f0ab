"""RSS items and Atom entries written directly, byte for byte as feedgen and lxml write them.

With archives every article's item is rendered, and feedgen builds a tree of lxml elements per item
and serialises it: ~100 µs per item and format, most of a cold build's rendering. These writers put
the same elements, attributes and text in the same order, escaped and indented as lxml's pretty
printer does, for a few µs. feedgen stays the reference: it renders every feed's frame and every
whole feed (`Format.render`), and `tests/render/test_item_writers.py` (with the suite-wide audit in
tests/conftest.py) proves the bytes equal feedgen's for every item any test renders, the seeds,
generated corpora and generated awkward texts. `FEEDPUB_ACCELERATORS=0` cuts items from feedgen's
documents instead (formats.py).

What lxml does, and these writers repeat: text escapes `&`, `<`, `>` and carriage returns; attribute
values also `"`, newlines and tabs; non-ASCII is written as UTF-8; an element without text is
self-closed; each child of an item sits on its own line, two spaces deeper than its parent.
"""

from __future__ import annotations

import re
from datetime import datetime

from feedgen.util import formatRFC2822

from ..reading.article import Article
from .feed import Feed, as_html, content_html, looks_like_markup, media_attributes, per_article, provider_home
from .rss import HEX_REFERENCES, rss_title

_TEXT_SPECIAL = re.compile("[&<>\r]")
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\n\r\t]')


def _text(value: str) -> str:
    if _TEXT_SPECIAL.search(value) is None:  # most names and titles: one scan, no copies
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _attribute(value: str) -> str:
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(when: datetime) -> str:
    """feedgen's `formatRFC2822` (strftime in the C locale, which it sets and resets around every
    call) without touching the locale."""
    if when.year < 1000:  # strftime's %Y does not pad: leave the odd case to feedgen itself
        return formatRFC2822(when)
    return (f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} {when.year} "
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d} {when.strftime('%z')}")


@per_article
def _content(article: Article) -> str:
    """The item's HTML, escaped: the same text in RSS and Atom."""
    return _text(content_html(article))


def _plain(value: str) -> str:
    """Text of an element the RSS profile treats as plain text: references in hex (rss.py)."""
    text = _text(value)
    if "&" in text:
        for entity, reference in HEX_REFERENCES:
            text = text.replace(entity, reference)
    return text


def _media(article: Article, indent: str) -> list[str]:
    image = article.image
    if image is None:
        return []
    attributes = media_attributes(image)
    # feedgen's media extension sets the attributes it knows in its own order, skipping empty ones.
    ordered = "".join(f' {name}="{_attribute(attributes[name])}"'
                      for name in ("url", "medium", "height", "width") if attributes.get(name))
    thumbnail = f' url="{_attribute(image.url)}"' if image.url else ""
    return [f'{indent}<media:content{ordered}/>', f'{indent}<media:thumbnail{thumbnail}/>']


def rss_item(feed: Feed, article: Article) -> bytes:
    """The `<item>` render_rss writes for `article` in `feed`, with the newline and indent before it."""
    i = "\n      "
    url = _text(article.url)
    content = _content(article)
    lines = ["\n    <item>", f"{i}<title>{_plain(rss_title(article.title))}</title>", f"{i}<link>{url}</link>"]
    if article.summary:
        lines += [f"{i}<description>{_text(as_html(article.summary))}</description>",
                  f"{i}<content:encoded>{content}</content:encoded>"]
    else:  # feedgen puts the content in <description> when there is no description
        lines.append(f"{i}<description>{content}</description>")
    lines.append(f'{i}<guid isPermaLink="true">{url}</guid>')
    lines += [f"{i}<category>{_plain(topic)}</category>" for topic in article.topics]
    name = _plain(article.provider.name)
    lines += [f"{i}<pubDate>{rfc2822(article.published)}</pubDate>",
              f'{i}<source url="{_attribute(feed.source_url(article))}">{name}</source>',
              *_media(article, i), f"{i}<dc:creator>{name}</dc:creator>", "\n    </item>"]
    return "".join(lines).encode("utf-8")


def _atom_text(tag: str, text: str, indent: str) -> str:
    """An Atom text construct as render_atom writes it: escaped HTML with type="html" when the
    plain text would be taken for markup."""
    if looks_like_markup(text):
        return f'{indent}<{tag} type="html">{_text(as_html(text))}</{tag}>'
    return f"{indent}<{tag}>{_text(text)}</{tag}>"


def atom_entry(feed: Feed, article: Article) -> bytes:
    """The `<entry>` render_atom writes for `article`, with the newline and indent before it."""
    i = "\n    "
    url = _text(article.url)
    when = article.published.isoformat()
    lines = ["\n  <entry>", f"{i}<id>{url}</id>", _atom_text("title", article.title, i),
             f"{i}<updated>{when}</updated>",
             f"{i}<author>{i}  <name>{_text(article.provider.name)}</name>{i}  <uri>{_text(provider_home(article))}</uri>"
             f"{i}</author>",
             f'{i}<content type="html">{_content(article)}</content>',
             f'{i}<link href="{_attribute(article.url)}"/>']
    if article.summary:
        lines.append(_atom_text("summary", article.summary, i))
    lines += [f'{i}<category term="{_attribute(topic)}"/>' for topic in article.topics]
    lines += [f"{i}<published>{when}</published>", *_media(article, i), "\n  </entry>"]
    return "".join(lines).encode("utf-8")
