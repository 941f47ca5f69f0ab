"""WebSub under load: write → delivery latency, fan-out to many subscribers while wrk polls, and the
server's request rate with and without subscribers.

Starts `feedpub serve` (its built-in hub on, private callbacks allowed) over a hard-linked copy of the
bench corpus (bench/corpus/n<SIZE>, generated once with the issue's arguments; the copy only gains new
files, so the corpus is never modified) and, on one server, in this order:

1. polling without subscribers: `wrk -t2 -c32 -d<duration>s -H 'Accept-Encoding: gzip'` on
   /feeds/all.rss, with the folder quiet, then while a new newest article (a copy of a corpus
   article under a new URL and date) is written every <interval> s (temp file + rename, as a sync
   tool would);
2. latency: one subscriber to /feeds/all.json; <rounds> times a new newest article is written and its
   arrival at the subscriber timed, the delivered body checked against the one served (median, p90);
3. fan-out: <subscribers> subscribers to /feeds/all.json, each on a loopback address of its own
   (127.0.0.2, 127.0.0.3, …: a host each, as real subscribers are) or all on 127.0.0.1 with
   `--one-host` (the hub's per-host bound applies), then wrk again while articles are written every
   <interval> s: the server's request rate against step 1's, the deliveries per second the
   subscribers received during wrk's run, and from each write to the moment every subscriber held a
   version with it. A subscriber that lags gets the newest version, not each one (the hub coalesces).

Subscribers are HTTP/1.1 servers (keep-alive) on an event loop in this process. Only 127.0.0.0/8 is
ever contacted; every process started is stopped. Prints a summary; `--json FILE` writes the numbers.

    .venv/bin/python bench/websub_bench.py [--size 10000] [--rounds 20] [--subscribers 100]
        [--duration 10] [--interval 0.5] [--one-host] [--only latency,fanout] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ensure_corpus, free_port, log, python_exe, stop, wait_http
from serve_bench import run_wrk

BASE = "http://feeds.test"
TOPIC = f"{BASE}/feeds/all.json"
POLLED = "/feeds/all.rss"
_NEWEST = re.compile(rb'"id":"https://bench\.example\.com/story/(\d+)"')
MAX_REQUEST_HEAD = 16 * 1024  # what a subscriber reads of a request's head before it gives up
MAX_BODY = 16 * 1024 * 1024  # … and of a delivery's body


class Subscribers:
    """`count` WebSub subscribers, each its own HTTP server: a GET is a verification (the challenge is
    echoed), a POST a delivery, recorded as (perf_counter, subscriber, newest bench article in it)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.arrivals: list[tuple[float, int, int]] = []
        self.latest: dict[int, bytes] = {}  # subscriber → the last body it received
        self.best: dict[int, int] = {}  # subscriber → the newest bench article it has received
        self.bytes = 0  # delivered, in all
        self.changed = threading.Condition()
        self.urls: list[str] = []
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def add(self, count: int, *, one_host: bool) -> list[str]:
        """Start `count` more subscribers; returns their callback URLs."""
        first = len(self.urls)
        for index in range(first, first + count):
            host = "127.0.0.1" if one_host else f"127.0.{(index + 2) // 256}.{(index + 2) % 256}"
            server = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(lambda r, w, i=index: self._connection(i, r, w), host, 0), self.loop).result(10)
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
            self.urls.append(f"http://{host}:{port}/callback/{index}")
        return self.urls[first:]

    async def _connection(self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
                    return
                if len(head) > MAX_REQUEST_HEAD:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
                length = int(headers.get("content-length", "0"))
                if length > MAX_BODY:
                    return
                body = await reader.readexactly(length) if length else b""
                answer = b""
                if method == "GET":
                    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
                    answer = query.get("hub.challenge", [""])[0].encode()
                else:
                    numbers = [int(n) for n in _NEWEST.findall(body)]
                    with self.changed:
                        newest = max(numbers, default=-1)
                        self.arrivals.append((time.perf_counter(), index, newest))
                        self.latest[index] = body
                        self.best[index] = max(self.best.get(index, -1), newest)
                        self.bytes += length
                        self.changed.notify_all()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(answer), answer))
                await writer.drain()
        finally:
            writer.close()

    def wait(self, test: Callable[[], bool], timeout: float) -> bool:
        """Wait until `test()` (called with the lock held) is true, or `timeout`; whether it became true."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not test():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    def close(self) -> None:
        for server in self._servers:
            server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)


def article(n: int, template: str) -> str:
    """Article `n`: a corpus article (so feeds keep their size and a change touches its topic and
    provider feeds too) under a title, URL and date of its own, newer than any before it."""
    # A minute back, so it is never in the future, and a millisecond per article so each is newer.
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 + n * 0.001))
    url = f"https://bench.example.com/story/{n}"
    for field, value in (("title", f"Bench headline {n}"), ("publishedDateTime", when), ("originalUrl", url),
                         ("webUrl", url)):
        template = re.sub(rf"^{field}: .*$", lambda _, f=field, v=value: f"{f}: {json.dumps(v)}", template,
                          count=1, flags=re.M)
    return template


def templates(corpus: Path, count: int = 50) -> list[str]:
    """The first `count` corpus articles that are published and have each field `article` replaces."""
    found = []
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        if all(re.search(rf"^{field}: ", text, re.M) for field in ("title", "publishedDateTime", "originalUrl", "webUrl")) \
                and re.search(r"^published: true$", text, re.M):
            found.append(text)
            if len(found) == count:
                break
    if not found:
        raise SystemExit(f"no usable article in {corpus} to copy")
    return found


class Writer:
    """New newest articles in the folder, numbered from 0, each written to a temp file and renamed."""

    def __init__(self, folder: Path, templates: list[str]) -> None:
        self.folder = folder
        self.templates = templates
        self.next = 0
        self.written: dict[int, float] = {}  # article → perf_counter when it was in place

    def write(self) -> int:
        n = self.next
        self.next += 1
        temporary = self.folder / f".bench-{n}.tmp"
        temporary.write_text(article(n, self.templates[n % len(self.templates)]), encoding="utf-8")
        os.replace(temporary, self.folder / f"bench-{n:05d}.txt")
        self.written[n] = time.perf_counter()
        return n

    def every(self, interval: float, stop: threading.Event) -> threading.Thread:
        """Write one article every `interval` s until `stop` is set (in a thread of its own)."""
        def run() -> None:
            while not stop.wait(interval):
                self.write()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def health(local: str) -> dict:
    return json.loads(urllib.request.urlopen(local + "/healthz", timeout=5).read())


def subscribe(local: str, callbacks: list[str]) -> None:
    for callback in callbacks:
        form = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.topic": TOPIC, "hub.callback": callback}).encode()
        urllib.request.urlopen(urllib.request.Request(local + "/websub", data=form), timeout=10).read()


def wait_subscribed(local: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(local)["websub"]["hub"]["subscriptions"] >= count:
            return
        time.sleep(0.1)
    raise SystemExit(f"fewer than {count} subscriptions verified within {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), its own threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def polled(port: int, pid: int, duration: int, writer: Writer | None, interval: float) -> tuple[dict, float, float]:
    """wrk on the polled feed, with articles written meanwhile when given a writer; wrk's result (with
    the server's CPU seconds during the run) and when it started and ended."""
    done = threading.Event()
    thread = writer.every(interval, done) if writer is not None else None
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    try:
        result = run_wrk(f"http://127.0.0.1:{port}{POLLED}", ["Accept-Encoding: gzip"], duration=duration)
    finally:
        ended = time.perf_counter()
        result_cpu = cpu_seconds(pid) - cpu
        done.set()
        if thread is not None:
            thread.join(5)
    result.pop("raw", None)
    result["server_cpu_s"] = result_cpu
    return result, started, ended


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "p90": percentile(values, 0.9),
            "max": max(values), "n": len(values)}


