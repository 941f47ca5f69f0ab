"""Fragments put behind a spool reach the cache's store in order, and a build reads them from either."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool
from feedpub.stores.fragment_store import FragmentStore
from feedpub.stores.write_behind import WriteBehind
from tests.helpers import SEEDS, fragments_of, loaded

NOW_SETTINGS = Settings()


def store_at(tmp_path: Path) -> FragmentStore:
    return FragmentStore(tmp_path / "fragments.sqlite3", key="test")


def test_a_put_is_read_at_once_and_is_in_the_store_after_flush(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    behind = WriteBehind(FragmentSpool(), store)
    store.put([("rss:old", b"from an earlier run")])
    behind.put([("rss:a", b"A"), ("atom:a", b"<a/>")])
    assert behind.get(["rss:a", "atom:a", "rss:old", "rss:none"]) == {
        "rss:a": b"A", "atom:a": b"<a/>", "rss:old": b"from an earlier run"}
    assert behind.present(["rss:a", "rss:old", "rss:none"]) == {"rss:a", "rss:old"}
    behind.flush()
    assert store.get(["rss:a", "atom:a"]) == {"rss:a": b"A", "atom:a": b"<a/>"}
    behind.close()


def test_keep_only_reaches_the_store_after_the_copies_asked_for_before_it(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    behind = WriteBehind(FragmentSpool(), store)
    for n in range(50):
        behind.put([(f"rss:{n}", b"x" * n)])
    behind.keep_only(f"rss:{n}" for n in range(0, 50, 2))
    behind.put([("rss:late", b"after the keep")])
    behind.close()
    assert set(store.get([f"rss:{n}" for n in range(50)] + ["rss:late"])) == \
        {f"rss:{n}" for n in range(0, 50, 2)} | {"rss:late"}


def test_a_store_that_fails_loses_only_its_copy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Failing(FragmentStore):
        def put(self, rows: Iterable[tuple[str, bytes]]) -> None:
            raise RuntimeError("disk gone")

    behind = WriteBehind(FragmentSpool(), Failing(tmp_path / "f.sqlite3", key="test"))
    with caplog.at_level(logging.WARNING, logger="feedpub"):
        behind.put([("rss:a", b"A")])
        behind.flush()
    assert behind.get(["rss:a"]) == {"rss:a": b"A"}  # the build goes on from the spool
    assert "fragments not stored (RuntimeError: disk gone)" in caplog.text
    behind.close()


def test_an_export_build_leaves_every_fragment_in_the_cache_for_the_next_run(tmp_path: Path) -> None:
    """What `feedpub export` does: the first build renders into the spool and the copy fills the
    cache; a second build (the next run) renders nothing, and both give the same bytes as a build
    that wrote to the store directly."""
    cache = tmp_path / "cache"
    first = Build(SEEDS, NOW_SETTINGS, cache_dir=cache, write_behind=True)
    one = {path: output.body for path, output in loaded(first).items()}
    assert fragments_of(first)["rss"].rendered_items > 200
    first.flush_fragments()
    second = Build(SEEDS, NOW_SETTINGS, cache_dir=cache)
    two = {path: output.body for path, output in loaded(second).items()}
    assert {name: renderer.rendered_items for name, renderer in fragments_of(second).items()} == \
        dict.fromkeys(fragments_of(second), 0)
    direct = Build(SEEDS, NOW_SETTINGS, cache_dir=tmp_path / "other")
    assert one == two == {path: output.body for path, output in loaded(direct).items()}
