"""The parse cache: unchanged files are not parsed again, and a hit gives what a parse would."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from feedpub.reading.library import Library
from feedpub.render.site import Site
from feedpub.settings import Settings
from feedpub.stores.keys import StoreKeys
from feedpub.stores.parse_cache import ParseCache
from tests.helpers import article_text, library_of, loaded, parsed, sample_fields

PARSE_KEY = StoreKeys(Settings()).parses()


def settle(folder: Path, only: str | None = None) -> None:
    """Date files two seconds back: files written within the last second are never cached."""
    past = time.time() - 2
    for path in [folder / only] if only else folder.rglob("*"):
        os.utime(path, (past, past))


def library(folder: Path, cache_dir: Path, key: str = PARSE_KEY) -> Library:
    lib = library_of(folder, cache=ParseCache.for_folder(cache_dir, folder, key=key))
    lib.load()
    return lib


def test_a_second_load_parses_nothing_and_gives_the_same_articles(articles: Path, tmp_path: Path) -> None:
    (articles / "bad.txt").write_text("---\n- not a mapping\n---\n")
    settle(articles)
    first = library(articles, tmp_path / "c")
    assert first.loader.parsed_last == 7
    second = library(articles, tmp_path / "c")
    assert second.loader.parsed_last == 0
    assert second.good == first.good
    assert {r: parsed(second, r) for r in second.good} == {r: parsed(first, r) for r in first.good}
    assert second.bad == first.bad and "bad.txt" in second.bad


def test_a_changed_file_is_parsed_again(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    (articles / "002.txt").write_text(article_text(**sample_fields(2, title="Changed title")), encoding="utf-8")
    settle(articles, "002.txt")
    again = library(articles, tmp_path / "c")
    assert again.loader.parsed_last == 1
    assert parsed(again, "002.txt").title == "Changed title"


def test_files_written_a_moment_ago_are_not_trusted_to_the_cache(articles: Path, tmp_path: Path) -> None:
    now = time.time()
    for path in articles.iterdir():  # written just now, whatever the fixture took on a busy machine
        os.utime(path, (now, now))
    library(articles, tmp_path / "c")  # every file is brand new: none cached
    assert library(articles, tmp_path / "c").loader.parsed_last == 6


def test_new_parsing_code_drops_the_cache(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    assert library(articles, tmp_path / "c").loader.parsed_last == 0
    assert library(articles, tmp_path / "c", key="another version").loader.parsed_last == 6


def test_deleted_files_leave_the_cache(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    (articles / "001.txt").unlink()
    library(articles, tmp_path / "c")
    cache = ParseCache.for_folder(tmp_path / "c", articles, key=PARSE_KEY)
    assert cache is not None and sorted(rel for rel, _, _ in cache.entries()) == [
        "000.txt", "002.txt", "003.txt", "004.txt", "005.txt"]


def test_an_unusable_cache_is_no_cache(articles: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert ParseCache.for_folder(blocker, articles, key=PARSE_KEY) is None
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    lib = library(articles, corrupt)
    db = next(corrupt.glob("parsed-*.sqlite3"))
    db.write_bytes(b"this is not a database" * 100)
    for extra in corrupt.glob("parsed-*.sqlite3-*"):
        extra.unlink()
    again = library_of(articles, cache=ParseCache.for_folder(corrupt, articles, key=PARSE_KEY))
    again.load()
    assert len(again.good) == len(lib.good) == 6


def test_a_read_error_is_not_cached(articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    settle(articles)
    real_open = os.open  # what an article file is opened with (O_NONBLOCK: see read_article)

    def unreadable(path, *args, **kwargs):
        if str(path).endswith("003.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", unreadable)
    first = library(articles, tmp_path / "c")
    assert first.bad["003.txt"].startswith("cannot read:")
    monkeypatch.undo()
    again = library(articles, tmp_path / "c")  # readable now, though size, mtime and inode are the same
    assert "003.txt" not in again.bad and again.loader.parsed_last == 1


# -- full articles stay on disk ---------------------------------------------------------------

def _titles(site: Site, path: str = "feeds/all.json") -> list[str]:
    import json

    return [item["title"] for item in json.loads(site[path].body)["items"]]


def test_with_a_cache_only_entries_stay_in_memory_and_the_feeds_are_the_same(articles: Path, tmp_path: Path) -> None:
    from feedpub.build import Build
    from feedpub.settings import Settings

    settle(articles)
    plain = loaded(Build(articles, Settings()))
    cached = Build(articles, Settings(), cache_dir=tmp_path / "c")
    def bodies(site: Any) -> dict[str, bytes]:
        return {path: output.body for path, output in site.items()}

    assert bodies(loaded(cached)) == bodies(plain)
    assert cached.library._held == {}  # every full article can be fetched from the cache
    warm = Build(articles, Settings(), cache_dir=tmp_path / "c")
    assert bodies(loaded(warm)) == bodies(plain) and warm.library.loader.parsed_last == 0 and warm.library._held == {}
    # Without a cache (or for a file too new to cache) the full articles are the only copy.
    assert len(Build(articles, Settings()).library._held) == 0  # nothing read yet
    nocache = Build(articles, Settings())
    nocache.load()
    assert sorted(nocache.library._held) == sorted(nocache.library.good)


def test_a_file_too_new_to_cache_is_kept_in_memory(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    (articles / "006.txt").write_text(article_text(**sample_fields(6, title="Brand new")), encoding="utf-8")
    lib = library(articles, tmp_path / "c")
    assert sorted(lib._held) == ["006.txt"]
    assert parsed(lib, "006.txt").title == "Brand new"


def test_a_broken_file_keeps_its_last_good_version_when_only_the_cache_held_it(articles: Path, tmp_path: Path) -> None:
    from feedpub.build import Build
    from feedpub.settings import Settings

    settle(articles)
    build = Build(articles, Settings(), cache_dir=tmp_path / "c")
    build.load()
    assert "Headline number 2" in _titles(build.site) and build.library._held == {}
    (articles / "002.txt").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    settle(articles, "002.txt")
    build.refresh(["002.txt"])
    assert "invalid YAML" in build.library.bad["002.txt"]
    assert parsed(build.library, "002.txt").title == "Headline number 2"  # now held in memory
    # Any later render that needs it (here: its fragments are gone) still finds the article.
    fresh = Build(articles, Settings(), cache_dir=tmp_path / "c2")
    fresh.library, fresh.catalog = build.library, build.catalog
    fresh.refresh(["003.txt"])
    (articles / "003.txt").unlink()
    fresh.refresh(["003.txt"])
    assert "Headline number 2" in _titles(fresh.site)


def test_an_article_changed_by_another_process_is_read_again_before_it_is_rendered(tmp_path: Path,
                                                                                     write_article) -> None:
    """Two processes share a folder's cache. When one re-parses a changed file first, the other
    finds its old version gone from the cache the moment it needs it, and publishes the file as it is."""
    from feedpub.build import Build
    from feedpub.settings import Settings

    shared = {"provider": {"name": "Same", "domain": "same.example"}, "topics": ["World"]}
    write_article("old.txt", **sample_fields(5, title="Older story", **shared))
    write_article("new.txt", **sample_fields(1, title="Newer story", **shared))
    folder = tmp_path / "articles"
    settle(folder)
    server = Build(folder, Settings(limit=1), cache_dir=tmp_path / "c")
    server.load()
    assert _titles(server.site) == ["Newer story"]  # the older one is in no feed: never rendered
    write_article("old.txt", **sample_fields(5, title="Older story, corrected", **shared))
    settle(folder, "old.txt")
    Build(folder, Settings(limit=1), cache_dir=tmp_path / "c").load()  # e.g. an export: re-parses old.txt
    (folder / "new.txt").unlink()
    server.refresh(["new.txt"])  # before the server has seen old.txt change
    assert _titles(server.site) == ["Older story, corrected"]
    assert parsed(server.library, "old.txt").title == "Older story, corrected"


def test_an_entry_read_back_from_the_cache_has_every_field_of_a_fresh_one(articles: Path, tmp_path: Path) -> None:
    from dataclasses import fields

    (articles / "odd.txt").write_text(article_text(**sample_fields(
        7, publishedDateTime="2024-02-29T23:59:59.123456+05:30", topics=[], quality="high")), encoding="utf-8")
    settle(articles)
    first = library(articles, tmp_path / "c")
    second = library(articles, tmp_path / "c")
    assert second.loader.parsed_last == 0 and first.good.keys() == second.good.keys()
    for rel, entry in first.good.items():
        again = second.good[rel]
        assert [getattr(again, f.name) for f in fields(again)] == [getattr(entry, f.name) for f in fields(entry)]
        assert again.published.utcoffset() == timedelta(0) and again.sort_key == entry.sort_key
    odd = second.good["odd.txt"]
    assert odd.warnings and (odd.published.hour, odd.published.minute, odd.published.second) == (18, 29, 59)


def test_a_full_article_missing_from_the_cache_is_read_again_from_its_file(articles: Path, tmp_path: Path) -> None:
    """The cache is only an accelerator: rows lost (cleared, or a failed write) mean reading the file."""
    import sqlite3

    settle(articles)
    lib = library(articles, tmp_path / "c")
    assert lib._held == {}
    for db in (tmp_path / "c").glob("parsed-*.sqlite3"):
        with sqlite3.connect(db) as connection:
            connection.execute("DELETE FROM files")
    assert parsed(lib, "003.txt").title == "Headline number 3"
    (articles / "003.txt").write_text(article_text(**sample_fields(3, title="Rewritten")), encoding="utf-8")
    found, gone = lib.articles_for([lib.good["003.txt"]])  # the file no longer holds the version its entry describes
    assert found == {} and gone == ["003.txt"]


def test_articles_from_the_cache_come_packed_and_a_damaged_one_is_read_from_its_file(articles: Path,
                                                                                     tmp_path: Path) -> None:
    """Articles the cache holds are handed on as their stored outcomes (checked, then kept packed for
    the render workers to unpack themselves); one whose row is damaged is read again from its file."""
    import sqlite3

    from feedpub.reading.library import unpacked

    settle(articles)
    lib = library(articles, tmp_path / "c")
    entries = [lib.good["003.txt"], lib.good["004.txt"]]
    fresh = library_of(articles)  # no cache: the articles as parsed
    fresh.load()
    expected = {entry.source: parsed(fresh, entry.source) for entry in entries}
    (db,) = (tmp_path / "c").glob("parsed-*.sqlite3")
    with sqlite3.connect(db) as connection:  # one byte of 004's stored article flipped
        (blob,) = connection.execute("SELECT outcome FROM files WHERE path = '004.txt'").fetchone()
        damaged = blob[:-1] + bytes([blob[-1] ^ 1])
        connection.execute("UPDATE files SET outcome = ? WHERE path = '004.txt'", (damaged,))
    found, gone = lib.articles_for(entries)
    assert gone == []
    kept, again = (found.raw(entry.digest) for entry in entries)
    assert isinstance(kept, tuple) and kept[0] == "003.txt"  # packed: (path, stored outcome)
    assert not isinstance(again, tuple)  # read again from the file
    for entry in entries:
        assert found[entry.digest] == unpacked(found.raw(entry.digest)) == expected[entry.source]


def test_rows_in_looks_up_more_keys_than_sqlite_takes_in_one_query() -> None:
    import sqlite3

    from feedpub.stores.databases import rows_in

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (key TEXT PRIMARY KEY, value INT)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [(f"k{n}", n) for n in range(3000)])
    wanted = [f"k{n}" for n in range(0, 3000, 2)] + ["missing"]  # 1,501 keys: four batches
    assert dict(rows_in(db, "SELECT key, value FROM t WHERE key IN ({marks})", wanted)) == {
        f"k{n}": n for n in range(0, 3000, 2)}


def test_a_workers_outcome_packed_from_the_digested_values_is_the_one_pack_outcome_makes() -> None:
    """`_parse_chunk` packs an article's values once, for its digest and inside its outcome
    (`packed_outcome`): the rows it sends are byte for byte those `pack_outcome` and `Entry.of`
    make, for every seed article (with and without the JSON API's fields) and its warnings."""
    from feedpub.reading.article import Entry
    from feedpub.reading.article_file import ParsedFile
    from feedpub.reading.folder import Folder
    from feedpub.reading.parallel import _pack, _parse_chunk
    from feedpub.stores import parse_cache

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    for extras in (True, False):
        folder = Folder(seeds, extras=extras)
        rels = folder.scan()
        read = folder.reader()
        sent = dict(_parse_chunk((seeds, folder.max_bytes, extras, rels)))
        assert len(sent) == len(rels) > 200
        for rel in rels:
            outcome = read(rel)
            entry = Entry.of(outcome.article, outcome.warnings) if isinstance(outcome, ParsedFile) else None
            assert sent[rel] == _pack(rel, outcome, entry), rel
            assert parse_cache.load_outcome(rel, sent[rel][1]) == outcome


def test_an_entry_a_worker_sent_is_read_as_the_checked_path_reads_it() -> None:
    """The parent reads a worker's entry blobs without checking them again (`entry_from_fresh`): the
    same entry, field for field and with the same shared provider and topics, as the checked path
    (`entry_from_row` of `load_entry`) gives."""
    from dataclasses import fields

    from feedpub.reading.folder import Folder
    from feedpub.reading.parallel import _parse_chunk
    from feedpub.stores import parse_cache
    from feedpub.stores.packing import entry_from_fresh

    seeds = Path(__file__).resolve().parents[2] / "seeds"
    folder = Folder(seeds, extras=False)
    fresh: parse_cache.SharedValues = ({}, {})
    checked: parse_cache.SharedValues = ({}, {})
    read = 0
    for rel, (entry_blob, _) in _parse_chunk((seeds, folder.max_bytes, False, folder.scan())):
        if entry_blob is None:
            continue
        ours = entry_from_fresh(entry_blob, rel, fresh)
        theirs = parse_cache.entry_from_row(parse_cache.load_entry(rel, entry_blob), rel, checked)
        assert [getattr(ours, f.name) for f in fields(ours)] == [getattr(theirs, f.name) for f in fields(theirs)]
        assert ours.published.utcoffset() == timedelta(0)
        read += 1
    assert read > 200
    assert fresh[0].keys() == checked[0].keys() and fresh[1].keys() == checked[1].keys()


def test_packing_from_threads_gives_what_packb_gives() -> None:
    """`pack` keeps one packer per thread: from several threads at once, and after a value it
    cannot pack, every blob is what `msgpack.packb` makes of its value."""
    import threading

    import msgpack

    from feedpub.stores.packing import pack

    values = [(n, "x" * n, ("\udc80", None, 1.5, True)) for n in range(300)]
    wanted = [msgpack.packb(v, use_bin_type=True, unicode_errors="surrogatepass") for v in values]
    found: list[list[bytes]] = []

    def work() -> None:
        with pytest.raises(TypeError):
            pack((1, object()))
        found.append([pack(v) for v in values])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [wanted] * 4
