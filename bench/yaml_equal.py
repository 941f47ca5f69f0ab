"""Check both front matter accelerators against PyYAML on whole corpora, and time each way.

    .venv/bin/python bench/yaml_equal.py bench/corpus/n100000 seeds tests

Every file's front matter is loaded by PyYAML (feedpub's loader on CSafeLoader), by the node-tree
builder (`fast_yaml.construct`) and by the C accelerator (`_frontmatter.c`) on each of its paths (the
quick path alone, libyaml's alone, and the two as used), and compared with types (True is not 1).
Prints, per corpus, how many documents each accelerator built itself and how many it left to PyYAML,
every mismatch (exit 1 if any), and the median µs per document of each way over `--passes` passes of
the first `--timed` documents.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedpub.reading import article_file, fast_yaml
from tests.reading.yaml_checks import front_matter, node_tree, pyyaml, same

LOADER = article_file._Loader


def sources(corpus: Path) -> tuple[list[tuple[Path, str]], int]:
    found, unreadable = [], 0
    for path in sorted(corpus.rglob("*")):
        if path.suffix not in (".txt", ".md") or not path.is_file():
            continue
        try:
            found.append((path, front_matter(path)))
        except (AssertionError, article_file.ArticleError, OSError):
            unreadable += 1
    return found, unreadable


def check(corpus: Path) -> int:
    documents, unreadable = sources(corpus)
    tree_built = mismatched = 0
    c_built = dict.fromkeys(("quick, then libyaml", "quick", "libyaml"), 0)
    for path, source in documents:
        theirs = pyyaml(source)
        try:
            ours = node_tree(source)
            tree_built += 1
            if theirs[0] != "value" or not same(ours, theirs[1]):
                mismatched += 1
                print(f"MISMATCH (node tree) {path}", file=sys.stderr)
        except Exception:  # left to PyYAML, which gives the value or error `theirs` holds
            pass
        for paths in ("quick, then libyaml", "quick", "libyaml"):
            value = fast_yaml.load_accelerated(source, LOADER, paths=paths)
            if value is not fast_yaml._FALLBACK:
                c_built[paths] += 1
                if theirs[0] != "value" or not same(value, theirs[1]):
                    mismatched += 1
                    print(f"MISMATCH (C, {paths}) {path}", file=sys.stderr)
    print(f"{corpus}: {len(documents)} documents ({unreadable} files without front matter); node tree built "
          f"{tree_built}, C accelerator built {c_built['quick, then libyaml']} (its quick path alone "
          f"{c_built['quick']}, libyaml's alone {c_built['libyaml']}), the rest left to PyYAML; "
          f"{mismatched} mismatches")
    return mismatched


def timing(documents: list[str], passes: int) -> None:
    ways: dict[str, Callable[[str], Any]] = {
        "PyYAML (CSafeLoader)": lambda source: yaml.load(source, Loader=LOADER),
        "node tree (fast_yaml.construct)": node_tree,
        "C accelerator, libyaml's path only": lambda source: fast_yaml.load_accelerated(source, LOADER, paths="libyaml"),
        "C accelerator (quick, then libyaml)": lambda source: fast_yaml.load_accelerated(source, LOADER),
    }
    medians = {}
    for name, load in ways.items():
        runs = []
        for _ in range(passes):
            started = time.perf_counter()
            for source in documents:
                load(source)
            runs.append((time.perf_counter() - started) / len(documents) * 1e6)
        medians[name] = statistics.median(runs)
    base = medians["PyYAML (CSafeLoader)"]
    for name, median in medians.items():
        print(f"  {name:34} {median:7.1f} µs/document  ({base / median:4.1f}× PyYAML)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", type=Path, nargs="+")
    parser.add_argument("--timed", type=int, default=2000, help="documents timed (the first of the first corpus)")
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    if fast_yaml.accelerator() is None:
        print("the C accelerator is not built (or FEEDPUB_YAML_ACCELERATOR=0): nothing to check", file=sys.stderr)
        return 2
    mismatched = sum(check(corpus) for corpus in args.corpora)
    documents = [source for _, source in sources(args.corpora[0])[0][: args.timed]]
    print(f"timing {len(documents)} documents of {args.corpora[0]}, median of {args.passes} passes:")
    timing(documents, args.passes)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
