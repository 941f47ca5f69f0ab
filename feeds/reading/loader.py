"""Reading many files at once: stat them, take what the parse cache has, parse the rest, store them.

The plumbing under `Library`, which only sees what each file gave: its entry (with the full article
when the cache will not hold it), the reason it is bad, or nothing. `fetch` gets full articles
back, from the cache or by reading the file again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from ..stores import parse_cache
from .article import Article, Entry, article_digest
from .article_file import ParsedFile
from .folder import CANNOT_READ, Folder, Identity, Survey, identity_of, stamp
from .parallel import PARALLEL_MIN, parse_many

if TYPE_CHECKING:
    from ..stores.parse_cache import ParseCache
    from ..workers import Crew

Result = Entry | str | None  # what the library keeps of a file: its entry, why it is bad, or no file
# A file, its result, and its full article when it must stay in memory: the article, or its packed
# outcome (`Parsed.held`).
Read = tuple[str, Result, "Article | bytes | None"]

_STORE_BATCH = 2000  # parsed files written to the cache at a time, so their blobs can be freed


class Loader:
    def __init__(self, folder: Folder, cache: ParseCache | None = None, *, jobs: int = 1) -> None:
        self.folder = folder
        self.cache = cache
        self.jobs = jobs
        self.shared: parse_cache.SharedValues = ({}, {})  # one object per distinct provider and topic list
        self.parsed_last = 0  # files actually parsed (not from the cache) by the last read

    def read(self, rels: list[str], stamps: dict[str, int], *, full: bool, survey: Survey | None = None,
             progress: Callable[[int], None] | None = None, meanwhile: Callable[[], None] | None = None,
             crew: Crew | None = None) -> Iterator[Read]:
        """Each file's result, noting its stamp (as taken before it was read) in `stamps`.

        `full`: these are all the folder's files (a load), so rows of other paths may go; the
        folder's `survey`, taken before, saves statting them again. `meanwhile`, `crew`: as `parse_many`'s.
        """
        identities: dict[str, Identity] = {}
        if survey is not None and full:
            identities = {rel: identity for rel, (_, identity) in survey.items()}
            stamps.update((rel, marked) for rel, (marked, _) in survey.items())
        else:
            for rel in rels:
                info = self.folder.stat(rel)
                if info is None:
                    stamps.pop(rel, None)
                    continue
                identities[rel] = identity_of(info)
                stamps[rel] = stamp(info)
        hits: set[str] = set()
        others = False  # cached rows of paths not read now: a full load drops them
        cache = self.cache
        # Reading the cache means streaming every row: worth it for a whole folder (a load, a resync),
        # not for the few files a watcher batch names, which changed anyway.
        if cache is not None and (full or len(rels) >= PARALLEL_MIN):
            # Streamed row by row: holding every cached blob at once would double the peak memory.
            for rel, cached, blob in cache.entries():
                known = identities.get(rel)
                if known == cached:
                    try:
                        result = self._cached(rel, parse_cache.load_entry_or_reason(rel, blob))
                    except parse_cache.Corrupt:
                        cache.corrupt()  # parsed again below, and its row replaced
                        continue
                    hits.add(rel)
                    yield rel, result, None
                    if progress:
                        progress(1)
                elif known is None:
                    others = True
        misses = [rel for rel in rels if rel not in hits]
        self.parsed_last = len(misses)
        fresh: list[parse_cache.Row] = []
        for parsed in parse_many(self.folder, misses, jobs=self.jobs, progress=progress, meanwhile=meanwhile,
                                 crew=crew):
            rel = parsed.rel
            identity = identities.get(rel)
            result = parsed.entry(self.shared)
            stored = cache is not None and identity is not None and cache.will_store(rel, identity)
            article = parsed.held() if isinstance(result, Entry) and not stored else None
            # A read error (permissions, I/O) may pass without the file changing: never cache it.
            if stored and result is not None and not (isinstance(result, str) and result.startswith(CANNOT_READ)):
                assert identity is not None  # `stored` says so
                entry_blob, blob = parsed.packed()
                digest = result.digest if isinstance(result, Entry) else None
                fresh.append((rel, identity, entry_blob, digest, blob))
            yield rel, result, article
            if len(fresh) >= _STORE_BATCH and cache is not None:
                cache.store(fresh)
                fresh = []
        if cache is not None:
            # Dropping the rows of vanished files rewrites the table: only when there are some.
            cache.store(fresh, keep=rels if full and others else None)

    def fetch(self, wanted: Mapping[str, str]) -> dict[str, Article]:
        """Full articles of files (path → the digest of the version wanted) whose version can still
        be had: from the cache, else by reading the file again."""
        left = dict(wanted)
        found = {rel: article for rel, (article, _) in self._from_cache(left).items()}
        found.update(self._read_again(left))
        return found

    def fetch_packed(self, wanted: Mapping[str, str]) -> dict[str, Article | bytes]:
        """`fetch`, with a cached article given as its stored outcome: for articles handed on to render
        workers, which unpack them themselves (as a load without a cache hands them what its workers
        packed, `Parsed.held`). Pickling each article's objects for them (~17 µs an article, and as
        long again to unpickle) made the parent the render's bottleneck in a first export with a
        cache, the workers waiting. Each row is still read here, as `fetch` reads it: a digest is no
        signature (anyone who can write the cache can seal a row), so a row whose values are not an
        article's is found here, dropped and read again from its file, never in a worker."""
        left = dict(wanted)
        found: dict[str, Article | bytes] = {rel: blob for rel, (_, blob) in self._from_cache(left).items()}
        found.update(self._read_again(left))
        return found

    def _from_cache(self, left: dict[str, str]) -> dict[str, tuple[Article, bytes]]:
        """The cached articles of these files, with their stored outcomes; each one found is taken out
        of `left`, and a damaged row is dropped (its file is then read again)."""
        found: dict[str, tuple[Article, bytes]] = {}
        if left and self.cache is not None:
            for rel, blob in self.cache.outcomes(left.items()).items():
                try:
                    outcome = parse_cache.load_outcome(rel, blob)
                except parse_cache.Corrupt:
                    self.cache.corrupt(rel)
                    continue
                if isinstance(outcome, ParsedFile):
                    found[rel] = (outcome.article, blob)
                    del left[rel]
        return found

    def _read_again(self, wanted: Mapping[str, str]) -> dict[str, Article]:
        """The articles of these files read again, where they are still the versions wanted."""
        found: dict[str, Article] = {}
        read = self.folder.reader()  # one batch: the root and each folder resolved once
        for rel, digest in wanted.items():  # not cached (an error, a cleared cache): read again
            outcome = read(rel)
            if isinstance(outcome, ParsedFile) and article_digest(outcome.article) == digest:
                found[rel] = outcome.article
        return found

    def forget(self, rel: str) -> None:
        """A file that is gone: its row goes too."""
        if self.cache is not None:
            self.cache.forget(rel)

    def _cached(self, rel: str, loaded: parse_cache.EntryRow | str | None) -> Result:
        """A cached entry row (or bad file's reason) as what the library keeps."""
        if isinstance(loaded, tuple):
            return parse_cache.entry_from_row(loaded, rel, self.shared)
        return loaded
