"""Usage: .venv/bin/python bench/load_test.py [--connections 64] [--duration 30] [--rebuilds 10000] [--articles 120]
(127.0.0.1 only; not run by pytest)

A bounded load test of the real `feedpub serve --quiet` on loopback:

1. load: `--connections` concurrent connections for `--duration` seconds (wrk when installed, else an
   asyncio/httpx client) over every kind of path, plain and gzip, while a writer rewrites an article
   every few milliseconds; meanwhile a checker fetches bodies and parses each one (feedparser for RSS
   and Atom, json for JSON) and checks its ETag is the body's;
2. rebuilds: small writes, one per rebuild, until `/healthz` counts `--rebuilds` rebuilds, with the
   checker still reading; the server's VmRSS/VmHWM is sampled from /proc throughout.

Prints a table of requests, errors, validated bodies and memory over rebuilds; exits 1 when a request
failed, a body was invalid, or memory grew by more than `--max-growth-mb` after the first 10% of rebuilds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, by design: this is not a tool for loading other machines

WRK_SCRIPT = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  local headers = {}
  if n %% 2 == 0 then headers["Accept-Encoding"] = "gzip" end
  return wrk.format("GET", paths[(n %% #paths) + 1], headers)
end
"""


@dataclass
class Samples:
    memory: list[tuple[float, int, int, int]] = field(default_factory=list)  # (t, rebuilds, rss kB, hwm kB)
    bodies: int = 0
    invalid: list[str] = field(default_factory=list)
    checker_errors: list[str] = field(default_factory=list)
    writes: int = 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def proc_memory(pid: int) -> tuple[int, int]:
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":")
                values[name] = int(value.split()[0])
    return values["VmRSS"], values["VmHWM"]


def article(n: int, title: str) -> str:
    url = f"https://load{n % 7}.example.com/story/{n}"
    return (
        "---\n"
        f"title: {json.dumps(title)}\n"
        f'excerpt: "Load test article {n}."\n'
        f'publishedDateTime: "2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"\n'
        f'webUrl: "{url}"\n'
        f'provider: {{name: "Load {n % 7}", domain: "load{n % 7}.example.com"}}\n'
        f'topics: ["Load", "Topic {n % 5}"]\n'
        "---\n"
    )


class Server:
    def __init__(self, folder: Path, work: Path) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache"),
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log = open(work / "serve.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "feedpub", "serve", str(folder), "--host", HOST, "--port", str(self.port), "--quiet"],
            cwd=work, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.base, timeout=10)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"feedpub serve exited: {(work / 'serve.log').read_text()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("feedpub serve did not start within 30 s")
            time.sleep(0.05)

    def rebuilds(self) -> int:
        return self.client.get("/healthz").json()["rebuilds"]

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def sampler(server: Server, samples: Samples, stop: threading.Event) -> None:
    started = time.monotonic()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        while not stop.wait(1.0):
            try:
                rebuilds = client.get("/healthz").json()["rebuilds"]
                rss, hwm = proc_memory(server.process.pid)
            except (httpx.HTTPError, OSError, ValueError) as error:
                samples.checker_errors.append(f"sampler: {error!r}")
                continue
            samples.memory.append((time.monotonic() - started, rebuilds, rss, hwm))


def checker(server: Server, paths: list[str], samples: Samples, stop: threading.Event, pause: list[float]) -> None:
    """Fetch bodies one after another and validate each: a complete, parseable body, its own ETag."""
    expected_items: dict[str, int] = {}
    with httpx.Client(base_url=server.base, timeout=10) as client:
        n = 0
        while not stop.is_set():
            path = paths[n % len(paths)]
            gzip = n % 2 == 0
            n += 1
            try:
                response = client.get(path, headers={"accept-encoding": "gzip" if gzip else "identity"})
            except httpx.HTTPError as error:  # a truncated body or a reset connection fails here
                samples.checker_errors.append(f"{path}: {error!r}")
                continue
            body = response.content  # httpx has undone the gzip
            problem = None
            if response.status_code != 200:
                problem = f"status {response.status_code}"
            else:
                etag = '"' + hashlib.sha256(body).hexdigest()[:32] + ('-gz"' if response.headers.get(
                    "content-encoding") == "gzip" else '"')
                if response.headers.get("etag") != etag:
                    problem = f"ETag {response.headers.get('etag')} is not the body's ({etag})"
                elif path.endswith(".json"):
                    try:
                        document = json.loads(body)
                        count = len(document["items"]) if "items" in document else len(document["feeds"])
                    except (ValueError, KeyError) as error:
                        problem = f"invalid JSON: {error}"
                        count = -1
                elif path.endswith((".rss", ".atom")):
                    parsed = feedparser.parse(body)
                    count = len(parsed.entries)
                    if parsed.bozo:
                        problem = f"feedparser bozo: {parsed.get('bozo_exception')}"
                elif path.endswith(".opml"):
                    try:
                        count = len(ElementTree.fromstring(body).findall(".//outline"))
                    except ElementTree.ParseError as error:
                        problem = f"invalid OPML: {error}"
                else:
                    count = body.count(b"<")
                    if not body.rstrip().endswith(b"</html>"):
                        problem = "HTML page is cut short"
                if problem is None and path.startswith("/feeds/all."):
                    if expected_items.setdefault(path, count) != count:
                        problem = f"{count} items, {expected_items[path]} before"
            samples.bodies += 1
            if problem:
                samples.invalid.append(f"{path}: {problem}")
            time.sleep(pause[0])


