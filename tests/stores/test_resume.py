"""A build resumed from the state an earlier process saved equals one that read the folder anew.

`Build.resume` restores what a `Build` knew (via `Build.saved_state`, written to disk and read back as
between two runs)
and reads again only the files whose stamp changed. Each case changes the folder between the two
runs, then compares every published byte with a fresh load (no cache at all) and with a build that
kept running and was told about the change, as the live server's watcher would.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from feedpub.build import Build
from feedpub.settings import Settings
from feedpub.stores import saved_state
from feedpub.stores.keys import StoreKeys
from tests.helpers import BASE_TIME, article_text, sample_fields

SETTINGS = Settings(base_url="https://feeds.example", limit=4)
NOW = BASE_TIME + timedelta(days=1)
HOUR_AGO = time.time() - 3600


def age(folder: Path) -> None:
    """Files older than the parse cache's racy second, as a folder's files are between two runs."""
    for path in folder.rglob("*.txt"):
        os.utime(path, (HOUR_AGO, HOUR_AGO))


def write(folder: Path, name: str, n: int, **overrides: object) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_text(**sample_fields(n, **overrides)), encoding="utf-8")


def published(build: Build) -> dict[str, bytes]:
    return {path: output.body for path, output in build.site.items()}


def through_disk(state: saved_state.SavedState, cache: Path) -> saved_state.SavedState:
    """The state as the next process reads it: shared objects must survive the trip."""
    path = cache / "site.state"
    saved_state.write(path, state)
    back = saved_state.read(path, state.key)
    assert back is not None
    return back


def first_run(folder: Path, cache: Path) -> tuple[Build, saved_state.SavedState]:
    age(folder)
    build = Build(folder, SETTINGS, cache_dir=cache)
    build.load(now=NOW)
    return build, through_disk(build.saved_state(), cache)


def fresh(folder: Path, now: datetime = NOW) -> Build:
    build = Build(folder, SETTINGS)
    build.load(now=now)
    return build


Change = Callable[[Path], object]

CHANGES: dict[str, tuple[Change, set[str]]] = {
    "edited": (lambda f: write(f, "001.txt", 1, title="Edited while stopped"), {"001.txt"}),
    "deleted": (lambda f: (f / "002.txt").unlink(), {"002.txt"}),
    "added": (lambda f: write(f, "new.txt", 9, title="Added while stopped"), {"new.txt"}),
    "added in a new folder": (lambda f: write(f, "2026/01/new.txt", 9), {"2026/01/new.txt"}),
    "renamed": (lambda f: (f / "003.txt").rename(f / "moved.txt"), {"003.txt", "moved.txt"}),
    "became a draft": (lambda f: write(f, "000.txt", 0, draft=True), {"000.txt"}),
    "a duplicate url, newer": (lambda f: write(f, "dup.txt", 4, title="Newer copy",
                                              publishedDateTime="2026-01-15T13:00:00Z"), {"dup.txt"}),
    "a new topic": (lambda f: write(f, "004.txt", 4, topics=["World", "Brand new topic"]), {"004.txt"}),
    "a new provider": (lambda f: write(f, "005.txt", 5, provider={"name": "Other", "domain": "other.example"}),
                       {"005.txt"}),
    "a bad file added": (lambda f: (f / "bad.txt").write_text("---\n- a list\n---\n"), {"bad.txt"}),
    "touched, same bytes": (lambda f: os.utime(f / "001.txt"), {"001.txt"}),
    "scheduled, not due": (lambda f: write(f, "later.txt", 0, title="Not due yet",
                                           publishedDateTime="2027-01-01T00:00:00Z"), {"later.txt"}),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_a_resumed_build_publishes_what_a_fresh_load_does(articles: Path, tmp_path: Path, name: str) -> None:
    change, expected = CHANGES[name]
    running, saved = first_run(articles, tmp_path / "cache")
    change(articles)
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    result = resumed.resume(saved, resumed.folder.survey(), now=NOW)
    assert result is not None
    stale = result.read
    assert stale == expected  # only what changed is read again
    assert published(resumed) == published(fresh(articles))
    assert resumed.summary() == fresh(articles).summary()
    running.refresh(stale, now=NOW)  # what a server that never stopped would publish
    assert published(resumed) == published(running)


def test_with_no_change_nothing_is_read_or_rendered(articles: Path, tmp_path: Path) -> None:
    running, saved = first_run(articles, tmp_path / "cache")
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    result = resumed.resume(saved, resumed.folder.survey(), now=NOW)
    assert result is not None and result.read == set() and not result.touched
    assert resumed.library.loader.parsed_last == 0
    assert published(resumed) == published(running) == published(fresh(articles))


def test_a_change_is_applied_after_resuming_as_after_a_load(articles: Path, tmp_path: Path) -> None:
    _, saved = first_run(articles, tmp_path / "cache")
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    resumed.resume(saved, resumed.folder.survey(), now=NOW)
    write(articles, "001.txt", 1, title="Edited while serving")
    (articles / "002.txt").unlink()
    assert resumed.refresh(["001.txt", "002.txt"], now=NOW).touched
    assert published(resumed) == published(fresh(articles))
    assert b"Edited while serving" in resumed.site["feeds/all.rss"].body


def test_a_scheduled_article_that_came_due_while_stopped_is_published(articles: Path, tmp_path: Path) -> None:
    write(articles, "later.txt", 0, title="Due while stopped", publishedDateTime="2026-01-16T13:00:00Z")
    _, saved = first_run(articles, tmp_path / "cache")
    assert b"Due while stopped" not in saved.site["feeds/all.rss"].body
    later = NOW + timedelta(hours=2)
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    result = resumed.resume(saved, resumed.folder.survey(), now=later)
    assert result is not None and result.read == set() and result.touched
    assert b"Due while stopped" in resumed.site["feeds/all.rss"].body
    assert published(resumed) == published(fresh(articles, later))


def test_a_file_broken_while_stopped_keeps_its_last_good_version_as_a_running_server_does(
        articles: Path, tmp_path: Path) -> None:
    running, saved = first_run(articles, tmp_path / "cache")
    (articles / "001.txt").write_text("---\ntitle: [unclosed\n---\n")
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    result = resumed.resume(saved, resumed.folder.survey(), now=NOW)
    assert result is not None
    stale = result.read
    assert stale == {"001.txt"}
    assert [rel for rel, _ in resumed.summary().bad] == ["001.txt"]
    assert b"Headline number 1<" in resumed.site["feeds/all.rss"].body
    running.refresh(stale, now=NOW)
    assert published(resumed) == published(running)


def test_a_file_written_within_its_racy_second_is_read_again_even_with_the_same_stamp(
        articles: Path, tmp_path: Path) -> None:
    """Two writes in one tick of the file clock can leave size and times as they were: a file read
    that soon after it was written is never trusted by its stamp."""
    age(articles)
    write(articles, "racy.txt", 7)
    build = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    now = time.time()
    os.utime(articles / "racy.txt", (now, now))  # written just now, however long the lines above took
    build.load(now=NOW)
    saved = build.saved_state()
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    result = resumed.resume(saved, resumed.folder.survey(), now=NOW)
    assert result is not None and result.read == {"racy.txt"}


def test_when_most_files_changed_a_resume_declines_and_leaves_the_build_as_it_was(
        articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import feedpub.build

    _, saved = first_run(articles, tmp_path / "cache")
    for path in articles.glob("*.txt"):  # a folder copied anew: every file has a new inode and times
        path.write_bytes(path.read_bytes())
    monkeypatch.setattr(feedpub.build, "RESUME_MIN_FILES", 0)
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    assert resumed.resume(saved, resumed.folder.survey(), now=NOW) is None
    assert resumed.site == {} and not resumed.library.good
    resumed.load(now=NOW)
    assert published(resumed) == published(fresh(articles))


def test_a_saved_state_is_read_back_only_under_the_same_settings_and_code(articles: Path, tmp_path: Path) -> None:
    _, saved = first_run(articles, tmp_path / "cache")
    path = tmp_path / "cache" / "site.state"
    saved_state.write(path, saved)
    key = StoreKeys(SETTINGS).state()
    back = saved_state.read(path, key)
    assert back is not None and back.site.keys() == saved.site.keys()
    assert saved_state.read(path, StoreKeys(SETTINGS.replace(base_url="https://elsewhere.example")).state()) is None
    assert saved_state.read(path, StoreKeys(SETTINGS.replace(limit=5)).state()) is None
    path.write_bytes(path.read_bytes()[:1000])  # a crash mid-write leaves no such file, but a disk might
    assert saved_state.read(path, key) is None
    assert saved_state.read(tmp_path / "missing.state", key) is None


def test_a_server_resumed_with_changes_drops_the_fragments_no_feed_shows_after_its_start(
        articles: Path, tmp_path: Path) -> None:
    """A full load prunes the fragment store; a resumed start does it once serving (`Rebuilder.tidy`)."""
    import sqlite3

    from feedpub.server.live.live_site import LiveSite

    def stored() -> int:
        (path,) = (tmp_path / "cache").glob("fragments-*.sqlite3")
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM fragments").fetchone()[0]

    age(articles)
    first = LiveSite(articles, SETTINGS, cache_dir=tmp_path / "cache")
    first.start()
    first.save_on_exit()
    before = stored()
    (articles / "002.txt").unlink()
    second = LiveSite(articles, SETTINGS, cache_dir=tmp_path / "cache")
    second.start()
    assert second.resumed == 1
    assert stored() == before  # nothing pruned on the start-up path
    second.rebuilder.tidy()
    assert stored() == before - 4  # its item in RSS, Atom and JSON, and on its feeds' pages
    assert published(second.rebuilder.build) == published(fresh(articles))


def test_with_the_caches_deleted_the_start_is_a_load_that_reads_the_files(articles: Path, tmp_path: Path) -> None:
    """With the parse and fragment caches gone (a user cleaning up), the saved state's archive
    documents have no items to be put together from: the start reads every file again."""
    _, saved = first_run(articles, tmp_path / "cache")
    for path in (tmp_path / "cache").glob("*.sqlite3*"):
        path.unlink()
    write(articles, "003.txt", 3, title="Edited after the caches went")
    resumed = Build(articles, SETTINGS, cache_dir=tmp_path / "cache")
    assert resumed.resume(saved, resumed.folder.survey(), now=NOW) is None
    resumed.load(now=NOW)
    assert published(resumed) == published(fresh(articles))


@pytest.mark.parametrize("loss", ["deleted", "damaged"])
def test_a_state_whose_fragments_are_gone_is_not_resumed(articles: Path, tmp_path: Path, loss: str) -> None:
    """Archive documents are put together from stored fragments when asked for: resumed without
    them, every one answered 503 until its feed changed (found by deleting the store by hand). With
    the store deleted, or made anew after damage, the start is a full load instead."""
    cache = tmp_path / "cache"
    running, saved = first_run(articles, cache)
    expected = {path: output.body for path, output in running.site.items() if path.startswith("feeds/archive/")}
    assert expected, "the settings give archive documents"
    del running  # its connections close: the files are then lost as a later process finds them
    gc.collect()
    for path in cache.glob("fragments-*"):
        path.unlink() if loss == "deleted" else path.write_bytes(b"not a database" * 100)
    resumed = Build(articles, SETTINGS, cache_dir=cache)
    assert resumed.resume(saved, resumed.folder.survey(), now=NOW) is None
    resumed.load(now=NOW)
    assert {path: resumed.site[path].body for path in expected} == expected
