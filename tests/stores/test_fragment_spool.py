"""The fragments of a build without a cache: one unlinked file and an index, bounded on disk, and
"not stored" (never a failed build) when the file fails."""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import threading
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from feedpub.stores.fragment_spool import FragmentSpool, read_places
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


# -- forked processes appending (the render workers of a cold build) -----------------------------

needs_fork = pytest.mark.skipif(sys.platform != "linux", reason="the render workers write the spool only when forked")


@needs_fork
def test_forked_processes_append_beside_the_parent_and_every_fragment_reads_back_whole() -> None:
    spool = FragmentSpool()
    spool.put([("rss:before", b"b" * 100)])
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    with spool.appending() as appender:
        assert appender is not None

        def child(number: int) -> None:
            for round_ in range(20):  # appends racing each other's and the parent's puts
                pieces = [f"{number}:{round_}:{k}:".encode() * (k + 1) for k in range(30)]
                results.put((number, round_, appender.append(pieces)))

        children = [context.Process(target=child, args=(number,)) for number in range(3)]
        for process in children:
            process.start()
        for round_ in range(20):
            spool.put([(f"atom:{round_}:{k}", f"parent:{round_}:{k}:".encode() * 7) for k in range(30)])
        reported = [results.get(timeout=60) for _ in range(3 * 20)]
        for process in children:
            process.join(timeout=60)
            assert process.exitcode == 0
        for number, round_, places in reported:
            assert places is not None
            names = [f"{number}:{round_}:{k}" for k in range(30)]  # keys rss:0:1:2 ...: a kind, then the rest
            assert spool.place("rss", names, places, appender.generation)
    expected = {"rss:before": b"b" * 100}
    expected |= {f"rss:{n}:{r}:{k}": f"{n}:{r}:{k}:".encode() * (k + 1) for n in range(3) for r in range(20)
                 for k in range(30)}
    expected |= {f"atom:{r}:{k}": f"parent:{r}:{k}:".encode() * 7 for r in range(20) for k in range(30)}
    assert spool.get(list(expected)) == expected
    # No span was written twice or left empty: the file is exactly what it holds, and goes on from its end.
    assert (spool.size_on_disk, spool.dead_bytes) == (sum(map(len, expected.values())), 0)
    spool.put([("json:after", b"after")])
    assert spool.get(["json:after", "rss:before"]) == {"json:after": b"after", "rss:before": b"b" * 100}
    spool.close()


@needs_fork
def test_places_in_a_file_since_replaced_are_refused_and_compaction_waits_for_the_appenders(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spool = FragmentSpool(compact_min=1000)
    spool.put([(f"rss:{n}", b"x" * 100) for n in range(40)])
    with spool.appending() as appender:
        assert appender is not None
        spool.keep_only([])  # 4,000 dead bytes, none live: due, but the appenders write into this file
        places = appender.append([b"late" * 10])
        assert places is not None
        assert spool.size_on_disk >= 4000
        assert spool.place("rss", ["late"], places, appender.generation)
    assert spool.size_on_disk == 40 and spool.get(["rss:late"]) == {"rss:late": b"late" * 10}  # compacted after

    with spool.appending() as appender:
        assert appender is not None
        places = appender.append([b"lost"])
        assert places is not None

        def full(fd: int, data: object, offset: int) -> int:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "pwrite", full)
        spool.put([("rss:b", b"B")])  # fails: the spool starts a new file
        monkeypatch.undo()
        assert not spool.place("rss", ["lost"], places, appender.generation)  # a place in the old file
        assert appender.append([b"also lost"]) is not None  # the old file still takes the write
        spool.put([("rss:c", b"C")])  # the new file: from its own start, not the appenders' counter
    assert spool.get(["rss:lost", "rss:late", "rss:c"]) == {"rss:c": b"C"}
    assert spool.size_on_disk == 1
    spool.close()


def test_keys_of_every_shape_are_kept_apart_by_kind_and_found_by_locate_with_their_names() -> None:
    spool = FragmentSpool(compact_min=1)
    bodies = {"plain": b"no kind", "rss:a": b"rss a", "atom:a": b"atom a", "rss:b:c": b"two colons", ":x": b"empty kind",
              "rss:": b"empty name"}
    spool.put(list(bodies.items()))
    assert spool.get([*bodies, "rss:plain", "atom:b:c", "x"]) == bodies
    assert spool.present(["rss:a", "json:a", "plain", "rss:b"]) == {"rss:a", "plain"}
    found = spool.locate("rss", ["b:c", "a", ""])
    assert found is not None
    fd, generation, places = found
    assert generation == spool.generation and read_places(fd, places) == [b"two colons", b"rss a", b"empty name"]
    assert spool.locate("rss", ["a", "missing"]) is None and spool.locate("json", ["a"]) is None
    spool.keep_only(["atom:a", "rss:b:c", "plain"])  # the dead outweigh the live: compacted
    assert spool.get(list(bodies)) == {key: bodies[key] for key in ("atom:a", "rss:b:c", "plain")}
    assert spool.size_on_disk == len(b"atom a" + b"two colons" + b"no kind")
    spool.close()


def test_keeping_by_kind_and_name_keeps_what_keeping_the_keys_keeps() -> None:
    rng = random.Random(9)
    rows = [(f"{kind}:{n}", rng.randbytes(rng.randrange(1, 300))) for kind in ("rss", "atom", "html") for n in range(200)]
    rows.append(("plain", b"no kind"))
    keep = {"rss": {str(n) for n in range(0, 200, 3)}, "html": {"7", "nope"}, "json": {"1"}}
    by_keys, by_kinds = FragmentSpool(compact_min=1), FragmentSpool(compact_min=1)
    for spool in (by_keys, by_kinds):
        spool.put(rows)
    by_keys.keep_only([f"{kind}:{name}" for kind, names in keep.items() for name in names])
    by_kinds.keep_kinds(keep)
    everything = [key for key, _ in rows]
    kept = {key: body for key, body in rows if key.partition(":")[2] in keep.get(key.partition(":")[0], ())}
    assert by_kinds.get(everything) == by_keys.get(everything) == kept
    assert (by_kinds.size_on_disk, by_kinds.dead_bytes) == (by_keys.size_on_disk, by_keys.dead_bytes)
