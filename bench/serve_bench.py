"""Serving: nginx (one worker) over feedpub's static export vs `feedpub serve` (one uvicorn worker).

    python bench/serve_bench.py CORPUS [--path /feeds/all.rss] [--duration 10] [--repeats 1]

For each server: GET the feed once with `Accept-Encoding: gzip` to learn the ETag it sends for the
gzip representation (nginx turns its strong ETag weak when it compresses), check that a conditional
request with that ETag really gets 304, then run
    wrk -t2 -c32 -d<duration>s -H 'Accept-Encoding: gzip' URL                        (200)
    wrk -t2 -c32 -d<duration>s -H 'Accept-Encoding: gzip' -H 'If-None-Match: <etag>' URL   (304)
and report requests/s, latency (p50/p99 from --latency), bytes per response (a sanity check that the
200 run got bodies and the 304 run did not) and errors (non-2xx/3xx responses + socket errors).

nginx: generated nginx.conf in a temp dir, `worker_processes 1`, `daemon off`, access log off (or,
with `access_log=True`, the combined format to a file through `buffer=64k flush=1s`),
keepalive_requests raised (so neither server reconnects mid-run), `gzip on` at level 1 for the feed
media types (compressing every response on the fly: that is plain `gzip on`, not `gzip_static`).
Only ever 127.0.0.1, every process we start is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import feedpub_exe, free_port, help_text, http_get, log, stop, wait_http

NGINX_CONF = """\
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    types {{
        application/rss+xml rss;
        application/atom+xml atom;
        application/feed+json json;
        text/x-opml opml;
        text/html html;
        text/plain txt;
    }}
    default_type application/octet-stream;
    access_log {access_log};
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    etag on;
    gzip on;
    gzip_comp_level 1;
    gzip_vary on;
    gzip_types application/rss+xml application/atom+xml application/feed+json text/x-opml;
    {gzip_static}
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def tools() -> dict[str, str | None]:
    return {name: shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
            for name in ("nginx", "wrk")}


# -- wrk -----------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    result: dict = {"raw": output}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        result["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", output):
        result["requests"] = int(m.group(1))
        result["bytes_per_response"] = round(float(m.group(3)) * _SIZE[m.group(4)] / max(1, int(m.group(1))))
    if m := re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", output):
        result["latency_avg_ms"], result["latency_max_ms"] = _ms(m.group(1)), _ms(m.group(3))
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}%\s+([\d.]+\w+)", output, re.M):
            result[f"latency_p{pct}_ms"] = _ms(m.group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    socket = 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        socket = sum(int(x) for x in m.groups())
    result["non_2xx_3xx"], result["socket_errors"] = non2xx, socket
    result["errors"] = non2xx + socket
    return result


def run_wrk(url: str, headers: list[str], *, duration: int, threads: int = 2, connections: int = 32) -> dict:
    assert url.startswith("http://127.0.0.1:"), "wrk only ever targets this machine"
    cmd = [tools()["wrk"] or "wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


# -- one server ----------------------------------------------------------------------------------

def gzip_etag(port: int, path: str) -> dict:
    status, headers, body = http_get(port, path, {"Accept-Encoding": "gzip"})
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    etag = headers.get("etag")
    if not etag:
        raise RuntimeError(f"GET {path} sent no ETag")
    cond, _, _ = http_get(port, path, {"Accept-Encoding": "gzip", "If-None-Match": etag})
    return {"etag": etag, "content_encoding": headers.get("content-encoding"), "gzip_bytes": len(body),
            "conditional_status": cond}


def measure(port: int, path: str, *, duration: int, repeats: int) -> dict:
    """The 200 and 304 wrk runs against one server; the best of `repeats` is not taken: all are kept."""
    probe = gzip_etag(port, path)
    if probe["conditional_status"] != 304:
        raise RuntimeError(f"If-None-Match {probe['etag']} answered {probe['conditional_status']}, not 304")
    url = f"http://127.0.0.1:{port}{path}"
    out = {"probe": probe, "200": [], "304": []}
    for _ in range(repeats):
        out["200"].append(run_wrk(url, ["Accept-Encoding: gzip"], duration=duration))
        out["304"].append(run_wrk(url, ["Accept-Encoding: gzip", f"If-None-Match: {probe['etag']}"],
                                  duration=duration))
    return out


def precompress(export: Path, target: Path) -> Path:
    """A copy of the export with a `.gz` beside every text file (level 9), for nginx `gzip_static on`."""
    import gzip

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(export.resolve(), target)
    for path in list(target.rglob("*")):
        if path.is_file() and path.suffix in (".rss", ".atom", ".json", ".opml", ".html"):
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), 9, mtime=0))
    return target


