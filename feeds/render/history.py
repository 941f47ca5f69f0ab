"""Feed history (RFC 5005) in RSS and Atom: the `fh:` element and the archive links, on feedgen's tree.

feedgen writes one `atom:link` in RSS (the self link) and keeps Atom links to a few relations, so
a small extension adds the rest when the tree is built: before the items, so a whole feed and one
assembled from item fragments stay byte-identical. Spec: https://www.rfc-editor.org/rfc/rfc5005
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from .feed import Feed

FH = "http://purl.org/syndication/history/1.0"
_ATOM = "http://www.w3.org/2005/Atom"


class _History(BaseExtension):
    def __init__(self) -> None:
        self.state = ""  # "complete", "archive" or ""
        self.links: list[tuple[str, str]] = []  # (rel, href)

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH}

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


class _NoEntryHistory(BaseEntryExtension):
    """Items carry no history of their own."""


def add_history(fg: FeedGenerator, feed: Feed, fmt: str) -> None:
    """Give the generator `feed`'s history element and links in `fmt`; nothing when it has neither
    (so with archives off no byte changes, the namespace included)."""
    if not feed.history and not feed.links:
        return
    fg.register_extension("feedpub_history", _History, _NoEntryHistory, atom=fmt == "atom", rss=fmt == "rss")
    history: _History = fg.feedpub_history  # set by register_extension
    history.state = feed.history
    history.links = feed.links_in(fmt)
