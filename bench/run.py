"""feedpub against its peers, side by side in one run, on the same generated corpus.

    .venv/bin/python bench/run.py                       # 10k and 100k, 3 repeats (long: hours)
    .venv/bin/python bench/run.py --quick               # 10k only, 1 repeat
    .venv/bin/python bench/run.py --sizes 100000 --only hugo,naive

Measures (see bench/README.md) the targets of issue 14: cold export with archives off (what Hugo
does) and on (every archive document written) vs Hugo (and the naive Python publisher), with peak
memory; warm export; live change latency, memory and start-up of `feedpub serve` (archives on, the
default); and req/s of one uvicorn worker vs nginx with one worker, for 200 and 304 responses, twice:
`feedpub serve --access-log FILE` vs nginx logging through `access_log ... buffer=64k flush=1s`, and
`feedpub serve --quiet` vs nginx with `access_log off`. Prints a Markdown table and writes it with the raw
numbers to bench/results/. A missing Hugo, nginx or wrk skips that comparison with a note.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hugo_site
import serve_bench
from common import (
    RESULTS,
    Stat,
    check,
    compile_bytecode,
    ensure_corpus,
    feedpub_exe,
    help_text,
    log,
    proc_memory_kib,
    python_exe,
    run_timed,
    settle_disk,
    stop,
    write_json,
)
from live_bench import live_change

GROUPS = ("export", "hugo", "naive", "serve", "live", "nginx")

# Targets from issue 14: ratios to the peer at the size they are set for, absolute limits.
COLD_RATIO = {10000: 0.6, 100000: 0.5}  # archives off
COLD_ARCHIVES_RATIO = {100000: 1.0}  # archives on, every archive document written
COLD_RSS_MIB = {100000: 800}
WARM_RATIO = 0.05  # at 100k (issue 9's target, kept)
LIVE_MS = 250
MEMORY_MIB = 400
STARTUP_S = 3.0
# Serving: (feedpub server, nginx peer, target ratio).
SERVE_PAIRS = (("feedpub (access log)", "nginx (access log, buffer=64k flush=1s)", 0.5),
               ("feedpub --quiet", "nginx (access_log off)", 0.7))


# -- feedpub export --------------------------------------------------------------------------------

class Feedpub:
    def __init__(self, work: Path) -> None:
        self.exe = feedpub_exe()
        export_help, serve_help = help_text("export"), help_text("serve")
        self.no_cache = "--no-cache" in export_help
        self.export_cache_dir = "--cache-dir" in export_help
        self.serve_cache_dir = "--cache-dir" in serve_help
        self.work = work
        self.version = subprocess.run([self.exe, "--version"], capture_output=True, text=True,
                                      timeout=60).stdout.strip()
        self.archives_off = work / "archives-off.yaml"  # what Hugo does: the newest items of each feed only
        self.archives_off.write_text("archives: false\n")

    def notes(self) -> list[str]:
        notes = [f"{self.version}; export flags seen: --no-cache={self.no_cache}, --cache-dir={self.export_cache_dir}; "
                 f"serve --cache-dir={self.serve_cache_dir}"]
        if not self.no_cache:
            notes.append("`feedpub export --no-cache` not available yet: cold export runs without it"
                         + (" (with a fresh empty --cache-dir instead)" if self.export_cache_dir else
                            " (feedpub had no cache to disable, or a default one the bench cannot clear)"))
        return notes

    def export_cmd(self, corpus: Path, out: Path, *, cold: bool, cache: Path | None,
                   archives: bool = True) -> list[str]:
        cmd = [self.exe, "export", str(corpus), "--out", str(out), "--base-url", "https://news.example.com"]
        if not archives:
            cmd += ["--config", str(self.archives_off)]
        if cold and self.no_cache:
            cmd.append("--no-cache")
        elif cache is not None and self.export_cache_dir:
            cmd += ["--cache-dir", str(cache)]
        return cmd


def remove_export(out: Path) -> None:
    if out.is_symlink() or out.is_file():
        out.unlink()
    elif out.exists():
        shutil.rmtree(out)
    shutil.rmtree(out.parent / f".{out.name}.feedpub", ignore_errors=True)


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """relative path → (inode, mtime_ns) of every file the export shows."""
    root = out.resolve()
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            st = os.stat(os.path.join(folder, name))
            files[os.path.relpath(os.path.join(folder, name), root)] = (st.st_ino, st.st_mtime_ns)
    return files


def export_cold(fp: Feedpub, corpus: Path, out: Path, *, repeats: int, timeout: float, archives: bool) -> dict:
    wall, rss, cpu, lines, files = Stat(), Stat(), Stat(), [], 0
    for n in range(repeats):
        remove_export(out)
        cache = fp.work / f"cache-cold-{n}"
        shutil.rmtree(cache, ignore_errors=True)
        settle_disk()
        timed = check(run_timed(fp.export_cmd(corpus, out, cold=True, cache=cache, archives=archives),
                                timeout=timeout), "cold export")
        shutil.rmtree(cache, ignore_errors=True)
        files = len(snapshot(out))
        wall.values.append(timed.wall)
        if timed.peak_rss_kib:
            rss.values.append(timed.peak_rss_kib / 1024)
        if timed.cpu_s is not None:
            cpu.values.append(timed.cpu_s)
        lines.append(timed.stderr.strip().splitlines()[-1] if timed.stderr.strip() else "")
        log(f"  feedpub cold export, archives {'on' if archives else 'off'}: {timed.wall:.2f} s, "
            f"{timed.peak_rss_kib} KiB, {files} files ({lines[-1]})")
    return {"wall": wall, "rss_mib": rss, "cpu": cpu, "last_lines": lines, "files": files}


def export_warm(fp: Feedpub, corpus: Path, out: Path, *, repeats: int, timeout: float) -> dict:
    cache = fp.work / "cache-warm"
    shutil.rmtree(cache, ignore_errors=True)
    remove_export(out)
    first = check(run_timed(fp.export_cmd(corpus, out, cold=False, cache=cache), timeout=timeout), "first export")
    log(f"  feedpub export to fill the cache: {first.wall:.2f} s")
    wall, rss, cpu, changed, lines = Stat(), Stat(), Stat(), [], []
    for _ in range(repeats):
        before = snapshot(out)
        timed = check(run_timed(fp.export_cmd(corpus, out, cold=False, cache=cache), timeout=timeout), "warm export")
        after = snapshot(out)
        touched = sum(1 for path in before.keys() | after.keys() if before.get(path) != after.get(path))
        wall.values.append(timed.wall)
        if timed.peak_rss_kib:
            rss.values.append(timed.peak_rss_kib / 1024)
        if timed.cpu_s is not None:
            cpu.values.append(timed.cpu_s)
        changed.append(touched)
        lines.append(timed.stderr.strip().splitlines()[-1] if timed.stderr.strip() else "")
        log(f"  feedpub warm export: {timed.wall:.2f} s, {touched} files changed ({lines[-1]})")
    return {"wall": wall, "rss_mib": rss, "cpu": cpu, "files_changed": changed, "fill_s": first.wall,
            "last_lines": lines, "files": len(snapshot(out))}


# -- peers ---------------------------------------------------------------------------------------

def hugo_runs(corpus: Path, size: int, *, repeats: int, timeout: float, public: Path | None = None) -> dict:
    site = corpus.parent / f"hugo-n{size}"
    info = hugo_site.convert(corpus, site)
    wall, rss, cpu = Stat(), Stat(), Stat()
    for _ in range(repeats):
        timed = hugo_site.build(site, timeout=timeout, public=public)
        wall.values.append(timed.wall)
        if timed.peak_rss_kib:
            rss.values.append(timed.peak_rss_kib / 1024)
        if timed.cpu_s is not None:
            cpu.values.append(timed.cpu_s)
        log(f"  hugo: {timed.wall:.2f} s, {timed.peak_rss_kib} KiB")
    feeds = hugo_site.verify(site, info, public)
    if public is not None:
        hugo_site.clean(site, public)
    return {"wall": wall, "rss_mib": rss, "cpu": cpu, "feeds": feeds, "convert": info}


def naive_runs(corpus: Path, work: Path, *, repeats: int, timeout: float) -> dict:
    wall, rss, cpu, info = Stat(), Stat(), Stat(), {}
    out = work / "naive-out"
    for _ in range(repeats):
        shutil.rmtree(out, ignore_errors=True)
        timed = check(run_timed([python_exe(), str(Path(__file__).with_name("naive.py")), str(corpus), str(out)],
                                timeout=timeout), "naive publisher")
        wall.values.append(timed.wall)
        if timed.peak_rss_kib:
            rss.values.append(timed.peak_rss_kib / 1024)
        if timed.cpu_s is not None:
            cpu.values.append(timed.cpu_s)
        info = json.loads(timed.stdout.strip().splitlines()[-1])
        log(f"  naive: {timed.wall:.2f} s, {timed.peak_rss_kib} KiB")
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": wall, "rss_mib": rss, "cpu": cpu, "info": info}


# -- serving -------------------------------------------------------------------------------------

def hardlink_copy(corpus: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(["cp", "-al", str(corpus), str(target)], check=True, timeout=600)
    return target


def replace_one(folder: Path, n: int) -> None:
    """Rewrite one article file as a new file (a new inode: the hard-linked corpus keeps its own)."""
    victim = sorted(folder.iterdir())[n]
    data = victim.read_bytes()
    temp = victim.with_name(".replace.tmp")
    temp.write_bytes(data)
    os.replace(temp, victim)


def wait_loaded(port: int, timeout: float) -> None:
    """Until /healthz reports the folder published (a start publishes before it answers; kept for
    versions that loaded behind a snapshot)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if json.loads(serve_bench.http_get(port, "/healthz")[2]).get("rebuilds", 0) >= 1:
            return
        time.sleep(0.1)
    raise RuntimeError("the server did not finish loading")


