"""How long the live server's saved state takes to write, to read back and to resume, on a corpus.

    .venv/bin/python bench/state_io.py CORPUS [--repeats 3] [--cache-dir DIR]

Loads CORPUS once (with a parse cache, so a second run of this script is quick), then writes the
state `Build.saved_state` gives and reads it back `--repeats` times, and resumes a fresh build from
it (what a restart of `feedpub serve` does after the survey): medians with min–max, and the size.
Not a test: times are measured here, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from feedpub.build import Build
from feedpub.memory import collector_paused
from feedpub.settings import Settings
from feedpub.stores import saved_state


def _spread(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s ({min(times):.3f}–{max(times):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "feedpub-state-bench")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    settings = Settings(base_url="https://news.example.com")
    began = time.perf_counter()
    build = Build(args.corpus, settings, cache_dir=args.cache_dir, jobs=args.jobs)
    build.load()
    print(f"loaded {len(build.library.good)} files in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    path = args.cache_dir / "bench-state"
    writes, reads, resumes = [], [], []
    for _ in range(args.repeats):
        began = time.perf_counter()
        saved_state.write(path, build.saved_state())
        writes.append(time.perf_counter() - began)
        began = time.perf_counter()
        found = saved_state.read(path, build.state_key)
        reads.append(time.perf_counter() - began)
        assert found is not None, "the state written could not be read back"
        survey = build.folder.survey()
        began = time.perf_counter()
        with collector_paused():
            other = Build(args.corpus, settings, cache_dir=args.cache_dir, jobs=args.jobs)
            done = other.resume(found, survey)
        resumes.append(time.perf_counter() - began)
        assert done is not None and other.site.keys() == build.site.keys()
        del found, other
    print(f"state file: {path.stat().st_size / 2**20:.1f} MiB")
    print(f"write:  {_spread(writes)}")
    print(f"read:   {_spread(reads)}")
    print(f"resume: {_spread(resumes)} (after the read; the survey not included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
