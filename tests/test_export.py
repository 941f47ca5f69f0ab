"""The static export: a plain folder with the URL tree, deterministic, atomic and incremental."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
from pathlib import Path

import pytest

from feedpub import export as export_module
from feedpub.build import Build
from feedpub.exchange import ExchangeUnsupported
from feedpub.export import ExportError, export_folder, export_site
from feedpub.render.outputs import Output
from feedpub.render.site import LazyOutput, Site
from feedpub.settings import Settings
from feedpub.stores.export_record import ExportRecord
from tests.helpers import article_text, loaded, sample_fields

SETTINGS = Settings(base_url="https://news.example.com")
WITH_AND_WITHOUT_CACHE = pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])


def site_of(folder: Path, settings: Settings = SETTINGS) -> Site:
    return loaded(Build(folder, settings))


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {path: (os.stat(out / path).st_ino, os.stat(out / path).st_mtime_ns) for path in tree(out)}


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """feedpub's cache folder, away from the export's parent (as ~/.cache is)."""
    return tmp_path_factory.mktemp("feedpub-cache")


def cache_of(cached: bool, cache: Path) -> Path | None:
    return cache if cached else None


def test_export_writes_the_url_tree_into_a_plain_folder(articles: Path, tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "site"
    result = export_site(site_of(articles), out, cache_dir=cache)
    assert out.is_dir() and not out.is_symlink()
    files = set(tree(out))
    assert {"index.html", "404.html", "_headers", "feeds/index.opml", "feeds/index.json"} <= files
    for fmt in ("rss", "atom", "json"):
        assert f"feeds/all.{fmt}" in files
        assert f"feeds/topics/world.{fmt}" in files and f"feeds/topics/science.{fmt}" in files
        assert f"feeds/providers/news0.example.com.{fmt}" in files
    assert result.files == len(files) == result.written and result.removed == 0 and not result.previous
    assert not any(p.is_symlink() for p in out.rglob("*"))
    # Nothing but the site, and nothing beside it: its records are in the cache folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]
    assert [p.name for p in (cache / os.listdir(cache)[0]).iterdir()] == ["manifest.json"]


def test_same_articles_give_byte_identical_exports(articles: Path, tmp_path: Path) -> None:
    export_site(site_of(articles), tmp_path / "one")
    # Same articles, other file names and creation order.
    other = tmp_path / "other"
    other.mkdir()
    for n in reversed(range(6)):
        (other / f"renamed-{n}.md").write_text(article_text(**sample_fields(n)), encoding="utf-8")
    export_site(site_of(other), tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


@WITH_AND_WITHOUT_CACHE
def test_unchanged_files_keep_inode_and_mtime_and_stale_files_go(articles: Path, tmp_path: Path, cache: Path,
                                                                 cached: bool) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    before = stamps(out)

    # Every odd article loses the Science topic, so that topic's three feeds disappear.
    for n in (1, 3, 5):
        (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=["World"])), encoding="utf-8")
    result = export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    after = stamps(out)
    assert not any(p.startswith("feeds/topics/science.") for p in after)
    assert result.removed == 4  # its three feeds and its page
    assert result.previous and result.atomic
    untouched = {p for p in after if after[p] == before.get(p)}
    # The same file, not a copy: a hard link into the new tree keeps inode and mtime.
    assert {"_headers", "404.html"} <= untouched
    assert result.written == len(after) - len(untouched) and result.changed_paths == set(after) - untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]


@WITH_AND_WITHOUT_CACHE
def test_a_rerun_with_nothing_changed_writes_nothing(articles: Path, tmp_path: Path, cache: Path,
                                                     cached: bool) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    folder = os.stat(out).st_ino
    before = stamps(out)
    result = export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    assert (result.written, result.removed, result.changed) == (0, 0, False)
    assert os.stat(out).st_ino == folder  # not even exchanged
    assert stamps(out) == before


@WITH_AND_WITHOUT_CACHE
def test_one_changed_article_rewrites_only_its_feeds(articles: Path, tmp_path: Path, cache: Path, cached: bool) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    before = tree(out)
    marks = stamps(out)
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")
    result = export_site(site_of(articles), out, cache_dir=cache_of(cached, cache))
    after = tree(out)
    changed = {p for p in after if after[p] != before.get(p)}
    rewritten = {p for p in after if stamps(out)[p] != marks.get(p)}
    assert rewritten == changed == result.changed_paths and result.written == len(changed)
    # Article 4: provider news1, topic World only (even number), within the all feed.
    assert {"feeds/all.rss", "feeds/topics/world.rss", "feeds/providers/news1.example.com.rss"} <= changed
    assert "feeds/providers/news0.example.com.rss" not in changed
    assert "feeds/topics/science.rss" not in changed


def test_a_file_edited_by_hand_is_written_again(articles: Path, tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "site"
    site = site_of(articles)
    export_site(site, out, cache_dir=cache)
    (out / "feeds/all.rss").write_bytes(b"vandalised")
    (out / "stray.txt").write_text("not ours")
    result = export_site(site, out, cache_dir=cache)
    assert result.changed_paths == {"feeds/all.rss"} and result.removed == 1
    assert tree(out) == {path: output.body for path, output in site.items()}


def test_unchanged_archive_documents_are_not_made_to_be_compared(articles: Path, tmp_path: Path, cache: Path) -> None:
    site = dict(site_of(articles, SETTINGS.replace(archive_size=2, limit=2)))
    made: list[str] = []

    def counted(path: str, output: LazyOutput) -> LazyOutput:
        def make() -> bytes:
            made.append(path)
            return output.make()
        return LazyOutput(output.media_type, output.last_modified, make, output.made_of)

    site = {path: counted(path, o) if isinstance(o, LazyOutput) else o for path, o in site.items()}
    lazy = sorted(path for path, o in site.items() if isinstance(o, LazyOutput))
    assert len(lazy) > 10
    out = tmp_path / "site"
    export_site(site, out, cache_dir=cache)
    assert sorted(made) == lazy  # each made once, to be written
    made.clear()
    site["index.html"] = site_of(articles, SETTINGS.replace(title="Renamed"))["index.html"]
    result = export_site(site, out, cache_dir=cache)
    assert result.changed_paths == {"index.html"} and made == []  # the manifest's ETags said enough
    # Without the manifest the bytes are the only way to know: every document is made to compare.
    site["index.html"] = site_of(articles)["index.html"]
    export_site(site, out)
    assert sorted(made) == lazy


@WITH_AND_WITHOUT_CACHE
def test_documents_written_as_their_fragments_hold_their_bytes_even_through_short_writes(
        cached: bool, articles: Path, tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archive documents are written as their pieces (frame, fragments, separators) with `writev`,
    which may write less than asked: what lands is `body`, byte for byte."""
    build = Build(articles, SETTINGS.replace(archive_size=2, limit=2), cache_dir=cache if cached else None,
                  write_behind=cached)
    site = loaded(build)
    lazy = [output for output in site.values() if isinstance(output, LazyOutput)]
    assert len(lazy) > 10
    real_writev = os.writev
    calls = {"short": 0}

    def short_writev(fd: int, buffers: list[bytes | memoryview]) -> int:
        # At most three buffers, and of the last of them only part: the caller must go on from there.
        take = list(buffers[:3])
        if len(take) == 3 and len(take[2]) > 1:
            take[2] = memoryview(take[2])[: len(take[2]) // 2]
            calls["short"] += 1
        return real_writev(fd, take)

    monkeypatch.setattr(export_module.os, "writev", short_writev)
    out = tmp_path / "site"
    export_site(site, out, cache_dir=cache if cached else None)
    monkeypatch.undo()
    assert calls["short"] >= sum(len(output.parts()) >= 3 for output in lazy) > 10
    assert tree(out) == {path: output.body for path, output in site.items()}
    build.flush_fragments()


def test_a_failure_half_way_leaves_the_previous_export_whole(articles: Path, tmp_path: Path, cache: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache)
    before = tree(out)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")

    real_open = os.open
    calls = {"n": 0}

    def failing_open(path, flags, *args, **kwargs):
        # The export creates each file it writes write-only and with O_EXCL (a staging folder's).
        if flags & os.O_EXCL and flags & os.O_ACCMODE == os.O_WRONLY:
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(export_module.os, "open", failing_open)
    with pytest.raises(ExportError, match="No space left on device"):
        export_site(site_of(articles), out, cache_dir=cache)
    monkeypatch.undo()
    assert tree(out) == before
    # Nothing half-written is left beside it, nor in the cache folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]
    assert not any(p.name.startswith("staging-") for p in cache.rglob("*"))
    # And the next run completes.
    export_site(site_of(articles), out, cache_dir=cache)
    assert b"New" in (out / "feeds/all.rss").read_bytes()


def test_what_killed_runs_left_behind_is_swept(articles: Path, tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache)
    record = ExportRecord.of(cache, export_folder(out))
    (record.folder / "staging-0123456789ab" / "feeds").mkdir(parents=True)
    (tmp_path / ".site.feedpub-0123456789ab" / "feeds").mkdir(parents=True)
    (tmp_path / ".site.feedpub-0123456789ab" / "feeds" / "all.rss").write_text("half")
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")
    export_site(site_of(articles), out, cache_dir=cache)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]
    assert sorted(p.name for p in record.folder.iterdir()) == ["manifest.json"]


