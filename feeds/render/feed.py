"""The format-neutral feed model, shared by the RSS, Atom and JSON Feed renderers.

Everything a renderer prints is decided here once: the feed's titles and links (`Feed`, made by
`site.make_feed`), its `updated` date (the newest item's, never the clock) and each item's HTML
content; a renderer gets the feed and its items' full articles.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from html.entities import name2codepoint
from urllib.parse import quote

from ..reading.article import Article, Image

# An empty feed still needs an `updated`; a fixed instant keeps it byte-stable.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_END_TAG = re.compile(r"</\w+>")
_ENTITY = re.compile(r"&(#?\w+)(;?)")


def looks_like_markup(text: str) -> bool:
    """Would a reader (or the W3C validator) take this plain text for HTML?

    True when it has an end tag (`</b>`) or something entity-like (`&amp;`, `&#8217`): what
    feedparser's `looks_like_html` and the validator's `ContainsHTML` check look for. Such text
    is published as escaped HTML where a format allows it (Atom `type="html"`), so
    every reader shows the same characters the JSON Feed `title` holds. Plain "AT&T" or "a < b"
    stays plain text.
    """
    if _END_TAG.search(text):
        return True
    return any(
        semicolon or name in name2codepoint or name == "apos" or not name.isalpha()
        for name, semicolon in _ENTITY.findall(text)
    )


def as_html(text: str) -> str:
    """Plain text as the HTML that displays it: `<b>` → `&lt;b&gt;`."""
    return escape(text, quote=False)


@dataclass(frozen=True, slots=True)
class Feed:
    kind: str
    key: str
    title: str
    description: str
    language: str
    author: str  # the site: Atom wants an author even when an entry has none
    home_url: str  # the index page: the feed's alternate link
    urls: dict[str, str]  # format name → absolute URL of this feed in that format (its self link)
    updated: datetime
    # The provider feeds' URLs around the provider's domain: what RSS `<source url>` wants.
    sources: tuple[str, str]
    # Feed history (RFC 5005): "complete" (every item is in this document), "archive" (an archive
    # document) or "" (neither: archives are off), and the links beyond self and alternate, each
    # (rel, ((format name, href), ...)): `current`, `prev-archive` (older), `next-archive` (newer).
    history: str = ""
    links: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # WebSub discovery (W3C WebSub §4): the hubs this document names, in the order given; none unless
    # a hub is configured, so that without one no byte changes. Only subscription documents are topics.
    hubs: tuple[str, ...] = ()
    # The document's Cache-Control max-age in seconds, which RSS repeats as polling hints (`<ttl>`,
    # `sy:`; see polling.py); None prints none.
    max_age: int | None = None

    def source_url(self, article: Article) -> str:
        """The RSS feed of the article's provider on this site."""
        before, after = self.sources
        return before + quote(article.provider.domain, safe="/") + after

    def link(self, rel: str, fmt: str) -> str | None:
        """The href of a link of this document in one format, if it has that link."""
        for name, hrefs in self.links:
            if name == rel:
                return dict(hrefs)[fmt]
        return None

    def links_in(self, fmt: str) -> list[tuple[str, str]]:
        """Every extra link, (rel, href), as one format writes it."""
        return [(rel, dict(hrefs)[fmt]) for rel, hrefs in self.links]


def media_attributes(image: Image) -> dict[str, str]:
    """Media RSS `media:content` attributes, shared by the RSS and Atom renderers."""
    found = {"url": image.url, "medium": "image"}
    if image.width:
        found["width"] = str(image.width)
    if image.height:
        found["height"] = str(image.height)
    return found


def provider_home(article: Article) -> str:
    return f"https://{article.provider.domain}/"


def per_article(make: Callable[[Article], str]) -> Callable[[Article], str]:
    """`make`, remembered for the articles of the chunk being rendered. The formats render a chunk of
    articles one after another (at most the 1,000 build.py fetches at a time), and each writes the
    same text for an article (its body, its escaped body): made once, not once per format. Keyed by
    the object itself, never by one that took its id since; bounded, since it only saves work."""
    memo: dict[int, tuple[Article, str]] = {}

    @functools.wraps(make)
    def remembered(article: Article) -> str:
        known = memo.get(id(article))
        if known is not None and known[0] is article:
            return known[1]
        if len(memo) >= 1024:
            memo.clear()
        made = make(article)
        memo[id(article)] = (article, made)
        return made

    return remembered


@per_article
def content_html(article: Article) -> str:
    """The item body: image, excerpt, a link to the article and the related articles.

    All values are plain text or checked URLs (see `text.py`), so escaping here is the only
    escaping they get; renderers then escape the HTML as a whole for their format.
    """
    parts = []
    if article.image:
        image = article.image
        size = "".join(
            f' {name}="{value}"' for name, value in (("width", image.width), ("height", image.height)) if value
        )
        parts.append(f'<p><img src="{escape(image.url)}" alt=""{size}></p>')
    if article.summary:
        parts.append(f"<p>{escape(article.summary)}</p>")
    parts.append(f'<p><a href="{escape(article.url)}">Read the article at {escape(article.provider.name)}</a></p>')
    if article.related:
        rows = "".join(
            f'<li><a href="{escape(r.url)}">{escape(r.title)}</a>' + (f" ({escape(r.provider)})" if r.provider else "")
            + "</li>"
            for r in article.related
        )
        parts.append(f"<h3>Related</h3><ul>{rows}</ul>")
    return "\n".join(parts)
