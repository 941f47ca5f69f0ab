"""The article folder as the builder sees it: each file's last good article and each bad file's reason.

`Library` is the one place that knows about files. It reads a folder recursively (or a few
changed paths, for the live server), keeps the last good version of a file that later breaks,
and resolves duplicates: two files with the same canonical URL are one article.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import parse_cache
from .article import Article
from .article_file import MAX_FILE_BYTES, ArticleError, ParsedFile, read_article
from .parse_cache import Identity, ParseCache, identity_of

SUFFIXES = (".txt", ".md")
CANNOT_READ = "cannot read:"


@dataclass(frozen=True, slots=True)
class Duplicate:
    url: str
    kept: str  # the file whose version is published
    dropped: tuple[str, ...]
    draft: bool = False  # the kept version is a draft: its URL must not be printed


Outcome = ParsedFile | str | None  # an article, the reason a file is bad, or no file at all

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN = 2000
_CHUNK = 250
_STORE_BATCH = 2000  # parsed files written to the cache at a time, so their blobs can be freed


class Library:
    def __init__(self, root: Path, *, max_bytes: int = MAX_FILE_BYTES, cache: ParseCache | None = None,
                 jobs: int = 1) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.cache = cache
        self.jobs = jobs
        self.good: dict[str, ParsedFile] = {}  # relative path → last good parse
        self.bad: dict[str, str] = {}  # relative path → why it is bad now
        self._by_url: dict[str, set[str]] = {}  # canonical url → files that claim it
        self._shared: set[str] = set()  # urls claimed by more than one file: the duplicates
        self.parsed_last = 0  # files actually parsed (not from the cache) by the last load

    # -- reading -------------------------------------------------------------------------

    def scan(self) -> list[str]:
        """Every article file under the root, as sorted relative paths."""
        return sorted(self._walk())

    def load(self, paths: Iterable[str] | None = None, *, progress: Callable[[int], None] | None = None) -> set[str]:
        """Read every file (or the given relative paths) and return the canonical URLs that changed.

        A full load also forgets files that are gone. Unchanged files come from the parse cache;
        the rest are parsed, across processes when there are many.
        """
        rels = self.scan() if paths is None else sorted(set(paths))
        changed: set[str] = set()
        if paths is None:
            for rel in (self.good.keys() | self.bad.keys()) - set(rels):
                changed |= self._record(rel, None)
        for rel, outcome in self._read_many(rels, progress, full=paths is None):
            changed |= self._record(rel, outcome)
        return changed

    def refresh(self, rel: str) -> set[str]:
        """Re-read one file (gone, changed or new); return the canonical URLs it affects."""
        return self.load([rel])

    def _read_many(self, rels: list[str], progress: Callable[[int], None] | None, *,
                   full: bool) -> Iterator[tuple[str, Outcome]]:
        identities: dict[str, Identity] = {}
        for rel in rels:
            try:
                identities[rel] = identity_of(os.stat(self.root / rel))
            except (OSError, ValueError):
                pass
        hits: set[str] = set()
        # Reading the cache means streaming every row: worth it for a whole folder (a load, a resync),
        # not for the few files a watcher batch names, which changed anyway.
        if self.cache is not None and (full or len(rels) >= PARALLEL_MIN):
            # Streamed row by row: holding every cached blob at once would double the peak memory.
            for rel, identity, blob in self.cache.entries():
                if identities.get(rel) == identity:
                    hits.add(rel)
                    yield rel, parse_cache.load(blob)  # type: ignore[misc]
                    if progress:
                        progress(1)
        misses = [rel for rel in rels if rel not in hits]
        self.parsed_last = len(misses)
        fresh: list[tuple[str, Identity, bytes]] = []
        for rel, blob in self._parse(misses, progress):
            outcome = parse_cache.load(blob)
            # A read error (permissions, I/O) may pass without the file changing: never cache it.
            if rel in identities and outcome is not None and not (
                    isinstance(outcome, str) and outcome.startswith(CANNOT_READ)):
                fresh.append((rel, identities[rel], blob))
                if len(fresh) >= _STORE_BATCH and self.cache is not None:
                    self.cache.store(fresh)
                    fresh = []
            yield rel, outcome  # type: ignore[misc]
        if self.cache is not None:
            self.cache.store(fresh, keep=rels if full else None)

    def _parse(self, rels: list[str], progress: Callable[[int], None] | None) -> Iterator[tuple[str, bytes]]:
        """(rel, pickled outcome) for each path; pickled because that is what crosses processes."""
        if self.jobs > 1 and len(rels) >= PARALLEL_MIN:
            import multiprocessing  # only big cold loads pay for the import
            from concurrent.futures import ProcessPoolExecutor

            chunks = [rels[i : i + _CHUNK] for i in range(0, len(rels), _CHUNK)]
            context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
            with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context) as pool:
                for results in pool.map(_read_chunk, [(self.root, chunk, self.max_bytes) for chunk in chunks]):
                    yield from results
                    if progress:
                        progress(len(results))
            return
        for rel in rels:
            yield rel, parse_cache.dump(read_one(self.root, rel, self.max_bytes))
            if progress:
                progress(1)

    def _record(self, rel: str, outcome: Outcome) -> set[str]:
        if outcome is None:
            if self.cache is not None:
                self.cache.forget(rel)
            return self._forget(rel)
        if isinstance(outcome, str):
            # A file that breaks after it was good keeps its last good version live.
            self.bad[rel] = outcome
            return set()
        self.bad.pop(rel, None)
        old = self.good.get(rel)
        if old is not None and old.article == outcome.article:
            self.good[rel] = outcome
            return set()
        urls = self._forget(rel)
        self.good[rel] = outcome
        claims = self._by_url.setdefault(outcome.article.url, set())
        claims.add(rel)
        if len(claims) > 1:
            self._shared.add(outcome.article.url)
        return urls | {outcome.article.url}

    def _forget(self, rel: str) -> set[str]:
        self.bad.pop(rel, None)
        old = self.good.pop(rel, None)
        if old is None:
            return set()
        claims = self._by_url.get(old.article.url, set())
        claims.discard(rel)
        if len(claims) < 2:
            self._shared.discard(old.article.url)
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

    @property
    def article_count(self) -> int:
        """Distinct articles: files with a good parse, duplicates folded."""
        return len(self._by_url)

    def duplicates(self) -> list[Duplicate]:
        result = []
        for url in sorted(self._shared):
            files = self._by_url[url]
            kept = self.article(url)
            assert kept is not None
            result.append(Duplicate(url, kept.source, tuple(sorted(files - {kept.source})), kept.draft))
        return result

    # -- files ---------------------------------------------------------------------------

    def _walk(self) -> Iterator[str]:
        root = os.path.normpath(str(self.root))
        for folder, dirs, files in os.walk(root, followlinks=False):
            # Hidden folders and files are editors' and sync tools' scratch space, not articles.
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            prefix = "" if folder == root else folder[len(root) + 1 :].replace(os.sep, "/") + "/"
            for name in files:
                if name.endswith(SUFFIXES) and not name.startswith("."):
                    yield prefix + name



def read_one(root: Path, rel: str, max_bytes: int) -> Outcome:
    """Read one file: its article, the reason it is bad, or None when there is no such file."""
    path = root / rel
    if not _is_candidate(rel) or not path.is_file():
        return None
    try:
        if not _inside(root, path):
            raise ArticleError("a symlink to outside the article folder; not followed")
        return read_article(path, max_bytes=max_bytes, name=rel)
    except FileNotFoundError:
        return None
    except (ArticleError, OSError) as error:
        return str(error) if isinstance(error, ArticleError) else f"{CANNOT_READ} {error.strerror or error}"


def _read_chunk(job: tuple[Path, list[str], int]) -> list[tuple[str, bytes]]:
    root, rels, max_bytes = job
    return [(rel, parse_cache.dump(read_one(root, rel, max_bytes))) for rel in rels]


def _is_candidate(rel: str) -> bool:
    # Hidden parts include `..`; an absolute path is never inside the folder.
    parts = Path(rel).parts
    return rel.endswith(SUFFIXES) and not Path(rel).is_absolute() and not any(p.startswith(".") for p in parts)


def _inside(root: Path, path: Path) -> bool:
    # Don't let a link carry a file from outside the article folder into the feeds: the file
    # itself or any folder on its way (the live server hands over paths the walk never took).
    try:
        path.resolve(strict=True).relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True
