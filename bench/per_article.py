"""CPU per article by stage of a cold build: reading a file (parse and clean), then rendering its
item in each format. One process, no cache; medians of `--repeats` passes over the first `-n` files.

    .venv/bin/python bench/per_article.py bench/corpus/n10000 -n 2000

It says where a cold export's time goes, and what the issue's cold-export target leaves per article:
0.25x Hugo's 100k build (~32-37 s here) on two cores is ~0.16-0.19 ms of CPU an article in all.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from feedpub.catalog.catalog import Catalog
from feedpub.reading.article import Entry
from feedpub.reading.article_file import MAX_FILE_BYTES, ParsedFile, read_article
from feedpub.reading.parallel import _parse_chunk
from feedpub.render.formats import FORMATS
from feedpub.render.fragments import render_chunk
from feedpub.render.site import make_feed
from feedpub.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("-n", type=int, default=2000, help="files to read (the first, in name order)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.iterdir() if p.suffix in (".txt", ".md"))[: args.n]
    timings: dict[str, list[float]] = {"read (parse, clean)": [], **{f"render {fmt.name}": [] for fmt in FORMATS}}
    worker: list[float] = []  # what a parse worker does for a file of a cold load: not part of "in all"
    rels = [path.name for path in files]
    for _ in range(args.repeats):
        started = time.perf_counter()
        _parse_chunk((args.corpus, MAX_FILE_BYTES, False, rels))
        worker.append((time.perf_counter() - started) / len(files))
        started = time.perf_counter()
        outcomes = [read_article(path, name=path.name) for path in files]
        timings["read (parse, clean)"].append((time.perf_counter() - started) / len(files))
        articles = [outcome.article for outcome in outcomes if isinstance(outcome, ParsedFile)]
        catalog = Catalog.build([Entry.of(a) for a in articles], now=datetime.now(UTC), limit=50)
        template = make_feed(catalog.spec(catalog.groups()[0]), Settings())
        for fmt in FORMATS:
            started = time.perf_counter()
            render_chunk((template, (fmt.name,), articles, None))
            timings[f"render {fmt.name}"].append((time.perf_counter() - started) / len(articles))
    total = 0.0
    for stage, values in timings.items():
        median = statistics.median(values) * 1e6
        total += median
        print(f"{stage:22s} {median:7.0f} µs/article  (min {min(values) * 1e6:.0f}, max {max(values) * 1e6:.0f})")
    print(f"{'in all':22s} {total:7.0f} µs/article over {len(files)} files, {args.repeats} passes")
    print(f"{'a parse worker':22s} {statistics.median(worker) * 1e6:7.0f} µs/file: read, parse and clean "
          "(the JSON API's fields skipped, as by default), digest and pack, as a cold load's workers do")


if __name__ == "__main__":
    main()
