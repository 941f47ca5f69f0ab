"""Feeds assembled from cached item fragments are byte-identical to feeds rendered whole."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.build import Build
from feedpub.render.fragments import FragmentRenderer
from feedpub.render.site import SiteBuilder
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool
from tests.helpers import SEEDS, article_text, fragments_of, loaded, sample_fields

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TRICKY: list[dict[str, Any]] = [
    {"title": "<b>Bold</b> & <script>alert(1)</script> ]]>", "excerpt": "AT&T &amp; &#8217; <i>x</i>"},
    {"title": "שלום עולם 🎉", "topics": ["人工知能", "C++", "C#"], "excerpt": ""},
    {"title": "No image", "images": None, "related": [{"title": "R", "webUrl": "https://r.example/1",
                                                       "provider": {"name": "R & Co"}}]},
]


def both_paths(folder: Path, **options: Any) -> tuple[dict[str, bytes], dict[str, bytes]]:
    fast = Build(folder, Settings(**options))
    plain = Build(folder, Settings(**options))
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    a = {p: o.body for p, o in loaded(fast, now=NOW).items()}
    b = {p: o.body for p, o in loaded(plain, now=NOW).items()}
    return a, b


def test_the_seeds_export_is_identical_either_way() -> None:
    fast, plain = both_paths(SEEDS, limit=20)
    assert fast.keys() == plain.keys()
    assert [p for p in fast if fast[p] != plain[p]] == []


@pytest.mark.parametrize("limit", [1, 50])
def test_tricky_text_is_identical_either_way(tmp_path: Path, limit: int) -> None:
    for n, fields in enumerate(TRICKY):
        (tmp_path / f"{n}.txt").write_text(article_text(**sample_fields(n, **fields)), encoding="utf-8")
    fast, plain = both_paths(tmp_path, limit=limit)
    assert [p for p in fast if fast[p] != plain[p]] == []


def test_an_empty_folder_is_identical_either_way(tmp_path: Path) -> None:
    fast, plain = both_paths(tmp_path)
    assert fast == plain


def test_a_change_renders_only_the_changed_articles_fragments(articles: Path) -> None:
    build = Build(articles, Settings())
    build.load(now=NOW)
    fragments = fragments_of(build)
    assert fragments
    before = fragments["rss"].rendered_items
    (articles / "003.txt").write_text(article_text(**sample_fields(3, title="Changed")), encoding="utf-8")
    build.refresh(["003.txt"], now=NOW)
    assert fragments["rss"].rendered_items - before == 1
    plain = Build(articles, Settings())
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    expected = loaded(plain, now=NOW)
    assert {p: o.body for p, o in build.site.items()} == {p: o.body for p, o in expected.items()}


def test_stored_fragments_are_reused_across_builds_and_give_the_same_bytes(articles: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Build(articles, Settings(), cache_dir=cache)
    one = {p: o.body for p, o in loaded(first, now=NOW).items()}
    assert fragments_of(first)["rss"].rendered_items == 6
    second = Build(articles, Settings(), cache_dir=cache)
    two = {p: o.body for p, o in loaded(second, now=NOW).items()}
    assert fragments_of(second)["rss"].rendered_items == 0
    assert one == two
    # Another base URL is another cache: RSS items name their source feed by absolute URL.
    third = Build(articles, Settings(base_url="https://elsewhere.example"), cache_dir=cache)
    third.load(now=NOW)
    assert fragments_of(third)["rss"].rendered_items == 6


def test_with_a_store_fragments_live_there_and_a_change_still_renders_one(articles: Path, tmp_path: Path) -> None:
    build = Build(articles, Settings(), cache_dir=tmp_path / "cache")
    build.load(now=NOW)
    fragments = fragments_of(build)
    assert fragments and all(f.size == 0 for f in fragments.values())  # the feeds hold the bytes
    before = fragments["rss"].rendered_items
    (articles / "003.txt").write_text(article_text(**sample_fields(3, title="Changed")), encoding="utf-8")
    build.refresh(["003.txt"], now=NOW)
    assert fragments["rss"].rendered_items - before == 1  # the other items came from the store
    plain = Build(articles, Settings())
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    assert {p: o.body for p, o in build.site.items()} == {p: o.body for p, o in loaded(plain, now=NOW).items()}
    # After a full load the store keeps exactly the fragments the feeds show: a restart renders none.
    again = Build(articles, Settings(), cache_dir=tmp_path / "cache")
    again.load(now=NOW)
    assert fragments_of(again)["rss"].rendered_items == 0


def test_fragments_of_articles_that_left_every_feed_are_pruned(articles: Path) -> None:
    build = Build(articles, Settings(limit=2))
    build.load(now=NOW)
    fragments = fragments_of(build)
    assert fragments
    slots = sum(len(build.catalog.spec(g).items) for g in build.catalog.groups())
    for n in range(40):  # every rewrite makes a new newest article and pushes another out
        (articles / "000.txt").write_text(
            article_text(**sample_fields(0, title=f"Version {n}", publishedDateTime=f"2026-02-01T00:{n:02d}:00Z")),
            encoding="utf-8")
        build.refresh(["000.txt"], now=NOW)
        assert all(f.size <= 2 * slots for f in fragments.values())


def test_fragments_rendered_across_processes_are_identical(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import feedpub.render.site

    monkeypatch.setattr(feedpub.render.site, "PARALLEL_RENDER_MIN", 1)
    # The workers write their fragments into the build's spool themselves: every one is placed there.
    placed: list[int] = []
    place = FragmentRenderer.place

    def counted(self: FragmentRenderer, digests: Sequence[str], *rest: Any) -> None:
        placed.append(len(digests))
        place(self, digests, *rest)

    monkeypatch.setattr(FragmentRenderer, "place", counted)
    parallel = Build(SEEDS, Settings(), jobs=2)
    fast = {p: o.body for p, o in loaded(parallel, now=NOW).items()}
    assert fragments_of(parallel)["rss"].rendered_items > 100
    assert sum(placed) == sum(renderer.rendered_items for renderer in parallel.builder._item_renderers)
    plain = Build(SEEDS, Settings())
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    assert fast == {p: o.body for p, o in loaded(plain, now=NOW).items()}


@pytest.mark.parametrize("archives", [False, True], ids=["crew", "spool"])
def test_the_parse_workers_render_too_unless_a_spool_needs_workers_of_its_own(
        monkeypatch: pytest.MonkeyPatch, archives: bool) -> None:
    """Without a spool the render's chunks go to the workers that parsed (one pool, forked while the
    process was small); with one, the render forks workers that inherit its file. Same bytes either way."""
    import feedpub.reading.parallel
    import feedpub.render.site
    import feedpub.workers

    monkeypatch.setattr(feedpub.reading.parallel, "PARALLEL_MIN", 1)
    monkeypatch.setattr(feedpub.render.site, "PARALLEL_RENDER_MIN", 1)
    pools: list[str] = []

    def counting(where: str) -> Any:
        real = sys.modules[where].process_pool

        def counted(jobs: int) -> Any:
            pools.append(where)
            return real(jobs)

        return counted

    for where in ("feedpub.workers", "feedpub.reading.parallel", "feedpub.render.site"):
        monkeypatch.setattr(sys.modules[where], "process_pool", counting(where))
    settings = Settings(archives=archives, archive_size=20)
    parallel = Build(SEEDS, settings, jobs=2)
    fast = {p: o.body for p, o in loaded(parallel, now=NOW).items()}
    assert fragments_of(parallel)["rss"].rendered_items > 100
    # The crew's pool (made in `workers`), and for the spool's render one of the render's own.
    assert pools == (["feedpub.workers", "feedpub.render.site"] if archives else ["feedpub.workers"])
    plain = Build(SEEDS, settings)
    plain.builder = SiteBuilder(plain.settings, fragments=False)
    assert fast == {p: o.body for p, o in loaded(plain, now=NOW).items()}


@given(st.binary(max_size=8), st.lists(st.binary(max_size=8), max_size=6), st.sampled_from([b"", b"\n", b",\n"]),
       st.binary(max_size=8))
def test_framed_is_head_pieces_and_tail_joined(head: bytes, pieces: list[bytes], separator: bytes, tail: bytes) -> None:
    from feedpub.render.fragments import framed

    assert framed(head, pieces, separator, tail) == head + separator.join(pieces) + tail


def test_a_big_build_stores_the_feed_of_everythings_items_in_its_order_so_its_archives_read_in_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import feedpub.render.site

    monkeypatch.setattr(feedpub.render.site, "PARALLEL_RENDER_MIN", 1)  # the order big builds render in
    build = Build(SEEDS, Settings(archive_size=20))
    build.load(now=NOW)
    spool = fragments_of(build)["rss"].store
    assert isinstance(spool, FragmentSpool)
    spec = build.catalog.spec(build.catalog.groups()[0])
    assert len(spec.archives) > 5
    for page in spec.archives:
        found = spool.locate("rss", [entry.digest for entry in page.items])
        assert found is not None
        places = found[2]
        runs = 1 + sum(1 for before, after in pairwise(places)
                       if (before >> 32) + (before & 0xFFFFFFFF) != after >> 32)
        assert runs == 1, (page.name, runs)  # one read for the whole page (the seeds are one chunk)
