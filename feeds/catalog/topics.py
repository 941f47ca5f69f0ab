"""Topics as people mean them: spellings that differ only in case or spacing are one topic.

"Machine Learning", "machine  learning" and "Machine\u00a0learning" are one topic, and so are "Women’s
health" and "Women's health": a topic's *key* is its name with typographic variants made plain
(NFKC, curly quotes and dashes), runs of spaces made one and case folded. Punctuation is meaningful
("C", "C++" and "C#" stay three topics); `topic_aliases` in feedpub.yaml merges the rest
(`A.I.: AI`). A topic is named by its most common spelling (ties go to the first in code point
order), and its slug is made from its key, so it does not move when another spelling becomes the
most common one.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from collections.abc import Mapping

# Typographic variants a writer does not mean as different: quotes, apostrophes, hyphens and dashes.
_PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
})


@functools.lru_cache(maxsize=65536)
def topic_key(name: str) -> str:
    """The key spellings of one topic share: plain punctuation, single spaces, case folded."""
    text = unicodedata.normalize("NFKC", name).translate(_PLAIN)
    return " ".join(text.split()).casefold()


class Topics:
    """The spellings seen of each topic, kept current as articles come and go, and its name.

    `aliases` maps a spelling (by its key) to the spelling it stands for: "A.I." counts as "AI".
    """

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self._aliases = {topic_key(alias): target for alias, target in (aliases or {}).items()}
        self._spellings: dict[str, Counter[str]] = {}  # key → spelling → articles using it
        self._names: dict[str, str] = {}  # key → its name: the most common spelling

    def spelling(self, name: str) -> str:
        """The spelling an article's topic counts as (its alias's target, or itself)."""
        return self._aliases.get(topic_key(name), name)

    def key(self, name: str) -> str:
        return topic_key(self.spelling(name))

    def name(self, key: str) -> str | None:
        return self._names.get(key)

    def names(self) -> Mapping[str, str]:
        """Every topic's key → its name."""
        return self._names

    def count(self, names: tuple[str, ...], delta: int) -> dict[str, tuple[str | None, str | None]]:
        """Count one article's topics in (+1) or out (-1); return the keys whose name changed,
        each with its name before and after (None: the topic was not there, or is gone)."""
        changed: dict[str, tuple[str | None, str | None]] = {}
        aliases, spellings = self._aliases, self._spellings
        # Without aliases each name is its own spelling; `setdefault(key, Counter())` made a Counter for
        # every topic of every article (a tenth of a first load's catalog).
        for spelling in dict.fromkeys(aliases.get(topic_key(name), name) for name in names) if aliases else \
                dict.fromkeys(names):
            key = topic_key(spelling)
            counts = spellings.get(key)
            if counts is None:
                counts = spellings[key] = Counter()
            counts[spelling] += delta
            if counts[spelling] <= 0:
                del counts[spelling]
            before = self._names.get(key)
            if delta > 0 and spelling == before:
                continue  # the most common spelling, counted once more, stays the most common
            after: str | None
            if counts:
                name = min(counts.items(), key=lambda pair: (-pair[1], pair[0]))[0]
                self._names[key] = after = name
            else:
                after = None
                del self._spellings[key]
                self._names.pop(key, None)
            if before != after:
                changed[key] = (before, after)
        return changed
