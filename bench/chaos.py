"""Usage: .venv/bin/python bench/chaos.py [--duration 60] [--articles 2000] [--pollers 8] [--idle 300]
(127.0.0.1 only; bounded in time; not run by pytest)

A standing chaos test of the real `feedpub serve` on loopback. For `--duration` seconds, all at once:

- pollers GET every kind of feed (plain, gzip, conditional) over keep-alive connections; every
  answer must be complete (its Content-Length read whole), valid (RSS and Atom parse as XML, JSON
  as JSON) and consistent (one ETag, one body);
- the article folder is swapped for a copy and back, article files are swapped for FIFOs and
  back, and bursts of 2,000 files are written and deleted;
- `--idle` connections that send nothing and as many half-open ones (a head begun, never ended)
  are opened in waves: the server must close each within its request timeout (10 s) + 3 s;
- hostile requests: oversized and dripped heads, an If-Modified-Since that overflows, a GET whose
  declared body never comes, pipelined garbage, traversal, bad methods, CORS preflights;
- every few seconds a new article is written, and the time until `/feeds/all.json` shows it is
  measured: each must be within a second.

Prints the figures and exits 1 if any answer was incomplete, invalid or inconsistent, a connection
was left open, a new article took a second or more, or the server died.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, always
REQUEST_TIMEOUT = 10.0  # server/protocol/bounded.py
# A folder swapped for a copy (new inodes: every file read again) or a burst of 2,000 files takes the
# server a few seconds to read on a small, shared machine: a probe written within this long after one
# is queued behind it, and counted apart (and not failed).
SHADOW = 5.0
FEEDS = ["/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", "/feeds/index.json", "/feeds/index.opml", "/"]


@dataclass
class Figures:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)  # ETag → digest of the body it came with
    probes: list[float] = field(default_factory=list)  # new article → served, seconds, away from bulk work
    shadowed: list[float] = field(default_factory=list)  # the same, for probes queued behind bulk work
    final: list[float] = field(default_factory=list)  # the same, once the chaos has stopped
    bulk: list[float] = field(default_factory=list)  # when a swap or a burst (write or delete) was done
    closed_in: list[float] = field(default_factory=list)  # idle and half-open connections: seconds to close
    left_open: int = 0
    hostile: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)

    def fail(self, what: str) -> None:
        with self.lock:
            if len(self.failures) < 50:
                self.failures.append(what)
            else:
                self.failures[-1] = f"... and more ({what})"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def article(n: int, title: str) -> str:
    return (f"---\ntitle: {json.dumps(title)}\nexcerpt: Chaos article {n}\n"
            f"publishedDateTime: '2026-06-01T{n % 24:02d}:{n % 60:02d}:00Z'\n"
            f"webUrl: https://chaos.example.com/{n}\nprovider: {{name: Chaos, domain: chaos.example.com}}\n"
            f"topics: [Chaos, T{n % 7}]\n---\n")


# -- the pollers -----------------------------------------------------------------------------------

def check_body(path: str, media_type: str, body: bytes) -> str | None:
    try:
        if "json" in media_type:
            json.loads(body)
        elif "xml" in media_type or "opml" in media_type:
            ElementTree.fromstring(body)
        elif "html" in media_type and not body.rstrip().endswith(b"</html>"):
            return "an HTML page cut short"
    except (ValueError, ElementTree.ParseError) as error:
        return f"invalid {media_type}: {error}"
    return None


def poll(port: int, stop: threading.Event, figures: Figures, seed: int) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    held: dict[str, str] = {}
    while not stop.is_set():
        path = rng.choice(FEEDS)
        headers = {"Accept-Encoding": "gzip"} if rng.random() < 0.5 else {}
        if path in held and rng.random() < 0.5:
            headers["If-None-Match"] = held[path]
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()  # raises IncompleteRead when the body is cut short
        except (OSError, http.client.HTTPException) as error:
            figures.fail(f"GET {path}: {type(error).__name__}: {error}")
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=10)
            continue
        with figures.lock:
            figures.statuses[response.status] += 1
        if response.status == 304:
            continue
        if response.status != 200:
            figures.fail(f"GET {path}: {response.status}")
            continue
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        etag = response.getheader("ETag") or ""
        problem = check_body(path, response.getheader("Content-Type") or "", body)
        if problem:
            figures.fail(f"GET {path}: {problem}")
        digest = hashlib.sha256(body).hexdigest()
        key = etag.removesuffix('"').removesuffix('-gz')  # the gzip ETag names the same bytes
        with figures.lock:
            known = figures.etags.setdefault(key, digest)
        if known != digest:
            figures.fail(f"GET {path}: ETag {etag} came with two different bodies")
        held[path] = etag
    connection.close()


# -- the folder ------------------------------------------------------------------------------------

# The folder's changers take turns (a copy must not meet a FIFO, nor miss a probe's new file);
# the server meets them all the same, one right after another.
FOLDER = threading.Lock()


def _copyable(folder: str, names: list[str]) -> list[str]:
    """What a copy of the folder leaves out: bursts, and anything but files and folders."""
    import stat

    left = []
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            mode = 0
        if name.startswith("burst") or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            left.append(name)
    return left


def swap_folder(root: Path, spare: Path, stop: threading.Event, figures: Figures) -> None:
    """The folder replaced by a copy of itself (a deploy: new inodes throughout) every few seconds."""
    parked = root.with_name(root.name + ".parked")
    while not stop.wait(8.0):
        with FOLDER:
            shutil.rmtree(spare, ignore_errors=True)
            shutil.copytree(root, spare, symlinks=True, ignore=_copyable)
            os.rename(root, parked)
            os.rename(spare, root)
            figures.bulk.append(time.perf_counter())
        shutil.rmtree(parked, ignore_errors=True)
        figures.events["folder swaps"] += 1


def fifos(root: Path, stop: threading.Event, figures: Figures, rng: random.Random) -> None:
    """Article files swapped for FIFOs for a moment, then back."""
    while not stop.wait(2.5):
        kept: list[tuple[Path, bytes]] = []
        with FOLDER:
            names = sorted(p for p in root.glob("*.txt"))
            for path in rng.sample(names, min(20, len(names))):
                try:
                    data = path.read_bytes()
                    path.unlink()
                    os.mkfifo(path)
                    kept.append((path, data))
                except OSError:
                    continue
        figures.events["files swapped for FIFOs"] += len(kept)
        stop.wait(1.0)
        with FOLDER:
            for path, data in kept:
                try:
                    path.unlink()
                    path.write_bytes(data)
                except OSError:
                    pass


def bursts(root: Path, stop: threading.Event, figures: Figures) -> None:
    """2,000 files written at once, then deleted."""
    round_ = 0
    while not stop.wait(5.0):
        folder = root / f"burst{round_}"
        try:
            with FOLDER:
                folder.mkdir()
                for n in range(2000):
                    (folder / f"{n:04d}.txt").write_text(article(100_000 + round_ * 2000 + n, f"Burst {round_}/{n}"))
                figures.bulk.append(time.perf_counter())
            figures.events["files written in bursts"] += 2000
            stop.wait(2.0)
            with FOLDER:
                shutil.rmtree(folder, ignore_errors=True)
                figures.bulk.append(time.perf_counter())
        except OSError:
            pass
        round_ += 1


def probe(root: Path, port: int, stop: threading.Event, figures: Figures, final: bool = False) -> None:
    """A new article every few seconds: how long until the feed of everything shows it."""
    n = 1000 if final else 0
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    while not stop.wait(1.5):
        n += 1
        title = f"Probe {n} {random.random():.6f}"
        with FOLDER:
            # Newer than every generated article (they end at 2026-06-01), older than today.
            (root / f"probe{n}.txt").write_text(article(900_000 + n, title).replace("2026-06-01", "2026-06-02"))
            written = time.perf_counter()
        while time.perf_counter() - written < 5:
            try:
                connection.request("GET", "/feeds/all.json")
                body = connection.getresponse().read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=10)
                continue
            if title.encode() in body:
                break
            time.sleep(0.01)
        seen = time.perf_counter() - written
        with figures.lock:
            behind = any(written - SHADOW <= done <= written + seen for done in figures.bulk)
            (figures.final if final else figures.shadowed if behind else figures.probes).append(seen)
        if seen >= 1.0 and not behind:
            figures.fail(f"a new article took {seen:.2f} s to be served{' after the chaos' if final else ''}")


# -- connections -----------------------------------------------------------------------------------

def idle_waves(port: int, count: int, stop: threading.Event, figures: Figures) -> None:
    """Waves of connections that send nothing, or half a head: each must be closed by the server."""
    while not stop.is_set():
        sockets: list[tuple[socket.socket, float]] = []
        for n in range(count * 2):
            try:
                sock = socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT + 3)
            except OSError as error:
                figures.fail(f"could not connect: {error}")
                break
            if n % 2:
                sock.sendall(b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nX-Half: ")  # half-open: never ended
            sockets.append((sock, time.perf_counter()))
        for sock, opened in sockets:
            try:
                leftover = sock.recv(65536)
                while leftover:  # a 408 or anything else is fine; then it must close
                    leftover = sock.recv(65536)
                with figures.lock:
                    figures.closed_in.append(time.perf_counter() - opened)
            except OSError:
                with figures.lock:
                    figures.left_open += 1
            finally:
                sock.close()


HOSTILE = {
    "oversized head": b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    "overflowing If-Modified-Since": b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: "
                                     b"Sun, 06 Nov 99999999999 08:49:37 GMT\r\nConnection: close\r\n\r\n",
    "traversal": b"GET /feeds/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "encoded traversal": b"GET /feeds/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
    "bad method": b"BREW /feeds/all.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "preflight": b"OPTIONS /feeds/all.json HTTP/1.1\r\nHost: x\r\nOrigin: https://r.example\r\n"
                 b"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: If-None-Match\r\n"
                 b"Connection: close\r\n\r\n",
    "pipelined with garbage": b"GET /feeds/all.rss HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01\x02",
    "declared body never sent": b"GET /feeds/all.json HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
    "huge content length": b"POST /feeds/all.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999\r\n\r\n",
    "header injection": b"GET /feeds/all.rss%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
}


def hostile(port: int, stop: threading.Event, figures: Figures, rng: random.Random) -> None:
    names = sorted(HOSTILE)
    while not stop.wait(0.05):
        name = rng.choice(names)
        try:
            with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT + 3) as sock:
                sock.sendall(HOSTILE[name])
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
        except OSError as error:
            figures.fail(f"hostile {name}: {type(error).__name__}: {error}")
            continue
        status = answer[9:12]
        if name == "oversized head" and status != b"431":
            figures.fail(f"hostile {name}: {answer[:40]!r}")
        if name == "preflight" and status != b"204":
            figures.fail(f"hostile {name}: {answer[:40]!r}")
        if name == "overflowing If-Modified-Since" and status != b"200":
            figures.fail(f"hostile {name}: {answer[:40]!r}")
        if b"root:" in answer or b"Set-Cookie" in answer.split(b"\r\n\r\n")[0]:
            figures.fail(f"hostile {name} got through: {answer[:80]!r}")
        with figures.lock:
            figures.hostile[name] += 1


def drip(port: int, stop: threading.Event, figures: Figures) -> None:
    """A head dripped a few bytes a second (slowloris): closed by the request timeout."""
    while not stop.is_set():
        began = time.perf_counter()
        try:
            with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT + 5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                while time.perf_counter() - began < REQUEST_TIMEOUT + 5:
                    sock.sendall(b"X-Drip: 1\r\n")
                    time.sleep(0.5)
                figures.fail("a dripped head was never closed")
        except OSError:
            with figures.lock:
                figures.hostile["dripped head (closed)"] += 1
                figures.closed_in.append(time.perf_counter() - began)


# -- the run ---------------------------------------------------------------------------------------

def rss_of(pid: int) -> tuple[int, int]:
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description="A bounded chaos test of feedpub serve on loopback.")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of chaos (at most 600).")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--pollers", type=int, default=8)
    parser.add_argument("--idle", type=int, default=300, help="Idle connections per wave (as many half-open).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--without", default="", help="Parts of the chaos to leave out, comma-separated: "
                        "poll, swap, fifo, burst, idle, hostile, drip (to tell which one slows what).")
    args = parser.parse_args()
    duration = min(args.duration, 600.0)
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="feedpub-chaos-"))
    root = work / "articles"
    subprocess.run([sys.executable, "-m", "feedpub", "generate", str(root), str(args.articles), "--seed",
                    str(args.seed)], check=True, capture_output=True, timeout=300)
    port = free_port()
    log = open(work / "serve.log", "wb")
    env = dict(os.environ, XDG_CACHE_HOME=str(work / "cache"))
    server = subprocess.Popen([sys.executable, "-m", "feedpub", "serve", str(root), "--port", str(port), "--quiet"],
                              stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    figures = Figures()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print((work / "serve.log").read_text(), file=sys.stderr)
                    return 1
                time.sleep(0.1)
        stop = threading.Event()
        without = set(filter(None, args.without.split(",")))
        parts = {
            "poll": [(poll, (port, stop, figures, args.seed + n)) for n in range(args.pollers)],
            "swap": [(swap_folder, (root, work / "spare", stop, figures))],
            "fifo": [(fifos, (root, stop, figures, random.Random(rng.random())))],
            "burst": [(bursts, (root, stop, figures))],
            "idle": [(idle_waves, (port, args.idle, stop, figures))],
            "hostile": [(hostile, (port, stop, figures, random.Random(rng.random())))],
            "drip": [(drip, (port, stop, figures))],
            "probe": [(probe, (root, port, stop, figures))],
        }
        workers = [threading.Thread(target=target, args=targs, daemon=True)
                   for name, targets in parts.items() if name not in without for target, targs in targets]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        peak = 0
        while time.perf_counter() - began < duration:
            time.sleep(1.0)
            if server.poll() is not None:
                figures.fail(f"the server died (exit {server.returncode})")
                break
            peak = max(peak, rss_of(server.pid)[0])
        stop.set()
        for worker in workers:
            worker.join(REQUEST_TIMEOUT + 10)  # every wait in them is bounded
        alive = [worker.name for worker in workers if worker.is_alive()]
        if alive:
            figures.fail(f"{len(alive)} chaos threads did not stop")
        # After the chaos: the folder as it is now must be served, and a new article within a second.
        quiet = threading.Event()
        final = threading.Thread(target=probe, args=(root, port, quiet, figures, True))
        final.start()
        time.sleep(4.0)
        quiet.set()
        final.join(10)
        rss, hwm = rss_of(server.pid) if server.poll() is None else (0, 0)
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        log.close()
    elapsed = time.perf_counter() - began
    total = sum(figures.statuses.values())
    print(f"chaos for {elapsed:.0f} s against feedpub serve of {args.articles} articles on {HOST}:{port}")
    print(f"  answers: {total:,} ({', '.join(f'{n:,} × {s}' for s, n in sorted(figures.statuses.items()))}); "
          f"distinct ETags {len(figures.etags):,}")
    print(f"  chaos: {', '.join(f'{n:,} {what}' for what, n in sorted(figures.events.items()))}")
    print(f"  hostile requests: {sum(figures.hostile.values()):,} "
          f"({', '.join(f'{n} {what}' for what, n in sorted(figures.hostile.items()))})")
    if figures.closed_in:
        print(f"  idle, half-open and dripped connections closed by the server: {len(figures.closed_in):,}, "
              f"after {statistics.median(figures.closed_in):.1f} s (max {max(figures.closed_in):.1f}); "
              f"left open: {figures.left_open}")
    for what, probes in (("during the chaos", figures.probes), ("queued behind a swap or burst", figures.shadowed),
                         ("after the chaos", figures.final)):
        if probes:
            print(f"  new article → served, {what}: {len(probes)} probes, median "
                  f"{statistics.median(probes) * 1000:.0f} ms, max {max(probes) * 1000:.0f} ms")
    print(f"  server memory: {rss} MiB at the end, peak {max(hwm, peak)} MiB; exit {server.returncode}")
    if max(figures.closed_in, default=0) > REQUEST_TIMEOUT + 3 or figures.left_open:
        figures.fail("a connection stayed open past the request timeout")
    for failure in figures.failures:
        print(f"  FAILED: {failure}")
    print("result:", "FAILED" if figures.failures else "passed")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
