"""Query filters at scale: cold and cached latency, the cached rate against the plain feed's, and
memory (the records, and the cache after 10,000 distinct queries).

    .venv/bin/python bench/filters.py [CORPUS] [--cache-dir DIR] [--queries 10000] [--wrk-duration 10]

CORPUS defaults to bench/corpus/n100000 (`bench/run.py` makes it). `feedpub serve` is started on it
(the first start fills the cache folder, `--cache-dir`, kept between runs), then stopped and started
again, so memory is measured after a warm start as `bench/run.py` does. Then:

- cold: each of a set of representative queries, every one a canonical query the server has not
  answered, timed from request to last byte (gzip, keep-alive), 5 rounds of distinct values;
- cached: each URL again right after (the cache holds only so many full answers);
- memory: VmRSS/VmHWM of the server after the warm start, after the timed queries, after `--queries`
  distinct ones (4 clients at once), with what `/healthz` says the records and the cache hold, and
  after the rate runs (wrk's 32 connections cost the server memory of their own);
- rate: `wrk -t2 -c32 -d10s -H 'Accept-Encoding: gzip'` on `/feeds/all.rss` and on a cached filtered
  feed (200s), interleaved, twice.

Only 127.0.0.1 is spoken to; the server it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import log, proc_memory_kib, stop
from serve_bench import run_wrk, start_feedpub

HERE = Path(__file__).resolve().parent
MIB = 1024


def get(connection: http.client.HTTPConnection, path: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
    answer = connection.getresponse()
    body = answer.read()
    return answer.status, len(body), time.perf_counter() - started


def queries(topic: str, provider: str, round_: int) -> list[str]:
    """Representative filtered feeds over the whole corpus; `round_` makes each one new."""
    n = 20 + round_  # a limit of its own: a canonical query not asked before
    return [
        f"/feeds/all.rss?filter_title=Quantix&limit={n}",
        f"/feeds/all.rss?filter=%28%3Fi%29drone&limit={n}",
        f"/feeds/all.json?min_heat=900&limit={n}",
        f"/feeds/all.atom?filter_category=Startups&min_quality=80&limit={n}",
        f"/feeds/topics/{topic}.rss?filter=chip&limit={n}",
        f"/feeds/providers/{provider}.rss?filterout=Live&limit={n}",
        f"/feeds/all.rss?filter_description=memo&filter_case_sensitive=false&limit={n}",
        f"/feeds/all.rss?filter=%28a%2B%29%2B%24&limit={n}",
        f"/feeds/all.rss?filter_time=604800&limit={n}",
        f"/feeds/all.rss?filter_title=%5ERegulators&provider={provider}&limit={n}",
        f"/feeds/all.rss?filter_title=zzzz-no-such-word&limit={n}",  # matches nothing: every block is read
        f"/feeds/topics/{topic}.json?provider={provider}&limit={n}",
    ]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "min_ms": round(ordered[0] * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1), "n": len(ordered)}


def health(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/healthz")
    return json.loads(connection.getresponse().read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=HERE / "corpus" / "n100000")
    parser.add_argument("--cache-dir", type=Path, default=HERE / "corpus" / "cache-filters")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--wrk-duration", type=int, default=10)
    args = parser.parse_args()
    extra = ["--cache-dir", str(args.cache_dir), "--base-url", "https://feeds.example.com"]
    result: dict = {"corpus": str(args.corpus)}
    proc, port, seconds = start_feedpub(args.corpus, extra=extra, timeout=1800)
    log(f"first start: {seconds:.1f} s")
    stop(proc)  # saves the state: the next start resumes it, as a deployed server's would
    proc, port, seconds = start_feedpub(args.corpus, extra=extra, timeout=1800)
    try:
        result["warm_start_s"] = round(seconds, 2)
        result["memory_started"] = proc_memory_kib(proc.pid)
        state = health(port)
        result["records"] = state["filters"]["records"]
        log(f"warm start: {seconds:.2f} s, {result['memory_started']}, records {result['records']}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/feeds/index.json")
        catalog = json.loads(connection.getresponse().read())
        topics = sorted((f for f in catalog["feeds"] if f["kind"] == "topic"), key=lambda f: -f["articles"])
        providers = sorted((f for f in catalog["feeds"] if f["kind"] == "provider"), key=lambda f: -f["articles"])
        topic, provider = topics[0]["key"], providers[0]["key"]
        cold: list[float] = []
        cached: list[float] = []
        per_query: dict[str, list[float]] = {}
        urls: list[str] = []
        for round_ in range(args.rounds):
            for path in queries(topic, provider, round_):
                status, _, took = get(connection, path)
                assert status == 200, (path, status)
                cold.append(took)
                per_query.setdefault(path.rsplit("&limit=", 1)[0], []).append(took)
                urls.append(path)
                status, _, took = get(connection, path)  # at once again: from the cache
                assert status == 200
                cached.append(took)
        plain = [get(connection, "/feeds/all.rss")[2] for _ in range(50)]
        result["cold"] = summary(cold)
        result["cold_per_query_median_ms"] = {q: round(statistics.median(v) * 1000, 1) for q, v in per_query.items()}
        result["cached"] = summary(cached)
        result["plain_feed"] = summary(plain)
        log(f"cold {result['cold']}\ncached {result['cached']}\nplain {result['plain_feed']}")
        for query, median in result["cold_per_query_median_ms"].items():
            log(f"  {median:7.1f} ms  {query}")
        result["memory_after_timed"] = proc_memory_kib(proc.pid)
        # Memory after many distinct queries: the cache is full and stays within its bounds.
        count = args.queries
        done = [0]

        def client(offset: int) -> None:
            own = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for i in range(offset, count, 4):
                status, _, _ = get(own, f"/feeds/all.rss?min_heat={i % 1000}&limit={1 + i // 1000}")
                assert status == 200
                done[0] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        result["distinct_queries"] = {"count": done[0], "seconds": round(time.perf_counter() - started, 1)}
        result["memory_after_queries"] = proc_memory_kib(proc.pid)
        result["cache"] = health(port)["filters"]["cache"]
        log(f"after {done[0]} distinct queries: {result['memory_after_queries']}, cache {result['cache']}")
        # The rate: the plain feed against a cached filtered one, interleaved.
        filtered = f"http://127.0.0.1:{port}{urls[0]}"
        rates: dict[str, list[float]] = {"plain": [], "filtered": []}
        for _ in range(2):
            for name, url in (("plain", f"http://127.0.0.1:{port}/feeds/all.rss"), ("filtered", filtered)):
                fresh = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # the last one idled out
                status, _, _ = get(fresh, url.split(str(port), 1)[1])  # answered (and cached) before the run
                assert status == 200
                outcome = run_wrk(url, ["Accept-Encoding: gzip"], duration=args.wrk_duration)
                rates[name].append(outcome.get("rps", 0.0))
                log(f"  wrk {name}: {outcome}")
        result["rate"] = {name: statistics.median(values) for name, values in rates.items()}
        result["rate"]["ratio"] = round(result["rate"]["filtered"] / result["rate"]["plain"], 2)
        result["memory_after_wrk"] = proc_memory_kib(proc.pid)
        for key in ("memory_started", "memory_after_timed", "memory_after_queries", "memory_after_wrk"):
            values = result[key]
            log(f"{key}: VmRSS {values.get('VmRSS', 0) / MIB:.1f} MiB, VmHWM {values.get('VmHWM', 0) / MIB:.1f} MiB")
    finally:
        stop(proc)
    out = HERE / "results" / f"filters-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
