"""The article folder as the builder sees it: each file's last good article and each bad file's reason.

`Library` is the one place that knows about files. It reads a folder recursively (or a few
changed paths, for the live server), keeps the last good version of a file that later breaks,
and resolves duplicates: two files with the same canonical URL are one article.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import parse_cache
from .article import Article, Entry, SharedValues, article_digest
from .article_file import MAX_FILE_BYTES, ArticleError, ParsedFile, read_article
from .parse_cache import Identity, ParseCache, identity_of
from .processes import process_pool

SUFFIXES = (".txt", ".md")
CANNOT_READ = "cannot read:"


@dataclass(frozen=True, slots=True)
class Duplicate:
    url: str
    kept: str  # the file whose version is published
    dropped: tuple[str, ...]
    draft: bool = False  # the kept version is a draft: its URL must not be printed


Outcome = ParsedFile | str | None  # an article, the reason a file is bad, or no file at all
# Every article file under the root, in path order, with its `stamp` and cache `Identity`: what
# a full load reads, and what a resumed build compares its files with.
Survey = dict[str, tuple[int, Identity]]
Result = Entry | str | None  # what the library keeps of an outcome

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN = 2000
_CHUNK = 250
_STORE_BATCH = 2000  # parsed files written to the cache at a time, so their blobs can be freed


class StaleEntries(Exception):
    """Files that changed after they were read, found while fetching their full articles.

    Raised only when something else (another feedpub process) re-parsed them into the shared cache
    first; the caller re-reads `paths` and builds again.
    """

    def __init__(self, paths: list[str]) -> None:
        super().__init__(f"changed while being read: {', '.join(paths)}")
        self.paths = paths


class Library:
    def __init__(self, root: Path, *, max_bytes: int = MAX_FILE_BYTES, cache: ParseCache | None = None,
                 jobs: int = 1) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.cache = cache
        self.jobs = jobs
        self.good: dict[str, Entry] = {}  # relative path → last good version
        self.bad: dict[str, str] = {}  # relative path → why it is bad now
        # Full articles the cache cannot give back (no cache, a file written within its racy
        # second, a last good version whose file is now bad); every other one is fetched on demand.
        self._held: dict[str, Article] = {}
        # Canonical url → the file that claims it; urls more than one file claims (the duplicates)
        # are in `_shared` instead. A set per url would cost ~24 MB at 100,000 articles.
        self._by_url: dict[str, str] = {}
        self._shared: dict[str, set[str]] = {}
        self._shared_values: SharedValues = ({}, {})  # one object per distinct provider and topic list
        self.parsed_last = 0  # files actually parsed (not from the cache) by the last load
        # Each file's `stamp` (its stat) as taken before it was last read: what `stale` compares a
        # later survey with, when a saved state is resumed.
        self.stamps: dict[str, int] = {}

    # -- state kept between runs (see `feeds.snapshot`) -------------------------------------

    _STATE = ("good", "bad", "stamps", "_held", "_by_url", "_shared", "_shared_values")

    def state(self) -> dict[str, object]:
        """What this library knows, as plain picklable data (its folder and cache are not included)."""
        return {name: getattr(self, name) for name in self._STATE}

    def restore(self, state: dict[str, object]) -> None:
        """Know again what `state()` gave; `stale()` then says which files must be read again."""
        for name in self._STATE:
            setattr(self, name, state[name])

    def stale(self, survey: Survey) -> set[str]:
        """Files whose current version this library may not hold: new, gone or changed since read
        (by their `stamp`), and those read within their racy second, when a write that followed
        may have left the stamp as it was (they are the ones the cache would not keep)."""
        stamps = self.stamps
        changed = {rel for rel, (marked, _) in survey.items() if stamps.get(rel) != marked}
        changed |= stamps.keys() - survey.keys()
        changed |= (self.good.keys() | self.bad.keys()) - survey.keys()
        changed |= self._held.keys() - self.bad.keys()
        return changed

    # -- reading -------------------------------------------------------------------------

    def scan(self) -> list[str]:
        """Every article file under the root, as sorted relative paths."""
        found = self._walk()
        found.sort()
        return found

    def survey(self) -> Survey:
        """Every article file under the root, in path order, with its stamp and identity."""
        base = str(self.root)
        found = {}
        for rel in self.scan():
            try:
                info = os.stat(f"{base}/{rel}")
            except (OSError, ValueError):
                continue
            found[rel] = (stamp(info), identity_of(info))
        return found

    def survey_behind(self) -> Callable[[], Survey]:
        """Start a `survey` in a forked process; the returned function waits for its result.

        For a start that has other work to do meanwhile (unpickling a saved state holds the GIL,
        so a thread would only take turns with it). Where there is no fork, or it fails, the
        function surveys in this process instead, as it does when this process runs other threads
        (one might hold a lock the child would wait for).
        """
        if threading.active_count() > 1:
            return self.survey
        try:
            read_end, write_end = os.pipe()
            child = os.fork()
        except (AttributeError, OSError):
            return self.survey
        if child == 0:  # the child: survey, send it back, and leave without any clean-up of the parent's
            code = 1
            try:
                os.close(read_end)
                rows = [(rel, marked, *identity) for rel, (marked, identity) in self.survey().items()]
                with os.fdopen(write_end, "wb") as out:
                    out.write(marshal.dumps(rows))
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)

        def result() -> Survey:
            with os.fdopen(read_end, "rb") as pipe:
                data = pipe.read()
            _, status = os.waitpid(child, 0)
            if status != 0 or not data:
                return self.survey()
            return {rel: (marked, (size, mtime, inode)) for rel, marked, size, mtime, inode in marshal.loads(data)}

        return result

    def load(self, paths: Iterable[str] | None = None, *, progress: Callable[[int], None] | None = None,
             survey: Survey | None = None) -> set[str]:
        """Read every file (or the given relative paths) and return the canonical URLs that changed.

        A full load also forgets files that are gone; it may be given the folder's `survey()`,
        taken before, instead of walking it again. Unchanged files come from the parse cache;
        the rest are parsed, across processes when there are many.
        """
        full = paths is None
        if survey is not None and full:
            rels = list(survey)
        else:
            rels = self.scan() if full else sorted(set(paths))  # type: ignore[arg-type]
        changed: set[str] = set()
        if full:
            for rel in (self.good.keys() | self.bad.keys()) - set(rels):
                changed |= self._record(rel, None, None)
        for rel, result, article in self._read_many(rels, progress, full=full, survey=survey):
            changed |= self._record(rel, result, article)
        return changed

    def refresh(self, rel: str) -> set[str]:
        """Re-read one file (gone, changed or new); return the canonical URLs it affects."""
        return self.load([rel])

    def _read_many(self, rels: list[str], progress: Callable[[int], None] | None, *, full: bool,
                   survey: Survey | None = None) -> Iterator[tuple[str, Result, Article | None]]:
        """(path, what to keep, the full article when it must stay in memory) for each path."""
        base = str(self.root)
        identities: dict[str, Identity] = {}
        stamps = self.stamps
        if survey is not None and full:
            identities = {rel: identity for rel, (_, identity) in survey.items()}
            stamps.update((rel, marked) for rel, (marked, _) in survey.items())
        else:
            for rel in rels:
                try:
                    info = os.stat(f"{base}/{rel}")
                except (OSError, ValueError):
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
            for rel, identity, blob in cache.entries():
                known = identities.get(rel)
                if known == identity:
                    hits.add(rel)
                    yield rel, self._result(rel, parse_cache.load(blob)), None
                    if progress:
                        progress(1)
                elif known is None:
                    others = True
        misses = [rel for rel in rels if rel not in hits]
        self.parsed_last = len(misses)
        fresh: list[parse_cache.Row] = []
        for rel, entry_blob, blob in self._parse(misses, progress):
            identity = identities.get(rel)
            result: Result
            article = None
            if entry_blob is None:
                result = parse_cache.load(blob)  # type: ignore[assignment]
            else:
                result = self._result(rel, parse_cache.load(entry_blob))
                if cache is None or identity is None or not cache.will_store(rel, identity):
                    article = parse_cache.load(blob).article  # type: ignore[attr-defined]
            # A read error (permissions, I/O) may pass without the file changing: never cache it.
            if identity is not None and result is not None and not (
                    isinstance(result, str) and result.startswith(CANNOT_READ)):
                digest = result.digest if isinstance(result, Entry) else None
                fresh.append((rel, identity, entry_blob, digest, blob))
            yield rel, result, article
            if len(fresh) >= _STORE_BATCH and cache is not None:
                self._stored(cache.store(fresh))
                fresh = []
        if cache is not None:
            # Dropping the rows of vanished files rewrites the table: only when there are some.
            self._stored(cache.store(fresh, keep=rels if full and others else None))

    def _result(self, rel: str, loaded: object) -> Result:
        """A cached or fresh entry row (or bad file's reason) as what the library keeps."""
        if isinstance(loaded, tuple):
            return Entry.from_row(loaded, rel, self._shared_values)  # type: ignore[arg-type]
        return loaded  # type: ignore[return-value]

    def _stored(self, rels: set[str]) -> None:
        # An article the cache now holds need not stay in memory (unless a good version is kept
        # for a file that is bad now: its row holds the reason).
        for rel in rels:
            if rel in self._held and rel not in self.bad:
                del self._held[rel]

    def _parse(self, rels: list[str], progress: Callable[[int], None] | None
               ) -> Iterator[tuple[str, bytes | None, bytes]]:
        """(rel, pickled entry, pickled outcome) for each path; pickled because that is what crosses
        processes, and what the cache stores."""
        if self.jobs > 1 and len(rels) >= PARALLEL_MIN:
            chunks = [rels[i : i + _CHUNK] for i in range(0, len(rels), _CHUNK)]
            with process_pool(self.jobs) as pool:
                for results in pool.map(_read_chunk, [(self.root, chunk, self.max_bytes) for chunk in chunks]):
                    yield from results
                    if progress:
                        progress(len(results))
            return
        for rel in rels:
            yield rel, *_pickled(read_one(self.root, rel, self.max_bytes))
            if progress:
                progress(1)

    def _record(self, rel: str, result: Result, article: Article | None) -> set[str]:
        if result is None:  # no such file (any more)
            if self.cache is not None:
                self.cache.forget(rel)
            self.stamps.pop(rel, None)
            return self._forget(rel)
        if isinstance(result, str):
            # A file that breaks after it was good keeps its last good version live. Its cache row
            # is about to hold the reason, so the article moves into memory.
            self.bad[rel] = result
            old = self.good.get(rel)
            if old is not None and rel not in self._held:
                kept = self._fetch([old])
                if rel in kept:
                    self._held[rel] = kept[rel]
                else:  # the cache lost it too (another process, an error): nothing left to show
                    return self._forget(rel, keep_reason=True)
            return set()
        self.bad.pop(rel, None)
        if article is not None:
            self._held[rel] = article
        else:
            self._held.pop(rel, None)
        old = self.good.get(rel)
        if old is not None and old == result:
            self.good[rel] = result
            return set()
        urls = self._forget(rel, keep_held=True) if old is not None else set()
        self.good[rel] = result
        url = result.url
        first = self._by_url.get(url)
        if first is None:
            if url in self._shared:
                self._shared[url].add(rel)
            else:
                self._by_url[url] = rel
        elif first != rel:
            del self._by_url[url]
            self._shared[url] = {first, rel}
        urls.add(url)
        return urls

    def _forget(self, rel: str, *, keep_reason: bool = False, keep_held: bool = False) -> set[str]:
        if not keep_reason:
            self.bad.pop(rel, None)
        if not keep_held:
            self._held.pop(rel, None)
        old = self.good.pop(rel, None)
        if old is None:
            return set()
        url = old.url
        if self._by_url.get(url) == rel:
            del self._by_url[url]
        elif url in self._shared:
            claims = self._shared[url]
            claims.discard(rel)
            if len(claims) == 1:
                del self._shared[url]
                self._by_url[url] = claims.pop()
        return {url}

    # -- full articles -------------------------------------------------------------------

    def resolve(self, entries: Sequence[Entry]) -> list[Article]:
        """The full articles of entries this library holds, in order.

        From memory when held, else from the parse cache, else by reading the file again. Raises
        `StaleEntries` if a file no longer holds the version its entry describes.
        """
        found = self._fetch(entries)
        stale = sorted({e.source for e in entries if e.source not in found})
        if stale:
            raise StaleEntries(stale)
        return [found[e.source] for e in entries]

    def _fetch(self, entries: Sequence[Entry]) -> dict[str, Article]:
        """Full articles by path, for the entries whose version can still be had."""
        found: dict[str, Article] = {}
        wanted: dict[str, str] = {}
        for entry in entries:
            held = self._held.get(entry.source)
            if held is not None:
                found[entry.source] = held
            else:
                wanted[entry.source] = entry.digest
        if wanted and self.cache is not None:
            for rel, blob in self.cache.outcomes(wanted.items()).items():
                found[rel] = parse_cache.load(blob).article  # type: ignore[attr-defined]
                del wanted[rel]
        for rel, digest in wanted.items():  # not cached (an error, a cleared cache): read again
            outcome = read_one(self.root, rel, self.max_bytes)
            if isinstance(outcome, ParsedFile) and article_digest(outcome.article) == digest:
                found[rel] = outcome.article
        return found

    def entry(self, url: str) -> Entry | None:
        """The published version of a URL: the newest date wins, then the first path."""
        only = self._by_url.get(url)
        if only is not None:
            return self.good[only]
        files = self._shared.get(url)
        if not files:
            return None
        best = min(files, key=lambda rel: (-self.good[rel].published.timestamp(), rel))
        return self.good[best]

    def article(self, url: str) -> Article | None:
        entry = self.entry(url)
        return None if entry is None else self.resolve([entry])[0]

    def parsed(self, rel: str) -> Article:
        """The last good article of one file."""
        return self.resolve([self.good[rel]])[0]

    def articles(self) -> Iterator[Article]:
        for url in sorted(self._by_url.keys() | self._shared.keys()):
            article = self.article(url)
            if article is not None:
                yield article

    @property
    def article_count(self) -> int:
        """Distinct articles: files with a good parse, duplicates folded."""
        return len(self._by_url) + len(self._shared)

    def duplicates(self) -> list[Duplicate]:
        result = []
        for url in sorted(self._shared):
            files = self._shared[url]
            kept = self.entry(url)
            assert kept is not None
            result.append(Duplicate(url, kept.source, tuple(sorted(files - {kept.source})), kept.draft))
        return result

    # -- files ---------------------------------------------------------------------------

    def _walk(self) -> list[str]:
        root = os.path.normpath(str(self.root))
        found: list[str] = []
        for folder, dirs, files in os.walk(root, followlinks=False):
            # Hidden folders and files are editors' and sync tools' scratch space, not articles.
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            prefix = "" if folder == root else folder[len(root) + 1 :].replace(os.sep, "/") + "/"
            # One comprehension per folder: a generator step per file is a tenth of a second at 100k.
            found += [prefix + name for name in files if name.endswith(SUFFIXES) and not name.startswith(".")]
        return found



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


def stamp(info: os.stat_result) -> int:
    """A file's size, mtime, inode and ctime as one number (ctime too: a chmod that makes an unreadable
    file readable changes nothing else). Hashes of ints are the same in every process."""
    return hash((info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns))


def _pickled(outcome: Outcome) -> tuple[bytes | None, bytes]:
    """A file's pickled entry (None unless it is good) and pickled outcome, made where it is parsed."""
    entry = Entry.of(outcome.article, outcome.warnings) if isinstance(outcome, ParsedFile) else None
    return (None if entry is None else parse_cache.dump(entry.row())), parse_cache.dump(outcome)


def _read_chunk(job: tuple[Path, list[str], int]) -> list[tuple[str, bytes | None, bytes]]:
    root, rels, max_bytes = job
    return [(rel, *_pickled(read_one(root, rel, max_bytes))) for rel in rels]


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
