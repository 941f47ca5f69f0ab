"""Archived feeds, as readers and aggregators meet them in an export.

Every feed's chain is walked the way a client walks it (feedparser for RSS and Atom, following
`prev-archive`; `json` for JSON Feed, following `next_url`) and must give every published article
of that feed exactly once, newest first. Then articles arrive, go back in time, change and go away,
and exactly the documents the partition says may change do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feedpub.build import Build
from feedpub.export import export_site
from feedpub.render.outputs import LazyOutput, made_of_etag
from feedpub.render.site import make_archive_feed
from feedpub.settings import Settings
from tests.helpers import article_text, sample_fields

BASE = "https://news.example.com"
NOW = datetime(2026, 2, 1, tzinfo=UTC)
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SETTINGS = Settings(base_url=BASE, limit=10, archive_size=12)
FH = "http://purl.org/syndication/history/1.0"


def fields(n: int, **overrides: Any) -> dict[str, Any]:
    """Article n: an hour older than n - 1; three providers; World always, Science for odd n,
    Rare for every fortieth (a feed that fits its subscription document)."""
    values: dict[str, Any] = {
        "topics": ["World"] + (["Science"] if n % 2 else []) + (["Rare"] if n % 40 == 0 else []),
        "publishedDateTime": (START - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return sample_fields(n, **{**values, **overrides})


def write(folder: Path, name: str, **values: Any) -> None:
    (folder / name).write_text(article_text(**values), encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(240):
        write(folder, f"{n:03d}.txt", **fields(n, **({"published": False} if n % 17 == 5 else {})))
    # Two articles in one second, and one not due yet: neither may be lost nor shown early.
    tie = (START - timedelta(hours=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    write(folder, "tie.txt", **fields(300, publishedDateTime=tie))
    write(folder, "later.txt", **fields(301, publishedDateTime="2027-01-01T00:00:00Z"))
    return folder


def export(folder: Path, out: Path, settings: Settings = SETTINGS) -> dict[str, bytes]:
    build = Build(folder, settings)
    build.load(now=NOW)
    export_site(build.site, out)
    return {str(path.relative_to(out)): path.read_bytes() for path in out.rglob("*") if path.is_file()}


def published(folder: Path) -> list[dict[str, Any]]:
    """Every published article, newest first, from the files themselves (not from feedpub)."""
    found = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text("utf-8")
        values = {line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in text.splitlines()[1:-1]}
        when = datetime.fromisoformat(values["publishedDateTime"].replace("Z", "+00:00"))
        if values.get("published") is False or when > NOW:
            continue
        found.append({"url": values["webUrl"], "when": when, "topics": values["topics"],
                      "domain": values["provider"]["domain"]})
    found.sort(key=lambda a: (-a["when"].timestamp(), a["url"]))
    return found


def feeds_of(articles: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Subscription document path (without suffix) → the URLs of its feed's articles, newest first."""
    feeds: dict[str, list[str]] = {"feeds/all": [a["url"] for a in articles]}
    for article in articles:
        feeds.setdefault(f"feeds/providers/{article['domain']}", []).append(article["url"])
        for topic in article["topics"]:
            feeds.setdefault(f"feeds/topics/{topic.lower()}", []).append(article["url"])
    return feeds


