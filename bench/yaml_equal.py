"""Check the front matter accelerator (feeds/fast_yaml.py) against PyYAML on a whole corpus.

    .venv/bin/python bench/yaml_equal.py bench/corpus/n100000

Every file's front matter is loaded both ways and compared with types (True is not 1); prints how
many the accelerator built itself, how many it left to PyYAML, and every mismatch (exit 1 if any).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedpub.reading import article_file, fast_yaml
from tests.reading.test_fast_yaml import built_fast, front_matter, same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    fast = fallback = mismatched = unreadable = 0
    started = time.perf_counter()
    for path in sorted(args.corpus.rglob("*")):
        if path.suffix not in (".txt", ".md") or not path.is_file():
            continue
        try:
            source = front_matter(path)
        except (AssertionError, article_file.ArticleError):
            unreadable += 1
            continue
        try:
            theirs = yaml.load(source, Loader=article_file._Loader)
        except Exception as error:
            theirs = ("error", type(error), str(error))
        try:
            ours = built_fast(source)
            fast += 1
        except fast_yaml.Unsupported:
            fallback += 1
            try:
                ours = fast_yaml.load(source, article_file._Loader)
            except Exception as error:
                ours = ("error", type(error), str(error))
        except Exception as error:
            fallback += 1
            ours = ("error", type(error), str(error))
            try:
                ours = fast_yaml.load(source, article_file._Loader)
            except Exception as again:
                ours = ("error", type(again), str(again))
        if not same(ours, theirs):
            mismatched += 1
            print(f"MISMATCH {path}", file=sys.stderr)
    print(f"{args.corpus}: {fast} built by the accelerator, {fallback} left to PyYAML, {unreadable} without "
          f"front matter, {mismatched} mismatches ({time.perf_counter() - started:.0f} s)")
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
