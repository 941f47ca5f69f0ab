"""The article folder as the builder sees it: each file's last good article and each bad file's reason.

`Library` is the one place that knows about files. It reads a folder recursively (or a few
changed paths, for the live server), keeps the last good version of a file that later breaks,
and resolves duplicates: two files with the same canonical URL are one article.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .article import Article
from .article_file import MAX_FILE_BYTES, ArticleError, ParsedFile, read_article

SUFFIXES = (".txt", ".md")


@dataclass(frozen=True, slots=True)
class Duplicate:
    url: str
    kept: str  # the file whose version is published
    dropped: tuple[str, ...]


class Library:
    def __init__(self, root: Path, *, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.good: dict[str, ParsedFile] = {}  # relative path → last good parse
        self.bad: dict[str, str] = {}  # relative path → why it is bad now
        self._by_url: dict[str, set[str]] = {}  # canonical url → files that claim it

    # -- reading -------------------------------------------------------------------------

    def scan(self) -> list[str]:
        """Every article file under the root, as sorted relative paths."""
        return sorted(self._walk())

    def load(self, paths: Iterable[str] | None = None, *, progress: Callable[[int], None] | None = None) -> set[str]:
        """Read every file (or the given relative paths) and return the canonical URLs that changed."""
        changed: set[str] = set()
        for rel in self.scan() if paths is None else paths:
            changed |= self.refresh(rel)
            if progress:
                progress(1)
        return changed

    def refresh(self, rel: str) -> set[str]:
        """Re-read one file (gone, changed or new); return the canonical URLs it affects."""
        path = self.root / rel
        if not self._is_candidate(rel) or not path.is_file():
            return self._forget(rel)
        try:
            if not self._inside(path):
                raise ArticleError("a symlink to outside the article folder; not followed")
            parsed = read_article(path, max_bytes=self.max_bytes, name=rel)
        except FileNotFoundError:
            return self._forget(rel)
        except (ArticleError, OSError) as error:
            # A file that breaks after it was good keeps its last good version live.
            reason = str(error) if isinstance(error, ArticleError) else f"cannot read: {error.strerror or error}"
            self.bad[rel] = reason
            return set()
        self.bad.pop(rel, None)
        old = self.good.get(rel)
        if old is not None and old.article == parsed.article:
            self.good[rel] = parsed
            return set()
        urls = self._forget(rel)
        self.good[rel] = parsed
        self._by_url.setdefault(parsed.article.url, set()).add(rel)
        return urls | {parsed.article.url}

    def _forget(self, rel: str) -> set[str]:
        self.bad.pop(rel, None)
        old = self.good.pop(rel, None)
        if old is None:
            return set()
        claims = self._by_url.get(old.article.url, set())
        claims.discard(rel)
        if not claims:
            self._by_url.pop(old.article.url, None)
        return {old.article.url}

    # -- resolving -----------------------------------------------------------------------

    def article(self, url: str) -> Article | None:
        """The published version of a URL: the newest date wins, then the first path."""
        files = self._by_url.get(url)
        if not files:
            return None
        best = min(files, key=lambda rel: (-self.good[rel].article.published.timestamp(), rel))
        return self.good[best].article

    def articles(self) -> Iterator[Article]:
        for url in sorted(self._by_url):
            article = self.article(url)
            if article is not None:
                yield article

    def duplicates(self) -> list[Duplicate]:
        result = []
        for url, files in sorted(self._by_url.items()):
            if len(files) > 1:
                kept = self.article(url)
                assert kept is not None
                result.append(Duplicate(url, kept.source, tuple(sorted(files - {kept.source}))))
        return result

    # -- files ---------------------------------------------------------------------------

    def _walk(self) -> Iterator[str]:
        root = str(self.root)
        for folder, dirs, files in os.walk(root, followlinks=False):
            # Hidden folders and files are editors' and sync tools' scratch space, not articles.
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(SUFFIXES) and not name.startswith("."):
                    yield os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")

    @staticmethod
    def _is_candidate(rel: str) -> bool:
        # Hidden parts include `..`; an absolute path is never inside the folder.
        parts = Path(rel).parts
        return rel.endswith(SUFFIXES) and not Path(rel).is_absolute() and not any(p.startswith(".") for p in parts)

    def _inside(self, path: Path) -> bool:
        # Don't let a link carry a file from outside the article folder into the feeds: the file
        # itself or any folder on its way (the live server hands over paths the walk never took).
        try:
            path.resolve(strict=True).relative_to(self.root.resolve())
        except (OSError, ValueError):
            return False
        return True
