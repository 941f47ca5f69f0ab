"""Every published article's filter fields, compact: title, description, heat and quality.

Query filters (`query.py`) run over every article of a feed, so these fields must be at hand for
100,000 articles at once without holding the articles (~2.8 KB each). They are kept in `Block`s
of at most `BLOCK` articles, newest first across the blocks: each block's titles and descriptions
are joined one per line and zstd-compressed, its scores are two float arrays, and its entries are
the catalog's own objects. A filter reads the blocks in order and stops once it has its items, so
the usual query decompresses a block or two; one that matches little reads them all.

A block never changes once made: a change makes new blocks for the ones it touches and a new
tuple of blocks, so a request that took `blocks` reads one consistent state while the rebuild
thread makes the next.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import zstandard

from ..reading.article import Article, Entry

BLOCK = 512  # articles per block: a change recompresses ~250 KB; a block is split past twice this
_LEVEL = 9  # a fifth smaller than 3, decompressed as fast; a change recompresses one block in ~4 ms
_NONE = math.nan  # a missing score: every comparison with it is false, so `min_heat` leaves it out


class Fields(NamedTuple):
    """What a filter reads of one article. The description is the excerpt, or the title when the
    article has none (as RSSHub reads a description)."""

    title: str
    description: str
    heat: float | None
    quality: float | None

    @classmethod
    def of(cls, article: Article) -> Fields:
        return cls(article.title, article.summary or article.title, article.heat, article.quality)


@dataclass(frozen=True, slots=True, eq=False)
class Block:
    entries: tuple[Entry, ...]  # newest first
    heat: array  # 'd', NaN where none
    quality: array
    titles: bytes  # zstd of each title on a line of its own (UTF-8)
    descriptions: bytes
    title_starts: array  # 'I': where each line starts, and the end of the last
    description_starts: array

    @classmethod
    def make(cls, rows: Sequence[tuple[Entry, Fields]]) -> Block:
        titles, title_starts = _lines(fields.title for _, fields in rows)
        descriptions, description_starts = _lines(fields.description for _, fields in rows)
        compress = zstandard.ZstdCompressor(level=_LEVEL).compress
        return cls(tuple(entry for entry, _ in rows),
                   array("d", (_NONE if fields.heat is None else fields.heat for _, fields in rows)),
                   array("d", (_NONE if fields.quality is None else fields.quality for _, fields in rows)),
                   compress(titles), compress(descriptions), title_starts, description_starts)

    def text(self, field: str) -> tuple[bytes, array]:
        """One field's lines (decompressed now: the caller keeps them for the query) and their starts."""
        if field == "title":
            return zstandard.ZstdDecompressor().decompress(self.titles), self.title_starts
        return zstandard.ZstdDecompressor().decompress(self.descriptions), self.description_starts

    def rows(self) -> list[tuple[Entry, Fields]]:
        """Every article with its fields again (to make new blocks from)."""
        titles, title_starts = self.text("title")
        descriptions, description_starts = self.text("description")
        return [(entry, Fields(_line(titles, title_starts, i), _line(descriptions, description_starts, i),
                               _score(self.heat[i]), _score(self.quality[i])))
                for i, entry in enumerate(self.entries)]

    @property
    def size(self) -> int:
        """Bytes held (the entries are the catalog's)."""
        arrays = (self.heat, self.quality, self.title_starts, self.description_starts)
        return len(self.titles) + len(self.descriptions) + sum(a.itemsize * len(a) for a in arrays) \
            + 8 * len(self.entries)


def _lines(texts: Iterable[str]) -> tuple[bytes, array]:
    starts = array("I", [0])
    parts = []
    for text in texts:
        # Article text is one line already (`reading/text.py`); a newline would join two articles.
        line = text.replace("\n", " ").encode("utf-8", "surrogatepass") + b"\n"
        parts.append(line)
        starts.append(starts[-1] + len(line))
    return b"".join(parts), starts


def _line(buffer: bytes, starts: array, index: int) -> str:
    return buffer[starts[index] : starts[index + 1] - 1].decode("utf-8", "surrogatepass")


def _score(value: float) -> float | None:
    return None if math.isnan(value) else value


def _newest_first(entry: Entry) -> tuple[float, str]:
    return entry.sort_key


class Records:
    """The filter fields of every member of the catalog, newest first, in blocks."""

    def __init__(self) -> None:
        self.blocks: tuple[Block, ...] = ()

    def __len__(self) -> int:
        return sum(len(block.entries) for block in self.blocks)

    @property
    def size(self) -> int:
        return sum(block.size for block in self.blocks)

    def update(self, came: Mapping[str, tuple[Entry, Fields]], went: Iterable[Entry]) -> None:
        """Take in the members that came (by digest, with their fields) and let go of those that went."""
        gone = {entry.digest for entry in went}
        if not came and not gone:
            return
        total = len(self)
        if len(came) + len(gone) > max(BLOCK, total // 4):
            # A load or a resync: make every block anew, in one sort.
            rows = [row for block in self.blocks for row in block.rows() if row[0].digest not in gone]
            rows += came.values()
            rows.sort(key=lambda row: _newest_first(row[0]))
            self.blocks = tuple(Block.make(rows[i : i + BLOCK]) for i in range(0, len(rows), BLOCK))
            return
        blocks = list(self.blocks)
        firsts = [block.entries[0].sort_key for block in blocks]
        touched: dict[int, tuple[list[tuple[Entry, Fields]], set[str]]] = {}

        def at(key: tuple[float, str]) -> int:
            return max(0, bisect.bisect_right(firsts, key) - 1)

        for entry in went:
            if entry.digest in gone and blocks:
                touched.setdefault(at(entry.sort_key), ([], set()))[1].add(entry.digest)
        for entry, fields in came.values():
            touched.setdefault(at(entry.sort_key) if blocks else 0, ([], set()))[0].append((entry, fields))
        made: dict[int, list[Block]] = {}
        for index, (new, leaving) in touched.items():
            rows = [row for row in blocks[index].rows() if row[0].digest not in leaving] if index < len(blocks) else []
            rows += new
            rows.sort(key=lambda row: _newest_first(row[0]))
            pieces = 1 if len(rows) <= 2 * BLOCK else 2
            step = -(-len(rows) // pieces) if rows else 1
            made[index] = [Block.make(rows[i : i + step]) for i in range(0, len(rows), step)]
        result: list[Block] = []
        for index in range(max(len(blocks), 1)):
            if index in made:
                result += made[index]
            elif index < len(blocks):
                result.append(blocks[index])
        self.blocks = tuple(result)


def fields_of(articles: Mapping[str, Article], wanted: Mapping[str, Entry]) -> dict[str, tuple[Entry, Fields]]:
    """The fields of the wanted entries (by digest) among these articles (by digest)."""
    return {digest: (entry, Fields.of(articles[digest])) for digest, entry in wanted.items() if digest in articles}