def measure_latency(local: str, subscribers: Subscribers, writer: Writer, rounds: int) -> dict:
    subscribe(local, subscribers.add(1, one_host=True))
    wait_subscribed(local, 1)
    latencies = []
    for _ in range(rounds):
        n = writer.write()
        if not subscribers.wait(lambda n=n: subscribers.best.get(0, -1) >= n, timeout=10):
            raise SystemExit(f"article {n} was not delivered within 10 s")
        arrived = next(t for t, index, newest in subscribers.arrivals if index == 0 and newest >= n)
        served = urllib.request.urlopen(local + "/feeds/all.json", timeout=5).read()
        assert subscribers.latest[0] == served, "the delivered body is not the one served"
        latencies.append((arrived - writer.written[n]) * 1000)
        time.sleep(0.6)  # past the watcher's debounce: each round is its own rebuild
    return spread(latencies)


def measure_fanout(local: str, port: int, pid: int, subscribers: Subscribers, writer: Writer, *, count: int,
                   one_host: bool, duration: int, interval: float) -> dict:
    more = count - len(subscribers.urls)
    if more > 0:
        subscribe(local, subscribers.add(more, one_host=one_host))
    wait_subscribed(local, count)
    time.sleep(1)
    before = health(local)["websub"]["hub"]
    first_article = writer.next
    with subscribers.changed:
        already, bytes_before = len(subscribers.arrivals), subscribers.bytes
    result, started, ended = polled(port, pid, duration, writer, interval)
    last_article = writer.next - 1
    everyone = range(count)
    drained = subscribers.wait(lambda: all(subscribers.best.get(i, -1) >= last_article for i in everyone),
                               timeout=60)
    after = health(local)["websub"]["hub"]
    with subscribers.changed:
        arrivals, delivered_bytes = subscribers.arrivals[already:], subscribers.bytes - bytes_before
    during = [a for a in arrivals if started <= a[0] <= ended]
    by_subscriber: dict[int, list[tuple[float, int]]] = {}
    for at, who, newest in arrivals:  # in order of arrival
        by_subscriber.setdefault(who, []).append((at, newest))
    reached: list[float] = []  # per article: write → the last subscriber holding a version with it
    for n in range(first_article, last_article + 1):
        times = [next((at for at, newest in by_subscriber.get(index, []) if newest >= n), None) for index in everyone]
        if all(at is not None for at in times):
            reached.append((max(at for at in times if at is not None) - writer.written[n]) * 1000)
    return {
        "subscribers": count, "one_host": one_host, "articles_written": last_article - first_article + 1,
        "wrk": result, "deliveries_during_wrk": len(during), "deliveries_per_s": len(during) / (ended - started),
        "deliveries_total": len(arrivals), "all_delivered": drained,
        "bytes_per_delivery": delivered_bytes // max(1, len(arrivals)),
        "offered_per_s": count * (last_article - first_article + 1) / (ended - started),
        "write_to_every_subscriber_ms": spread(reached) if reached else None,
        "hub_delivered": after["delivered"] - before["delivered"], "hub_failed": after["failed"] - before["failed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="articles in the corpus")
    parser.add_argument("--rounds", type=int, default=20, help="latency rounds")
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between article writes under wrk")
    parser.add_argument("--one-host", action="store_true", help="every subscriber on 127.0.0.1")
    parser.add_argument("--only", default="polling,latency,fanout", help="which steps, comma-separated")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    options = parser.parse_args()
    steps = set(options.only.split(","))
    corpus = ensure_corpus(options.size)
    report: dict = {"size": options.size, "interval_s": options.interval, "duration_s": options.duration,
                    "load_average": os.getloadavg()}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = work / "articles"
        subprocess.run(["cp", "-al", str(corpus), str(folder)], check=True, timeout=600)
        config = {"websub": {"builtin": True, "allow_private_callbacks": True,
                             "max_subscriptions_per_host": max(100, options.subscribers),
                             "max_subscriptions": max(10_000, options.subscribers)}}
        (work / "feedpub.yaml").write_text(json.dumps(config))
        port = free_port()
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        log(f"serving {options.size} articles on 127.0.0.1:{port}")
        server = subprocess.Popen([python_exe(), "-m", "feedpub", "serve", str(folder), "--port", str(port), "--quiet",
                                   "--config", str(work / "feedpub.yaml"), "--base-url", BASE],
                                  cwd=work, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
        local = f"http://127.0.0.1:{port}"
        subscribers = Subscribers()
        writer = Writer(folder, templates(corpus))
        try:
            wait_http(port, "/healthz", timeout=600, proc=server, interval=0.05)
            if "polling" in steps:
                log("wrk, no subscribers, folder quiet")
                report["quiet"], _, _ = polled(port, server.pid, options.duration, None, options.interval)
                log(f"wrk, no subscribers, an article every {options.interval} s")
                report["changing"], _, _ = polled(port, server.pid, options.duration, writer, options.interval)
                time.sleep(1)
            if "latency" in steps:
                log(f"latency, {options.rounds} rounds, one subscriber")
                report["latency_ms"] = measure_latency(local, subscribers, writer, options.rounds)
            if "fanout" in steps:
                log(f"fan-out to {options.subscribers} subscribers under wrk")
                report["fanout"] = measure_fanout(local, port, server.pid, subscribers, writer,
                                                  count=options.subscribers,
                                                  one_host=options.one_host, duration=options.duration,
                                                  interval=options.interval)
        finally:
            stop(server)
            subscribers.close()
    print_report(report)
    if options.json:
        options.json.write_text(json.dumps(report, indent=2) + "\n")


def print_report(report: dict) -> None:
    size = report["size"]
    if "quiet" in report:
        print(f"wrk {POLLED}, no subscribers: {report['quiet']['rps']:,.0f} req/s quiet, "
              f"{report['changing']['rps']:,.0f} req/s with an article every {report['interval_s']} s "
              f"(errors {report['quiet']['errors']}, {report['changing']['errors']}; server CPU "
              f"{report['quiet']['server_cpu_s'] / report['duration_s']:.2f} and "
              f"{report['changing']['server_cpu_s'] / report['duration_s']:.2f} cores)")
    if "latency_ms" in report:
        lat = report["latency_ms"]
        print(f"write → delivery, {lat['n']} rounds over {size} articles: median {lat['median']:.0f} ms "
              f"(min {lat['min']:.0f}, p90 {lat['p90']:.0f}, max {lat['max']:.0f})")
    if "fanout" in report:
        fan = report["fanout"]
        hosts = "one host" if fan["one_host"] else "a host each"
        print(f"{fan['subscribers']} subscribers ({hosts}), {fan['articles_written']} articles in "
              f"{report['duration_s']} s: {fan['deliveries_per_s']:,.0f} deliveries/s while wrk ran "
              f"(offered {fan['offered_per_s']:,.0f}/s, {fan['deliveries_total']} in all of "
              f"{fan['bytes_per_delivery'] / 1024:.0f} KiB, hub failures {fan['hub_failed']}, "
              f"all delivered: {fan['all_delivered']})")
        reach = fan["write_to_every_subscriber_ms"]
        if reach:
            print(f"  write → every subscriber holds it: median {reach['median']:.0f} ms (p90 {reach['p90']:.0f}, "
                  f"max {reach['max']:.0f})")
        rate = fan["wrk"]["rps"]
        against = f" = {rate / report['changing']['rps']:.2f}× without subscribers" if "changing" in report else ""
        print(f"  wrk {POLLED} meanwhile: {rate:,.0f} req/s{against} (errors {fan['wrk']['errors']}); server CPU "
              f"{fan['wrk']['server_cpu_s'] / report['duration_s']:.2f} cores")
        if "changing" in report:
            # What the deliveries cost the server: its CPU beyond what the same requests and rebuilds
            # took without subscribers, per delivery.
            base = report["changing"]
            per_request = base["server_cpu_s"] / base["requests"]
            extra = fan["wrk"]["server_cpu_s"] - per_request * fan["wrk"]["requests"]
            print(f"  server CPU per delivery: {1000 * extra / max(1, fan['deliveries_during_wrk']):.1f} ms "
                  f"(beyond {1e6 * per_request:.0f} µs a request, rebuilds included, as without subscribers)")


if __name__ == "__main__":
    main()
