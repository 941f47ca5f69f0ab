"""The static export: the URL tree, determinism, atomicity and incrementality."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from feedpub import export as export_module
from feedpub.build import Build
from feedpub.export import ExportError, export_site, store_of
from feedpub.render.outputs import Output
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields

SETTINGS = Settings(base_url="https://news.example.com")


def site_of(folder: Path, settings: Settings = SETTINGS):
    return loaded(Build(folder, settings))


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_export_writes_the_url_tree(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = export_site(site_of(articles), out)
    files = set(tree(out))
    assert {"index.html", "_headers", "feeds/index.opml", "feeds/index.json"} <= files
    for fmt in ("rss", "atom", "json"):
        assert f"feeds/all.{fmt}" in files
        assert f"feeds/topics/world.{fmt}" in files and f"feeds/topics/science.{fmt}" in files
        assert f"feeds/providers/news0.example.com.{fmt}" in files
    assert result.files == len(files) == result.written and result.removed == 0


def test_same_articles_give_byte_identical_exports(articles: Path, tmp_path: Path) -> None:
    export_site(site_of(articles), tmp_path / "one")
    # Same articles, other file names and creation order.
    other = tmp_path / "other"
    other.mkdir()
    for n in reversed(range(6)):
        (other / f"renamed-{n}.md").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    export_site(site_of(other), tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_unchanged_files_are_not_rewritten_and_stale_files_are_removed(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    before = {path: os.stat(out / path) for path in tree(out)}

    # Every odd article loses the Science topic, so that topic's three feeds disappear.
    for n in (1, 3, 5):
        (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=["World"])), encoding="utf-8")
    result = export_site(site_of(articles), out)
    after = tree(out)
    assert not any(p.startswith("feeds/topics/science.") for p in after)
    assert result.removed == 4  # its three feeds and its page
    untouched = [p for p in after if os.stat(out / p).st_mtime_ns == before[p].st_mtime_ns]
    # The same file, not a copy: a hard link into the new generation keeps inode and mtime.
    assert "_headers" in untouched and os.stat(out / "_headers").st_ino == before["_headers"].st_ino
    assert result.written == len(after) - len(untouched)


def test_a_rerun_with_nothing_changed_writes_nothing(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    target = os.readlink(out)
    mtimes = {p: os.stat(out / p).st_mtime_ns for p in tree(out)}
    result = export_site(site_of(articles), out)
    assert (result.written, result.removed, result.changed) == (0, 0, False)
    assert os.readlink(out) == target
    assert {p: os.stat(out / p).st_mtime_ns for p in tree(out)} == mtimes


def test_one_changed_article_rewrites_only_its_feeds(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    before = tree(out)
    mtimes = {p: os.stat(out / p).st_mtime_ns for p in before}
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")
    result = export_site(site_of(articles), out)
    after = tree(out)
    changed = {p for p in after if after[p] != before.get(p)}
    rewritten = {p for p in after if os.stat(out / p).st_mtime_ns != mtimes.get(p)}
    assert rewritten == changed and result.written == len(changed)
    # Article 4: provider news1, topic World only (even number), within the all feed.
    assert {"feeds/all.rss", "feeds/topics/world.rss", "feeds/providers/news1.example.com.rss"} <= changed
    assert "feeds/providers/news0.example.com.rss" not in changed
    assert "feeds/topics/science.rss" not in changed


def test_a_failure_half_way_leaves_the_previous_export_intact(articles: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    before = tree(out)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")

    real_open = open
    calls = {"n": 0}

    def failing_open(path, mode="r", *args, **kwargs):
        if "x" in mode:
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(28, "No space left on device", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(export_module, "open", failing_open, raising=False)
    with pytest.raises(ExportError, match="No space left on device"):
        export_site(site_of(articles), out)
    monkeypatch.undo()
    assert tree(out) == before
    # Nothing half-written is left beside it either.
    assert [p.name for p in store_of(out).iterdir() if p.is_dir()] == [os.path.basename(os.readlink(out))]
    # And the next run completes.
    export_site(site_of(articles), out)
    assert b"New" in (out / "feeds/all.rss").read_bytes()


def test_read_only_output_folder_is_a_clear_error(articles: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            export_site(site_of(articles), parent / "site")
    finally:
        parent.chmod(0o700)


def test_read_only_filesystem_is_a_clear_error_and_keeps_the_export(articles: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    before = tree(out)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")

    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    with pytest.raises(ExportError, match="Read-only file system"):
        export_site(site_of(articles), out)
    monkeypatch.undo()
    assert tree(out) == before


def test_refuses_to_replace_a_folder_it_did_not_make(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not a feedpub export"):
        export_site(site_of(articles), out)
    assert (out / "keep.txt").read_text() == "mine"


def test_an_empty_folder_given_as_out_is_taken_over(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    export_site(site_of(articles), out)
    assert out.is_symlink() and (out / "index.html").is_file()


def test_export_bytes_equal_the_site_map(articles: Path, tmp_path: Path) -> None:
    site = site_of(articles)
    export_site(site, tmp_path / "site")
    written = tree(tmp_path / "site")
    assert written == {path: output.body for path, output in site.items()}
    for output in site.values():
        if isinstance(output, Output):  # a document made when asked for has the ETag of what it is made of
            assert output.etag.strip('"') == hashlib.sha256(output.body).hexdigest()[:32]


def test_the_previous_generation_outlives_one_export_for_readers_still_walking_it(articles: Path,
                                                                                tmp_path: Path) -> None:
    out = tmp_path / "site"
    generations = []
    for n in range(3):
        (articles / "000.txt").write_text(article_text(**sample_fields(0, title=f"Round {n}")), encoding="utf-8")
        export_site(site_of(articles), out)
        generations.append(os.path.basename(os.readlink(out)))
    kept = sorted(p.name for p in store_of(out).iterdir() if p.is_dir())
    assert kept == sorted(generations[1:])  # the current one and the one before it


def test_overlapping_exports_take_turns(articles: Path, tmp_path: Path) -> None:
    import fcntl
    import threading

    out = tmp_path / "site"
    export_site(site_of(articles), out)
    lock = open(store_of(out) / ".lock", "a")  # noqa: SIM115  (held across the threads below)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another export is running
    done = threading.Event()
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Waited")), encoding="utf-8")
    def export_then_say_so() -> None:
        export_site(site_of(articles), out)
        done.set()

    worker = threading.Thread(target=export_then_say_so)
    worker.start()
    assert not done.wait(0.5)
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()
    assert done.wait(10)
    worker.join()
    assert b"Waited" in (out / "feeds/all.rss").read_bytes()


def test_a_file_name_that_is_not_utf8_is_read_and_never_breaks_the_cache(articles: Path, tmp_path: Path) -> None:
    from feedpub.build import Build

    name = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 file name, as old sync tools write them
    (articles / name).write_text(article_text(**sample_fields(9, title="Latin-1 name")), encoding="utf-8")
    past = 1_700_000_000
    for path in articles.iterdir():
        os.utime(path, (past, past))
    for _ in range(2):  # the second run reads the cache
        build = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
        site = loaded(build)
        assert b"Latin-1 name" in site["feeds/all.rss"].body
