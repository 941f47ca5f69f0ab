"""The format-neutral feed model, shared by the RSS, Atom and JSON Feed renderers.

Everything a renderer prints is decided here once: titles, links, the feed's `updated` date
(the newest item's, never the clock) and each item's HTML content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape

from .article import Article, Image
from .catalog import ALL, PROVIDER, TOPIC, FeedSpec
from .settings import Settings

# An empty feed still needs an `updated`; a fixed instant keeps it byte-stable.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FORMATS = ("rss", "atom", "json")
_FOLDERS = {ALL: "feeds/", TOPIC: "feeds/topics/", PROVIDER: "feeds/providers/"}


def feed_path(kind: str, key: str, fmt: str) -> str:
    """Site path of one feed file, e.g. `feeds/topics/ai.rss` (no leading slash)."""
    return f"{_FOLDERS[kind]}{key}.{fmt}"


@dataclass(frozen=True, slots=True)
class Feed:
    kind: str
    key: str
    title: str
    description: str
    language: str
    author: str  # the site: Atom wants an author even when an entry has none
    home_url: str  # the index page: the feed's alternate link
    urls: dict[str, str]  # format → absolute URL of this feed in that format (its self link)
    updated: datetime
    items: tuple[Article, ...]

    def source_url(self, article: Article) -> str:
        """The RSS feed of the article's provider on this site: what RSS `<source url>` wants."""
        return self.home_url + feed_path(PROVIDER, article.provider.domain, "rss")


def make_feed(spec: FeedSpec, settings: Settings) -> Feed:
    if spec.kind == TOPIC:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest {spec.name} news from {settings.title}"
    elif spec.kind == PROVIDER:
        title = f"{settings.title}: {spec.name}"
        description = f"The latest articles from {spec.name} ({spec.key}) on {settings.title}"
    else:
        title = settings.title
        description = settings.description
    return Feed(
        kind=spec.kind,
        key=spec.key,
        title=title,
        description=description,
        language=settings.language,
        author=settings.title,
        home_url=settings.url("/"),
        urls={fmt: settings.url(feed_path(spec.kind, spec.key, fmt)) for fmt in FORMATS},
        updated=spec.newest or EPOCH,
        items=spec.items,
    )


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
