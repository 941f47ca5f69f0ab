"""Query filters on a feed: RSSHub's parameters and feedpub's own, checked, made canonical, and run
over every article of the feed (`records.py`), newest first, then cut to `limit`.

RSSHub's names and meanings (https://docs.rsshub.app/guide/parameters): `filter` (title or
description), `filter_title`, `filter_description`, `filter_author`, `filter_category`, the same five
as `filterout…`, `filter_case_sensitive` (default true), `filter_time` (only items newer than that many
seconds) and `limit`; feedpub's own: `min_heat`, `min_quality`, `topic` and `provider`. Where RSSHub
lets `filter` silence the other `filter_…` parameters, or `filterout_title` replace `filterout` for
titles, here every given parameter applies. A description is the excerpt, or the title when there is
none (as RSSHub reads one); an author is the provider's name or its domain; categories are the topic
names the article gives and the names of the topics they belong to.

Patterns are regular expressions run by RE2, so none takes more than linear time; a match never
spans two articles (RE2's `never_nl`, articles being one line each), and `^` and `$` are the start
and end of the title or description. Unknown parameters are left alone (readers add their own).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, quote

import re2

from ..reading.article import Entry, Provider
from ..reading.text import strip_forbidden
from .records import Block

MAX_PATTERN = 256
MAX_SECONDS = 100 * 366 * 86400  # `filter_time`: a century is "everything"
_TEXT = ("filter", "filter_title", "filter_description")
_OTHER = ("filter_author", "filter_category")
PATTERNS = (*_TEXT, *_OTHER, *(name.replace("filter", "filterout", 1) for name in (*_TEXT, *_OTHER)))
# The canonical order of the parameters (the self link of a filtered feed lists them so).
PARAMETERS = ("topic", "provider", *PATTERNS, "filter_case_sensitive", "filter_time", "min_heat", "min_quality",
              "limit")
_FIELDS = {"": ("title", "description"), "_title": ("title",), "_description": ("description",)}


class QueryError(ValueError):
    """A parameter that cannot be used: the message is one line saying which and why."""


@dataclass(frozen=True, slots=True)
class Query:
    """A filtered feed's parameters, checked and canonical (equal queries are equal objects)."""

    params: tuple[tuple[str, str], ...]  # known, non-empty, in `PARAMETERS` order, values canonical
    limit: int
    _compiled: dict[str, re2._Regexp] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> str | None:
        return dict(self.params).get(name)

    @property
    def canonical(self) -> str:
        """The query string, percent-encoded, in the canonical order: `filter=a%7Cb&limit=20`."""
        return "&".join(f"{name}={quote(value, safe='')}" for name, value in self.params)

    @property
    def case_sensitive(self) -> bool:
        return self.get("filter_case_sensitive") != "false"

    def pattern(self, name: str) -> re2._Regexp | None:
        return self._compiled.get(name)

    def describe(self) -> str:
        """What was filtered, for the feed's title: `title or description matches "climate", heat ≥ 100`."""
        words = []
        for name, value in self.params:
            if name == "topic":
                words.append(f"topic {value}")
            elif name == "provider":
                words.append(f"from {value}")
            elif name in PATTERNS:
                negative = name.startswith("filterout")
                what = name.removeprefix("filterout" if negative else "filter").lstrip("_") or "title or description"
                words.append(f"{what} {'does not match' if negative else 'matches'} “{value}”")
            elif name == "filter_time":
                words.append(f"newer than {_duration(int(value))}")
            elif name in ("min_heat", "min_quality"):
                words.append(f"{name[4:]} ≥ {value}")
            elif name == "limit":
                words.append(f"newest {value}")
        if not self.case_sensitive:
            words.append("case ignored")
        return ", ".join(words)