def serve_runs(fp: Feedpub, corpus: Path, export_out: Path | None, *, args, timeout: float, groups: set[str],
               notes: list[str]) -> dict:
    """Start-up (cold, then warm), memory, wrk vs nginx, live change; one feedpub server at a time."""
    result: dict = {}
    copy = hardlink_copy(corpus, fp.work / "live-corpus")
    cache = fp.work / "cache-serve"
    shutil.rmtree(cache, ignore_errors=True)
    extra = ["--cache-dir", str(cache)] if fp.serve_cache_dir else []
    # A fixed public URL, as in a deployment: the port changes per start here, and the base URL is
    # part of every feed's bytes (so of the fragment cache and of the state a start resumes).
    extra += ["--base-url", "https://feeds.example.com"]
    log_path = fp.work / "serve.log"
    cache_logged = fp.work / "cache-serve-logged"
    access_logs: dict[str, Path] = {}
    tools = serve_bench.tools()
    nginxes: list[subprocess.Popen] = []
    want_nginx = "nginx" in groups and not args.skip_nginx and export_out is not None
    if want_nginx and not all(tools.values()):
        notes.append(f"nginx/wrk not installed ({tools}): serving comparison skipped")
        want_nginx = False
    if "serve" in groups and not tools["wrk"]:
        notes.append("wrk not installed: req/s not measured")
    try:
        proc, port, seconds = serve_bench.start_feedpub(copy, extra=extra, timeout=timeout, log_path=log_path)
        result["startup_first_s"] = seconds
        result["memory_first"] = proc_memory_kib(proc.pid)
        log(f"  feedpub serve, first start: {seconds:.2f} s, {result['memory_first']}")
        stop(proc)
        startup = Stat()
        for n in range(args.repeats):
            if n:
                stop(proc)
            proc, port, seconds = serve_bench.start_feedpub(copy, extra=extra, timeout=timeout, log_path=log_path)
            startup.values.append(seconds)
            log(f"  feedpub serve, warm start: {seconds:.2f} s")
            if seconds > 60:
                break  # more repeats would only cost minutes
        result["startup_warm_s"] = startup
        stop(proc)
        # The logging server gets a copy of the warm cache: two servers never share one.
        shutil.rmtree(cache_logged, ignore_errors=True)
        if cache.exists():
            shutil.copytree(cache, cache_logged, symlinks=True)
        # Start-up with one file replaced while stopped: that file is read again (the parse cache misses it).
        changed = Stat()
        for n in range(args.repeats):
            if n:
                stop(proc)
            replace_one(copy, n)
            proc, port, seconds = serve_bench.start_feedpub(copy, extra=extra, timeout=timeout, log_path=log_path)
            changed.values.append(seconds)
            log(f"  feedpub serve, warm start after a change: {seconds:.2f} s")
        result["startup_changed_s"] = changed
        wait_loaded(port, timeout)  # memory once the whole folder is loaded, not while loading
        result["memory_loaded"] = proc_memory_kib(proc.pid)
        healthz = json.loads(serve_bench.http_get(port, "/healthz")[2])
        result["healthz"] = {k: healthz.get(k) for k in ("articles", "feeds", "files", "last_rebuild")}
        if "serve" in groups and tools["wrk"]:
            quiet_name, logged_name = SERVE_PAIRS[1][0], SERVE_PAIRS[0][0]
            servers = {quiet_name: port}
            logged_extra = (["--cache-dir", str(cache_logged)] if fp.serve_cache_dir else []) + extra[-2:]
            access_logs[logged_name] = fp.work / "feedpub-access.log"
            logged_proc, servers[logged_name], seconds = serve_bench.start_feedpub(
                copy, extra=logged_extra, timeout=timeout, log_path=log_path, access_log=access_logs[logged_name])
            log(f"  feedpub serve --access-log: warm start {seconds:.2f} s")
            if want_nginx:
                versions = subprocess.run([tools["nginx"], "-v"], capture_output=True, text=True, timeout=30)
                result["nginx_version"] = versions.stderr.strip()
                # Both nginx peers send a precompressed body (`gzip_static`), as feedpub does: it
                # compresses each feed once per build, never per request.
                serve_bench.precompress_one(export_out, args.path)
                variants = [(SERVE_PAIRS[1][1], True, False), (SERVE_PAIRS[0][1], True, True)]
                if args.nginx_dynamic_gzip:
                    variants.append(("nginx gzip on the fly, level 1 (access_log off)", False, False))
                for n, (name, static, logging_on) in enumerate(variants):
                    tmp = fp.work / f"nginx-{n}"
                    shutil.rmtree(tmp, ignore_errors=True)
                    tmp.mkdir(parents=True)
                    nginx_proc, servers[name] = serve_bench.start_nginx(export_out, tmp, gzip_static=static,
                                                                        access_log=logging_on)
                    nginxes.append(nginx_proc)
                    if logging_on:
                        access_logs[name] = tmp / "access.log"
            probes = {name: serve_bench.gzip_etag(p, args.path) for name, p in servers.items()}
            if want_nginx:  # the same feed: nginx serves the export made from the same corpus
                sizes_seen = {name: probe["gzip_bytes"] for name, probe in probes.items()}
                log(f"  gzip bytes of {args.path}: {sizes_seen}")
            for name, probe in probes.items():
                if probe["conditional_status"] != 304:
                    raise RuntimeError(f"{name}: If-None-Match {probe['etag']} → {probe['conditional_status']}")
            runs: dict = {name: {"200": [], "304": []} for name in servers}
            for _ in range(args.wrk_repeats):  # interleaved, so noise hits every server alike
                for kind in ("200", "304"):
                    for name, p in servers.items():
                        headers = ["Accept-Encoding: gzip"]
                        if kind == "304":
                            headers.append(f"If-None-Match: {probes[name]['etag']}")
                        run = serve_bench.run_wrk(f"http://127.0.0.1:{p}{args.path}", headers,
                                                  duration=args.wrk_duration)
                        run.pop("raw", None)
                        runs[name][kind].append(run)
                        log(f"  wrk {name} {kind}: {run.get('rps')} req/s, {run['errors']} errors, "
                            f"{run.get('bytes_per_response')} B/response")
            result["wrk"] = runs
            result["probes"] = probes
            result["memory_after_wrk"] = proc_memory_kib(proc.pid)
            result["memory_logged_after_wrk"] = proc_memory_kib(logged_proc.pid)
            stop(logged_proc)  # its last lines are written as it stops; it would also rebuild during the live runs
            for proc_ in nginxes:
                stop(proc_)
            nginxes.clear()
            # Completeness: every request wrk counted has its line (wrk counts only answered requests;
            # the ones in flight when it stops are answered and logged too, so the log may hold a few more).
            result["access_log_lines"] = {}
            for name, path in access_logs.items():
                if name not in runs or not path.exists():
                    continue
                with open(path, "rb") as logged_file:
                    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: logged_file.read(1 << 20), b""))
                counted = sum(r.get("requests", 0) for kind in ("200", "304") for r in runs[name][kind])
                result["access_log_lines"][name] = {"lines": lines, "wrk_requests": counted}
                log(f"  {name}: {lines} access-log lines for {counted} requests wrk counted")
                path.unlink()
        if "live" in groups:
            result["live"] = live_change(port, copy, rounds=args.live_rounds)
            log(f"  live change: median {result['live']['median_ms']:.0f} ms over {result['live']['urls']} URLs")
            result["memory_after_live"] = proc_memory_kib(proc.pid)
        stop(proc)
    finally:
        for nginx_proc in nginxes:
            stop(nginx_proc)
        if "proc" in locals():
            stop(proc)
        shutil.rmtree(copy, ignore_errors=True)
        if "logged_proc" in locals():
            stop(logged_proc)
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(cache_logged, ignore_errors=True)
        shutil.rmtree(fp.work / "export-gz", ignore_errors=True)
        for path in access_logs.values():
            path.unlink(missing_ok=True)
    return result


