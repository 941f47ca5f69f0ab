"""WebSub discovery and topics: which hubs a site names, the `Link` header a feed is served with,
and which published documents are topics (what one can subscribe to).

Pure: settings and site in, text out. The hub itself lives in the server (`feedpub.server.websub`),
the pings to outside hubs in `feedpub.pings`. Spec: https://www.w3.org/TR/websub/ (section 4,
Discovery). The feed bodies name the same hubs (RSS `atom:link rel="hub"`, Atom `<link rel="hub">`,
JSON Feed `hubs`): `site.make_feed` puts `hub_urls` in the format-neutral `Feed`, and the renderers
print them (`history.py`, `jsonfeed.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..catalog.catalog import ALL, PROVIDER, TOPIC
from ..settings import Settings
from .formats import FORMATS
from .paths import FOLDERS

if TYPE_CHECKING:
    from .site import Output

HUB_PATH = "websub"  # where the live server's built-in hub answers, under the base URL

# The folders whose feeds are topics: a file right in one of them, in a feed format. Anything
# deeper (an archive document, say) or of another type (the catalog, feeds/index.json) is not.
_TOPIC_FOLDERS = tuple(FOLDERS[kind] for kind in (TOPIC, PROVIDER, ALL))
_FEED_TYPES = {fmt.suffix: fmt.media_type for fmt in FORMATS}


def builtin_hub_url(settings: Settings) -> str:
    """The built-in hub's absolute URL (whether or not it is enabled)."""
    return settings.url(HUB_PATH)


def hub_urls(settings: Settings) -> tuple[str, ...]:
    """Every hub a feed of this site names: the built-in one first (when enabled), then the outside ones."""
    hubs = list(settings.websub.hubs)
    if settings.websub.builtin:
        own = builtin_hub_url(settings)
        hubs = [own, *(hub for hub in hubs if hub != own)]
    return tuple(hubs)


def link_header(hubs: Sequence[str], self_url: str) -> str:
    """`<hub>; rel="hub", …, <self>; rel="self"` (section 4: both in one header); empty when there is
    no hub, since a self link alone announces nothing."""
    if not hubs:
        return ""
    return ", ".join([*(f'<{_uri(hub)}>; rel="hub"' for hub in hubs), f'<{_uri(self_url)}>; rel="self"'])


def discovery_link(settings: Settings, self_url: str) -> str:
    """The `Link` header value for a feed served at `self_url` (its canonical, percent-encoded URL)."""
    return link_header(hub_urls(settings), self_url)


def is_topic(path: str, media_type: str) -> bool:
    """Whether the document at site `path` (with or without its leading slash), of `media_type`
    (a charset may follow), is a feed one can subscribe to: `feeds/<key>.<fmt>`,
    `feeds/topics/<key>.<fmt>` or `feeds/providers/<key>.<fmt>` with the format's media type. The
    index page, OPML, catalog and archive documents are not."""
    path = path.lstrip("/")
    for folder in _TOPIC_FOLDERS:
        if path.startswith(folder):
            name = path[len(folder):]
            if "/" in name:
                continue  # deeper down: another folder's file, or no topic
            dot = name.rfind(".")
            return dot > 0 and _FEED_TYPES.get(name[dot:]) == media_type.split(";")[0].strip()
    return False


def topic_url(settings: Settings, path: str) -> str:
    """The canonical URL of the document at site `path` (with or without its leading slash): a URI,
    percent-encoded like the feeds' own self links (`paths.feed_url`)."""
    return settings.url(quote(path.lstrip("/"), safe="/"))


def topics(settings: Settings, site: Mapping[str, object]) -> dict[str, Output]:
    """Topic URL → output, for every topic of a site (paths with or without a leading slash). A topic
    is an `Output`, its bytes in hand; a document held any other way (made on demand) never is."""
    from .site import Output  # here, not above: site.py imports this module (its feeds name the hubs)

    return {topic_url(settings, path): output for path, output in site.items()
            if isinstance(output, Output) and is_topic(path, output.media_type)}


def changed_topics(before: Mapping[str, str], after: Mapping[str, Output]) -> list[str]:
    """The topics (URL → ETag `before`, URL → output `after`) whose bytes differ, new ones included,
    sorted: what to announce to hubs. Topics that went away are not announced."""
    return sorted(url for url, output in after.items() if before.get(url) != output.etag)


def _uri(url: str) -> str:
    # A header value must be ASCII; a URL already percent-encoded passes through unchanged.
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")