def parse_query(query: str | bytes, *, max_limit: int, default_limit: int) -> Query | None:
    """The filters of a query string; None when it has none (only unknown or empty parameters):
    the plain feed, byte for byte. Raises `QueryError` for a bad value."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    given: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if name not in PARAMETERS or not value.strip():
            continue  # readers add their own parameters; an empty one is not given (as in RSSHub)
        if strip_forbidden(value) != value:
            # A pattern is named in the feed's title, where XML cannot carry a control character:
            # refused here, with the reason, rather than failing as the document is written.
            raise QueryError(f"{name} holds a control character (or another a feed cannot carry); give plain text")
        if name in given and given[name] != value:
            raise QueryError(f"{name} is given twice ({given[name]!r} and {value!r}); give it once")
        given[name] = value
    if not given:
        return None
    params: list[tuple[str, str]] = []
    compiled: dict[str, re2._Regexp] = {}
    sensitive = _boolean(given.get("filter_case_sensitive", "true"), "filter_case_sensitive")
    limit = default_limit
    for name in PARAMETERS:
        if name not in given:
            continue
        value = given[name]
        if name in PATTERNS:
            compiled[name] = compile_pattern(value, name, case_sensitive=sensitive)
        elif name == "filter_case_sensitive":
            if sensitive:
                continue  # the default: left out of the canonical form
            value = "false"
        elif name == "limit":
            limit = _whole(value, name, 1, max_limit)
            value = str(limit)
        elif name == "filter_time":
            value = str(_whole(value, name, 1, MAX_SECONDS))
        elif name in ("min_heat", "min_quality"):
            value = _number(value, name)
        else:  # topic, provider: looked up by the caller, which knows the site
            value = value.strip()
        params.append((name, value))
    if not params:
        return None
    return Query(tuple(params), limit, compiled)


def compile_pattern(pattern: str, name: str, *, case_sensitive: bool) -> re2._Regexp:
    if len(pattern) > MAX_PATTERN:
        raise QueryError(f"{name} is {len(pattern)} characters long; a pattern may have at most {MAX_PATTERN}")
    options = re2.Options()
    options.never_nl = True  # articles are one line each: no match spans two
    options.never_capture = True
    options.log_errors = False
    options.case_sensitive = case_sensitive
    options.max_mem = 2 << 20  # RE2's program and DFA cache: 2 MiB (its default is 8) is ample for 256 characters
    try:
        # (?m): ^ and $ are the ends of the one title or description being matched.
        return re2.compile("(?m)" + pattern, options)
    except re2.error as error:
        reason = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) \
            else str(error)
        raise QueryError(f"{name} is not a pattern RE2 accepts: {reason}") from None


def _boolean(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise QueryError(f"{name} must be true or false, not {value!r}")
    return lowered == "true"


def _whole(value: str, name: str, low: int, high: int) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit():
        raise QueryError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    number = int(text)
    if not low <= number <= high:
        raise QueryError(f"{name} must be a whole number from {low} to {high}, not {number}")
    return number


def _number(value: str, name: str) -> str:
    try:
        number = float(value.strip())
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not value.strip().isascii():
        raise QueryError(f"{name} must be a number, like 100 or 2.5, not {value!r}")
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


# -- running a query over the records of a feed --------------------------------------------------

Member = Callable[[Entry], bool]


@dataclass(frozen=True, slots=True)
class Selection:
    entries: tuple[Entry, ...]  # newest first, at most the query's limit
    expires: float | None  # with `filter_time`: when the oldest of them falls out of the window


def select(query: Query, blocks: Sequence[Block], *, member: Member | None, now: datetime,
           topic_name: Callable[[str], str | None]) -> Selection:
    """The query's articles among `blocks` (newest first) that are `member`s of the feed.

    `topic_name`: a topic spelling → the name of the topic it belongs to (for `filter_category`).
    """
    window = query.get("filter_time")
    cutoff = now.timestamp() - int(window) if window is not None else None
    heat, quality = query.get("min_heat"), query.get("min_quality")
    tests = _entry_tests(query, topic_name)
    texts: list[tuple[str, tuple[str, ...], bool]] = []  # (parameter, the fields it reads, leaves out)
    for name in PATTERNS:
        negative = name.startswith("filterout")
        suffix = name.removeprefix("filterout" if negative else "filter")
        if suffix in _FIELDS and query.pattern(name) is not None:
            texts.append((name, _FIELDS[suffix], negative))
    found: list[Entry] = []
    limit = query.limit
    for block in blocks:
        entries = block.entries
        if cutoff is not None and entries[0].published.timestamp() < cutoff:
            break  # newest first: every later block is older still
        chosen: list[int] = list(range(len(entries)))
        if cutoff is not None:
            chosen = [i for i in chosen if entries[i].published.timestamp() >= cutoff]
        if member is not None:
            chosen = [i for i in chosen if member(entries[i])]
        if heat is not None:
            least = float(heat)
            values = block.heat
            chosen = [i for i in chosen if values[i] >= least]
        if quality is not None:
            least = float(quality)
            values = block.quality
            chosen = [i for i in chosen if values[i] >= least]
        for test in tests:
            chosen = [i for i in chosen if test(entries[i])]
        decoded: dict[str, tuple[bytes, Sequence[int]]] = {}
        for name, fields, negative in texts:
            if not chosen:
                break
            pattern = query.pattern(name)
            assert pattern is not None
            hits: set[int] = set()
            for text_field in fields:
                if text_field not in decoded:
                    decoded[text_field] = block.text(text_field)
                buffer, starts = decoded[text_field]
                hits |= _hits(pattern, buffer, starts, [i for i in chosen if i not in hits])
            chosen = [i for i in chosen if (i in hits) != negative]
        found.extend(entries[i] for i in chosen)
        if len(found) >= limit:
            break
    picked = tuple(found[:limit])
    expires = None if cutoff is None or not picked else picked[-1].published.timestamp() + int(window or 0)
    return Selection(picked, expires)


def _hits(pattern: re2._Regexp, buffer: bytes, starts: Sequence[int], among: list[int]) -> set[int]:
    """Which of the lines `among` the pattern matches in: line by line when they are few, else by one
    scan that skips to the next line after each match."""
    if not among:
        return set()
    lines = len(starts) - 1
    if len(among) * 8 < lines:
        return {i for i in among if pattern.search(buffer, starts[i], starts[i + 1] - 1) is not None}
    hits: set[int] = set()
    position, end = 0, len(buffer)
    wanted = set(among)
    while position < end:
        match = pattern.search(buffer, position)
        if match is None:
            break
        line = bisect.bisect_right(starts, match.start()) - 1
        if line >= lines:
            break
        if line in wanted:
            hits.add(line)
        position = starts[line + 1]
    return hits


def _entry_tests(query: Query, topic_name: Callable[[str], str | None]) -> list[Member]:
    """The tests an entry answers by itself: author and category patterns, memoised per provider
    and per list of topics (entries share those objects)."""
    tests: list[Member] = []
    for name in ("filter_author", "filterout_author"):
        pattern = query.pattern(name)
        if pattern is not None:
            tests.append(_memo_provider(pattern, negative=name.startswith("filterout")))
    for name in ("filter_category", "filterout_category"):
        pattern = query.pattern(name)
        if pattern is not None:
            tests.append(_memo_topics(pattern, topic_name, negative=name.startswith("filterout")))
    return tests


def _memo_provider(pattern: re2._Regexp, *, negative: bool) -> Member:
    known: dict[Provider, bool] = {}

    def test(entry: Entry) -> bool:
        provider = entry.provider
        answer = known.get(provider)
        if answer is None:
            answer = known[provider] = (pattern.search(provider.name) is not None
                                        or pattern.search(provider.domain) is not None) != negative
        return answer

    return test


def _memo_topics(pattern: re2._Regexp, topic_name: Callable[[str], str | None], *, negative: bool) -> Member:
    known: dict[tuple[str, ...], bool] = {}

    def names(topics: Iterable[str]) -> Iterable[str]:
        for topic in topics:
            yield topic
            named = topic_name(topic)
            if named is not None and named != topic:
                yield named

    def test(entry: Entry) -> bool:
        answer = known.get(entry.topics)
        if answer is None:
            # filter_category: some category matches; filterout_category: none does (as RSSHub).
            answer = known[entry.topics] = any(pattern.search(name) is not None for name in names(entry.topics)) \
                != negative
        return answer

    return test
