"""Faults while serving and exporting, hostile requests, leaks, and memory across rebuilds.

The folder faults run the real `feedpub serve` in a subprocess, as an operator would meet them:
the article folder renamed, emptied, deleted, swapped for another or re-pointed, a file turned
into a folder, an unreadable file, a symlink out of the folder. The rule each test holds the
server to: keep answering with the last good state (same bodies, 200s), say so (`/healthz` and
a log line), and publish the folder again as soon as it is back.

Every wait is bounded; a server is always stopped (terminate, then kill).
"""

from __future__ import annotations

import builtins
import gc
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feedpub.reading.article_file import ArticleError, parse_article
from feedpub.server.live.live_site import LiveSite
from feedpub.server.published import Published
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields
from tests.live_server import Server, servers

WAIT_S = 8.0  # a fault is reported / a recovery is served within this (the watcher polls every 0.5 s)


# -- a real server ---------------------------------------------------------------------------------


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    # Not quiet by default: these tests read the log. Identity, so bodies compare byte for byte.
    yield from servers(tmp_path, quiet=False, headers={"accept-encoding": "identity"})


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def fill(folder: Path, tag: str, count: int = 6) -> None:
    """Articles 0..count-1 titled `<tag> <n>` (same URLs as the conftest articles)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, title=f"{tag} {n}")), "utf-8")


def serves(server: Server, text: str) -> Callable[[], bool]:
    """True once every format of the feed of everything shows `text`."""
    return lambda: all(text.encode() in server.get(f"/feeds/all.{fmt}").content for fmt in ("rss", "atom", "json"))


def degraded(server: Server) -> Callable[[], bool]:
    return lambda: server.health()["status"] != "ok"


def healthy(server: Server) -> Callable[[], bool]:
    return lambda: server.health()["status"] == "ok"


def assert_still_served(server: Server, before: dict[str, tuple[int, bytes]]) -> None:
    after = server.snapshot(list(before))
    for path, (status, body) in before.items():
        assert status == 200, path
        assert after[path] == (status, body), f"{path} changed while the folder was away"


def assert_keeps_following(server: Server, folder: Path, marker: str) -> None:
    """A later edit still goes live: the watcher follows the folder now at that path."""
    (folder / "003.txt").write_text(article_text(**sample_fields(3, title=marker)), "utf-8")
    wait_until(serves(server, marker), f"a later edit ({marker!r}) to be served")


# -- (a)–(c) the article folder goes away and comes back -------------------------------------------


def test_folder_renamed_away_and_back(serve, articles: Path, tmp_path: Path) -> None:
    server = serve(articles)
    before = server.snapshot(server.paths())
    articles.rename(tmp_path / "away")
    wait_until(degraded(server), "/healthz to report the folder missing")
    assert_still_served(server, before)
    assert "is missing" in server.log()

    (tmp_path / "away").rename(articles)
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="Back from away")), "utf-8")
    wait_until(serves(server, "Back from away"), "the folder's new content")
    wait_until(healthy(server), "/healthz to be ok again")
    assert "is back; publishing it again" in server.log()
    assert_keeps_following(server, articles, "Edited after the return")


def test_folder_emptied_and_refilled(serve, articles: Path) -> None:
    server = serve(articles)
    before = server.snapshot(server.paths())
    for path in articles.iterdir():
        path.unlink()
    wait_until(degraded(server), "/healthz to report the folder empty")
    assert_still_served(server, before)
    assert server.health()["articles"] == 6
    assert "is empty" in server.log()

    fill(articles, "Refilled")
    wait_until(serves(server, "Refilled 5"), "the refilled folder")
    wait_until(healthy(server), "/healthz to be ok again")
    assert b"Headline number" not in server.get("/feeds/all.rss").content
    assert_keeps_following(server, articles, "Edited after the refill")


def test_folder_deleted_and_recreated(serve, articles: Path) -> None:
    server = serve(articles)
    before = server.snapshot(server.paths())
    shutil.rmtree(articles)
    wait_until(degraded(server), "/healthz to report the folder missing")
    assert_still_served(server, before)
    time.sleep(0.6)  # a poll of the missing folder or two
    assert_still_served(server, before)

    fill(articles, "Recreated")
    wait_until(serves(server, "Recreated 5"), "the re-created folder")
    wait_until(healthy(server), "/healthz to be ok again")
    assert_keeps_following(server, articles, "Edited after the re-creation")


def test_folder_deleted_and_recreated_at_once_is_still_watched(serve, articles: Path) -> None:
    # Deleted and re-created between two looks of the watcher, often under the same inode number:
    # the OS watch of the old folder is gone, so without a restart later edits would go unseen.
    server = serve(articles)
    shutil.rmtree(articles)
    fill(articles, "At once")
    wait_until(serves(server, "At once 5"), "the re-created folder")
    assert_keeps_following(server, articles, "Edited after the quick re-creation")
    wait_until(healthy(server), "/healthz to be ok")


def test_folder_swapped_for_another_by_renames(serve, articles: Path, tmp_path: Path) -> None:
    # A deploy's atomic swap: a new folder is prepared beside the live one, then renamed into place.
    # Its files are older than the swap, and the OS watcher follows the old folder to its new name.
    server = serve(articles)
    fill(tmp_path / "next", "Swapped in")
    time.sleep(0.1)
    articles.rename(tmp_path / "previous")
    (tmp_path / "next").rename(articles)
    wait_until(serves(server, "Swapped in 5"), "the swapped-in folder")
    assert b"Headline number" not in server.get("/feeds/all.json").content
    (tmp_path / "previous" / "000.txt").write_text(article_text(**sample_fields(0, title="Old folder edit")), "utf-8")
    assert_keeps_following(server, articles, "Edited in the swapped-in folder")
    assert b"Old folder edit" not in server.get("/feeds/all.json").content
    assert server.health()["status"] == "ok"


def test_folder_symlink_repointed(serve, tmp_path: Path) -> None:
    fill(tmp_path / "release-1", "Release one")
    fill(tmp_path / "release-2", "Release two")
    link = tmp_path / "current"
    link.symlink_to(tmp_path / "release-1", target_is_directory=True)
    server = serve(link)
    assert serves(server, "Release one 5")()
    (tmp_path / "next-link").symlink_to(tmp_path / "release-2", target_is_directory=True)
    os.replace(tmp_path / "next-link", link)  # atomic re-point, as deploy tools do
    wait_until(serves(server, "Release two 5"), "the re-pointed folder")
    assert_keeps_following(server, link, "Edited in release two")


def test_parent_folder_renamed_is_reported_and_recovers(serve, tmp_path: Path) -> None:
    # Renaming a parent tells the folder's own watch nothing: only looking at the path notices.
    folder = tmp_path / "data" / "articles"
    fill(folder, "Under a parent")
    server = serve(folder)
    before = server.snapshot(server.paths())
    (tmp_path / "data").rename(tmp_path / "data-away")
    wait_until(degraded(server), "/healthz to report the folder missing")
    assert_still_served(server, before)
    (tmp_path / "data-away").rename(tmp_path / "data")
    wait_until(healthy(server), "/healthz to be ok again")
    assert_keeps_following(server, folder, "Edited after the parent came back")


# -- (d) a file replaced by a folder of the same name ----------------------------------------------


def test_file_replaced_by_a_folder_of_the_same_name(serve, articles: Path) -> None:
    """Decision: the file is gone, so its article goes, as for a deleted file (keeping the last good
    version is for a file that is still there but broken). The folder is read like any other."""
    server = serve(articles)
    (articles / "001.txt").unlink()
    (articles / "001.txt").mkdir()
    (articles / "001.txt" / "inner.txt").write_text(article_text(**sample_fields(
        40, title="Inside a folder named like a file", webUrl="https://news1.example.com/inner",
        originalUrl="https://news1.example.com/inner")), "utf-8")
    wait_until(serves(server, "Inside a folder named like a file"), "the folder's article")
    wait_until(lambda: b"Headline number 1<" not in server.get("/feeds/all.rss").content, "article 1 to go")
    body = server.get("/feeds/all.rss").content
    assert all(f"Headline number {n}<".encode() in body for n in (0, 2, 3, 4, 5))
    health = server.health()
    assert (health["status"], health["articles"], health["bad_files"]) == ("ok", 6, [])

    shutil.rmtree(articles / "001.txt")
    (articles / "001.txt").write_text(article_text(**sample_fields(1)), "utf-8")
    wait_until(lambda: b"Headline number 1<" in server.get("/feeds/all.rss").content, "article 1 to return")
    wait_until(lambda: b"Inside a folder" not in server.get("/feeds/all.rss").content, "the inner article to go")
    assert server.process.poll() is None


# -- (e) a file that cannot be read ----------------------------------------------------------------


@pytest.fixture
def unreadable(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """File names whose opening fails with EACCES, as chmod 000 does for anyone but root."""
    names: set[str] = set()

    def guard(opener: Callable[..., Any]) -> Callable[..., Any]:
        def open_(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, (str, os.PathLike)) and os.path.basename(os.fspath(file)) in names:
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return opener(file, *args, **kwargs)
        return open_

    for module, name in ((builtins, "open"), (io, "open"), (os, "open")):
        monkeypatch.setattr(module, name, guard(getattr(module, name)))
    return names


def test_unreadable_file_keeps_its_last_good_version(articles: Path, unreadable: set[str], write_article) -> None:
    live = LiveSite(articles, Settings())
    live.load()
    before = live.published.resources["/feeds/all.rss"].output.body
    rebuilds = live.rebuilds

    write_article("new.txt", **sample_fields(30, title="Never readable"))
    unreadable.update({"001.txt", "new.txt"})
    live.apply(["001.txt", "new.txt"])
    assert live.summary is not None
    bad = dict(live.summary.bad)
    assert set(bad) == {"001.txt", "new.txt"}
    assert all("Permission denied" in reason for reason in bad.values()), bad
    assert live.published.resources["/feeds/all.rss"].output.body == before
    assert live.rebuilds == rebuilds  # nothing to publish: article 1 stays as it was

    unreadable.clear()
    live.apply(["001.txt", "new.txt"])
    assert live.summary is not None and live.summary.bad == ()
    body = live.published.resources["/feeds/all.rss"].output.body
    assert b"Never readable" in body and b"Headline number 1<" in body


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; the simulated test above covers it")
def test_chmod_000_while_serving_keeps_the_last_good_version(serve, articles: Path) -> None:
    server = serve(articles, "--no-cache")
    before = server.get("/feeds/all.rss").content
    os.chmod(articles / "001.txt", 0)
    try:
        wait_until(lambda: any(bad["file"] == "001.txt" for bad in server.health()["bad_files"]),
                   "/healthz to list 001.txt")
        assert server.get("/feeds/all.rss").content == before
    finally:
        os.chmod(articles / "001.txt", 0o644)
    wait_until(lambda: server.health()["bad_files"] == [], "001.txt to be readable again")


# -- (f) a symlink out of the folder, made while serving ---------------------------------------------


def test_symlink_to_outside_made_while_serving_is_never_published(serve, articles: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = "Outside headline never to publish"
    (outside / "private.txt").write_text(article_text(**sample_fields(
        77, title=secret, webUrl="https://outside.example.org/x", originalUrl="https://outside.example.org/x")), "utf-8")
    (outside / "folder").mkdir()
    (outside / "folder" / "x.txt").write_text((outside / "private.txt").read_text("utf-8"), "utf-8")
    server = serve(articles)

    (articles / "link.txt").symlink_to(outside / "private.txt")
    (articles / "linked").symlink_to(outside / "folder", target_is_directory=True)
    wait_until(lambda: {bad["file"] for bad in server.health()["bad_files"]} >= {"link.txt", "linked/x.txt"},
               "both links to be reported")
    reasons = {bad["file"]: bad["reason"] for bad in server.health()["bad_files"]}
    assert all("symlink" in reason and str(outside) not in reason for reason in reasons.values()), reasons

    # Editing the outside file while the link stands changes nothing either.
    (outside / "private.txt").write_text(article_text(**sample_fields(
        77, title=secret + " (edited)", webUrl="https://outside.example.org/x",
        originalUrl="https://outside.example.org/x")), "utf-8")
    (articles / "000.txt").write_text(article_text(**sample_fields(0, title="A real edit")), "utf-8")
    wait_until(serves(server, "A real edit"), "a real edit after the links")
    for path in server.paths():
        body = server.get(path).content
        assert secret.encode() not in body and b"outside.example.org" not in body, path
    assert server.health()["articles"] == 6
    assert secret not in server.log()


# -- kill -9 during an export ------------------------------------------------------------------------


def tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


# Where the kills land, in turn: at a random moment of the whole run; while the new tree is written
# (from its staging folder's appearing to the run's end); just after the exchange (the old tree's
# removal, the records).
MOMENTS = ("any", "write", "swapped")
KILLS = 9


def test_kill_9_at_random_moments_leaves_the_old_tree_or_the_new_one(tmp_path: Path) -> None:
    """A real export of a few thousand articles, killed with SIGKILL (the whole process group: its
    parsing workers too) at random moments, again and again: the folder always holds the previous
    export or the new one, whole, byte for byte; nothing appears beside it; the next run finishes."""
    import random

    from feedpub.export import export_folder
    from feedpub.stores.databases import default_cache_dir
    from feedpub.stores.export_record import ExportRecord

    started = time.monotonic()
    env = dict(os.environ)
    base = ["--base-url", "https://news.example.com"]

    def feedpub(*args: str, timeout: float = 120) -> float:
        began = time.monotonic()
        subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=tmp_path, env=env, capture_output=True,
                       timeout=timeout, check=True)
        return time.monotonic() - began

    feedpub("generate", "old", "2500", "--seed", "4")
    feedpub("generate", "extra", "200", "--seed", "5")
    shutil.copytree(tmp_path / "old", tmp_path / "new")
    for path in sorted((tmp_path / "new").iterdir())[::10]:  # a tenth goes, 200 others come
        path.unlink()
    for path in (tmp_path / "extra").iterdir():
        shutil.copy(path, tmp_path / "new" / f"extra-{path.name}")
    out = tmp_path / "site"
    feedpub("export", "new", "--out", "expected", *base)
    new = tree(tmp_path / "expected")
    feedpub("export", "old", "--out", str(out), *base)
    old = tree(out)
    assert old != new and len(old) > 500
    staging = ExportRecord.of(default_cache_dir(), export_folder(out)).folder
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "feedpub", "export", "new", "--out", str(out), *base],
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def until(process: subprocess.Popen[bytes], seen: Callable[[], bool]) -> None:
        """Wait until `seen()` (or the run ends)."""
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline and not seen():
            time.sleep(0.0002)

    def staged() -> bool:
        return staging.is_dir() and any(name.startswith("staging-") for name in os.listdir(staging))

    # How long a whole run takes, and how long from its staging folder's appearing to its end (the
    # writing, the exchange, the old tree's removal): the ranges of the random moments.
    began = time.monotonic()
    process = start()
    until(process, staged)
    writing = time.monotonic()
    assert process.wait(timeout=120) == 0
    took, writing = time.monotonic() - began, time.monotonic() - writing
    assert tree(out) == new
    feedpub("export", "old", "--out", str(out), *base)

    rng = random.Random(13)
    outcomes: list[str] = []
    for kill in range(KILLS):
        moment = MOMENTS[kill % len(MOMENTS)]
        folder = os.stat(out).st_ino
        process = start()
        try:
            if moment == "any":
                time.sleep(rng.uniform(0, took * 1.1))
            elif moment == "write":
                until(process, staged)
                time.sleep(rng.uniform(0, writing * 1.1))
            else:
                until(process, lambda: os.stat(out).st_ino != folder)
                time.sleep(rng.uniform(0, 0.02))
            killed = process.poll() is None
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        now = tree(out)
        outcome = "old" if now == old else "new" if now == new else "mixed"
        outcomes.append(f"{moment}:{'killed' if killed else 'done'}:{outcome}")
        assert outcome != "mixed", f"kill {kill}: the folder holds neither tree whole ({outcomes})"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["expected", "extra", "new", "old", "site"], outcomes
        if outcome == "new":
            feedpub("export", "old", "--out", str(out), *base)  # back to the old tree for the next kill
            assert tree(out) == old
    assert sum(":killed:" in o for o in outcomes) >= KILLS // 2, outcomes
    assert any(o.startswith("write:killed") for o in outcomes), outcomes
    assert any(o.startswith("swapped:killed:new") for o in outcomes), outcomes

    feedpub("export", "new", "--out", str(out), *base)  # the rerun completes and sweeps the debris
    assert tree(out) == new
    assert not any(name.startswith("staging-") for name in os.listdir(staging))
    catalog = json.loads((out / "feeds/index.json").read_bytes())
    assert catalog["feeds"]
    assert not feedparser.parse((out / "feeds/all.rss").read_bytes()).bozo
    print(f"a run {took:.2f} s, writing {writing:.2f} s; kills: {outcomes}; {time.monotonic() - started:.1f} s")
    assert time.monotonic() - started < 120  # about 40 s on a busy 2-core machine


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_three_hundred_rebuilds_do_not_grow_memory(articles: Path) -> None:
    live = LiveSite(articles, Settings())
    live.load()
    texts = [article_text(**sample_fields(0, title=f"Alternating title {k}")).encode() for k in range(2)]
    target = articles / "000.txt"

    def rebuild(times: int) -> None:
        for i in range(times):
            target.write_bytes(texts[i % 2])
            live.apply(["000.txt"])

    def states() -> int:
        return sum(1 for thing in gc.get_objects() if isinstance(thing, Published))

    rebuild(60)  # warm-up: caches, interned strings, allocator pools
    gc.collect()
    objects, rss = len(gc.get_objects()), _rss_kb()
    first = live.rebuilds
    rebuild(300)
    gc.collect()
    assert live.rebuilds - first == 300  # each write changed what is served
    assert states() <= 2, "old published states are still referenced"
    grown_objects, grown_kb = len(gc.get_objects()) - objects, _rss_kb() - rss
    print(f"300 rebuilds: {grown_objects:+d} objects, RSS {grown_kb:+d} KB")
    assert grown_objects < 2_000
    assert grown_kb < 8 * 1024


# -- request headers, targets and queries change nothing ----------------------------------------------


def raw_http(port: int, request: bytes, timeout: float = 5.0) -> tuple[int | None, dict[str, str], bytes]:
    """Send bytes as they are; read until the server closes. (None, {}, b"") when it closed silently."""
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished sending: read what it said
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    if not data:
        return None, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def request(target: str, *headers: str) -> bytes:
    lines = [f"GET {target} HTTP/1.1", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


def test_no_request_header_target_or_query_changes_a_body_link_or_cache_key(serve, articles: Path) -> None:
    server = serve(articles, "--base-url", "https://feeds.example.org", quiet=True)
    tricks = [
        ("{path}", "Host: evil.example"),
        ("{path}", "Host: 127.0.0.1", "X-Forwarded-Proto: http"),
        ("{path}", "Host: 127.0.0.1", "X-Forwarded-Proto: https", "X-Forwarded-Port: 8443"),
        ("{path}", "Host: 127.0.0.1", "Forwarded: host=evil.example;proto=https;for=1.2.3.4"),
        ("{path}", "Host: 127.0.0.1", "X-Forwarded-Host: evil.example", "X-Forwarded-For: 6.6.6.6",
         "X-Forwarded-Prefix: /evil", "X-Original-URL: /evil", "X-Rewrite-URL: /evil"),
        ("http://evil.example{path}", "Host: evil.example"),
        ("https://evil.example:8443{path}", "Host: 127.0.0.1"),
        ("{path}?base=https://evil.example&utm_source=evil", "Host: 127.0.0.1"),
    ]
    stable = ("content-type", "etag", "last-modified", "content-length", "cache-control", "vary",
              "access-control-allow-origin", "x-content-type-options")
    for path in ["/", "/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", "/feeds/index.json",
                 "/feeds/index.opml", "/feeds/topics/world.rss", "/feeds/nope.rss"]:
        status, headers, body = raw_http(server.port, request(path, "Host: 127.0.0.1"))
        assert status in (200, 404) and body, path
        for target, *extra in tricks:
            got_status, got_headers, got_body = raw_http(server.port, request(target.format(path=path), *extra))
            assert (got_status, got_body) == (status, body), (path, target, extra)
            assert {h: got_headers.get(h) for h in stable} == {h: headers.get(h) for h in stable}, (path, extra)
            assert "evil" not in json.dumps(got_headers) and b"evil" not in got_body, (path, extra)
            assert "location" not in got_headers
        if status == 200:  # the cache key: a tag from a plain request matches under any disguise
            for target, *extra in tricks:
                again, _, empty = raw_http(server.port, request(target.format(path=path), *extra,
                                                                f"If-None-Match: {headers['etag']}"))
                assert (again, empty) == (304, b""), (path, extra)
    assert b"https://feeds.example.org/feeds/all.rss" in raw_http(server.port, request("/feeds/all.rss",
                                                                                      "Host: x"))[2]


# -- drafts and secured blobs never leave the process ------------------------------------------------

# Every string a draft or a secured blob carries; none may appear in any output.
LEAKS = ("DRAFTTITLE", "DRAFTURL", "DRAFTEXCERPT", "DRAFTTOPIC", "DRAFTPROVIDER", "draftprov", "DRAFTIMG",
         "SECUREDBLOB", "SECRET-BLOB")


def draft_fields(n: int, **changes: Any) -> dict[str, Any]:
    url = f"https://drafts.example.net/DRAFTURL-{n}"
    fields = sample_fields(
        100 + n, title=f"DRAFTTITLE-{n} merger talks", excerpt=f"DRAFTEXCERPT-{n}", webUrl=url, originalUrl=url,
        published=False, secured=f"SECUREDBLOB-{n}", topics=[f"DRAFTTOPIC-{n}"],
        provider={"name": f"DRAFTPROVIDER-{n}", "domain": f"draftprov{n}.example.net"},
        images=[{"url": f"https://img.example.net/DRAFTIMG-{n}.jpg"}])
    fields.update(changes)
    return fields


def leaky_folder(folder: Path) -> Path:
    """Published articles with secured blobs, drafts, and drafts that are bad files."""
    folder.mkdir(exist_ok=True)
    for n in range(4):
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n)), "utf-8")
    drafts = {
        "draft-good.txt": draft_fields(0),
        "draft-no.txt": draft_fields(1, published="no"),
        "draft-bad-date.txt": draft_fields(2, publishedDateTime="the 31st of Smarch"),
        "draft-bad-flag.txt": draft_fields(3, published="perhaps"),
        "draft-bad-url.txt": draft_fields(4, webUrl="javascript:DRAFTURL-4", originalUrl="ftp://DRAFTURL-4"),
        "draft-no-title.txt": draft_fields(5, title=""),
        "draft-future-bad-date.txt": draft_fields(6, publishedDateTime="0000-01-01"),
    }
    for name, fields in drafts.items():
        (folder / name).write_text(article_text(**fields), "utf-8")
    broken = article_text(**draft_fields(7)).replace('excerpt: "DRAFTEXCERPT-7"', "excerpt: [DRAFTEXCERPT-7")
    (folder / "draft-bad-yaml.txt").write_text(broken, "utf-8")
    return folder


def assert_no_leak(text: str | bytes, where: str) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    found = [marker for marker in LEAKS if marker.lower() in text.lower()]
    assert not found, f"{where} shows {found}"


def test_drafts_and_secured_never_reach_a_body_header_or_log_line(serve, tmp_path: Path) -> None:
    folder = leaky_folder(tmp_path / "articles")
    server = serve(folder)  # not --quiet: the access log and every warning are in the log
    health = server.health()
    assert health["articles"] == 4 and health["drafts"] == 2 and len(health["bad_files"]) == 6

    # Drafts and bad drafts arriving while serving go through the watcher's warnings too.
    (folder / "late-draft.txt").write_text(article_text(**draft_fields(8)), "utf-8")
    (folder / "late-bad.txt").write_text(article_text(**draft_fields(9, publishedDateTime="soon-ish")), "utf-8")
    (folder / "000.txt").write_text(article_text(**sample_fields(0, title="Published while serving")), "utf-8")
    wait_until(lambda: any(bad["file"] == "late-bad.txt" for bad in server.health()["bad_files"]), "late-bad.txt")
    wait_until(serves(server, "Published while serving"), "the published edit")
    wait_until(lambda: server.health()["drafts"] == 3, "the late draft to be counted")

    responses = [server.get(path) for path in [*server.paths(), "/healthz", "/nope", "/feeds/topics/nope.rss"]]
    responses += [server.client.head(path) for path in ("/", "/feeds/all.rss")]
    responses += [server.get("/feeds/all.rss", headers={"accept-encoding": "gzip"})]
    for response in responses:
        assert response.status_code in (200, 404)
        assert_no_leak(response.content, f"{response.url.path} body")
        assert_no_leak(json.dumps(dict(response.headers)), f"{response.url.path} headers")
    server.stop()
    log = server.log()
    assert "late-bad.txt" in log and "GET /feeds/all.rss" in log  # the log really has the warnings and requests
    assert_no_leak(log, "the server log")


def test_drafts_and_secured_never_reach_export_or_check_output(tmp_path: Path) -> None:
    folder = leaky_folder(tmp_path / "articles")
    env = dict(os.environ)
    out = tmp_path / "site"
    outputs = []
    base = ["--base-url", "https://news.example.com"]
    for args in (["export", str(folder), "--out", str(out), *base], ["check", str(folder)],
                 ["export", str(folder), "--out", str(tmp_path / "strict"), "--strict", *base]):
        run = subprocess.run([sys.executable, "-m", "feedpub", *args], cwd=tmp_path, env=env, capture_output=True,
                             timeout=60)
        outputs.append(run)
        assert_no_leak(run.stdout + run.stderr, f"feedpub {args[0]} output")
    assert outputs[0].returncode == 0 and outputs[1].returncode == 1 and outputs[2].returncode != 0
    assert b"draft-bad-date.txt" in outputs[1].stderr  # the report names the file
    for path, body in tree(out).items():
        assert_no_leak(body, f"exported {path}")
    assert len(json.loads((out / "feeds/all.json").read_bytes())["items"]) == 4


def test_a_duplicated_draft_s_url_is_not_reported(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "000.txt").write_text(article_text(**sample_fields(0)), "utf-8")
    (folder / "a.txt").write_text(article_text(**draft_fields(0)), "utf-8")
    (folder / "b.txt").write_text(article_text(**draft_fields(0, publishedDateTime="2020-01-01T00:00:00Z")), "utf-8")
    env = dict(os.environ)
    run = subprocess.run([sys.executable, "-m", "feedpub", "check", str(folder)], cwd=tmp_path, env=env,
                         capture_output=True, timeout=60)
    assert b"duplicate" in run.stderr.lower() or b"1 duplicates" in run.stderr
    assert_no_leak(run.stderr, "feedpub check output")


@pytest.mark.parametrize("line", [
    'secured: !!int SECUREDBLOB-1',
    'title: !!float DRAFTTITLE-1',
    'secured: !!binary SECUREDBLOB-1',
    'secured: !custom SECUREDBLOB-1',
    'title: "DRAFTTITLE-1 \\q"',
    'title: DRAFTTITLE-1: DRAFTURL: x',
    'secured: &a [*a, SECUREDBLOB-1',
])
def test_a_bad_file_s_reason_quotes_no_title_url_or_secured_blob(line: str) -> None:
    text = article_text(**draft_fields(1, title=None, secured=None)).replace("---\n", f"---\n{line}\n", 1)
    with pytest.raises(ArticleError) as refused:
        parse_article(text.encode("utf-8"), source="x.txt")
    assert_no_leak(str(refused.value), "the reason")


# -- oversized headers and slow clients ---------------------------------------------------------------


def test_a_100kb_header_is_answered_or_refused_promptly(serve, articles: Path) -> None:
    server = serve(articles, quiet=True)
    started = time.monotonic()
    status, _, _ = raw_http(server.port, request("/feeds/all.rss", "Host: x", "X-Big: " + "a" * 100_000), timeout=10)
    assert time.monotonic() - started < 10
    assert status is None or status in (200, 400, 413, 431)
    assert server.get("/feeds/all.rss").status_code == 200  # and the server is fine afterwards


def test_a_100kb_header_is_refused(serve, articles: Path) -> None:
    server = serve(articles, quiet=True)
    status, _, _ = raw_http(server.port, request("/feeds/all.rss", "Host: x", "X-Big: " + "a" * 100_000), timeout=10)
    assert status is None or 400 <= status < 500


def test_slow_clients_do_not_hold_up_others(serve, articles: Path) -> None:
    server = serve(articles, quiet=True)
    slow = []
    try:
        for _ in range(50):  # each sends half a request and then nothing
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(sock)
        started = time.monotonic()
        for path in ("/feeds/all.rss", "/feeds/all.json", "/healthz"):
            assert server.get(path).status_code == 200
        assert time.monotonic() - started < 3
    finally:
        for sock in slow:
            sock.close()
