"""Two processes of one article folder with other settings, sharing a cache folder (an export with
its base URL beside a preview without): each publishes exactly what it would alone.

They used to share one database per folder and kind: the second to open it dropped the table and
refilled it under its own key while the first kept reading and writing it, and archive documents,
made from stored fragments when asked for, went out with the other's links.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from feedpub.build import Build
from feedpub.settings import Settings
from tests.helpers import SEEDS

NOW = datetime(2027, 1, 1, tzinfo=UTC)
PREVIEW = Settings(base_url="http://127.0.0.1:8000", limit=5, archive_size=7)  # archives come from the store
EXPORT = Settings(base_url="https://news.example.com", limit=5, archive_size=7)


def published(build: Build) -> dict[str, bytes]:
    return {path: document.body for path, document in build.site.items()}


def alone(folder: Path, settings: Settings) -> dict[str, bytes]:
    build = Build(folder, settings)
    build.load(now=NOW)
    return published(build)


def test_two_builds_with_other_base_urls_sharing_a_cache_each_publish_their_own_links(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    hour_ago = time.time() - 3600
    for path in folder.iterdir():
        os.utime(path, (hour_ago, hour_ago))  # older than the racy second: the caches keep them
    cache = tmp_path / "cache"
    preview = Build(folder, PREVIEW, cache_dir=cache)
    preview.load(now=NOW)
    export = Build(folder, EXPORT, cache_dir=cache)
    export.load(now=NOW)
    edited = sorted(folder.glob("*.txt"))[3]
    edited.write_text(edited.read_text().replace("\ntitle: \"", "\ntitle: \"Edited: ", 1))
    for build in (preview, export):
        build.refresh([edited.name], now=NOW)
    mine, theirs = published(preview), published(export)
    assert not [path for path, body in mine.items() if b"news.example.com" in body]
    assert not [path for path, body in theirs.items() if b"127.0.0.1" in body]
    assert mine == alone(folder, PREVIEW)
    assert theirs == alone(folder, EXPORT)


def test_a_database_no_process_holds_goes_and_one_held_stays(tmp_path: Path) -> None:
    root = tmp_path / "articles"
    root.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir()
    from feedpub.stores.databases import cache_path, claim, remove_unclaimed

    ours, held, stale = (cache_path(cache, "fragments", root, key) for key in ("ours", "held", "stale"))
    legacy = cache_path(cache, "fragments", root)  # named before keys were in the names
    for path in (ours, held, stale, legacy):
        path.write_bytes(b"")
        path.with_name(path.name + "-wal").write_bytes(b"")
    other_folder = cache_path(cache, "fragments", tmp_path, "stale")  # another article folder's
    other_folder.write_bytes(b"")
    fd = claim(held)
    try:
        remove_unclaimed(ours, "fragments", root)
        assert ours.exists() and held.exists() and other_folder.exists()
        assert not stale.exists() and not stale.with_name(stale.name + "-wal").exists() and not legacy.exists()
    finally:
        os.close(fd)
    remove_unclaimed(ours, "fragments", root)
    assert not held.exists()
