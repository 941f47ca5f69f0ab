"""`feedpub serve` links the address it really listens on: `--port 0` (the port the system picked),
a wildcard host (the machine's name, never 0.0.0.0), or the `--base-url` given; a port in use is a
clear error before anything is loaded."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.live_server import Server, servers


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    yield from servers(tmp_path)


def own_urls(server: Server) -> list[str]:
    """Every absolute URL of the site's own that the catalog and OPML print."""
    catalog = server.catalog()
    urls = [catalog["home_page_url"]] + [url for entry in catalog["feeds"] for url in entry["urls"].values()]
    assert len(urls) > 10
    return urls


def test_port_0_links_the_port_it_got(serve: Callable[..., Server], articles: Path) -> None:
    server = serve(articles, port=0)
    assert server.port not in (0, 8000)
    assert all(url.startswith(f"http://127.0.0.1:{server.port}/") for url in own_urls(server))
    assert f'xmlUrl="http://127.0.0.1:{server.port}/feeds/all.rss"' in server.get("/feeds/index.opml").text
    assert f"feedpub: open http://127.0.0.1:{server.port}/\n" in server.log()  # no "(links use ...)": they agree
    assert ":0/" not in server.get("/feeds/all.atom").text


def test_a_wildcard_address_links_the_host_name_never_0_0_0_0(serve: Callable[..., Server], articles: Path) -> None:
    server = serve(articles, "--host", "0.0.0.0", port=0)
    name = socket.gethostname()
    assert all(url.startswith(f"http://{name}:{server.port}/") for url in own_urls(server))
    for path in ("/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", "/feeds/index.opml", "/"):
        assert "0.0.0.0" not in server.get(path).text, path
    log = server.log()
    assert f"feedpub: open http://127.0.0.1:{server.port}/ (links use http://{name}:{server.port}/)" in log
    assert "give it with --base-url" in log


def test_a_base_url_given_is_what_links_use(serve: Callable[..., Server], articles: Path) -> None:
    server = serve(articles, "--host", "0.0.0.0", "--base-url", "https://news.example.com", port=0)
    assert all(url.startswith("https://news.example.com/") for url in own_urls(server))
    assert "give it with --base-url" not in server.log()


def test_a_port_in_use_is_a_clear_error_before_loading(articles: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "feedpub", "serve", str(articles), "--port", str(port)],
                                capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr
    assert "--port 0" in result.stderr and "Traceback" not in result.stderr
    assert "files read" not in result.stderr  # said before the folder was loaded
    assert time.monotonic() - started < 20


def test_an_ipv6_address_is_linked_in_brackets(serve: Callable[..., Server], articles: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    server = serve(articles, "--host", "::1", port=0)
    assert server.base.startswith("http://[::1]:")
    assert all(url.startswith(server.base + "/") for url in own_urls(server))
    assert server.get("/feeds/all.rss").status_code == 200
