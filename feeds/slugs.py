"""Topic slugs: readable, unicode kept, safe in a path, unique, and stable across builds.

Subscribers keep feed URLs for years, so a slug depends only on the topic's name and on the
names it collides with, never on reading order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from slugify import slugify

MAX_SLUG = 80
# Without these, "C++", "C#" and "C" would all be "c".
_REPLACEMENTS = [["++", " plus plus "], ["+", " plus "], ["#", " sharp "], ["&", " and "], ["@", " at "]]


def base_slug(name: str) -> str:
    slug = slugify(name, allow_unicode=True, max_length=MAX_SLUG, word_boundary=True, replacements=_REPLACEMENTS)
    # A name of only symbols or emoji leaves nothing readable; its hash still names it stably.
    return slug or "topic-" + _digest(name)


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map every name to a unique slug.

    Names sharing a slug ("AI", "ai", "A.I" → "ai") are told apart: the one that spells the
    slug most plainly (lowercased it *is* the slug; then plain sort order) keeps it, the others
    get a suffix hashed from their own name, so a new, less plain spelling renames nobody else.
    (Only a plainer spelling arriving later takes the plain slug over: no persisted state.)
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for name in set(names):
        groups[base_slug(name)].append(name)
    result: dict[str, str] = {}
    taken = set(groups)
    for slug, members in groups.items():
        members.sort(key=lambda n: (n.casefold() != slug, n))
        result[members[0]] = slug
        for name in members[1:]:
            length = 6
            candidate = f"{slug}-{_digest(name, length)}"
            while candidate in taken:  # a 1-in-16-million accident; lengthen rather than guess
                length += 2
                candidate = f"{slug}-{_digest(name, length)}"
            taken.add(candidate)
            result[name] = candidate
    return result


def _digest(name: str, length: int = 6) -> str:
    return hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]
