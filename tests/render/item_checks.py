"""Checking the direct item writers (feeds/render/items.py) against feedgen.

`ItemAudit` is the suite-wide check (tests/conftest.py): every batch of items any test renders with
a direct writer, in this process or a worker forked from it, is rendered by feedgen too, and a
difference is written to a file for the session to fail on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from feedpub.reading.article import Article
from feedpub.render import formats
from feedpub.render.feed import Feed
from tests.audit_log import AuditLog


def differences(fmt: formats.Format, template: Feed, articles: Sequence[Article]) -> list[str]:
    """Each article whose written item differs from the one cut from feedgen's document."""
    assert fmt.write_item is not None
    written = [fmt.write_item(template, article) for article in articles]
    return [f"{fmt.name} {article.url!r}\n  written: {ours!r}\n  feedgen: {theirs!r}"
            for article, ours, theirs in zip(articles, written, fmt.cut_items(template, articles), strict=True)
            if ours != theirs]


class ItemAudit(AuditLog):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.checked = 0
        self._original = formats.Format.items

    def install(self) -> None:
        original = self._original

        def items(fmt: formats.Format, template: Feed, articles: Sequence[Article]) -> list[bytes]:
            made = original(fmt, template, articles)
            if fmt.write_item is not None and articles:
                self.checked += len(articles)
                found = differences(fmt, template, articles)
                if found:
                    self.note("\n".join(found))
            return made

        formats.Format.items = items  # type: ignore[method-assign, assignment]  # the same method

    def uninstall(self) -> None:
        formats.Format.items = self._original  # type: ignore[method-assign]

