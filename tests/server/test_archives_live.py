"""Archived feeds as the live server serves them: walked over HTTP, kept current, cached for a day.

The real `feedpub serve`, and a client that walks every feed's chain as an aggregator would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest

from tests.live_server import Server, servers
from tests.render.test_archives import feeds_of, fields, published, write


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(150):
        write(folder, f"{n:03d}.txt", **fields(n, **({"published": False} if n % 17 == 5 else {})))
    return folder


def start(serve: Callable[..., Server], folder: Path, tmp_path: Path) -> Server:
    config = tmp_path / "feedpub.yaml"
    config.write_text("limit: 10\narchive_size: 12\narchive_max_age: 86400\n")
    return serve(folder, "--config", str(config))


def walk(server: Server, start_path: str, fmt: str) -> tuple[list[str], list[httpx.Response]]:
    ids: list[str] = []
    answers: list[httpx.Response] = []
    path: str | None = f"/{start_path}.{fmt}"
    while path is not None:
        answer = server.get(path)
        assert answer.status_code == 200, path
        answers.append(answer)
        if fmt == "json":
            document = json.loads(answer.content)
            ids += [item["id"] for item in document["items"]]
            following = document.get("next_url")
        else:
            parsed = feedparser.parse(answer.content)
            ids += [entry.id for entry in parsed.entries]
            older = [link.href for link in parsed.feed.get("links", []) if link.get("rel") == "prev-archive"]
            following = older[0] if older else None
        path = httpx.URL(following).raw_path.decode("ascii") if following else None
        assert len(answers) < 200, "the chain does not end"
    return ids, answers


def expected_feeds(folder: Path) -> dict[str, list[str]]:
    return {path: urls for path, urls in feeds_of(published(folder)).items() if "rare" not in path}


def test_every_chain_walked_over_http_gives_every_article_once(serve: Callable[..., Server], folder: Path,
                                                               tmp_path: Path) -> None:
    server = start(serve, folder, tmp_path)
    for start_path, urls in expected_feeds(folder).items():
        for fmt in ("rss", "atom", "json"):
            ids, answers = walk(server, start_path, fmt)
            assert ids == urls, (start_path, fmt)
            # The subscription document and the newest archive document, which takes each item pushed out
            # of it, are cached 5 minutes; the older archive documents for a day; all revalidated with 304s.
            for index, answer in enumerate(answers):
                age = 86400 if index > 1 else 300
                assert answer.headers["cache-control"] == f"public, max-age={age}", (start_path, fmt, index)
                again = server.get(answer.url.raw_path.decode("ascii"), headers={"if-none-match": answer.headers["etag"]})
                assert again.status_code == 304 and again.headers["etag"] == answer.headers["etag"]
                assert again.headers["cache-control"] == f"public, max-age={age}"


def test_archive_documents_are_served_compressed_and_equal_to_the_export(serve: Callable[..., Server],
                                                                        folder: Path, tmp_path: Path) -> None:
    import gzip

    from feedpub.build import Build
    from feedpub.settings import load_settings

    server = start(serve, folder, tmp_path)
    settings = load_settings(tmp_path / "feedpub.yaml").replace(base_url=server.base)
    build = Build(folder, settings)
    build.load()
    archives = [path for path in build.site if path.startswith("feeds/archive/")]
    assert len(archives) > 20
    for path in archives[::7]:
        plain = server.get("/" + path, headers={"accept-encoding": "identity"})
        with httpx.stream("GET", f"{server.base}/{path}", headers={"accept-encoding": "gzip"}) as answer:
            assert answer.headers["content-encoding"] == "gzip"
            packed = b"".join(answer.iter_raw())  # as sent, not decoded
        assert plain.content == build.site[path].body == gzip.decompress(packed)
        assert plain.headers["etag"] == build.site[path].etag


def test_a_new_article_reaches_the_archives_of_its_feeds_within_a_second(serve: Callable[..., Server],
                                                                         folder: Path, tmp_path: Path) -> None:
    server = start(serve, folder, tmp_path)
    for k in range(3):  # three arrivals: three items pushed out of each subscription document
        url = f"https://news0.example.com/story/new-{k}"
        write(folder, f"new-{k}.txt", **fields(-1 - k, webUrl=url, originalUrl=url))
    deadline = time.monotonic() + 5
    expected = expected_feeds(folder)
    while True:
        found: dict[str, Any] = {start_path: walk(server, start_path, "json")[0] for start_path in expected}
        if found == expected or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert found == expected


def test_the_json_api_is_served_as_exported_and_kept_current(serve: Callable[..., Server], folder: Path,
                                                            tmp_path: Path) -> None:
    from feedpub.build import Build
    from feedpub.settings import load_settings

    config = tmp_path / "api.yaml"
    config.write_text("everyday_api: true\npage_size: 25\n")
    server = serve(folder, "--config", str(config))
    build = Build(folder, load_settings(config).replace(base_url=server.base))
    build.load()
    api = sorted(path for path in build.site if path.startswith("api/"))
    assert "api/news/page/5/index.json" in api and "api/topics/index.json" in api
    for path in api:
        answer = server.get("/" + path, headers={"accept-encoding": "identity"})
        assert answer.status_code == 200 and answer.content == build.site[path].body, path
        assert answer.headers["content-type"] == "application/json; charset=utf-8"
    url = "https://news0.example.com/story/api-newest"
    write(folder, "api-newest.txt", **fields(-5, webUrl=url, originalUrl=url))
    deadline = time.monotonic() + 5
    while json.loads(server.get("/api/news/index.json").content)["value"][0]["webUrl"] != url:
        assert time.monotonic() < deadline, "the new article never reached page 1"
        time.sleep(0.05)
    second = json.loads(server.get("/api/news/page/2/index.json").content)["value"]
    first = json.loads(server.get("/api/news/page/1/index.json").content)["value"]
    assert second[0]["webUrl"] not in {item["webUrl"] for item in first}  # pages shifted by one
