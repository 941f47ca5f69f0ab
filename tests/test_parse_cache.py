"""The parse cache: unchanged files are not parsed again, and a hit gives what a parse would."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from conftest import article_text, sample_fields
from feeds import parse_cache
from feeds.library import Library
from feeds.parse_cache import ParseCache


def settle(folder: Path, only: str | None = None) -> None:
    """Date files two seconds back: files written within the last second are never cached."""
    past = time.time() - 2
    for path in [folder / only] if only else folder.rglob("*"):
        os.utime(path, (past, past))


def library(folder: Path, cache_dir: Path) -> Library:
    lib = Library(folder, cache=ParseCache.for_folder(cache_dir, folder, max_bytes=1 << 20))
    lib.load()
    return lib


def test_a_second_load_parses_nothing_and_gives_the_same_articles(articles: Path, tmp_path: Path) -> None:
    (articles / "bad.txt").write_text("---\n- not a mapping\n---\n")
    settle(articles)
    first = library(articles, tmp_path / "c")
    assert first.parsed_last == 7
    second = library(articles, tmp_path / "c")
    assert second.parsed_last == 0
    assert {r: p.article for r, p in second.good.items()} == {r: p.article for r, p in first.good.items()}
    assert second.bad == first.bad and "bad.txt" in second.bad


def test_a_changed_file_is_parsed_again(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    (articles / "002.txt").write_text(article_text(**sample_fields(2, title="Changed title")), encoding="utf-8")
    settle(articles, "002.txt")
    again = library(articles, tmp_path / "c")
    assert again.parsed_last == 1
    assert again.good["002.txt"].article.title == "Changed title"


def test_files_written_a_moment_ago_are_not_trusted_to_the_cache(articles: Path, tmp_path: Path) -> None:
    library(articles, tmp_path / "c")  # every file is brand new: none cached
    assert library(articles, tmp_path / "c").parsed_last == 6


def test_new_parsing_code_drops_the_cache(articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    monkeypatch.setattr(parse_cache, "_schema", lambda max_bytes: "another version")
    assert library(articles, tmp_path / "c").parsed_last == 6


def test_deleted_files_leave_the_cache(articles: Path, tmp_path: Path) -> None:
    settle(articles)
    library(articles, tmp_path / "c")
    (articles / "001.txt").unlink()
    library(articles, tmp_path / "c")
    cache = ParseCache.for_folder(tmp_path / "c", articles, max_bytes=1 << 20)
    assert cache is not None and sorted(rel for rel, _, _ in cache.entries()) == [
        "000.txt", "002.txt", "003.txt", "004.txt", "005.txt"]


def test_an_unusable_cache_is_no_cache(articles: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert ParseCache.for_folder(blocker, articles, max_bytes=1 << 20) is None
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    lib = library(articles, corrupt)
    db = next(corrupt.glob("parsed-*.sqlite3"))
    db.write_bytes(b"this is not a database" * 100)
    for extra in corrupt.glob("parsed-*.sqlite3-*"):
        extra.unlink()
    again = Library(articles, cache=ParseCache.for_folder(corrupt, articles, max_bytes=1 << 20))
    again.load()
    assert len(again.good) == len(lib.good) == 6


def test_a_read_error_is_not_cached(articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    settle(articles)
    real_open = builtins.open

    def unreadable(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith("003.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", unreadable)
    first = library(articles, tmp_path / "c")
    assert first.bad["003.txt"].startswith("cannot read:")
    monkeypatch.undo()
    again = library(articles, tmp_path / "c")  # readable now, though size, mtime and inode are the same
    assert "003.txt" not in again.bad and again.parsed_last == 1
