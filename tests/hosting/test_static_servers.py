"""A static export served by real nginx and Caddy with the README's configurations
(`examples/nginx/feedpub-static.conf`, `examples/Caddyfile`): every path has the bytes of its file
and the headers feedpub's own rules give it (`headers_for`, as the live server and the deploy send
them); a missing path gets the export's 404.html; `_headers` is not served; a file an export left
unchanged keeps the server's ETag, so readers' conditional requests keep meeting 304s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from feedpub.build import Build
from feedpub.export import export_site
from feedpub.render.headers import PER_PATH, headers_for
from feedpub.render.paths import HEADERS
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields
from tests.hosting.servers import Caddy, Nginx, caddy, example, free_port, nginx

SETTINGS = Settings(base_url="https://news.example.com", limit=4, archive_size=5, everyday_api=True, page_size=5)
SITE = "/srv/news/site"


def write_articles(folder: Path, count: int = 30) -> None:
    folder.mkdir(exist_ok=True)
    for n in range(count):
        topics = ["World", "Künstliche Intelligenz"] if n % 2 else ["World"]
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=topics)), encoding="utf-8")


def export(folder: Path, out: Path) -> dict[str, bytes]:
    export_site(loaded(Build(folder, SETTINGS)), out)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def run_nginx(home: Path, out: Path) -> AbstractContextManager[Nginx]:
    port = free_port()
    site = example("nginx/feedpub-static.conf", {"listen 80;": f"listen 127.0.0.1:{port};", SITE: str(out)})
    return nginx(home, site, port)


def run_caddy(home: Path, out: Path) -> AbstractContextManager[Caddy]:
    port = free_port()
    return caddy(home, example("Caddyfile", {"news.example.com {": f"http://127.0.0.1:{port} {{", SITE: str(out)}),
                 port)


SERVERS: dict[str, Callable[[Path, Path], AbstractContextManager[Nginx | Caddy]]] = {"nginx": run_nginx,
                                                                                     "caddy": run_caddy}


@pytest.fixture(params=sorted(SERVERS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[httpx.Client, Path, dict[str, bytes]]]:
    """(a client of the web server, the article folder, the exported files) for each server."""
    folder, out = tmp_path / "articles", tmp_path / "site"
    write_articles(folder)
    files = export(folder, out)
    with SERVERS[request.param](tmp_path / request.param, out) as server, httpx.Client(
            base_url=server.url, timeout=10, headers={"accept-encoding": "identity"}) as client:
        yield client, folder, files


def test_every_path_has_its_bytes_and_feedpubs_headers(served: tuple[httpx.Client, Path, dict[str, bytes]]) -> None:
    client, _, files = served
    assert any(path.startswith("feeds/archive/") for path in files) and any(path.startswith("api/") for path in files)
    checked = 0
    for path, body in files.items():
        if path == HEADERS:
            continue
        response = client.get("/" + quote(path))
        assert response.status_code == 200, path
        assert response.content == body, path
        # A static server's configuration cannot single out each feed's newest archive document, which
        # changes as often as its subscription document: every archive document gets the brief max-age there.
        rules = headers_for(path, SETTINGS, growing=path.startswith("feeds/archive/"))
        expected = {name: value for name, value in rules.items() if name not in PER_PATH}
        for name, value in expected.items():
            assert response.headers.get_list(name) == [value], (path, name, response.headers.get_list(name))
        if "Access-Control-Allow-Origin" not in expected:
            assert "access-control-allow-origin" not in response.headers, path
        assert response.headers["etag"] and response.headers["last-modified"], path
        checked += 1
    assert checked == len(files) - 1
    root = client.get("/")
    assert root.status_code == 200 and root.content == files["index.html"]
    assert root.headers["content-type"] == "text/html; charset=utf-8"


def test_a_missing_path_gets_the_404_page_and_headers_is_not_served(
        served: tuple[httpx.Client, Path, dict[str, bytes]]) -> None:
    client, _, files = served
    for path in ("/nope", "/feeds/topics/nope.rss", "/_headers"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.content == files["404.html"], path


def test_an_unchanged_file_keeps_its_etag_across_exports(served: tuple[httpx.Client, Path, dict[str, bytes]],
                                                        tmp_path: Path) -> None:
    client, folder, files = served
    etags = {path: client.get("/" + quote(path)).headers["etag"] for path in files if path != HEADERS}
    (folder / "002.txt").write_text(article_text(**sample_fields(2, title="Changed headline")), encoding="utf-8")
    after = export(folder, tmp_path / "site")
    changed = {path for path in after if after[path] != files.get(path)}
    assert {"feeds/all.rss", "feeds/providers/news2.example.com.atom"} <= changed
    assert len(changed) < len(after) // 2
    for path, etag in etags.items():
        response = client.get("/" + quote(path), headers={"if-none-match": etag})
        if path in changed:
            assert response.status_code == 200 and response.content == after[path], path
        else:
            assert response.status_code == 304, path  # same file, same ETag: the reader's copy stands
