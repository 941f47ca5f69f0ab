"""What a store reads back can never run code nor change a byte of output (issue 16, must-have 1).

Each store (the parse cache's entry and outcome blobs, the fragment store's bodies, the saved server
state) is tampered with as an attacker or a failing disk would: a planted pickle that would create a
marker file when unpickled, a planted blob of the stores' own format with the wrong values, bytes
flipped, the file cut short. Each time nothing runs, and the next build publishes exactly the bytes
of a build with no cache at all.
"""

from __future__ import annotations

import builtins
import os
import pickle
import shutil
import sqlite3
import stat
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import msgpack
import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from feedpub.stores import saved_state
from feedpub.stores.databases import UnsafeFolder
from feedpub.stores.packing import digest, sealed
from tests.helpers import SEEDS

SETTINGS = Settings(base_url="https://feeds.example", limit=5, archive_size=7)  # archives come from the store
NOW = datetime(2027, 1, 1, tzinfo=UTC)  # after every seed article
HOUR_AGO = time.time() - 3600


class Planted:
    """Unpickling this creates the marker file: what a planted cache row did before."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (builtins.open, (str(self.marker), "w"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    for path in folder.iterdir():
        os.utime(path, (HOUR_AGO, HOUR_AGO))  # older than the racy second: the cache keeps them
    return folder


def published(build: Build) -> dict[str, bytes]:
    return {path: document.body for path, document in build.site.items()}


def built(folder: Path, cache: Path | None) -> Build:
    build = Build(folder, SETTINGS, cache_dir=cache)
    build.load(now=NOW)
    return build


def settle(database: Path) -> None:
    """Everything in the main file (as after the last connection closed), so it can be cut or flipped."""
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def flip(blob: bytes) -> bytes:
    middle = len(blob) // 2
    return blob[:middle] + bytes([blob[middle] ^ 0x20]) + blob[middle + 1 :]


Change = Callable[[str, str, bytes, bytes], bytes]  # (column, row key, blob, another row's blob) → new blob


def rewrite(database: Path, table: str, key: str, column: str, change: Change) -> int:
    """Apply `change` to the column of every row; returns how many rows it changed."""
    with sqlite3.connect(database) as db:
        rows = db.execute(f"SELECT rowid, {key}, {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
        db.executemany(f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                       [(change(column, name, blob, rows[index - 1][2]), rowid)
                        for index, (rowid, name, blob) in enumerate(rows)])
    db.close()
    return len(rows)


def hostile_format(column: str, name: str, blob: bytes, other: bytes) -> bytes:
    """A blob of the stores' own format, its digest right: values feedpub never writes (the parse
    cache), or another article's item (the fragment store, whose bodies are bytes)."""
    if column == "body":
        return other
    return sealed(("https://evil.example/", "not a date", None, 7, (), "yes", 3, ()), f"{name}\0{column}")


def extension_type(column: str, name: str, blob: bytes, other: bytes) -> bytes:
    body = msgpack.packb(msgpack.ExtType(5, b"code"))
    return digest(body, f"{name}\0{column}") + body


@pytest.fixture
def reference(folder: Path) -> dict[str, bytes]:
    return published(built(folder, None))


STORES = {"parse cache entries": ("parsed", "files", "path", "entry"),
          "parse cache outcomes": ("parsed", "files", "path", "outcome"),
          "fragments": ("fragments", "fragments", "key", "body")}


# A fragment's body is bytes, not values: it has no extension types to refuse.
@pytest.mark.parametrize(("store", "how"), [
    (store, how) for store in STORES for how in ("hostile pickle", "hostile blob of the format", "extension type",
                                                 "flipped bytes") if not (store == "fragments" and how == "extension type")])
