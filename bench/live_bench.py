"""Live change: how long from writing one article until every feed it belongs to serves the change.

Used by run.py on a running `feedpub serve` over a hard-linked copy of the corpus (the copy's file is
replaced by rename, so the cached corpus is never modified):

1. pick the newest published article (first item of /feeds/all.json) whose file is found by its
   top-level `webUrl:` line, and find every topic/provider feed that lists it (scan of the JSON feeds);
2. `rounds` times: write the file with a new title (temp file + rename, as a sync tool would),
   then poll all/topic/provider feeds in RSS, Atom and JSON with conditional GETs until the new title
   is in every one; record the time from the write;
3. report the median, min, max and p90 in milliseconds.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

TITLE = re.compile(r"^title:.*$", re.M)


class Poller:
    """Conditional GETs over one keep-alive connection to 127.0.0.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.etags: dict[str, str] = {}

    def get(self, path: str, conditional: bool = True) -> bytes | None:
        headers = {"If-None-Match": self.etags[path]} if conditional and path in self.etags else {}
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                if attempt == 2:
                    raise
        if response.status == 304:
            return None
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        if etag := response.getheader("ETag"):
            self.etags[path] = etag
        return body

    def close(self) -> None:
        self.conn.close()


def _find_file(corpus: Path, url: str) -> list[Path]:
    lines = [f"webUrl: {url}", f'webUrl: "{url}"', f"webUrl: '{url}'"]
    cmd = ["grep", "-rlxF", "--include=*.txt", "--include=*.md"]
    for line in lines:
        cmd += ["-e", line]
    done = subprocess.run([*cmd, str(corpus)], capture_output=True, text=True, timeout=300)
    return [Path(p) for p in done.stdout.splitlines() if p]


def pick_article(poller: Poller, corpus: Path) -> tuple[Path, str, list[str]]:
    """(file, original text, feed paths without extension) for the newest article with one file."""
    items = json.loads(poller.get("/feeds/all.json", conditional=False))["items"]
    index = json.loads(poller.get("/feeds/index.json", conditional=False))
    for item in items[:10]:
        url = item.get("url") or item.get("id")
        files = _find_file(corpus, url)
        if len(files) != 1:
            continue
        text = files[0].read_text("utf-8")
        if len(TITLE.findall(text)) < 1:
            continue
        feeds = ["/feeds/all"]
        for feed in index["feeds"]:
            if feed["kind"] == "all":
                continue
            path = "/" + feed["urls"]["json"].split("/", 3)[3]
            body = json.loads(poller.get(path, conditional=False))
            if any((i.get("url") or i.get("id")) == url for i in body.get("items", [])):
                feeds.append(path.removesuffix(".json"))
        if len(feeds) > 1:
            return files[0], text, feeds
    raise RuntimeError("no article in /feeds/all.json could be matched to exactly one file")


def write_atomically(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.bench-tmp")
    temp.write_text(text, "utf-8")
    os.replace(temp, path)


def live_change(port: int, corpus: Path, *, rounds: int = 20, timeout: float = 30.0, settle: float = 0.6) -> dict:
    poller = Poller(port)
    try:
        path, original, feeds = pick_article(poller, corpus)
        urls = [f"{feed}.{ext}" for feed in feeds for ext in ("rss", "atom", "json")]
        for url in urls:
            poller.get(url, conditional=False)  # learn every ETag
        times: list[float] = []
        rebuilds: list[float] = []
        for n in range(1, rounds + 1):
            title = f"Bench live change {n:02d} zq{os.getpid()}"
            text = TITLE.sub(lambda _: f'title: "{title}"', original, count=1)
            needle = title.encode()
            started = time.perf_counter()
            write_atomically(path, text)
            pending = list(urls)
            while pending:
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"round {n}: {pending} still without the new title after {timeout:.0f} s")
                for url in list(pending):
                    body = poller.get(url)
                    if body is not None and needle in body:
                        pending.remove(url)
                if pending:
                    time.sleep(0.002)
            times.append((time.perf_counter() - started) * 1000)
            try:  # how much of it was feedpub's rebuild (the rest: noticing the write, and swapping)
                health = json.loads(poller.get("/healthz", conditional=False) or b"{}")
                rebuilds.append(((health.get("last_rebuild") or {}).get("seconds") or 0) * 1000)
            except (OSError, ValueError, RuntimeError):
                pass
            time.sleep(settle)  # let the watcher go quiet so rounds do not merge
        write_atomically(path, original)
        ordered = sorted(times)
        return {
            "article": path.name, "feeds": feeds, "urls": len(urls), "rounds": rounds,
            "ms": [round(t, 1) for t in times],
            "median_ms": statistics.median(times), "min_ms": ordered[0], "max_ms": ordered[-1],
            "p90_ms": ordered[max(0, int(len(ordered) * 0.9) - 1)],
            "rebuild_ms": [round(t, 1) for t in rebuilds],
            "rebuild_median_ms": statistics.median(rebuilds) if rebuilds else None,
        }
    finally:
        poller.close()
