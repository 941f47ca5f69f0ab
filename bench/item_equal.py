"""The C item writer against the Python writers (and feedgen) on every article of a corpus.

    .venv/bin/python bench/item_equal.py bench/corpus/n100000 [more corpora] [--no-feedgen]

For each published article, each kind of item (RSS, Atom, JSON Feed, the feed pages') is written by
the C writer from the article (`fast_items.write`) and from its stored values, as a render worker is
sent them (`fast_items.write_values`), and compared with the Python writer's item; RSS and Atom are
also compared with the item cut from feedgen's document (slow: `--no-feedgen` skips it). Prints how
many were written in C and how many left to Python, and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from feedpub.catalog.catalog import ALL, FeedSpec
from feedpub.reading.article import Article
from feedpub.reading.article_file import ParsedFile, read_article
from feedpub.render import fast_items
from feedpub.render.feed_pages import PAGE
from feedpub.render.formats import FORMATS
from feedpub.render.site import make_feed
from feedpub.settings import Settings
from feedpub.stores.packing import article_from, article_values

CHUNK = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", type=Path, nargs="+")
    parser.add_argument("--no-feedgen", action="store_true", help="compare with the Python writers only")
    args = parser.parse_args()
    if not fast_items.available():
        print("the C item writer is not built here (or FEEDPUB_ACCELERATORS=0)", file=sys.stderr)
        return 2
    template = make_feed(FeedSpec(kind=ALL, key=ALL, name="", items=(), total=0),
                         Settings(base_url="https://news.example.com"))
    kinds = [*FORMATS, PAGE]
    bad = 0
    for corpus in args.corpora:
        started = time.perf_counter()
        files = sorted(path for path in corpus.rglob("*") if path.suffix in (".txt", ".md") and path.is_file())
        counts = {fmt.name: [0, 0] for fmt in kinds}  # written in C, left to Python
        articles_seen = 0
        for start in range(0, len(files), CHUNK):
            articles: list[Article] = []
            for path in files[start : start + CHUNK]:
                outcome = read_article(path, name=str(path.relative_to(corpus)))
                if isinstance(outcome, ParsedFile) and not outcome.article.draft:
                    articles.append(outcome.article)
            articles_seen += len(articles)
            values = [article_values(article) for article in articles]
            for fmt in kinds:
                python = fmt.python_items(template, articles)
                direct = fast_items.write(fmt.name, template, articles) or []
                from_values = fast_items.write_values(fmt.name, template, values) or []
                reference = fmt.cut_items(template, articles) if fmt.write_item is not None and not args.no_feedgen \
                    else python
                for n, article in enumerate(articles):
                    piece, stored = direct[n], from_values[n]
                    counts[fmt.name][piece is None] += 1
                    wrong = [name for name, made, want in (
                        ("C", piece, python[n]), ("C from values", stored,
                                                    fmt.python_items(template, [article_from(values[n])])[0]
                                                    if stored is not None else None),
                        ("Python vs reference", python[n], reference[n])) if made is not None and made != want]
                    if wrong:
                        bad += 1
                        print(f"{corpus}: {article.source} {fmt.name}: {', '.join(wrong)} differ", file=sys.stderr)
        summary = ", ".join(f"{name} {c} in C / {p} left" for name, (c, p) in counts.items())
        print(f"{corpus}: {articles_seen} articles; {summary}; {time.perf_counter() - started:.0f} s")
    print(f"{bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