def test_a_tampered_row_runs_nothing_and_changes_no_byte(folder: Path, tmp_path: Path, reference: dict[str, bytes],
                                                         store: str, how: str, caplog: pytest.LogCaptureFixture) -> None:
    cache = tmp_path / "cache"
    marker = tmp_path / "marker"
    assert published(built(folder, cache)) == reference
    prefix, table, key, column = STORES[store]
    (database,) = cache.glob(f"{prefix}-*.sqlite3")
    settle(database)
    change: Change = {"hostile pickle": lambda *_: pickle.dumps(Planted(marker)),
                      "hostile blob of the format": hostile_format, "extension type": extension_type,
                      "flipped bytes": lambda _column, _name, blob, _other: flip(blob)}[how]
    assert rewrite(database, table, key, column, change) > 100
    if column == "outcome":  # full articles are read only to render items the fragment store lacks
        for stored in cache.glob("fragments-*"):
            stored.unlink()
    again = built(folder, cache)
    assert not marker.exists()
    assert published(again) == reference
    assert sum("was damaged" in record.getMessage() for record in caplog.records) == 1
    # The damaged rows were replaced from the files: a third run finds a sound store.
    caplog.clear()
    assert published(built(folder, cache)) == reference
    assert not any("was damaged" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("prefix", ["parsed", "fragments"])
@pytest.mark.parametrize("keep", [0.5, 0.05])
def test_a_truncated_database_is_made_anew(folder: Path, tmp_path: Path, reference: dict[str, bytes], prefix: str,
                                           keep: float) -> None:
    cache = tmp_path / "cache"
    built(folder, cache)
    (database,) = cache.glob(f"{prefix}-*.sqlite3")
    settle(database)
    size = database.stat().st_size
    os.truncate(database, int(size * keep))
    assert published(built(folder, cache)) == reference
    assert published(built(folder, cache)) == reference  # and the run after it, from the store made anew
    settle(database)
    assert database.stat().st_size > size // 2


# -- the saved server state ---------------------------------------------------------------------

@pytest.fixture
def state(folder: Path, tmp_path: Path) -> tuple[Path, str]:
    build = built(folder, tmp_path / "cache")
    path = tmp_path / "cache" / "site.state"
    saved_state.write(path, build.saved_state())
    assert saved_state.read(path, build.state_key) is not None
    return path, build.state_key


def _header_of(path: Path) -> tuple[bytes, int]:
    data = path.read_bytes()
    start = len(saved_state.MAGIC) + 1 + 64
    length = int.from_bytes(data[start : start + 8], "little")
    return data, start + 8 + 32 + length


@pytest.mark.parametrize("how", ["hostile pickle", "flipped header", "flipped body", "truncated", "empty",
                                 "hostile values, digests right", "nothing after the header"])
def test_a_tampered_saved_state_is_not_used(state: tuple[Path, str], tmp_path: Path, how: str,
                                            caplog: pytest.LogCaptureFixture) -> None:
    import hashlib

    path, key = state
    marker = tmp_path / "marker"
    data, header_end = _header_of(path)
    if how == "hostile pickle":
        path.write_bytes(pickle.dumps((2, Planted(marker))))
    elif how == "flipped header":
        path.write_bytes(flip(data[:header_end]) + data[header_end:])
    elif how == "flipped body":
        path.write_bytes(data[:header_end] + flip(data[header_end:]))
    elif how == "truncated":
        path.write_bytes(data[: len(data) * 3 // 4])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "nothing after the header":
        path.write_bytes(data[:header_end])
    else:  # a file made to look like a state, with values feedpub never writes
        header = msgpack.packb({"outputs": (("index.html", 5, None, "x", 7),), "files": (1,)})
        prefix = saved_state.MAGIC + bytes([3]) + key.encode() + len(header).to_bytes(8, "little")
        path.write_bytes(prefix + hashlib.sha256(prefix + header).digest() + header + b"HACKED!"
                         + hashlib.sha256(b"HACKED!").digest())
    assert saved_state.read(path, key) is None
    assert not marker.exists()
    assert any("was damaged" in record.getMessage() for record in caplog.records)


def test_a_state_under_another_key_is_not_damage(state: tuple[Path, str], caplog: pytest.LogCaptureFixture) -> None:
    path, _ = state
    assert saved_state.read(path, "0" * 64) is None
    assert not any("was damaged" in record.getMessage() for record in caplog.records)


def test_a_live_server_with_a_damaged_state_starts_from_the_files(folder: Path, tmp_path: Path,
                                                                  reference: dict[str, bytes]) -> None:
    from feedpub.server.live.live_site import LiveSite

    cache = tmp_path / "cache"
    first = LiveSite(folder, SETTINGS, cache_dir=cache)
    first.start()
    first.save_on_exit()
    (path,) = cache.glob("site-*.state")
    path.write_bytes(flip(path.read_bytes()))
    second = LiveSite(folder, SETTINGS, cache_dir=cache)
    second.start()
    assert second.resumed is None  # loaded, not resumed
    assert published(second.rebuilder.build) == published(first.rebuilder.build) == reference


# -- who may write the cache folder -------------------------------------------------------------

def test_the_cache_folder_is_made_private(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "new" / "cache"
    built(folder, cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_cache_folder_others_can_write_is_refused_saying_why(folder: Path, tmp_path: Path, mode: int) -> None:
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(mode)
    with pytest.raises(UnsafeFolder, match="can be written by other users"):
        Build(folder, SETTINGS, cache_dir=cache)
    assert list(cache.iterdir()) == []  # nothing read, nothing made


def test_the_command_line_says_why_it_refuses_a_cache_folder(folder: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from feedpub.cli import main

    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o777)
    result = CliRunner().invoke(main, ["export", str(folder), "--out", str(tmp_path / "site"), "--cache-dir", str(cache),
                                       "--base-url", "https://news.example.com"])
    assert result.exit_code == 1
    assert "can be written by other users" in result.output and "chmod 700" in result.output
    assert "Traceback" not in result.output


# -- the plain values are the objects, field for field ----------------------------------------------

def test_every_field_of_an_article_survives_the_plain_values() -> None:
    """A field added to the model and not to `packing` would be lost in the cache: this says so."""
    import dataclasses

    from feedpub.reading.article import Article, Extras, article_digest
    from feedpub.reading.article_file import ParsedFile
    from feedpub.reading.folder import Folder
    from feedpub.stores.packing import article_from, article_values, unpack

    assert {f.name for f in dataclasses.fields(Article)} == {
        "url", "title", "summary", "published", "provider", "topics", "image", "related", "category", "kind",
        "quality", "heat", "draft", "source", "extras"}, "a new Article field: teach stores/packing.py to keep it"
    assert len(dataclasses.fields(Extras)) == 13, "a new Extras field: teach stores/packing.py to keep it"
    folder = Folder(SEEDS)
    seen_extras = 0
    for rel in folder.scan():
        parsed = folder.read(rel)
        if not isinstance(parsed, ParsedFile):
            continue
        article = parsed.article
        back = article_from(unpack(sealed(article_values(article), "x")[16:]))
        assert repr(back) == repr(article) and article_digest(back) == article_digest(article), rel
        seen_extras += article.extras != Extras()
    assert seen_extras > 0  # the seeds exercise the JSON API's fields too
