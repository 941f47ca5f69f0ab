"""Filtered feeds on the live server: `/feeds/all.rss?filter=…` answered like every feed, and cached.

A subscription document's query (`feedpub.catalog.query`) is answered from the published state's
`FilterState` as a `Resource`, so ETag, 304, gzip and CORS are those of every feed. Answers are
kept per canonical query in a cache bounded in entries and in bytes (each counted as its body and
room for its gzip body), least recently used first out; an answer is dropped as soon as a change
touches its feed (its feed's spec is another object then) or, with `filter_time`, when its oldest
item falls out of the window. A query without any known parameter is the plain feed, byte for
byte: readers add parameters of their own.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from feedpub.catalog.catalog import FeedSpec
from feedpub.catalog.query import Query, QueryError, parse_query
from feedpub.memory import release_free_memory
from feedpub.render.filtered import FilterState
from feedpub.settings import Settings

from .published import Published, Resource, make_resource

MAX_ENTRIES = 256
MAX_BYTES = 4 << 20  # with 256 answers: ~30 full feeds of 100 KB, or 256 short ones; the 100k server stays ≤ 400 MiB
_MAX_QUERIES = 4096  # query strings as sent → their canonical form (strings only): bounded too


class Plain:
    """The answer to a query with no filter in it: the feed itself."""

    def __repr__(self) -> str:
        return "PLAIN"


PLAIN = Plain()


@dataclass(frozen=True, slots=True)
class _Answer:
    spec: FeedSpec  # the feed as it was: an answer holds while the catalog hands out this object
    resource: Resource
    expires: float | None
    size: int


class FilteredFeeds:
    def __init__(self, settings: Settings, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.settings = settings
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # Keyed by the canonical query string, never a `Query`: its compiled patterns (and their
        # DFA caches) are let go of once the answer is made, so they are no memory the bounds miss.
        self._answers: OrderedDict[tuple[str, str], _Answer] = OrderedDict()
        self._queries: OrderedDict[tuple[str, bytes], str | Plain] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # requests are answered on the loop and in worker threads
        self.made = 0  # answers made (not taken from the cache), for tests and logs
        # One thread of its own makes the answers: a query is Python holding the GIL, so more threads
        # would only take turns, and each would keep a malloc arena of its own full of the freed
        # buffers of decompressed blocks (~20 MiB resident more at 100,000 articles, measured).
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feedpub-filters")

    async def answer_async(self, published: Published, path: str, raw: bytes) -> Resource | Plain | QueryError:
        """`answer`, in the filters' own thread."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, self.answer, published, path, raw)

    # -- what a request asks -------------------------------------------------------------------

    def cached(self, published: Published, path: str, raw: bytes) -> Resource | Plain | None:
        """The answer to `path?raw` if it is known now (quick: the protocol's fast path asks it);
        None when it must be made (`answer`), or is an error."""
        state = published.filters
        if state is None or state.feed_of(path.lstrip("/")) is None:
            return PLAIN  # no filters here (not a subscription document): the query means nothing
        with self._lock:
            known = self._queries.get((path, raw))
        if known is None:
            try:
                query = self._parse(raw)
                if isinstance(query, Query):
                    query = state.resolve(query)
            except QueryError:
                return None
            known = self._remember(path, raw, query)
        if isinstance(known, Plain):
            return known
        return self._take(state, path, known)

    def answer(self, published: Published, path: str, raw: bytes) -> Resource | Plain | QueryError:
        """The answer to `path?raw`, made now if need be (blocking: call it off the event loop)."""
        state = published.filters
        found = state.feed_of(path.lstrip("/")) if state is not None else None
        if state is None or found is None:
            return PLAIN
        try:
            query = self._parse(raw)
            if isinstance(query, Query):
                query = state.resolve(query)
        except QueryError as error:
            return error
        key = self._remember(path, raw, query)
        if isinstance(query, Plain) or isinstance(key, Plain):
            return PLAIN
        known = self._take(state, path, key)
        if known is not None:
            return known
        output, chosen = state.answer(path.lstrip("/"), query, now=datetime.now(UTC))
        resource = make_resource(path.lstrip("/"), output, self.settings, feed=False)
        answer = _Answer(found[1], resource, chosen.expires, 2 * len(output.body) + 512)
        self.made += 1
        # What the query decompressed and let go of goes back to the OS (~0.4 ms at 100,000
        # articles): glibc would keep it resident, up to ~25 MiB after a few dozen queries.
        release_free_memory()
        with self._lock:
            old = self._answers.pop((path, key), None)
            if old is not None:
                self._bytes -= old.size
            if answer.size <= self.max_bytes:
                self._answers[(path, key)] = answer
                self._bytes += answer.size
                while len(self._answers) > self.max_entries or self._bytes > self.max_bytes:
                    _, dropped = self._answers.popitem(last=False)
                    self._bytes -= dropped.size
        return resource

    # -- keeping it current --------------------------------------------------------------------

    def published(self, state: FilterState | None) -> None:
        """A new state is served: let go of every answer whose feed it changed."""
        with self._lock:
            self._queries.clear()  # a topic's slug may have moved: parse and resolve again
            if state is None:
                self._answers.clear()
                self._bytes = 0
                return
            for key, answer in list(self._answers.items()):
                found = state.feed_of(key[0].lstrip("/"))
                if found is None or found[1] is not answer.spec:
                    del self._answers[key]
                    self._bytes -= answer.size

    @property
    def size(self) -> tuple[int, int]:
        """(answers, bytes counted) held now."""
        with self._lock:
            return len(self._answers), self._bytes

    # -- helpers -------------------------------------------------------------------------------

    def _parse(self, raw: bytes) -> Query | Plain:
        query = parse_query(raw, max_limit=self.settings.max_limit, default_limit=self.settings.limit)
        return PLAIN if query is None else query

    def _remember(self, path: str, raw: bytes, query: Query | Plain) -> str | Plain:
        key = query if isinstance(query, Plain) else query.canonical
        with self._lock:
            self._queries[(path, raw)] = key
            while len(self._queries) > _MAX_QUERIES:
                self._queries.popitem(last=False)
        return key

    def _take(self, state: FilterState, path: str, query: str) -> Resource | None:
        found = state.feed_of(path.lstrip("/"))
        with self._lock:
            answer = self._answers.get((path, query))
            if answer is None:
                return None
            stale = found is None or found[1] is not answer.spec or (
                answer.expires is not None and time.time() >= answer.expires)
            if stale:
                del self._answers[(path, query)]
                self._bytes -= answer.size
                return None
            self._answers.move_to_end((path, query))
            return answer.resource
