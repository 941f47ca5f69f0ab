"""What the C article builder (feeds/reading/_articles.c) makes, against the Python path's article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedpub.reading import article_file, fast_article
from feedpub.stores.packing import article_values
from tests.audit_log import AuditLog

_ARTICLE_FROM = article_file._article_from  # the Python path itself, whatever the audit puts in its place


def python_reads(front: dict[str, Any], source: str = "a.txt") -> tuple[tuple[Any, ...], tuple[str, ...]] | str:
    """What the Python path makes of a front matter: the article's stored values and its warnings,
    or the reason the file is bad."""
    try:
        parsed = _ARTICLE_FROM(front, source, extras=False)
    except article_file.ArticleError as error:
        return str(error)
    return article_values(parsed.article), parsed.warnings


def difference(front: dict[str, Any], source: str = "a.txt") -> str | None:
    """None when the builder gives up or gives exactly the Python path's values, warnings and the
    types of every value; else what differs."""
    made = fast_article.build(front, source)
    if made is None:
        return None
    theirs = python_reads(front, source)
    if isinstance(theirs, str):
        return f"built a bad file ({theirs}): {made!r}"
    if made != theirs or _types(made) != _types(theirs):
        return f"built {made!r}\n  Python: {theirs!r}"
    return None


def _types(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_types(part) for part in value)
    return type(value)


class ArticleAudit(AuditLog):
    """Every front matter the Python path turns into an article in this process (and in processes
    forked from it) is built by the C builder too; a difference is noted, so the test session fails
    on it wherever it happened (see tests/conftest.py)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self._original = _ARTICLE_FROM

    def install(self) -> None:
        original = self._original

        def article_from(front: dict[str, Any], source: str, *, extras: bool = True) -> article_file.ParsedFile:
            if fast_article.available() and isinstance(front, dict):
                found = difference(front, source)
                if found is not None:
                    self.note(f"{front!r}\n  {found}")
            return original(front, source, extras=extras)

        article_file._article_from = article_from

    def uninstall(self) -> None:
        article_file._article_from = self._original
