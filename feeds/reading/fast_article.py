"""The usual article built in C (`_articles.c`): front matter to the values the parse cache stores.

A worker of a cold build reads ~100,000 files, and for most of them turning the front matter into
an article (`article_file._article_from`: a dozen texts cleaned, URLs, dates, related links) and
then into the stored values (`stores.packing.article_values`) was half of its time, in Python
that only checks each value is already clean. The C builder does those checks and builds the
values directly, for a file whose every value is on its field's fast path; for any other file it
gives None and the Python path reads it, so every reason, warning and cleaning rule is written once,
in Python. `tests/reading/test_fast_article.py` proves the two give equal values and warnings.

Built by setup.py where a C compiler is; without it, or with accelerators off
(`FEEDPUB_ACCELERATORS=0`), `build` always gives None.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from .. import accelerators
from ..catalog.topics import topic_key
from .text import NAME_LIMIT, SUMMARY_LIMIT, TITLE_LIMIT

# Without it, the Python path alone; a build left from another checkout could lay its values out otherwise.
_articles, STALE_BUILD = accelerators.compiled(f"{__package__}._articles", 1)
BUILT = _articles is not None  # compiled, for this version (`feedpub --version` says)
_configured = False

Built = tuple[tuple[Any, ...], tuple[str, ...]]  # `article_values` of the article, and its warnings


def available() -> bool:
    """Whether `build` may build anything now: compiled, and accelerators not switched off."""
    return _articles is not None and accelerators.enabled()


def build(front: dict[str, Any], source: str) -> Built | None:
    """`(article_values(a), warnings)` for the article `_article_from(front, source, extras=False)`
    gives, when the file is the usual kind; None for any other (the Python path then reads it)."""
    if not available():
        return None
    global _configured
    if not _configured:  # here, not at import: article_file, which holds two of the limits, imports this
        from .article_file import MAX_RELATED, MAX_TOPICS

        _articles.configure(TITLE_LIMIT, SUMMARY_LIMIT, NAME_LIMIT, MAX_TOPICS, MAX_RELATED, topic_key,
                            functools.partial(unicodedata.is_normalized, "NFC"))
        _configured = True
    try:
        made: Built | None = _articles.build(front, source)
    except Exception:  # MemoryError, say: the Python path decides, and raises what it raises
        return None
    return made
