"""Archive documents: every older item in exactly one, none over the size, a pure and local function.

`partition` is checked on its own over many random feeds, then through the catalog, whose
incremental updates must give what a fresh catalog gives.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedpub.catalog.archives import ALL_TIME, Key, Page, describe, partition
from feedpub.catalog.catalog import EVERYTHING, Catalog
from feedpub.reading.article import Article, Entry, Provider

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EPOCH_2026 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())


def keys_of(times: list[int]) -> list[Key]:
    return sorted((-float(moment), f"https://x.example/{n}") for n, moment in enumerate(times))


def check(keys: list[Key], skip: int, size: int) -> list[Page]:
    pages = partition(keys, skip, size)
    assert [i for page in pages for i in range(page.lo, page.hi)] == list(range(skip, len(keys)))  # once, in order
    assert all(0 < page.hi - page.lo <= size for page in pages)
    assert len({page.name for page in pages}) == len(pages)
    for page in pages:  # each holds exactly the archived items of its range
        assert all(page.start <= -keys[i][0] < page.end for i in range(page.lo, page.hi))
    for newer, older in pairwise(pages):
        assert older.end <= newer.start or older.start == newer.start  # newest first; parts of one second share it
    if len(pages) == 1:
        assert pages[0].hi - pages[0].lo == 1  # a lone document only for a lone archived item
    return pages


times_strategy = st.lists(st.integers(EPOCH_2026 - 3 * 365 * 86400, EPOCH_2026 + 200 * 86400), max_size=400)


@settings(max_examples=200, deadline=None)
@given(times_strategy, st.integers(0, 60), st.integers(1, 40))
def test_every_archived_item_is_in_exactly_one_document_of_at_most_the_size(times: list[int], skip: int,
                                                                            size: int) -> None:
    check(keys_of(times), skip, size)


@settings(max_examples=200, deadline=None)
@given(times_strategy, st.integers(EPOCH_2026 - 365 * 86400, EPOCH_2026 + 200 * 86400), st.integers(0, 20),
       st.integers(2, 30))
def test_a_new_item_changes_only_the_documents_around_its_date_and_the_edge(times: list[int], new: int, skip: int,
                                                                              size: int) -> None:
    before = keys_of(times)
    after = sorted([*before, (-float(new), "https://x.example/new")])
    old, fresh = check(before, skip, size), check(after, skip, size)
    if len(before) - skip <= size:
        return  # all archived items fit one document, split in two on purpose: any split is local to them
    # The dates whose documents may change: the new item's, and the one it pushes past the edge of
    # the subscription document (the newest archived item afterwards).
    dates = [new] + ([int(-after[skip][0])] if len(after) > skip else [])
    old_items = {page.name: [before[i] for i in range(page.lo, page.hi)] for page in old}
    for page in fresh:
        if any(page.start <= date < page.end for date in dates):
            continue
        if page.name in old_items:  # a range that holds neither date keeps its items (and so its bytes)
            assert [after[i] for i in range(page.lo, page.hi)] == old_items[page.name], page.name
        else:  # or it is new only because a range around one of the dates split or merged
            parents = [other for other in old if other.start <= page.start and page.end <= other.end]
            children = [other for other in old if page.start <= other.start and other.end <= page.end]
            assert any(any(p.start <= d < p.end for d in dates) for p in [*parents, *children]), page.name


def test_documents_are_calendar_years_then_halves_and_named_by_their_range() -> None:
    small = check(keys_of([EPOCH_2026 + 3600 * n for n in range(6)]), 2, 10)
    assert [page.name for page in small] != [ALL_TIME]  # four archived items: never a lone document
    assert all(page.name.count("T") == 2 for page in small)
    spread = check(keys_of([int(datetime(year, 6, 1, tzinfo=UTC).timestamp()) for year in (2024, 2025) for _ in range(5)]),
                   0, 5)
    assert [page.name for page in spread] == ["2025", "2024"]
    assert describe(spread[0]) == "2025"
    many = check(keys_of([EPOCH_2026 + 60 * n for n in range(50)]), 0, 10)
    first = many[0]
    assert first.name.startswith("2026-01-01T") and describe(first).endswith("UTC")


def test_more_items_in_one_second_than_a_document_holds_are_numbered_parts_of_it() -> None:
    pages = check(keys_of([EPOCH_2026] * 25), 0, 10)
    assert [page.hi - page.lo for page in pages] == [10, 10, 5]
    assert [page.name[-2:] for page in pages] == ["-1", "-2", "-3"]
    assert describe(pages[1]).endswith("part 2")


def test_the_edge_of_time_is_a_document_like_any_other() -> None:
    last = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    pages = check(keys_of([0, 1, last, last - 1]), 0, 2)
    assert [page.name for page in pages] == ["9999", "1970"]


# -- through the catalog ----------------------------------------------------------------------


def entry(n: int, hours: float, *, topics: tuple[str, ...] = ("World",), title: str = "") -> Entry:
    return Entry.of(Article(url=f"https://a.example/{n}", title=title or f"Story {n}", summary="",
                            published=NOW - timedelta(hours=hours), provider=Provider("A", "a.example"),
                            topics=topics))


def pages_of(catalog: Catalog) -> dict[tuple[str, str], list[tuple[str, list[str]]]]:
    return {group: [(page.name, [e.url for e in page.items]) for page in catalog.spec(group).archives]
            for group in catalog.groups()}


@pytest.mark.parametrize("seed", range(6))
def test_a_catalog_changed_step_by_step_has_the_documents_of_a_fresh_one(seed: int) -> None:
    rng = random.Random(seed)
    current = {n: entry(n, rng.uniform(0, 24 * 90), topics=(rng.choice("ABC"),)) for n in range(300)}
    catalog = Catalog.build(current.values(), now=NOW, limit=10, archive_size=12)
    for step in range(40):
        n = rng.randrange(400)
        change: Entry | None = None if rng.random() < 0.3 else entry(n, rng.uniform(0, 24 * 90),
                                                                       topics=(rng.choice("ABC"),), title=f"v{step}")
        before = {group: catalog.spec(group) for group in catalog.groups()}
        catalog.apply({f"https://a.example/{n}": change}, now=NOW)
        if change is None:
            current.pop(n, None)
        else:
            current[n] = change
        fresh = Catalog.build(current.values(), now=NOW, limit=10, archive_size=12)
        assert pages_of(catalog) == pages_of(fresh)
        # A document away from the change is the very object it was: later stages tell by identity.
        for group in catalog.groups():
            old = {page.name: page for page in before[group].archives} if group in before else {}
            kept = [page for page in catalog.spec(group).archives if old.get(page.name) is page]
            changed = [page for page in catalog.spec(group).archives if old.get(page.name) is not page]
            assert len(changed) <= 4 or len(kept) == 0, (group, len(changed))


def test_without_an_archive_size_a_feed_is_its_newest_items_only() -> None:
    catalog = Catalog.build([entry(n, n) for n in range(30)], now=NOW, limit=5)
    assert catalog.spec(EVERYTHING).archives == () and len(catalog.spec(EVERYTHING).items) == 5