def local(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return url[len(BASE) + 1 :]


def walk(files: dict[str, bytes], start: str, fmt: str) -> tuple[list[str], list[str]]:
    """The item ids along a chain, and the documents visited, from a subscription document."""
    ids: list[str] = []
    visited: list[str] = []
    path: str | None = f"{start}.{fmt}"
    while path is not None:
        assert path not in visited, f"the chain loops back to {path}"
        visited.append(path)
        body = files[path]
        if fmt == "json":
            document = json.loads(body)
            assert document["feed_url"] == f"{BASE}/{start}.json"  # every page names the feed itself
            ids += [item["id"] for item in document["items"]]
            following = document.get("next_url")
            assert following != document["feed_url"]
            path = local(following) if following else None
        else:
            parsed = feedparser.parse(body)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            ids += [entry.id for entry in parsed.entries]
            older = [link.href for link in parsed.feed.get("links", []) if link.get("rel") == "prev-archive"]
            assert len(older) <= 1
            path = local(older[0]) if older else None
    return ids, visited


def test_every_chain_gives_every_article_of_its_feed_once_newest_first(folder: Path, tmp_path: Path) -> None:
    files = export(folder, tmp_path / "site")
    expected = feeds_of(published(folder))
    assert len(expected["feeds/all"]) > 200 and "https://news0.example.com/story/0" in expected["feeds/all"]
    catalog = {entry["urls"]["json"]: entry for entry in json.loads(files["feeds/index.json"])["feeds"]}
    for start, urls in expected.items():
        for fmt in ("rss", "atom", "json"):
            ids, visited = walk(files, start, fmt)
            assert ids == urls, (start, fmt)
            assert all(path.startswith("feeds/archive/") for path in visited[1:])
        entry = catalog[f"{BASE}/{start}.json"]
        assert entry["archives"]["documents"] == len(visited) - 1  # the catalog says how long the chain is
        if len(visited) > 1:
            assert entry["archives"]["first"]["json"] == f"{BASE}/{visited[1]}"


def test_a_feed_that_fits_is_complete_and_every_archive_document_says_what_it_is(folder: Path,
                                                                                   tmp_path: Path) -> None:
    files = export(folder, tmp_path / "site")
    rare = files["feeds/topics/rare.atom"].decode()
    assert "<fh:complete/>" in rare and "prev-archive" not in rare  # six articles: all in it
    assert "<fh:complete/>" in files["feeds/topics/rare.rss"].decode()
    assert "<fh:complete/>" not in files["feeds/all.rss"].decode()
    archives = [path for path in files if path.startswith("feeds/archive/")]
    assert len(archives) > 30
    for path in archives:
        body = files[path].decode()
        if path.endswith(".json"):
            assert "fh:" not in body
            continue
        assert "<fh:archive/>" in body and f'xmlns:fh="{FH}"' in body
        parsed = feedparser.parse(files[path])
        rels = {link.rel: link.href for link in parsed.feed.links}
        current = path.split("/")[2:-1]
        assert rels["current"] == f"{BASE}/feeds/{'/'.join(current) if current != ['all'] else 'all'}{path[path.rfind('.'):]}"
        assert "prev-archive" in rels or "next-archive" in rels  # never a lone archive document here
        assert len(parsed.entries) <= SETTINGS.archive_size


def test_archives_off_publish_the_newest_items_only_with_no_trace_of_history(folder: Path, tmp_path: Path) -> None:
    files = export(folder, tmp_path / "site", SETTINGS.replace(archives=False))
    assert not any(path.startswith("feeds/archive/") for path in files)
    assert not any(b"purl.org/syndication/history" in body for body in files.values())
    assert all("archives" not in entry for entry in json.loads(files["feeds/index.json"])["feeds"])
    assert len(json.loads(files["feeds/all.json"])["items"]) == 10


# -- what changes when an article does -------------------------------------------------------


def pages(files: dict[str, bytes]) -> dict[str, dict[str, list[str]]]:
    """Feed (its archive folder) → archive document name → the item ids it holds."""
    found: dict[str, dict[str, list[str]]] = {}
    for path, body in files.items():
        if path.startswith("feeds/archive/") and path.endswith(".json"):
            folder, name = path.rsplit("/", 1)
            found.setdefault(folder, {})[name[: -len(".json")]] = [item["id"] for item in json.loads(body)["items"]]
    return found


def documents_holding(files: dict[str, bytes], url: str) -> set[str]:
    return {f"{folder}/{name}.{fmt}" for folder, names in pages(files).items() for name, ids in names.items()
            if url in ids for fmt in ("rss", "atom", "json")}


def same_documents(before: dict[str, bytes], after: dict[str, bytes]) -> bool:
    return {feed: set(names) for feed, names in pages(before).items()} == {
        feed: set(names) for feed, names in pages(after).items()}


def changed_between(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def stamps(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}


Change = Callable[[Path], str]  # changes the folder; returns the URL of the article it changed


def edited(folder: Path) -> str:
    write(folder, "150.txt", **fields(150, title="A corrected headline, long after"))
    return "https://news0.example.com/story/150"


def withdrawn(folder: Path) -> str:
    write(folder, "151.txt", **fields(151, published=False))
    return "https://news1.example.com/story/151"


@pytest.mark.parametrize("change", [edited, withdrawn], ids=["edited", "withdrawn"])
def test_an_older_article_that_changes_changes_only_the_archive_documents_that_hold_it(
        folder: Path, tmp_path: Path, change: Change) -> None:
    out = tmp_path / "site"
    before = export(folder, out)
    marks = stamps(out)
    url = change(folder)
    after = export(folder, out)
    holding = documents_holding(before, url)
    assert len(holding) == 3 * (3 if url.endswith("150") else 4)  # all, its provider, World (and Science)
    # A withdrawn article is counted no more: the pages that list every feed with its count change.
    counts = {"feeds/index.json", "index.html"} if change is withdrawn else set()
    changed = changed_between(before, after)
    assert same_documents(before, after)  # no document appeared or went (see the split test below)
    assert changed == holding | counts  # exactly the ones that held it changed, nothing else at all
    now = stamps(out)
    unchanged = {path for path in before if before[path] == after.get(path)}
    assert all(now[path] == marks[path] for path in unchanged)  # not even rewritten


def test_a_new_article_changes_its_feeds_subscription_documents_and_the_newest_archive_of_each(
        folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    before = export(folder, out)
    write(folder, "new.txt", **fields(-1, webUrl="https://news2.example.com/story/new",
                                       originalUrl="https://news2.example.com/story/new", topics=["World"]))
    after = export(folder, out)
    feeds = ["all", "providers/news2.example.com", "topics/world"]  # the new article's feeds
    subscription = {f"feeds/{feed}.{fmt}" for feed in feeds for fmt in ("rss", "atom", "json")}
    subscription |= {f"feeds/{feed}.html" for feed in feeds}  # each feed's page lists its newest items too
    # What it pushed out of each of them went into that feed's newest archive document.
    newest = set()
    for feed in feeds:
        folder_name = f"feeds/archive/{feed}" if feed != "all" else "feeds/archive/all"
        first = json.loads(after[f"feeds/{feed}.json"])["next_url"]
        assert local(first).startswith(folder_name + "/")
        newest |= {local(first).rsplit(".", 1)[0] + f".{fmt}" for fmt in ("rss", "atom", "json")}
    changed = changed_between(before, after)
    index_pages = {"index.html", "feeds/index.json", "feeds/index.opml"}
    archive_changes = {path for path in changed if path.startswith("feeds/archive/")}
    assert changed - archive_changes == subscription | index_pages
    assert same_documents(before, after)
    assert archive_changes == newest


def test_a_back_dated_article_changes_only_the_document_of_its_date_in_each_of_its_feeds(
        folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    before = export(folder, out)
    when = START - timedelta(hours=130, minutes=30)  # between articles 130 and 131: deep in the archive
    url = "https://news2.example.com/story/back-dated"
    write(folder, "back.txt", **fields(500, webUrl=url, originalUrl=url, topics=["World"],
                                       publishedDateTime=when.strftime("%Y-%m-%dT%H:%M:%SZ")))
    after = export(folder, out)
    changed = changed_between(before, after)
    holding = documents_holding(after, url)
    assert len(holding) == 3 * 3  # all, its provider and World
    counts = {"feeds/index.json", "index.html"}  # one article more in three feeds
    assert {path for path in changed if not path.startswith("feeds/archive/")} == counts
    assert same_documents(before, after)
    assert changed - counts == holding


def test_a_document_that_fills_up_splits_and_only_it_and_its_neighbours_change(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    before = export(folder, out)
    # The fullest archive document of the feed of everything, and one more article in its range.
    names = pages(before)["feeds/archive/all"]
    order = chain(before)
    name = max(order, key=lambda n: len(names[n]))
    assert len(names[name]) == SETTINGS.archive_size or len(names[name]) > SETTINGS.archive_size // 2
    while len(names[name]) < SETTINGS.archive_size:  # top it up, then one more splits it
        k = len(names[name])
        url = f"https://news0.example.com/story/fill-{k}"
        moment = _inside(before, name)
        write(folder, f"fill-{k}.txt", **fields(600 + k, webUrl=url, originalUrl=url, topics=["World"],
                                                 publishedDateTime=moment.strftime("%Y-%m-%dT%H:%M:%SZ")))
        before = export(folder, out)
        names = pages(before)["feeds/archive/all"]
        order = chain(before)
        assert name in names
    url = "https://news0.example.com/story/one-too-many"
    write(folder, "one-too-many.txt", **fields(700, webUrl=url, originalUrl=url, topics=["World"],
                                                  publishedDateTime=_inside(before, name).strftime("%Y-%m-%dT%H:%M:%SZ")))
    after = export(folder, out)
    now = pages(after)["feeds/archive/all"]
    assert name not in now  # it split
    new = set(now) - set(names)
    assert len(new) >= 2 and set(names) - set(now) == {name}
    # In the feed of everything only the documents that took its place and the two around them changed.
    position = order.index(name)
    around = {n for n in (order[position - 1] if position else None,
                          order[position + 1] if position + 1 < len(order) else None) if n}
    changed = {path.rsplit("/", 1)[1].rsplit(".", 1)[0] for path in changed_between(before, after)
               if path.startswith("feeds/archive/all/")}
    assert changed == new | {name} | around


def chain(files: dict[str, bytes]) -> list[str]:
    """The archive documents of the feed of everything by name, as its chain runs: newest first."""
    _, visited = walk(files, "feeds/all", "json")
    return [path.rsplit("/", 1)[1][: -len(".json")] for path in visited[1:]]


def _inside(files: dict[str, bytes], name: str) -> datetime:
    """A moment within the range of an archive document of the feed of everything (from its name)."""
    start = datetime.strptime(name[: len("2026-01-05T063922Z")], "%Y-%m-%dT%H%M%SZ").replace(tzinfo=UTC)
    ids = json.loads(files[f"feeds/archive/all/{name}.json"])["items"]
    newest = datetime.fromisoformat(ids[0]["date_published"].replace("Z", "+00:00"))
    return start + (newest - start) / 2



def test_an_archive_document_s_etag_is_the_digest_of_its_code_format_frame_and_items(folder: Path) -> None:
    # Its formats share the frame's feed and the digests, made once for the three and let go after
    # (site._MadeOf): asked in any order, any number of times, each ETag is still the digest of what
    # that format's document is made of.
    build = Build(folder, SETTINGS)
    build.load()
    catalog = build.catalog
    spec = next(catalog.spec(g) for g in catalog.groups() if len(catalog.spec(g).archives) > 1)
    code = build.builder._code
    for index, page in enumerate(spec.archives):
        feed = make_archive_feed(spec, index, SETTINGS)
        outputs = build.builder._render_page(spec, index)
        for _ in range(2):
            for path, output in reversed(list(outputs.items())):
                assert isinstance(output, LazyOutput)
                name = path.rsplit(".", 1)[1]
                expected = f"{code}\0{name}\0{feed!r}\0" + ",".join(entry.digest for entry in page.items)
                assert output.made_of() == expected
                assert output.etag == made_of_etag(expected)