def test_without_a_cache_the_staging_folder_beside_it_is_removed(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")
    result = export_site(site_of(articles), out)
    assert result.changed and sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]


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
    (tmp_path / "a-file").write_text("mine")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_site(site_of(articles), tmp_path / "a-file")


def test_an_empty_folder_given_as_out_is_taken_over(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    out.chmod(0o750)
    export_site(site_of(articles), out)
    assert out.is_dir() and not out.is_symlink() and (out / "index.html").is_file()
    assert out.stat().st_mode & 0o777 == 0o750  # the folder keeps the permissions it was given


def test_a_checkout_of_an_export_is_recognised_without_the_cache(articles: Path, tmp_path: Path, cache: Path) -> None:
    """A CI job checks out the repository that holds the last export (no cache of its own) and exports
    into it again: the folder is feedpub's (its catalog says so), and unchanged files stay as they are."""
    out = tmp_path / "docs"
    export_site(site_of(articles), out, cache_dir=cache)
    before = stamps(out)
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")
    result = export_site(site_of(articles), out, cache_dir=cache / "elsewhere")
    assert result.previous and 0 < result.written < len(before)
    assert "feeds/providers/news0.example.com.rss" not in result.changed_paths
    assert stamps(out)["feeds/providers/news0.example.com.rss"] == before["feeds/providers/news0.example.com.rss"]


def test_the_files_a_host_needs_are_kept(articles: Path, tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "docs"
    export_site(site_of(articles), out, cache_dir=cache)
    (out / "CNAME").write_text("news.example.com\n")
    (out / ".nojekyll").write_text("")
    (out / ".git" / "refs" / "tags").mkdir(parents=True)  # an empty folder too
    (out / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    kept = os.stat(out / "CNAME").st_ino
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")
    for folder in (cache, None):
        export_site(site_of(articles), out, cache_dir=folder)
        assert (out / "CNAME").read_text() == "news.example.com\n" and os.stat(out / "CNAME").st_ino == kept
        assert (out / ".nojekyll").is_file() and (out / ".git" / "refs" / "tags").is_dir()
        assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n"
        (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Newer")), encoding="utf-8")


def test_out_given_as_a_symlink_to_a_folder_writes_into_that_folder(articles: Path, tmp_path: Path) -> None:
    real = tmp_path / "www" / "news"
    real.mkdir(parents=True)
    link = tmp_path / "site"
    link.symlink_to(real)
    export_site(site_of(articles), link)
    assert link.is_symlink() and (real / "index.html").is_file() and real.is_dir() and not real.is_symlink()


def test_export_bytes_equal_the_site_map(articles: Path, tmp_path: Path) -> None:
    site = site_of(articles)
    export_site(site, tmp_path / "site")
    written = tree(tmp_path / "site")
    assert written == {path: output.body for path, output in site.items()}
    for output in site.values():
        if isinstance(output, Output):  # a document made when asked for has the ETag of what it is made of
            assert output.etag.strip('"') == hashlib.sha256(output.body).hexdigest()[:32]


def test_an_export_of_an_earlier_version_is_converted_in_place(articles: Path, tmp_path: Path) -> None:
    """feedpub before 0.2 made `--out site` a symlink to `.site.feedpub/gen-*`, with a lock and its
    records beside the generations."""
    site = site_of(articles)
    store = tmp_path / ".site.feedpub"
    generation = store / "gen-0123456789ab"
    for path, output in site.items():
        (generation / path).parent.mkdir(parents=True, exist_ok=True)
        (generation / path).write_bytes(output.body)
    (store / "gen-0123456789ab.manifest.json").write_text("{}")
    (store / ".lock").write_text("")
    (store / "inputs.json").write_text("{}")
    out = tmp_path / "site"
    out.symlink_to(".site.feedpub/gen-0123456789ab")
    before = stamps(out)
    (articles / "004.txt").write_text(article_text(**sample_fields(4, title="Changed headline")), encoding="utf-8")

    result = export_site(site_of(articles), out)
    assert out.is_dir() and not out.is_symlink() and result.previous and result.atomic
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]
    after = stamps(out)
    assert {p for p in after if after[p] != before[p]} == result.changed_paths
    assert after["feeds/providers/news0.example.com.rss"] == before["feeds/providers/news0.example.com.rss"]


def test_without_the_exchange_files_are_replaced_one_by_one(articles: Path, tmp_path: Path, cache: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(first: Path, second: Path) -> None:
        raise ExchangeUnsupported(errno.EINVAL, "Invalid argument", str(second))

    monkeypatch.setattr(export_module, "exchange", unsupported)
    out = tmp_path / "site"
    first = export_site(site_of(articles), out, cache_dir=cache)
    assert first.atomic  # a new folder is renamed into place whole, exchange or not
    folder = os.stat(out).st_ino
    before = stamps(out)
    for n in (1, 3, 5):  # the Science topic goes: its feeds are removed, and their folders' other files kept
        (articles / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=["World"])), encoding="utf-8")
    result = export_site(site_of(articles), out, cache_dir=cache)
    assert not result.atomic and result.removed == 4  # three feeds and the topic's page
    assert os.stat(out).st_ino == folder  # updated in place
    assert tree(out) == {path: output.body for path, output in site_of(articles).items()}
    after = stamps(out)
    assert {p for p in after if after[p] != before.get(p)} == result.changed_paths
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]
    # Stale archive folders go with their last file.
    assert all(any(folder.iterdir()) for folder in out.rglob("*") if folder.is_dir())


def test_overlapping_exports_take_turns(articles: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    lock = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)  # another export is running
    fcntl.flock(lock, fcntl.LOCK_EX)
    done = threading.Event()
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Waited")), encoding="utf-8")

    def export_then_say_so() -> None:
        export_site(site_of(articles), out)
        done.set()

    worker = threading.Thread(target=export_then_say_so)
    worker.start()
    assert not done.wait(0.5)
    os.close(lock)
    assert done.wait(10)
    worker.join()
    assert b"Waited" in (out / "feeds/all.rss").read_bytes()


def test_a_file_name_that_is_not_utf8_is_read_and_never_breaks_the_cache(articles: Path, tmp_path: Path) -> None:
    name = os.fsdecode(b"caf\xe9.txt")  # a Latin-1 file name, as old sync tools write them
    (articles / name).write_text(article_text(**sample_fields(9, title="Latin-1 name")), encoding="utf-8")
    past = 1_700_000_000
    for path in articles.iterdir():
        os.utime(path, (past, past))
    for _ in range(2):  # the second run reads the cache
        build = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
        site = loaded(build)
        assert b"Latin-1 name" in site["feeds/all.rss"].body


@pytest.mark.parametrize("cached", [False, True])
def test_a_file_name_that_is_not_utf8_is_read_by_the_parse_workers_too(tmp_path: Path, cached: bool) -> None:
    # Past PARALLEL_MIN files, workers pack each outcome for the parent: the name must survive it.
    from feedpub.reading.parallel import PARALLEL_MIN

    articles = tmp_path / "articles"
    articles.mkdir()
    for n in range(PARALLEL_MIN + 10):
        (articles / f"{n:05d}.txt").write_text(article_text(**sample_fields(n + 10)), encoding="utf-8")
    (articles / os.fsdecode(b"caf\xe9.txt")).write_text(article_text(**sample_fields(9, title="Latin-1 name")),
                                                          encoding="utf-8")
    cache = tmp_path / "cache" if cached else None
    for _ in range(2 if cached else 1):
        build = Build(articles, SETTINGS, cache_dir=cache, jobs=2)
        site = loaded(build)
        assert b"Latin-1 name" in site["feeds/all.rss"].body
        assert os.fsdecode(b"caf\xe9.txt") in build.library.good


def test_a_cache_on_another_mount_of_the_filesystem_stages_beside_the_folder(articles: Path, tmp_path: Path,
                                                                            cache: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Two mounts of one device share st_dev, yet a rename between them fails with EXDEV: the export
    then stages beside DIR instead, and still leaves nothing there."""
    out = tmp_path / "site"
    export_site(site_of(articles), out, cache_dir=cache)
    real_exchange, real_link = export_module.exchange, os.link
    tried: list[Path] = []

    def across_mounts(first: Path, second: Path) -> None:
        tried.append(first)
        if cache in first.parents:
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(second))
        real_exchange(first, second)

    def link(source: Path, target: Path, **kwargs: bool) -> None:
        if cache in Path(target).parents:
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(target))
        real_link(source, target, **kwargs)

    monkeypatch.setattr(export_module, "exchange", across_mounts)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="New")), encoding="utf-8")
    result = export_site(site_of(articles), out, cache_dir=cache)
    assert result.changed and result.atomic and b"New" in (out / "feeds/all.rss").read_bytes()
    assert [p.parent for p in tried] == [cache / os.listdir(cache)[0], tmp_path]  # the cache first, then beside
    monkeypatch.setattr(export_module.os, "link", link)  # a hard link into the cache fails the same way
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Newer")), encoding="utf-8")
    export_site(site_of(articles), out, cache_dir=cache)
    assert b"Newer" in (out / "feeds/all.rss").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles", "site"]


def test_a_write_that_fails_midway_leaves_the_export_in_place_and_no_stage(articles: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Documents are written by threads: a disk that fills up on the 3rd still stops the export
    # with that error, the tree already in place stays as it was, and nothing staged is left.
    out = tmp_path / "site"
    export_site(site_of(articles), out)
    before = tree(out)
    (articles / "new.txt").write_text(article_text(**sample_fields(70, title="Never exported")), encoding="utf-8")
    real_write = export_module._write
    calls = []

    def filling(target: Path, what: object) -> tuple[int, int]:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(target, what)  # type: ignore[arg-type]

    monkeypatch.setattr(export_module, "_write", filling)
    with pytest.raises(ExportError, match=r"cannot write the export .*No space left on device"):
        export_site(site_of(articles), out)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.feedpub")] == []
    assert 3 <= len(calls) <= 3 + export_module._IN_FLIGHT + export_module.WRITERS  # the rest never started
    fresh = tmp_path / "fresh"
    calls.clear()
    # A first export, every file written:
    with pytest.raises(ExportError, match=r"cannot write the export .*No space left on device"):
        export_site(site_of(articles), fresh)
    assert not fresh.exists() and len(calls) <= 3 + export_module._IN_FLIGHT + export_module.WRITERS


def test_every_document_written_by_the_threads_is_in_the_record(articles: Path, tmp_path: Path) -> None:
    # The record holds each written file's size and mtime, filled in as its thread finishes: a
    # second export of the same site then finds every file as recorded and writes none.
    out, cache_dir = tmp_path / "site", tmp_path / "cache"
    site = site_of(articles)
    assert len(site) > 3 * export_module._IN_FLIGHT
    first = export_site(site, out, cache_dir=cache_dir)
    assert first.written == len(site)
    second = export_site(site, out, cache_dir=cache_dir)
    assert (second.written, second.changed) == (0, False)