# -- the table -----------------------------------------------------------------------------------

def fmt(stat: Stat | float | None, unit: str = "s", digits: int = 2) -> str:
    if stat is None:
        return "–"
    if isinstance(stat, Stat):
        if stat.median is None:
            return "–"
        spread = f" ({stat.spread('{:.' + str(digits) + 'f}')})" if len(stat.values) > 1 else ""
        return f"{stat.median:.{digits}f} {unit}{spread}"
    return f"{stat:.{digits}f} {unit}"


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("PASS" if ok else "**FAIL**")


def table(results: dict, sizes: list[int]) -> list[str]:
    rows = ["| measure | size | feedpub | peer | peer value | ratio | target | result |",
            "|---|---|---|---|---|---|---|---|"]

    def row(measure, size, ours, peer, theirs, ratio, target, ok):
        rows.append(f"| {measure} | {size} | {ours} | {peer} | {theirs} | {ratio} | {target} | {verdict(ok)} |")

    largest = max(sizes)
    for size in sizes:
        r = results["sizes"].get(str(size), {})
        hugo, naive, cold, warm = r.get("hugo"), r.get("naive"), r.get("cold"), r.get("warm")
        label = f"{size // 1000}k"

        def against_hugo(archives: str, run: dict, limit: float | None, missing: str) -> None:
            """A cold export's wall time as a ratio to Hugo's, against its target."""
            ratio = (run["wall"].median / hugo["wall"].median) if hugo else None
            row(f"cold export, archives {archives} ({run['files']} files)", label, fmt(run["wall"]),
                "Hugo" if hugo else "–", fmt(hugo["wall"]) if hugo else "–", f"{ratio:.2f}×" if ratio else "–",
                f"≤ {limit}× Hugo" if limit else missing, (ratio <= limit) if (ratio and limit) else None)

        def peak_memory(archives: str, run: dict) -> None:
            """A cold export's peak RSS against its limit, Hugo's beside it."""
            limit = COLD_RSS_MIB.get(size)
            peak = run["rss_mib"].median if run["rss_mib"].values else None
            row(f"cold export, archives {archives}: peak RSS", label, fmt(run["rss_mib"], "MiB", 0),
                "Hugo" if hugo else "–", fmt(hugo["rss_mib"], "MiB", 0) if hugo else "–", "–",
                f"≤ {limit} MiB" if limit else "(info)", (peak <= limit) if (peak and limit) else None)

        archived = r.get("cold_archives")
        if archived:
            against_hugo("on", archived, COLD_ARCHIVES_RATIO.get(size), "(info)")
            peak_memory("on", archived)
        if cold:
            against_hugo("off", cold, COLD_RATIO.get(size), "–")
            if naive:
                row("cold export vs naive", label, fmt(cold["wall"]), "naive Python", fmt(naive["wall"]),
                    f"{cold['wall'].median / naive['wall'].median:.2f}×", "(info)", None)
            if cold.get("cpu") and cold["cpu"].values:
                peer_cpu = hugo.get("cpu") if hugo else None
                row("cold export CPU (user+sys)", label, fmt(cold["cpu"]), "Hugo" if hugo else "–",
                    fmt(peer_cpu) if peer_cpu else "–",
                    f"{cold['cpu'].median / peer_cpu.median:.2f}×" if peer_cpu and peer_cpu.median else "–",
                    "(info: less noisy than wall)", None)
            peak_memory("off", cold)
        elif hugo or naive:
            if hugo:
                row("Hugo build (cold)", label, "–", "Hugo", fmt(hugo["wall"]), "–", "(info)", None)
                row("Hugo peak RSS", label, "–", "Hugo", fmt(hugo["rss_mib"], "MiB", 0), "–", "(info)", None)
            if naive:
                row("naive Python publisher", label, "–", "naive Python", fmt(naive["wall"]), "–", "(info)", None)
                row("naive peak RSS", label, "–", "naive Python", fmt(naive["rss_mib"], "MiB", 0), "–", "(info)",
                    None)
        if cold and naive:
            row("naive peak RSS", label, "–", "naive Python", fmt(naive["rss_mib"], "MiB", 0), "–", "(info)", None)
        if warm:
            ratio = (warm["wall"].median / hugo["wall"].median) if hugo else None
            at = "" if size == 100000 else " (target set at 100k)"
            row("warm export (unchanged)", label, fmt(warm["wall"]), "Hugo" if hugo else "–",
                fmt(hugo["wall"]) if hugo else "–", f"{ratio:.3f}×" if ratio else "–",
                f"≤ {WARM_RATIO}× Hugo{at}", (ratio <= WARM_RATIO) if ratio else None)
            worst = max(warm["files_changed"])
            row("warm export files written", label, str(worst), "–", "–", "–", "0", worst == 0)
    serve = results.get("serve")
    if serve:
        label = f"{largest // 1000}k"
        at = "" if largest == 100000 else " (set at 100k)"
        if "live" in serve:
            live = serve["live"]
            row("live change → all its feeds (median)", label,
                f"{live['median_ms']:.0f} ms ({live['min_ms']:.0f}–{live['max_ms']:.0f}, p90 {live['p90_ms']:.0f}; "
                f"rebuild median {live.get('rebuild_median_ms') or 0:.0f} ms)",
                "–", "–", "–", f"< {LIVE_MS} ms{at}", live["median_ms"] < LIVE_MS)
        rss_values = [serve.get(k, {}).get("VmRSS", 0) for k in ("memory_loaded", "memory_after_wrk",
                                                                  "memory_after_live")]
        rss = max(rss_values) / 1024
        hwm = max(serve.get(k, {}).get("VmHWM", 0) for k in ("memory_loaded", "memory_after_wrk",
                                                              "memory_after_live")) / 1024
        row("serve RSS (max VmRSS; VmHWM)", label, f"{rss:.0f} MiB; peak {hwm:.0f} MiB", "–", "–", "–",
            f"≤ {MEMORY_MIB} MiB{at}", rss <= MEMORY_MIB)
        row("serve start-up, warm cache, folder unchanged", label, fmt(serve["startup_warm_s"]),
            "first start", fmt(serve["startup_first_s"]), "–", f"< {STARTUP_S} s{at}",
            serve["startup_warm_s"].median < STARTUP_S)
        if serve.get("startup_changed_s"):
            row("serve start-up, warm cache, one file changed", label, fmt(serve["startup_changed_s"]), "–", "–",
                "–", f"< {STARTUP_S} s{at}", serve["startup_changed_s"].median < STARTUP_S)
        wrk = serve.get("wrk")
        if wrk:
            def summary(name: str, kind: str) -> tuple[Stat, int, str]:
                rps = Stat([r["rps"] for r in wrk[name][kind]])
                errors = sum(r["errors"] for r in wrk[name][kind])
                p50 = Stat([r.get("latency_p50_ms", 0) for r in wrk[name][kind]])
                return rps, errors, f"{fmt(rps, 'req/s', 0)}, p50 {p50.median:.1f} ms, {errors} errors"

            lines = serve.get("access_log_lines", {})
            for ours_name, peer_name, target in SERVE_PAIRS:
                if ours_name not in wrk:
                    continue
                for kind in ("200", "304"):
                    ours, errors, mine = summary(ours_name, kind)
                    what = f"serve {kind} (gzip, {serve.get('path')}): {ours_name}"
                    if peer_name not in wrk:
                        row(what, label, mine, "–", "–", "–", f"≥ {target}× nginx, 0 errors",
                            None if errors == 0 else False)
                        continue
                    theirs, _, their_text = summary(peer_name, kind)
                    ratio = ours.median / theirs.median if theirs.median else None
                    row(what, label, mine, peer_name, their_text, f"{ratio:.2f}×" if ratio else "–",
                        f"≥ {target}× nginx, 0 errors", (ratio >= target and errors == 0) if ratio else None)
                if ours_name in lines:
                    count = lines[ours_name]
                    row("access log complete (lines ≥ requests wrk counted)", label,
                        f"{count['lines']} lines / {count['wrk_requests']} requests", peer_name,
                        (f"{lines[peer_name]['lines']} lines / {lines[peer_name]['wrk_requests']} requests"
                         if peer_name in lines else "–"), "–", "one line per request",
                        count["lines"] >= count["wrk_requests"])
            for name in wrk:
                if "on the fly" in name:
                    for kind in ("200", "304"):
                        row(f"serve {kind}: {name}", label, "–", name, summary(name, kind)[2], "–", "(info)", None)
    return rows


