"""A page per feed for people: `feeds/topics/ai.html` beside `ai.rss`, `ai.atom` and `ai.json`.

It lists the feed's newest items (title linked to the article, provider, date, excerpt, image)
with subscribe links and autodiscovery `<link rel="alternate">`s for the feed's three formats,
and needs no JavaScript. Every link to the site is relative. Each article's `<li>` is an item
fragment like a feed's (`PAGE`), rendered once and spliced into every page that shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..catalog.catalog import ALL, PROVIDER, TOPIC, FeedSpec
from ..reading.article import Article
from ..reading.dates import rfc3339
from ..settings import Settings
from .feed import Feed
from .formats import FORMATS, HTML, Format
from .paths import INDEX, feed_path, page_path, relative
from .style import page_head


def page_item(article: Article) -> bytes:
    """One article as the feed pages list it."""
    e = escape
    image = ""
    if article.image:
        size = "".join(f' {name}="{value}"' for name, value in (("width", article.image.width),
                                                               ("height", article.image.height)) if value)
        image = f'\n<img src="{e(article.image.url)}" alt=""{size} loading="lazy">'
    summary = f"\n<p>{e(article.summary)}</p>" if article.summary else ""
    return (f'<li><article>\n<h3><a href="{e(article.url)}">{e(article.title)}</a></h3>\n'
            f'<p class="muted">{e(article.provider.name)} · <time datetime="{rfc3339(article.published)}">'
            f"{article.published:%Y-%m-%d %H:%M} UTC</time></p>{image}{summary}\n</article></li>\n").encode()


def _whole(feed: Feed, articles: Sequence[Article]) -> bytes:
    return b"".join(page_item(article) for article in articles)


# The pages' items as a format of their own, for the fragment machinery (`fragments.py`); the
# page around them is `page_frame`'s, which needs more than a `Feed` (counts, the site's title).
PAGE = Format("html", ".html", HTML, "Web page", _whole, frame_of=lambda feed, has_items: (b"", b""),
              item_of=lambda _, article: page_item(article))

_KINDS = {ALL: "Everything", TOPIC: "Topic", PROVIDER: "Provider"}


def page_frame(spec: FeedSpec, feed: Feed, settings: Settings) -> tuple[bytes, bytes]:
    """The page of a feed around its items."""
    e = escape
    here = page_path(spec.kind, spec.key)
    name = spec.name or settings.title
    links = {fmt: relative(here, feed_path(spec.kind, spec.key, fmt)) for fmt in FORMATS}
    discovery = "\n".join(f'<link rel="alternate" type="{fmt.media_type}" title="{e(feed.title)} ({fmt.label})" '
                          f'href="{e(href)}">' for fmt, href in links.items())
    subscribe = "<li>Subscribe:</li>" + "".join(f'<li><a href="{e(href)}">{fmt.label}</a></li>' for fmt, href in links.items())
    # Only what the items and the archive's presence say: a page changes when its items do (the
    # front page and the catalog count every article).
    shown = len(spec.items)
    plural = "s" if shown != 1 else ""
    if spec.archives:
        count = (f"The {shown} newest article{plural}. A feed reader can fetch every older one too: "
                 "the feed links its archive.")
    elif settings.archives:
        count = f"All {shown} article{plural}."
    else:
        count = f"The {shown} newest article{plural}."
    where = f" <code>{e(spec.key)}</code>" if spec.kind == PROVIDER else ""
    head = page_head(settings.language, title=f"{name} · {settings.title}", description=feed.description,
                     links=discovery) + f"""<body>
<a class="skip" href="#articles">Skip to the articles</a>
<header class="site"><div class="wrap">
<p><a href="{e(relative(here, INDEX))}">{e(settings.title)}</a> · {_KINDS[spec.kind]}</p>
<h1>{e(name)}{where}</h1>
<p>{e(feed.description)}</p>
<nav aria-label="Subscribe"><ul class="inline">{subscribe}</ul></nav>
</div></header>
<main id="articles" class="wrap">
<h2>Newest articles</h2>
<p class="muted">{count}</p>
<ol class="items">
"""
    empty = "" if spec.items else '<li class="muted">No articles yet.</li>\n'
    tail = f"""{empty}</ol>
</main>
<footer class="wrap"><p class="muted"><a href="{e(relative(here, INDEX))}">Every feed of {e(settings.title)}</a></p></footer>
</body>
</html>
"""
    return head.encode("utf-8"), tail.encode("utf-8")