def writer(folder: Path, samples: Samples, stop: threading.Event, interval: float) -> None:
    """Rewrite articles every `interval` seconds, alternating their titles."""
    n = 0
    while not stop.is_set():
        target = n % 20
        (folder / f"{target:04d}.txt").write_text(article(target, f"Rewrite {n} of article {target}"), "utf-8")
        samples.writes += 1
        n += 1
        time.sleep(interval)


def run_wrk(server: Server, paths: list[str], connections: int, duration: int, work: Path) -> dict[str, object]:
    script = work / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s", "-s", str(script),
               server.base + "/"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    return {"tool": "wrk", "requests": requests, "errors": errors, "rate": rate,
            "latency": f"avg {latency.group(1)}, max {latency.group(3)}" if latency else "?", "raw": output}


def run_httpx(server: Server, paths: list[str], connections: int, duration: int) -> dict[str, object]:
    async def main() -> dict[str, object]:
        counts = {"requests": 0, "errors": 0}
        deadline = time.monotonic() + duration
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=server.base, timeout=10, limits=limits) as client:
            async def worker(k: int) -> None:
                n = k
                while time.monotonic() < deadline:
                    path = paths[n % len(paths)]
                    n += 1
                    try:
                        response = await client.get(path, headers={"accept-encoding": "gzip" if n % 2 else "identity"})
                        counts["requests"] += 1
                        if response.status_code != 200:
                            counts["errors"] += 1
                    except httpx.HTTPError:
                        counts["errors"] += 1

            await asyncio.gather(*(worker(k) for k in range(connections)))
        return {"tool": "httpx", **counts, "rate": counts["requests"] / duration, "latency": "?"}

    return asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description="Load test of feedpub serve on 127.0.0.1")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=30, help="seconds of load")
    parser.add_argument("--rebuilds", type=int, default=10_000, help="rebuilds to reach in total")
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--write-interval-ms", type=float, default=3.0, help="the writer's pace during the load")
    parser.add_argument("--max-growth-mb", type=float, default=20.0)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="feedpub-load-"))
    folder = work / "articles"
    folder.mkdir()
    for n in range(args.articles):
        (folder / f"{n:04d}.txt").write_text(article(n, f"Article {n}"), "utf-8")
    server = Server(folder, work)
    catalog = server.client.get("/feeds/index.json").json()
    feed_paths = [httpx.URL(url).raw_path.decode("ascii") for entry in catalog["feeds"] for url in entry["urls"].values()]
    paths = ["/", "/feeds/index.json", "/feeds/index.opml", *feed_paths]
    print(f"feedpub serve on {server.base} (pid {server.process.pid}): {args.articles} articles, "
          f"{len(catalog['feeds'])} feeds, {len(paths)} paths; work folder {work}", flush=True)

    samples = Samples()
    stop_all = threading.Event()
    pause = [0.0]  # the checker's pause between requests: none under load, some while counting rebuilds
    threads = [threading.Thread(target=sampler, args=(server, samples, stop_all), daemon=True),
               threading.Thread(target=checker, args=(server, paths, samples, stop_all, pause), daemon=True)]
    for thread in threads:
        thread.start()

    # 1. load, with a writer every few milliseconds
    stop_writer = threading.Event()
    write_thread = threading.Thread(target=writer, args=(folder, samples, stop_writer, args.write_interval_ms / 1000),
                                    daemon=True)
    rebuilds_before = server.rebuilds()
    write_thread.start()
    started = time.monotonic()
    if shutil.which("wrk"):
        load = run_wrk(server, paths, args.connections, args.duration, work)
    else:
        load = run_httpx(server, paths, args.connections, args.duration)
    load_seconds = time.monotonic() - started
    stop_writer.set()
    write_thread.join()
    load_rebuilds = server.rebuilds() - rebuilds_before
    load_bodies, load_invalid = samples.bodies, len(samples.invalid)
    print(f"load: {load['requests']} requests in {load_seconds:.0f} s with {load['tool']}, {load['errors']} errors, "
          f"{samples.writes} writes → {load_rebuilds} rebuilds", flush=True)

    # 2. rebuilds: one small write per rebuild, until the count is reached
    pause[0] = 0.1
    started = time.monotonic()
    n = 0
    last_report = time.monotonic()
    stalls = 0
    while (count := server.rebuilds()) < args.rebuilds:
        target = n % 20
        (folder / f"{target:04d}.txt").write_text(article(target, f"Rebuild {n} of article {target}"), "utf-8")
        n += 1
        deadline = time.monotonic() + 5
        while server.rebuilds() == count:
            if time.monotonic() > deadline:
                stalls += 1
                break
            time.sleep(0.005)
        if time.monotonic() - last_report > 60:
            last_report = time.monotonic()
            rss, hwm = proc_memory(server.process.pid)
            print(f"  {count} rebuilds after {time.monotonic() - started:.0f} s; VmRSS {rss / 1024:.1f} MB", flush=True)
    rebuild_seconds = time.monotonic() - started
    stop_all.set()
    for thread in threads:
        thread.join(timeout=15)
    final_rebuilds = server.rebuilds()
    rss, hwm = proc_memory(server.process.pid)
    samples.memory.append((samples.memory[-1][0] + 1 if samples.memory else 0, final_rebuilds, rss, hwm))
    server.stop()

    # -- report --------------------------------------------------------------------------------------
    print()
    print("| phase | seconds | requests | errors | bodies parsed | invalid | writes | rebuilds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| load ({args.connections} connections, {load['tool']}) | {load_seconds:.0f} | {load['requests']} "
          f"({load['rate']:.0f}/s, latency {load['latency']}) | {load['errors']} | {load_bodies} | {load_invalid} | "
          f"{samples.writes} | {load_rebuilds} |")
    print(f"| rebuilds (one write each) | {rebuild_seconds:.0f} | – | {len(samples.checker_errors)} | "
          f"{samples.bodies - load_bodies} | {len(samples.invalid) - load_invalid} | {n} | "
          f"{final_rebuilds - rebuilds_before - load_rebuilds} |")
    print()
    print("| rebuilds | VmRSS MB | VmHWM MB |")
    print("|---:|---:|---:|")
    shown: list[tuple[float, int, int, int]] = []
    for step in range(11):
        wanted = final_rebuilds * step // 10
        sample = min(samples.memory, key=lambda s: abs(s[1] - wanted))
        if sample not in shown:
            shown.append(sample)
            print(f"| {sample[1]} | {sample[2] / 1024:.1f} | {sample[3] / 1024:.1f} |")
    warm = [s for s in samples.memory if s[1] >= final_rebuilds // 10] or samples.memory
    growth = (warm[-1][2] - warm[0][2]) / 1024
    peak = max(s[3] for s in samples.memory) / 1024
    print(f"\nVmRSS from {warm[0][1]} to {warm[-1][1]} rebuilds: {growth:+.1f} MB; peak VmHWM {peak:.1f} MB; "
          f"{stalls} writes gave no rebuild within 5 s")
    problems = []
    if load["errors"]:
        problems.append(f"{load['errors']} failed requests under load")
    if samples.checker_errors:
        problems.append(f"{len(samples.checker_errors)} checker errors, e.g. {samples.checker_errors[:3]}")
    if samples.invalid:
        problems.append(f"{len(samples.invalid)} invalid bodies, e.g. {samples.invalid[:3]}")
    if growth > args.max_growth_mb:
        problems.append(f"VmRSS grew {growth:.1f} MB")
    if final_rebuilds < args.rebuilds:
        problems.append(f"only {final_rebuilds} rebuilds")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("RESULT:", "ok" if not problems else "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
