"""A feed's links beyond self and alternate, in RSS and Atom: WebSub hubs, and feed history (RFC 5005).

feedgen writes one `atom:link` in RSS (the self link) and keeps Atom links to a few relations, so
a small extension adds the rest when the tree is built: before the items, so a whole feed and one
assembled from item fragments stay byte-identical (the links are part of `Format.frame`). The hub
links come first (`<atom:link rel="hub">` in RSS, `<link rel="hub">` in Atom), then the archive links
and the `fh:` element. Specs: https://www.w3.org/TR/websub/#discovery,
https://www.rfc-editor.org/rfc/rfc5005
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from .feed import Feed

FH = "http://purl.org/syndication/history/1.0"
_ATOM = "http://www.w3.org/2005/Atom"


class _Links(BaseExtension):
    def __init__(self) -> None:
        self.state = ""  # "complete", "archive" or ""
        self.links: list[tuple[str, str]] = []  # (rel, href), hubs first

    def extend_ns(self) -> dict[str, str]:
        # The history namespace only where history is written: a feed that names hubs and has no
        # history (archives off) gains its hub links and nothing else.
        return {"fh": FH} if self.state or any(rel != "hub" for rel, _ in self.links) else {}

    def extend_rss(self, feed: Any) -> Any:
        self._extend(feed[0], f"{{{_ATOM}}}link")  # the channel; RSS links are atom:link elements
        return feed

    def extend_atom(self, feed: Any) -> Any:
        self._extend(feed, "link")  # feedgen names Atom elements plainly, under the default namespace
        return feed

    def _extend(self, parent: Any, link_tag: str) -> None:
        from lxml import etree

        for rel, href in self.links:
            etree.SubElement(parent, link_tag, rel=rel, href=href)
        if self.state:
            etree.SubElement(parent, f"{{{FH}}}{self.state}")


class _NoEntryLinks(BaseEntryExtension):
    """Items carry no links of this kind."""


def add_links(fg: FeedGenerator, feed: Feed, fmt: str) -> None:
    """Give the generator `feed`'s hub links, history element and archive links in `fmt`; nothing when
    it has none (so with archives off and no hub no byte changes, the namespaces included)."""
    if not feed.history and not feed.links and not feed.hubs:
        return
    fg.register_extension("feedpub_links", _Links, _NoEntryLinks, atom=fmt == "atom", rss=fmt == "rss")
    links: _Links = fg.feedpub_links  # set by register_extension
    links.state = feed.history
    links.links = [("hub", hub) for hub in feed.hubs] + feed.links_in(fmt)
