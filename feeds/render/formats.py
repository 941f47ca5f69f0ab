"""The output formats, declared once as data: name, suffix, media type, label and renderer.

As Hugo's output formats and Django's feed classes do, everything else (paths, the index page's
subscribe links, Content-Types, how item fragments are cut and spliced) reads this table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import accelerators
from ..reading.article import Article
from . import fast_items
from .atom import render_atom
from .feed import Feed
from .frames import Templates
from .items import atom_entry, rss_item
from .jsonfeed import json_frame, json_item, render_json
from .rss import render_rss


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    suffix: str
    media_type: str
    label: str  # what a subscribe link says
    render: Callable[[Feed, Sequence[Article]], bytes]  # a whole feed: the reference for the fragments
    # Where each item starts and where the container closes in an XML renderer's pretty-printed
    # output; a format that writes its items itself gives `frame` and `item` instead.
    item_start: bytes = b""
    close: bytes = b""
    frame_of: Callable[[Feed, bool], tuple[bytes, bytes]] | None = None
    item_of: Callable[[Feed, Article], bytes] | None = None  # an item in any feed of the site (the template)
    separator: bytes = b""  # between items
    # An XML format's items written directly (items.py): the bytes `render` would give, faster.
    write_item: Callable[[Feed, Article], bytes] | None = None
    # An XML format's frames filled into templates feedgen wrote (frames.py): `render`'s bytes, faster.
    templates: Templates | None = None

    def frame(self, feed: Feed, has_items: bool) -> tuple[bytes, bytes]:
        """The document around the items: the bytes before the first and after the last."""
        if self.frame_of is not None:
            return self.frame_of(feed, has_items)
        document = self.templates.document(feed) if self.templates is not None else None
        if document is None:
            document = self.render(feed, ())
        return self.cut_frame(document)

    def reference_frame(self, feed: Feed) -> tuple[bytes, bytes]:
        """The frame cut from the document `render` writes: the reference for `templates`."""
        return self.cut_frame(self.render(feed, ()))

    def cut_frame(self, document: bytes) -> tuple[bytes, bytes]:
        cut = document.rindex(self.close)
        return document[:cut], document[cut:]

    def items(self, template: Feed, articles: Sequence[Article]) -> list[bytes]:
        """Each article's item as `render` writes it in any feed of the site (`template`): by the C
        writer (fast_items.py) where it can, else by `python_items`."""
        made = fast_items.write(self.name, template, articles) if articles else None
        if made is None:
            return self.python_items(template, articles)
        if None in made:  # articles the C writer leaves to Python: an early date, say
            written = iter(self.python_items(template, [a for a, piece in zip(articles, made, strict=True)
                                                         if piece is None]))
            return [piece if piece is not None else next(written) for piece in made]
        return made  # type: ignore[return-value]  # no None in it

    def python_items(self, template: Feed, articles: Sequence[Article]) -> list[bytes]:
        """The items as the Python writers write them: the reference for the C writer."""
        if self.item_of is not None:
            return [self.item_of(template, article) for article in articles]
        if self.write_item is not None and accelerators.enabled():
            return [self.write_item(template, article) for article in articles]
        return self.cut_items(template, articles)

    def cut_items(self, template: Feed, articles: Sequence[Article]) -> list[bytes]:
        """The items as cut from the whole document `render` writes: the reference for `write_item`."""
        document = self.render(template, articles)
        body = document[document.index(self.item_start) : document.rindex(self.close)]
        pieces = [self.item_start + part for part in body[len(self.item_start) :].split(self.item_start)]
        # Escaped text can never hold a raw `<item>`: one piece per article, or something is wrong.
        assert len(pieces) == len(articles), (self.name, len(pieces), len(articles))
        return pieces


RSS = Format("rss", ".rss", "application/rss+xml", "RSS", render_rss, b"\n    <item>", b"\n  </channel>",
             write_item=rss_item, templates=Templates("rss", render_rss))
ATOM = Format("atom", ".atom", "application/atom+xml", "Atom", render_atom, b"\n  <entry>", b"\n</feed>",
              write_item=atom_entry, templates=Templates("atom", render_atom))
JSON_FEED = Format("json", ".json", "application/feed+json", "JSON Feed", render_json,
                   frame_of=json_frame, item_of=lambda _, article: json_item(article), separator=b",\n")
FORMATS = (RSS, ATOM, JSON_FEED)
BY_NAME = {fmt.name: fmt for fmt in FORMATS}

# The other documents of a site.
HTML = "text/html"
OPML = "text/x-opml"
JSON = "application/json"
TEXT = "text/plain"
