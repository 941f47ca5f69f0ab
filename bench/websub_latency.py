"""WebSub latency: from writing an article file to a subscriber receiving the changed feed.

Starts `feedpub serve` (its built-in hub on, private callbacks allowed) over a hard-linked copy of
the bench corpus (bench/corpus/n<SIZE>, generated once with the issue's arguments; the copy gets
only new files, so the corpus is never modified), a subscriber on 127.0.0.1 that subscribes to
/feeds/all.json through the hub, then `rounds` times writes a new newest article (temp file +
rename, as a sync tool would) and times its arrival at the subscriber, checking the body is the
one served. Prints the median, min, max and p90 in ms. Only talks to 127.0.0.1.

    .venv/bin/python bench/websub_latency.py [--size 10000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ensure_corpus, free_port, log, python_exe, stop, wait_http

BASE = "http://feeds.test"


class Subscriber:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, bytes]] = []
        self.changed = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # verification of intent: echo the challenge
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                self._answer(query["hub.challenge"][0].encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with outer.changed:
                    outer.arrivals.append((time.perf_counter(), body))
                    outer.changed.notify_all()
                self._answer(b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def wait(self, count: int, timeout: float) -> tuple[float, bytes]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"no delivery within {timeout} s")
                self.changed.wait(left)
            return self.arrivals[count - 1]


def article(n: int) -> str:
    fields = {
        "title": f"Bench headline {n}", "excerpt": f"Bench summary {n}.",
        "publishedDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 + n * 0.001)),
        "webUrl": f"https://bench.example.com/story/{n}", "originalUrl": f"https://bench.example.com/story/{n}",
        "provider": {"name": "Bench", "domain": "bench.example.com"}, "topics": ["Bench"],
    }
    return "---\n" + "".join(f"{key}: {json.dumps(value)}\n" for key, value in fields.items()) + "---\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="articles in the corpus")
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()
    corpus = ensure_corpus(options.size)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = work / "articles"
        subprocess.run(["cp", "-al", str(corpus), str(folder)], check=True, timeout=600)
        (work / "feedpub.yaml").write_text(json.dumps({"websub": {"builtin": True, "allow_private_callbacks": True}}))
        port = free_port()
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        log(f"serving {options.size} articles on 127.0.0.1:{port}")
        server = subprocess.Popen([python_exe(), "-m", "feedpub", "serve", str(folder), "--port", str(port), "--quiet",
                                   "--config", str(work / "feedpub.yaml"), "--base-url", BASE],
                                  cwd=work, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
        local = f"http://127.0.0.1:{port}"
        subscriber = Subscriber()
        try:
            wait_http(port, "/healthz", timeout=600, proc=server, interval=0.05)
            form = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.topic": f"{BASE}/feeds/all.json",
                                           "hub.callback": subscriber.url}).encode()
            urllib.request.urlopen(urllib.request.Request(local + "/websub", data=form), timeout=5).read()
            for _ in range(200):
                health = json.loads(urllib.request.urlopen(local + "/healthz", timeout=2).read())
                if health["websub"]["hub"]["subscriptions"]:
                    break
                time.sleep(0.05)
            else:
                raise SystemExit("the subscription was not verified")
            latencies = []
            for n in range(options.rounds):
                temporary = folder / f".bench-{n}.tmp"
                temporary.write_text(article(n), encoding="utf-8")
                written = time.perf_counter()
                os.replace(temporary, folder / f"bench-{n:03d}.txt")
                arrived, body = subscriber.wait(n + 1, timeout=10)
                served = urllib.request.urlopen(local + "/feeds/all.json", timeout=5).read()
                assert body == served, "the delivered body is not the one served"
                latencies.append((arrived - written) * 1000)
                time.sleep(0.6)  # past the watcher's debounce: each round is its own rebuild
        finally:
            stop(server)
            subscriber.server.shutdown()
    latencies.sort()
    p90 = latencies[max(0, round(0.9 * len(latencies)) - 1)]
    print(f"write → delivery, {options.rounds} rounds over {options.size} articles: median "
          f"{statistics.median(latencies):.0f} ms (min {latencies[0]:.0f}, max {latencies[-1]:.0f}, p90 {p90:.0f})")


if __name__ == "__main__":
    main()
