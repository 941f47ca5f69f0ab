"""Checking the item writers against their references.

RSS and Atom items are written directly (the C writer, feeds/render/_items.c, and the Python one,
feeds/render/items.py) and must be feedgen's bytes; JSON Feed items and feed pages' items have no
feedgen, and the C writer's must be the Python writer's (jsonfeed.json_item, feed_pages.page_item).

`ItemAudit` is the suite-wide check (tests/conftest.py): every batch of items any test renders, in
this process or a worker forked from it, is compared with its reference, and a difference is written
to a file for the session to fail on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from feedpub import accelerators
from feedpub.reading.article import Article
from feedpub.render import fast_items, formats
from feedpub.render.feed import Feed
from feedpub.render.feed_pages import PAGE
from feedpub.stores.packing import article_from
from tests.audit_log import AuditLog

BY_KIND = {fmt.name: fmt for fmt in (*formats.FORMATS, PAGE)}


def reference_items(fmt: formats.Format, template: Feed, articles: Sequence[Article]) -> list[bytes]:
    """What the items of `fmt` must be: cut from feedgen's document for RSS and Atom, the Python
    writer's for the formats feedpub writes itself."""
    if fmt.write_item is not None:
        return fmt.cut_items(template, articles)
    return fmt.python_items(template, articles)


def differences(fmt: formats.Format, template: Feed, articles: Sequence[Article],
                written: Sequence[bytes] | None = None) -> list[str]:
    """Each article whose item differs from its reference: the item `written` (by default, the one
    the Python writer `fmt.write_item` writes)."""
    if written is None:
        assert fmt.write_item is not None
        written = [fmt.write_item(template, article) for article in articles]
    return [f"{fmt.name} {article.url!r}\n  written:   {ours!r}\n  reference: {theirs!r}"
            for article, ours, theirs in zip(articles, written, reference_items(fmt, template, articles), strict=True)
            if ours != theirs]


class ItemAudit(AuditLog):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.checked = 0
        self._original = formats.Format.items
        self._original_values = fast_items.write_values

    def install(self) -> None:
        original = self._original

        def items(fmt: formats.Format, template: Feed, articles: Sequence[Article]) -> list[bytes]:
            made = original(fmt, template, articles)
            # Items cut from feedgen's documents (accelerators off), and JSON items written by the
            # Python writer, are their own reference.
            written = fast_items.available() or (fmt.write_item is not None and accelerators.enabled())
            if articles and written:
                self.checked += len(articles)
                found = differences(fmt, template, articles, made)
                if found:
                    self.note("\n".join(found))
            return made

        formats.Format.items = items  # type: ignore[method-assign, assignment]  # the same method
        write_values = self._original_values

        def from_values(kind: str, template: Feed, values: Sequence[tuple[object, ...]]) -> list[bytes | None] | None:
            made = write_values(kind, template, values)
            if made is not None:  # what was written, against the reference for the article the values make
                fmt = BY_KIND[kind]
                written = [(article_from(v), piece) for v, piece in zip(values, made, strict=True) if piece is not None]
                self.checked += len(written)
                found = differences(fmt, template, [a for a, _ in written], [piece for _, piece in written]) \
                    if written else []
                if found:
                    self.note("\n".join(found))
            return made

        fast_items.write_values = from_values

    def uninstall(self) -> None:
        formats.Format.items = self._original  # type: ignore[method-assign]
        fast_items.write_values = self._original_values


class FrameAudit(AuditLog):
    """Every RSS and Atom frame any test makes, compared with the one cut from feedgen's document."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.checked = 0
        self._original = formats.Format.frame

    def install(self) -> None:
        original = self._original

        def frame(fmt: formats.Format, feed: Feed, has_items: bool) -> tuple[bytes, bytes]:
            made = original(fmt, feed, has_items)
            if fmt.templates is not None and accelerators.enabled():
                self.checked += 1
                expected = fmt.reference_frame(feed)
                if made != expected:
                    self.note(f"{fmt.name} frame of {feed.title!r}\n  templated: {made!r}\n  feedgen:   {expected!r}")
            return made

        formats.Format.frame = frame  # type: ignore[method-assign, assignment]  # the same method

    def uninstall(self) -> None:
        formats.Format.frame = self._original  # type: ignore[method-assign]
