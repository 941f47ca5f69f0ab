"""The fragments of a build without a cache: one unlinked file and an index, bounded on disk, and
"not stored" (never a failed build) when the file fails."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool
from tests.helpers import article_text, sample_fields


def test_what_is_put_is_got_back_byte_for_byte_and_the_latest_body_wins() -> None:
    spool = FragmentSpool()
    rng = random.Random(5)
    bodies = {f"rss:{n:032x}": rng.randbytes(rng.randrange(0, 5000)) for n in range(500)}
    spool.put(list(bodies.items())[:250])
    spool.put(list(bodies.items())[250:])
    assert spool.get(list(bodies)) == bodies
    assert spool.present(["rss:nope", *list(bodies)[:3]]) == set(list(bodies)[:3])
    spool.put([("rss:" + "0" * 32, b"first"), ("rss:" + "0" * 32, b"second")])
    assert spool.get(["rss:" + "0" * 32]) == {"rss:" + "0" * 32: b"second"}
    assert spool.get(["atom:absent"]) == {}
    spool.put([])
    spool.close()


def test_replaced_bodies_are_counted_dead_whether_replaced_in_the_same_batch_or_a_later_one() -> None:
    spool = FragmentSpool()
    spool.put([("rss:a", b"1" * 10), ("rss:b", b"2" * 20)])
    assert (spool.size_on_disk, spool.dead_bytes) == (30, 0)
    spool.put([("rss:a", b"3" * 5), ("rss:c", b"4" * 7), ("rss:c", b"5" * 3), ("rss:d", b"6")])
    # a's first 10 bytes (replaced) and c's first 7 (replaced within the batch) are dead
    assert (spool.size_on_disk, spool.dead_bytes) == (46, 17)
    assert spool.get(["rss:a", "rss:b", "rss:c", "rss:d"]) == {
        "rss:a": b"33333", "rss:b": b"2" * 20, "rss:c": b"555", "rss:d": b"6"}
    spool.keep_only(["rss:a", "rss:c"])
    assert spool.dead_bytes == 17 + 20 + 1
    spool.put(iter([("rss:e", b"77")]))  # any iterable of rows
    assert spool.get(["rss:e"]) == {"rss:e": b"77"}
    spool.close()


def test_dropped_and_replaced_bodies_are_reclaimed_once_they_outweigh_the_live_ones() -> None:
    spool = FragmentSpool(compact_min=100_000)
    live = {f"json:{n}": bytes([n % 256]) * 1000 for n in range(50)}  # 50 kB that stay
    spool.put(list(live.items()))
    for round_ in range(20):  # a long-running server: the same keys rendered again and again
        spool.put([(f"atom:{n}", bytes([round_]) * 1000) for n in range(30)])
        spool.keep_only([*live, *(f"atom:{n}" for n in range(30))])
    assert spool.size_on_disk < 250_000, spool.size_on_disk  # 20 rounds appended 600 kB
    assert spool.get(list(live)) == live
    assert spool.get(["atom:7"]) == {"atom:7": bytes([19]) * 1000}
    spool.keep_only(["json:1"])
    assert spool.present(list(live)) == {"json:1"}


def test_a_file_that_fails_means_not_stored_never_an_error(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    spool = FragmentSpool()
    spool.put([("rss:a", b"A" * 100)])

    def full(fd: int, data: object, offset: int) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    spool.put([("rss:b", b"B" * 100)])  # not stored, and the spool starts again
    assert spool.get(["rss:b"]) == {}
    assert "No space left on device" in caplog.text
    monkeypatch.undo()
    spool.put([("rss:c", b"C")])
    assert spool.get(["rss:c"]) == {"rss:c": b"C"}


def test_a_build_without_a_cache_keeps_no_file_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The spool's file is unlinked as it is made: nothing is left in the temporary folder, even if
    # the process dies; archives are still put together from it.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(30):
        (articles / f"{n:03d}.md").write_text(article_text(**sample_fields(n)), "utf-8")
    build = Build(articles, Settings(base_url="https://feeds.example", limit=5, archive_size=5))
    build.load()
    assert isinstance(build.builder.fragments[0].store, FragmentSpool)
    archives = [path for path in build.site if "/archive/" in path]
    assert archives
    assert all(build.site[path].body for path in archives)
    assert list(scratch.iterdir()) == []


def test_gets_in_several_threads_read_whole_runs_and_see_every_put_and_compaction_right() -> None:
    """Reads happen outside the lock, through a descriptor of each get's own, one `pread` for a run
    of fragments that lie end to end: while other threads read, puts replace bodies and compactions
    swap the file, and every body a get gives is whole and one that key was given; at the end,
    each key's latest."""
    spool = FragmentSpool(compact_min=64 << 10)
    rng = random.Random(11)
    keys = [f"atom:{n:032x}" for n in range(400)]

    def body(key: str, version: int) -> bytes:
        return f"{key}:{version}:".encode() * (1 + int(key[-3:], 16) % 40)

    latest = dict.fromkeys(keys, 0)
    spool.put([(key, body(key, 0)) for key in keys])  # end to end: whole runs to read
    errors: list[str] = []
    stop = threading.Event()

    def reader(seed: int) -> None:
        pick = random.Random(seed)
        while not stop.is_set():
            wanted = keys[pick.randrange(0, 300):][: pick.randrange(1, 120)]
            for key, got in spool.get(wanted).items():
                version = int(got.split(b":")[2])
                if got != body(key, version) or version > latest[key]:  # torn, misplaced or from nowhere
                    errors.append(f"{key}: {got[:60]!r}")

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    try:
        for version in range(1, 60):
            changed = rng.sample(keys, 40)
            for key in changed:  # before the put: a reader may see the new version at once
                latest[key] = version
            spool.put([(key, body(key, version)) for key in changed])
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:5]
    assert spool.get(keys) == {key: body(key, version) for key, version in latest.items()}
    assert spool.dead_bytes < spool.size_on_disk  # it did compact along the way
    spool.close()
