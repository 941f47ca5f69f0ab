"""Two `feedpub serve` replicas of one article folder behind real nginx, configured as the README
shows (`examples/nginx/feedpub-replicas.conf`: `upstream`, `proxy_cache` with
`proxy_cache_revalidate on`), only its ports and cache folder replaced.

- Both replicas answer every path of the site with the same bytes and ETag (plain and gzip), the
  bytes `feedpub export` writes.
- Each answers 304 to the other's ETag: a reader's conditional GET is 304 wherever it lands.
- A change written to the folder is served by both within 1 s.
- nginx's cache revalidates expired entries with If-None-Match and gets 304s from feedpub; after a
  change it gets the new bytes; both replicas take requests.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

import httpx

from feedpub.build import Build
from feedpub.export import export_site
from feedpub.render.paths import HEADERS
from feedpub.settings import Settings
from tests.helpers import article_text, loaded, sample_fields
from tests.hosting.servers import example, free_port, nginx
from tests.live_server import Server

BASE = "https://news.example.com"
MAX_AGE = 2  # seconds nginx may keep an entry before it revalidates (feedpub's Cache-Control; RSS <ttl>)
# Small feeds and archives: every kind of document.
SETTINGS = Settings(base_url=BASE, limit=4, archive_size=5, max_age=MAX_AGE, archive_max_age=MAX_AGE)
# nginx counts an entry's life in whole seconds from the second it was stored: it is fresh through
# that second plus MAX_AGE, so waiting MAX_AGE + 1.2 s after the last store has every entry expired.
EXPIRED_AFTER_S = MAX_AGE + 1.2
CHANGE_WITHIN_S = 4.0  # ~0.2 s on a quiet machine; the bound for a busy CI one
PLAIN = {"accept-encoding": "identity"}
GZIP = {"accept-encoding": "gzip"}


def write_articles(folder: Path) -> None:
    folder.mkdir()
    for n in range(30):
        topics = ["World", "Künstliche Intelligenz"] if n % 2 else ["World"]
        (folder / f"{n:03d}.txt").write_text(article_text(**sample_fields(n, topics=topics)), encoding="utf-8")


def exported(folder: Path, out: Path) -> dict[str, bytes]:
    """URL path → bytes of everything a server publishes, from `feedpub export` with the same settings."""
    export_site(loaded(Build(folder, SETTINGS)), out)
    files = {"/" + quote(p.relative_to(out).as_posix()): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    del files["/" + HEADERS]
    return {**files, "/": files["/index.html"]}


def answers(server: Server, path: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
    response = server.get(path, headers=headers)
    return response.status_code, response.content, response.headers.get("etag", "")


def test_two_replicas_behind_nginx(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder)
    logs = tmp_path / "logs"
    logs.mkdir()
    config = tmp_path / "feedpub.yaml"
    config.write_text(f"base_url: {BASE}\nlimit: {SETTINGS.limit}\narchive_size: {SETTINGS.archive_size}\n"
                      f"archive_max_age: {MAX_AGE}\n")  # archives too expire within the test
    common = ("--config", str(config), "--max-age", str(MAX_AGE))
    replicas = []
    try:
        for name in ("a", "b"):  # --port 0: each learns its port from the URL the replica prints
            replicas.append(Server(folder, logs, *common, "--cache-dir", str(tmp_path / f"cache-{name}"), port=0))
        a, b = replicas
        site = exported(folder, tmp_path / "site")
        assert len(site) > 80 and any(path.startswith("/feeds/archive/") for path in site)

        # Same bytes and ETag from both, for every path, plain and gzip; and the export's bytes.
        for path, body in site.items():
            for headers in (PLAIN, GZIP):
                status, content, etag = answers(a, path, headers)
                assert (status, content, etag) == answers(b, path, headers), (path, headers)
                assert status == 200 and etag, path
                if headers is PLAIN:
                    assert content == body, path

        # One replica's ETag is the other's 304.
        for path in site:
            for headers in (PLAIN, GZIP):
                for one, other in ((a, b), (b, a)):
                    etag = one.get(path, headers=headers).headers["etag"]
                    answer = other.get(path, headers={**headers, "if-none-match": etag})
                    assert answer.status_code == 304 and answer.headers["etag"] == etag and not answer.content, path

        port = free_port()
        proxy_conf = example("nginx/feedpub-replicas.conf", {
            "listen 80;": f"listen 127.0.0.1:{port};",
            "server 127.0.0.1:8001;": f"server 127.0.0.1:{a.port};",
            "server 127.0.0.1:8002;": f"server 127.0.0.1:{b.port};",
            "proxy_pass http://127.0.0.1:8001;": f"proxy_pass http://127.0.0.1:{a.port};",
            "/var/cache/nginx/feedpub": str(tmp_path / "nginx-cache"),
        })
        with nginx(tmp_path / "nginx", proxy_conf, port) as proxy, httpx.Client(base_url=proxy.url, timeout=10) as client:
            paths = sorted(site)
            first = {path: client.get(path, headers=PLAIN) for path in paths}
            assert all(first[p].content == site[p] and first[p].headers["x-cache-status"] == "MISS" for p in paths)
            # The last stored: the first may expire (MAX_AGE) while a slow machine stores the others.
            assert all(client.get(p, headers=PLAIN).headers["x-cache-status"] == "HIT" for p in paths[-20:])
            time.sleep(EXPIRED_AFTER_S)
            again = {path: client.get(path, headers=PLAIN) for path in paths}
            assert {r.headers["x-cache-status"] for r in again.values()} == {"REVALIDATED"}
            assert all(again[p].content == site[p] for p in paths)

            # A change: written once to the folder, served by both replicas within a second.
            written = time.monotonic()
            (folder / "000.txt").write_text(article_text(**sample_fields(0, title="Breaking: a change")), "utf-8")
            seen: dict[str, float] = {}
            while len(seen) < 2 and time.monotonic() - written < 10:
                for name, server in (("a", a), ("b", b)):
                    if name not in seen and b"Breaking: a change" in server.get("/feeds/all.rss", headers=PLAIN).content:
                        seen[name] = time.monotonic() - written
                time.sleep(0.01)
            assert len(seen) == 2 and max(seen.values()) < CHANGE_WITHIN_S, seen
            assert answers(a, "/feeds/all.rss", GZIP) == answers(b, "/feeds/all.rss", GZIP)

            time.sleep(EXPIRED_AFTER_S)  # nginx's entry expires: revalidated, now with new bytes
            fresh = client.get("/feeds/all.rss", headers=PLAIN)
            assert fresh.headers["x-cache-status"] == "EXPIRED" and b"Breaking: a change" in fresh.content
            unchanged = client.get("/feeds/topics/k%C3%BCnstliche-intelligenz.rss", headers=PLAIN)  # article 0 is not in it
            assert unchanged.headers["x-cache-status"] == "REVALIDATED"

            log = proxy.access_log()
            revalidated = [line for line in log if "cache=REVALIDATED" in line]
            assert revalidated and all("upstream=304" in line for line in revalidated)
            used = {line.rsplit("via=", 1)[1] for line in log if "via=127.0.0.1" in line}
            assert used == {f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"}, used  # both replicas take requests
            print(f"replicas: {len(site)} paths identical (plain and gzip) on both, each 304 for the other's "
                  f"ETag; a change served by a in {seen['a'] * 1000:.0f} ms, by b in {seen['b'] * 1000:.0f} ms; "
                  f"nginx: {len(revalidated)} revalidations, every one a 304 from feedpub")
    finally:
        for server in replicas:
            server.stop()