def precompress_one(export: Path, path: str) -> Path:
    """`path.gz` beside the one feed the run requests (level 9, as feedpub compresses once per build),
    for nginx `gzip_static on`: a copy of a whole 100k export would be gigabytes."""
    import gzip

    target = export / path.lstrip("/")
    gz = target.with_name(target.name + ".gz")
    gz.write_bytes(gzip.compress(target.read_bytes(), 9, mtime=0))
    return gz


def start_nginx(root: Path, tmp: Path, *, gzip_static: bool = False,
                access_log: bool = False) -> tuple[subprocess.Popen, int]:
    """nginx on a free port over `root`; with `access_log`, every request logged to tmp/access.log."""
    port = free_port()
    conf = tmp / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""
    logged = f"{tmp}/access.log combined buffer=64k flush=1s" if access_log else "off"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root.resolve(), user=user, access_log=logged,
                                      gzip_static="gzip_static on;" if gzip_static else ""))
    exe = tools()["nginx"] or "nginx"
    check = subprocess.run([exe, "-t", "-c", str(conf), "-p", str(tmp)], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {check.stderr}")
    proc = subprocess.Popen([exe, "-c", str(conf), "-p", str(tmp)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "stderr.log", "wb"))
    wait_http(port, "/index.html", timeout=30, proc=proc)
    return proc, port


def nginx_bench(export: Path, *, path: str, duration: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        proc, port = start_nginx(export, Path(tmp))
        try:
            result = measure(port, path, duration=duration, repeats=repeats)
            result["version"] = subprocess.run([tools()["nginx"] or "nginx", "-v"], capture_output=True,
                                               text=True, timeout=30).stderr.strip()
            return result
        finally:
            stop(proc)


def start_feedpub(corpus: Path, *, extra: list[str] | None = None, timeout: float = 600,
                  log_path: Path | None = None, access_log: Path | None = None) -> tuple[subprocess.Popen, int, float]:
    """`feedpub serve CORPUS --port P --quiet`, or with `--access-log FILE` when `access_log` is given;
    returns (process, port, seconds until /healthz answered)."""
    port = free_port()
    logging = ["--quiet"] if access_log is None else ["--access-log", str(access_log)]
    cmd = [feedpub_exe(), "serve", str(corpus), "--port", str(port), *logging, *(extra or [])]
    stderr = open(log_path, "ab") if log_path else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        answered = wait_http(port, "/healthz", timeout=timeout, proc=proc, interval=0.01)
    except BaseException:
        stop(proc)
        raise
    return proc, port, answered - started


def feedpub_bench(proc_port: tuple[subprocess.Popen, int], *, path: str, duration: int, repeats: int) -> dict:
    _, port = proc_port
    return measure(port, path, duration=duration, repeats=repeats)


def export(corpus: Path, out: Path, *, timeout: float) -> None:
    """A plain export for nginx to serve; no parse cache read or written when feedpub can skip it."""
    no_cache = ["--no-cache"] if "--no-cache" in help_text("export") else []
    subprocess.run([feedpub_exe(), "export", str(corpus), "--out", str(out), "--base-url", "http://127.0.0.1", *no_cache],
                   check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--path", default="/feeds/all.rss")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    missing = [name for name, exe in tools().items() if not exe]
    if missing:
        raise SystemExit(f"missing: {', '.join(missing)} (apt-get install -y nginx wrk)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        out = Path(tmp) / "site"
        log("exporting for nginx")
        export(args.corpus, out, timeout=args.timeout)
        log("nginx")
        results["nginx"] = nginx_bench(out, path=args.path, duration=args.duration, repeats=args.repeats)
    log("feedpub serve")
    proc, port, seconds = start_feedpub(args.corpus, timeout=args.timeout)
    try:
        results["feedpub"] = feedpub_bench((proc, port), path=args.path, duration=args.duration,
                                           repeats=args.repeats)
        results["feedpub"]["startup_s"] = seconds
    finally:
        stop(proc)
    for result in results.values():
        for kind in ("200", "304"):
            for run in result[kind]:
                run.pop("raw", None)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
