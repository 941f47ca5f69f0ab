"""The article folder as the builder sees it: each file's last good article and each bad file's reason.

`Library` holds the rules about files and articles: a file that breaks after it was good keeps
its last good version live, and two files with the same canonical URL are one article (the newest
wins). How files are read (the parse cache, worker processes) is the `Loader`'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..stores import parse_cache
from .article import Article, Entry
from .article_file import ParsedFile
from .folder import Survey
from .loader import Loader, Result

if TYPE_CHECKING:
    from ..workers import Crew


@dataclass(frozen=True, slots=True)
class Duplicate:
    url: str
    kept: str  # the file whose version is published
    dropped: tuple[str, ...]
    draft: bool = False  # the kept version is a draft: its URL must not be printed


class Library:
    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.good: dict[str, Entry] = {}  # relative path → last good version
        self.bad: dict[str, str] = {}  # relative path → why it is bad now
        # Full articles the cache cannot give back (no cache, a file written within its racy
        # second, a last good version whose file is now bad); every other one is fetched on demand.
        # A cold load without a cache holds them as the packed outcomes its workers sent (see
        # `Parsed.held`): 100,000 articles as objects took ~5 KB each, 550 MB of a 100k export.
        self._held: dict[str, Article | bytes] = {}
        # Canonical url → the file that claims it; urls more than one file claims (the duplicates)
        # are in `_shared` instead. A set per url would cost ~24 MB at 100,000 articles.
        self._by_url: dict[str, str] = {}
        self._shared: dict[str, set[str]] = {}
        # Each file's `stamp` (its stat) as taken before it was last read: what `stale` compares a
        # later survey with, when a saved state is resumed.
        self.stamps: dict[str, int] = {}

    # -- state kept between runs (see `stores.saved_state`) ---------------------------------

    _STATE = ("good", "bad", "stamps", "_held", "_by_url", "_shared")

    def state(self) -> dict[str, object]:
        """What this library knows, as plain picklable data (its folder and cache are not included)."""
        held = {rel: _article(rel, article) for rel, article in self._held.items()}
        return {**{name: getattr(self, name) for name in self._STATE}, "_held": held, "shared": self.loader.shared}

    def restore(self, state: dict[str, object]) -> None:
        """Know again what `state()` gave; `stale()` then says which files must be read again."""
        for name in self._STATE:
            setattr(self, name, state[name])
        self.loader.shared = state["shared"]  # type: ignore[assignment]  # as `state()` gave it

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

    def load(self, paths: Iterable[str] | None = None, *, progress: Callable[[int], None] | None = None,
             survey: Survey | None = None, meanwhile: Callable[[], None] | None = None,
             crew: Crew | None = None) -> set[str]:
        """Read every file (or the given relative paths) and return the canonical URLs that changed.

        A full load also forgets files that are gone; it may be given the folder's `survey()`,
        taken before, instead of walking it again.
        """
        full = paths is None
        if paths is None:
            rels = list(survey) if survey is not None else self.loader.folder.scan()
        else:
            rels = sorted(set(paths))
        changed: set[str] = set()
        if full:
            for rel in self.known() - set(rels):
                changed |= self._record(rel, None, None)
        for rel, result, article in self.loader.read(rels, self.stamps, full=full, survey=survey, progress=progress,
                                                     meanwhile=meanwhile, crew=crew):
            changed |= self._record(rel, result, article)
        return changed

    def _record(self, rel: str, result: Result, article: Article | bytes | None) -> set[str]:
        if result is None:  # no such file (any more)
            self.loader.forget(rel)
            self.stamps.pop(rel, None)
            return self._forget(rel)
        if isinstance(result, str):
            # A file that breaks after it was good keeps its last good version live. Its cache row
            # is about to hold the reason, so the article moves into memory.
            self.bad[rel] = result
            old = self.good.get(rel)
            if old is not None and rel not in self._held:
                kept = self.loader.fetch({rel: old.digest})
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

    # -- what is known -------------------------------------------------------------------

    def known(self) -> set[str]:
        """Every file this library has read and still has a result for (good or bad)."""
        return self.good.keys() | self.bad.keys()

    def articles_for(self, entries: Sequence[Entry]) -> tuple[Fetched, list[str]]:
        """The full articles of these entries, by digest, and the files whose version is gone.

        From memory when held, else from the parse cache (as its stored outcome, unpacked only when
        read: `Fetched`), else by reading the file again. A file is gone from under its entry only
        when it changed since it was read and another process replaced its cache row meanwhile: the
        caller reads it again.
        """
        found: dict[str, Article | PackedArticle] = {}
        wanted: dict[str, str] = {}
        for entry in entries:
            held = self._held.get(entry.source)
            if held is not None:
                found[entry.digest] = held if isinstance(held, Article) else (entry.source, held)
            else:
                wanted[entry.source] = entry.digest
        fetched = self.loader.fetch_packed(wanted) if wanted else {}
        for rel, digest in wanted.items():
            article = fetched.get(rel)
            if article is not None:
                found[digest] = article if isinstance(article, Article) else (rel, article)
        return Fetched(found), sorted(rel for rel in wanted if rel not in fetched)

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


def _article(rel: str, held: Article | bytes) -> Article:
    """A held article, unpacked when it is held packed (`Parsed.held`)."""
    if isinstance(held, Article):
        return held
    outcome = parse_cache.load_outcome(rel, held)
    assert isinstance(outcome, ParsedFile), rel  # only good files' outcomes are held
    return outcome.article


PackedArticle = tuple[str, bytes]  # a held article as its file's path and packed outcome (`Parsed.held`)


class Fetched(Mapping[str, Article]):
    """Full articles by digest, as `Library.articles_for` fetched them. One held packed is unpacked
    when it is read here, and only then: a render worker is sent it packed (`raw`, `unpacked`), so
    the parent neither unpacks nor pickles the articles it hands out to be rendered."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Article | PackedArticle]) -> None:
        self._values = values

    def __getitem__(self, digest: str) -> Article:
        value = self._values[digest]
        if isinstance(value, Article):
            return value
        article = self._values[digest] = unpacked(value)
        return article

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def raw(self, digest: str) -> Article | PackedArticle:
        """The article, or its packed form if it has not been read here: for `unpacked` elsewhere."""
        return self._values[digest]


def unpacked(value: Article | PackedArticle) -> Article:
    """An article from what `Fetched.raw` gave (in a render worker, say)."""
    return value if isinstance(value, Article) else _article(*value)