# -- main ----------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="corpus sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each build and start-up (median)")
    parser.add_argument("--peer-repeats", type=int, help="repeats of Hugo and naive builds (default: --repeats)")
    parser.add_argument("--wrk-repeats", type=int, default=1, help="repeats of each wrk run (interleaved)")
    parser.add_argument("--wrk-duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--live-rounds", type=int, default=20)
    parser.add_argument("--path", default="/feeds/all.rss", help="the ~50-item feed wrk requests")
    parser.add_argument("--only", default=",".join(GROUPS), help=f"subset of {','.join(GROUPS)}")
    parser.add_argument("--nginx-dynamic-gzip", action="store_true",
                        help="also run nginx compressing each response (gzip on, level 1; info row)")
    parser.add_argument("--out-root", help="write the exports and Hugo's public/ under this folder (a tmpfs such "
                        "as /dev/shm keeps the disk's file-creation cost out of the comparison)")
    parser.add_argument("--skip-hugo", action="store_true")
    parser.add_argument("--skip-nginx", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--quick", action="store_true", help="10k only, 1 repeat")
    parser.add_argument("--timeout-per-10k", type=float, default=900,
                        help="timeout of one build/start-up, per 10,000 articles (seconds)")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeats = "10000", 1
    sizes = sorted(int(s) for s in args.sizes.split(","))
    groups = {g.strip() for g in args.only.split(",") if g.strip()}
    if unknown := groups - set(GROUPS):
        parser.error(f"unknown --only groups: {unknown}")
    if args.skip_hugo:
        groups.discard("hugo")
    if args.skip_naive:
        groups.discard("naive")
    if args.skip_nginx:
        groups.discard("nginx")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = RESULTS / f"work-{stamp}"
    work.mkdir(parents=True)
    fp = Feedpub(work)
    notes: list[str] = fp.notes()
    notes.append(f"machine: {os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.2f}")
    notes.append(compile_bytecode())
    results: dict = {"args": vars(args), "sizes": {}, "notes": notes}
    hugo_ok = "hugo" in groups and shutil.which("hugo")
    if "hugo" in groups:
        if hugo_ok:
            notes.append(hugo_site.hugo_version())
        else:
            notes.append("hugo not installed: the Hugo comparison is skipped (apt-get install -y hugo)")
    if not os.access("/usr/bin/time", os.X_OK):
        notes.append("/usr/bin/time missing (apt-get install -y time): no peak RSS of builds")
    # Where the two builders write: the work folder, or (--out-root) a folder elsewhere, such as a
    # tmpfs, so that a disk slow to create files (this VM's takes 0.1-1 ms a file) is out of the
    # comparison. Feedpub's cold exports write 18,592 files at 100k with archives, Hugo's ~1,500.
    out_root = Path(args.out_root) / f"feedpub-bench-{stamp}" if args.out_root else work
    out_root.mkdir(parents=True, exist_ok=True)
    out = out_root / "out"
    hugo_public = out_root / "hugo-public" if args.out_root else None
    if args.out_root:
        notes.append(f"outputs (feedpub's export, Hugo's public/) written under {args.out_root}")
    try:
        for size in sizes:
            timeout = args.timeout_per_10k * max(1, size / 10000)
            log(f"== {size} articles")
            corpus = ensure_corpus(size)
            r: dict = {}
            results["sizes"][str(size)] = r
            if hugo_ok:
                r["hugo"] = hugo_runs(corpus, size, repeats=args.peer_repeats or args.repeats, timeout=timeout,
                                      public=hugo_public)
            if "naive" in groups:
                r["naive"] = naive_runs(corpus, work, repeats=args.peer_repeats or args.repeats, timeout=timeout)
            if "export" in groups:
                r["cold"] = export_cold(fp, corpus, out, repeats=args.repeats, timeout=timeout, archives=False)
                r["cold_archives"] = export_cold(fp, corpus, out, repeats=args.repeats, timeout=timeout,
                                                 archives=True)
                r["warm"] = export_warm(fp, corpus, out, repeats=args.repeats, timeout=timeout)
            write_json(work / "partial.json", results)
        if groups & {"serve", "live"}:
            size = sizes[-1]
            timeout = args.timeout_per_10k * max(1, size / 10000)
            log(f"== serving {size} articles")
            corpus = ensure_corpus(size)
            export_out = out if (out.exists() and "export" in groups) else None
            if export_out is None and "nginx" in groups and "serve" in groups:
                export_out = work / "out-serve"
                serve_bench.export(corpus, export_out, timeout=timeout)
            results["serve"] = serve_runs(fp, corpus, export_out, args=args, timeout=timeout, groups=groups,
                                          notes=notes)
            results["serve"]["path"] = args.path
    finally:
        lines = [f"# feedpub benchmark {stamp}", "", f"`{' '.join(sys.argv)}`", ""]
        try:
            lines += table(results, sizes) if results["sizes"] or results.get("serve") else []
        except Exception as error:  # a failed step leaves a partial result: still write what there is
            lines.append(f"(no table: {error!r}; see the JSON)")
        lines += ["", "Notes:"] + [f"- {n}" for n in notes]
        report = "\n".join(lines) + "\n"
        print(report)
        (RESULTS / f"run-{stamp}.md").write_text(report)
        write_json(RESULTS / f"run-{stamp}.json", results)
        for name in ("out", "naive-out"):
            remove_export(work / name) if name == "out" else shutil.rmtree(work / name, ignore_errors=True)
        remove_export(work / "out-serve")
        if args.out_root:
            remove_export(out)
            shutil.rmtree(out_root, ignore_errors=True)
        for name in ("cache-warm", "live-corpus", "cache-serve", "cache-serve-logged", "export-gz"):
            shutil.rmtree(work / name, ignore_errors=True)
        log(f"results: {RESULTS / f'run-{stamp}.md'} and .json; work files in {work}")


if __name__ == "__main__":
    main()
