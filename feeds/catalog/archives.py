"""Archived feeds (RFC 5005 §4): which archive document holds each older article of a feed.

A feed's subscription document holds its newest `limit` items; every older item is in exactly
one archive document. Which one is a pure function of the feed's articles, and a local one:

- Archive documents are ranges of time, nested: all time, then each calendar year, then the year
  halved again and again down to one second. A range that holds at most `archive_size` archived
  items is one document; a fuller range is split into its two halves (all time into its years),
  and only the parts that hold items are documents. So a document's range and name (`all-time`,
  `2026`, `2026-07-02T120000Z-2027-01-01T000000Z`) depend only on the items in that range, and
  halving keeps documents about half full or more wherever articles come at a steady pace.
- A new, back-dated, edited or withdrawn article changes the count of the ranges around its own
  date only (and, by moving the edge of the subscription document, around the date of the item it
  pushes out or pulls in): the one document holding that date changes, and it splits when it grows
  past `archive_size` or merges back into its parent range when the parent falls to it. Every other
  document keeps its range, its items and its bytes (but for its neighbours' links).
- More than `archive_size` items in one second are cut, in their order, into numbered parts of
  that second: the one place where the partition counts rather than measures.
- A feed whose archived items would make one document gets two instead (its range split where
  the items first part ways), so that every archive document links to another; only a feed with
  a single archived item has a lone archive document.

Documents are listed newest first; so are the items inside each.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

Key = tuple[float, str]  # a catalog member: (-published timestamp, url); newest first when sorted

_END_OF_TIME = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) + 1  # feeds carry 1970–9999
ALL_TIME = "all-time"


@dataclass(frozen=True, slots=True)
class Page:
    """One archive document of a feed: a range of time and the slice of members it holds."""

    name: str  # in its URL, unique in the feed: "all-time", "2026", "2026-07-02T120000Z-2027-01-01T000000Z"
    start: int  # the first second of its range (UTC)
    end: int  # the first second after it
    lo: int  # its items are the feed's members [lo, hi), newest first
    hi: int


def partition(keys: Sequence[Key], skip: int, size: int) -> list[Page]:
    """The archive documents of a feed whose members, newest first, are `keys`, past the first `skip`
    (the subscription document), each of at most `size` items; newest first."""
    if len(keys) <= skip:
        return []
    pages: list[Page] = []

    def visit(start: int, end: int, name: str | None) -> None:
        # Members published in [start, end), past the subscription document. Timestamps are whole
        # seconds, so a key at or past (-end + 0.5,) is one published before `end`.
        lo = max(bisect_left(keys, (0.5 - end,)), skip)
        hi = max(bisect_left(keys, (0.5 - start,)), skip)
        if hi <= lo:
            return
        if hi - lo <= size:
            pages.append(Page(name or _range_name(start, end), start, end, lo, hi))
        elif name == ALL_TIME:
            for year, first, after in _years(int(-keys[-1][0]), int(-keys[skip][0])):
                visit(first, after, year)
        elif end - start > 1:  # a year or a part of one: its halves, the newer first
            middle = start + (end - start) // 2
            visit(middle, end, None)
            visit(start, middle, None)
        else:  # one second, more than `size` items: numbered parts, in member order
            base = _range_name(start, end)
            for number, first in enumerate(range(lo, hi, size), start=1):
                pages.append(Page(f"{base}-{number}", start, end, first, min(first + size, hi)))

    visit(0, _END_OF_TIME, ALL_TIME)
    if len(pages) == 1 and pages[0].hi - pages[0].lo > 1:
        # One archive document would have no neighbour to link to, and readers (and the W3C
        # validator) take an archive without prev-archive or next-archive for an incomplete one:
        # split where the items first part ways, the same way a fuller range is split.
        size = pages[0].hi - pages[0].lo - 1
        pages.clear()
        visit(0, _END_OF_TIME, ALL_TIME)
    return pages


def _years(oldest: int, newest: int) -> Iterator[tuple[str, int, int]]:
    for year in range(_utc(newest).year, _utc(oldest).year - 1, -1):
        yield f"{year:04d}", _new_year(year), _new_year(year + 1)


@lru_cache(maxsize=65536)  # a feed's ranges are mostly those of the rebuild before
def _range_name(start: int, end: int) -> str:
    """`2026-07-02T120000Z-2027-01-01T000000Z`: a range by its first second and the first one after it."""
    return f"{_stamp(start)}-{_stamp(end)}"


def _stamp(moment: int) -> str:
    return "10000-01-01T000000Z" if moment >= _END_OF_TIME else _utc(moment).strftime("%Y-%m-%dT%H%M%SZ")


def _new_year(year: int) -> int:
    return _END_OF_TIME if year > 9999 else int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def describe(page: Page) -> str:
    """The range a document covers, as a reader would see it: `2026`, `2026-07-02 12:00:00 to 2027-01-01
    00:00:00 UTC`, with `part N` for the parts of one crowded second."""
    if page.name == ALL_TIME:
        return "all time"
    if len(page.name) == 4:
        return page.name
    text = f"{_shown(page.start)} to {_shown(page.end)} UTC"
    range_name = _range_name(page.start, page.end)
    return text if page.name == range_name else f"{text}, part {page.name[len(range_name) + 1:]}"


def _shown(moment: int) -> str:
    return "10000-01-01 00:00:00" if moment >= _END_OF_TIME else _utc(moment).strftime("%Y-%m-%d %H:%M:%S")
