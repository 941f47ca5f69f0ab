"""Check the C article builder against the Python path on whole corpora, and time each way.

    .venv/bin/python bench/article_equal.py bench/corpus/n100000 seeds tests

Every article file's front matter (read as feedpub reads it) is turned into the parse cache's values
and warnings by the C builder (`reading/_articles.c`) and by the Python path (`_article_from` and
`article_values`), and the two are compared with their types. Prints, per corpus, how many files the
builder built, how many it left to Python (and of those, how many are bad files, which it must never
build), every mismatch (exit 1 if any), and the median µs per file of each way over `--passes` passes
of the first `--timed` files.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedpub.reading import article_file, fast_article
from tests.reading.article_checks import difference, python_reads


def fronts(corpus: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(corpus.rglob("*")):
        if path.suffix not in (".txt", ".md") or not path.is_file():
            continue
        try:
            data = path.read_bytes()
            front = article_file._accelerated_front_matter(data)
            if front is None:
                front = article_file.load_front_matter(article_file.decode(data))
        except (article_file.ArticleError, OSError):
            continue  # no front matter to build from: the file is bad before either way runs
        found.append((path, front))
    return found


def median_us(work: Callable[[], object], count: int, passes: int) -> float:
    times = []
    for _ in range(passes):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) / max(count, 1) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--timed", type=int, default=3000, help="files timed per corpus")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if not fast_article.available():
        print("the C article builder is not built (or FEEDPUB_ACCELERATORS=0)", file=sys.stderr)
        return 2
    mismatches = 0
    for corpus in args.corpora:
        found = fronts(corpus)
        built = left = bad = 0
        for path, front in found:
            problem = difference(front, path.name)
            if problem is not None:
                mismatches += 1
                print(f"MISMATCH {path}: {problem}")
            if fast_article.build(front, path.name) is not None:
                built += 1
            else:
                left += 1
                bad += isinstance(python_reads(front, path.name), str)
        timed = [front for _, front in found[: args.timed]]
        c = median_us(lambda: [fast_article.build(front, "a.txt") for front in timed], len(timed), args.passes)
        python = median_us(lambda: [python_reads(front) for front in timed], len(timed), args.passes)
        print(f"{corpus}: {len(found):,} files: {built:,} built, {left:,} left to Python ({bad:,} of them bad); "
              f"C {c:.1f} µs, Python {python:.1f} µs a file (built or not)")
    print(f"{mismatches} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
