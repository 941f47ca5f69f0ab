"""Parsing many files, across worker processes when there are many; what each gives is a `Parsed`.

A worker sends each result back as the bytes the parse cache stores (packed there, once), so the
parent never packs what it will store; a file parsed in this process is kept as objects, and
packed only if the cache is to store it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

from ..stores import parse_cache
from ..stores.packing import article_values, entry_from_fresh, entry_row_of, pack, shared_entry
from ..workers import Crew, process_pool
from .article import Article, Entry, digest_of_packed
from .article_file import ParsedFile
from .folder import Folder, Outcome

# Below this many files to parse, starting worker processes costs more than it saves.
PARALLEL_MIN = 2000
_CHUNK = 250

Packed = tuple["bytes | None", bytes]  # the entry row (None unless the file is good) and the outcome, packed


class Parsed:
    """What parsing one file gave: kept as objects (parsed here) or as stored bytes (from a worker)."""

    __slots__ = ("_entry", "_outcome", "_packed", "rel")

    def __init__(self, rel: str, *, outcome: Outcome = None, packed: Packed | None = None) -> None:
        self.rel = rel
        self._outcome = outcome
        self._packed = packed
        self._entry: Entry | None = None  # made once from a file parsed here (its digest is the costly part)

    def entry(self, shared: parse_cache.SharedValues) -> Entry | str | None:
        """The entry of a good file (its provider and topics shared, see `SharedValues`), the reason a
        bad file is bad, or None when there was no file."""
        if self._packed is not None:
            entry_blob, blob = self._packed
            if entry_blob is None:
                reason = parse_cache.load_outcome(self.rel, blob)
                return None if isinstance(reason, ParsedFile) else reason
            return entry_from_fresh(entry_blob, self.rel, shared)  # made by a worker just now
        outcome = self._outcome
        if not isinstance(outcome, ParsedFile):
            return outcome
        if self._entry is None:
            entry = Entry.of(outcome.article, outcome.warnings)
            self._entry = shared_entry(entry.url, entry.published, entry.provider.name, entry.provider.domain,
                                       entry.topics, entry.draft, entry.digest, entry.source, entry.warnings, shared)
        return self._entry

    def article(self) -> Article:
        """The full article of a good file."""
        outcome = self._outcome if self._packed is None else parse_cache.load_outcome(self.rel, self._packed[1])
        assert isinstance(outcome, ParsedFile), self.rel
        return outcome.article

    def held(self) -> Article | bytes:
        """The full article of a good file in the least memory at hand: the packed outcome a worker
        sent (`parse_cache.load_outcome` gives the article back; ~1.7 KB against ~5 KB of objects),
        or the article itself when it was parsed here."""
        return self._packed[1] if self._packed is not None else self.article()

    def packed(self) -> Packed:
        """The result as the parse cache stores it."""
        if self._packed is None:
            outcome = self._outcome
            entry = self._entry if self._entry is not None or not isinstance(outcome, ParsedFile) else \
                Entry.of(outcome.article, outcome.warnings)
            self._packed = _pack(self.rel, outcome, entry)
        return self._packed


def parse_many(folder: Folder, rels: list[str], *, jobs: int, progress: Callable[[int], None] | None = None,
               meanwhile: Callable[[], None] | None = None, crew: Crew | None = None) -> Iterator[Parsed]:
    """Parse each file, in order; across `jobs` processes when there are at least `PARALLEL_MIN`
    (the `crew`'s, which stay for the build's next step, when one is given).

    With workers, `meanwhile` is run here once they have every chunk: this process's own start-up
    work (an export imports its renderers and writer, ~70 ms at 10k) then takes a core the workers
    leave free while the first results come, instead of adding to the time before they start."""
    if jobs > 1 and len(rels) >= PARALLEL_MIN:
        chunks = [rels[i : i + _CHUNK] for i in range(0, len(rels), _CHUNK)]
        with ExitStack() as stack:
            pool = crew.pool() if crew is not None else stack.enter_context(process_pool(jobs))
            work = [(folder.root, folder.max_bytes, folder.extras, chunk) for chunk in chunks]
            results_in_order = pool.map(_parse_chunk, work)  # every chunk submitted: the workers start
            if meanwhile is not None:
                meanwhile()
            for results in results_in_order:
                for rel, packed in results:
                    yield Parsed(rel, packed=packed)
                if progress:
                    progress(len(results))
        return
    read = folder.reader()
    for rel in rels:
        yield Parsed(rel, outcome=read(rel))
        if progress:
            progress(1)


def _pack(rel: str, outcome: Outcome, entry: Entry | None) -> Packed:
    return (None if entry is None else parse_cache.pack_entry(rel, entry)), parse_cache.pack_outcome(rel, outcome)


def _parse_chunk(job: tuple[Path, int, bool, list[str]]) -> list[tuple[str, Packed]]:
    """In a worker process: one chunk of files, packed where they are parsed."""
    root, max_bytes, extras, rels = job
    read = Folder(root, max_bytes=max_bytes, extras=extras).reader(built=True)
    packed: list[tuple[str, Packed]] = []
    for rel in rels:
        outcome = read(rel)
        if isinstance(outcome, ParsedFile):  # read in Python: its values, as the C builder gives them
            outcome = (article_values(outcome.article), outcome.warnings)
        if isinstance(outcome, tuple):  # the values the cache stores (`fast_article.Built`), packed once
            built, warnings = outcome  # for the digest and inside the outcome sent
            article = pack(built)
            row = entry_row_of(built, digest_of_packed(article), warnings)
            packed.append((rel, (parse_cache.pack_entry_row(rel, row), parse_cache.pack_parsed(rel, article, warnings))))
        else:
            packed.append((rel, _pack(rel, outcome, None)))
    return packed
