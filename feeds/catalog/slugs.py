"""Topic slugs: readable, unicode kept, safe in a path, unique, and stable across builds.

Subscribers keep feed URLs for years, so a slug depends only on the topic's name and on the
names it collides with, never on reading order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from slugify import slugify

MAX_SLUG = 80
# Without these, "C++", "C#" and "C" would all be "c".
_REPLACEMENTS = [["++", " plus plus "], ["+", " plus "], ["#", " sharp "], ["&", " and "], ["@", " at "]]


def base_slug(name: str) -> str:
    slug = slugify(name, allow_unicode=True, max_length=MAX_SLUG, word_boundary=True, replacements=_REPLACEMENTS)
    # A name of only symbols or emoji leaves nothing readable; its hash still names it stably.
    return slug or "topic-" + _digest(name)


def assign_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map every name to a unique slug (see `Slugs`)."""
    slugs = Slugs()
    slugs.update(set(names))
    return slugs.mapping()


class Slugs:
    """Every topic's slug, kept current as topics come and go.

    Names sharing a slug ("AI", "ai", "A.I" → "ai") are told apart: the one that spells the
    slug most plainly (lowercased it *is* the slug; then plain sort order) keeps it, the others
    get a suffix hashed from their own name, so a new, less plain spelling renames nobody else.
    (Only a plainer spelling arriving later takes the plain slug over: no persisted state.)

    A change recomputes only the slugs of the names that share a base slug with a name that came
    or went; `slugify` runs once per name. The result is always what assigning every name afresh
    gives: when suffixes collide (a 1-in-16-million accident, see `_assign`), it does exactly that.
    """

    def __init__(self) -> None:
        self._base: dict[str, str] = {}  # name → base slug
        self._members: dict[str, list[str]] = {}  # base slug → its names, plainest first
        self._slug: dict[str, str] = {}  # name → slug
        self._suffixed: set[str] = set()  # the slugs that carry a suffix
        self._lengthened = False  # some suffix had to grow past 6 characters to stay unique

    def __getitem__(self, name: str) -> str:
        return self._slug[name]

    def mapping(self) -> dict[str, str]:
        return dict(self._slug)

    def update(self, names: set[str]) -> set[str]:
        """Make the slugs exactly those of `names`; return the names whose slug is new, gone or changed."""
        added = names - self._base.keys()
        removed = self._base.keys() - names
        if not added and not removed:
            return set()
        touched: set[str] = set()
        for name in removed:
            base = self._base.pop(name)
            self._members[base].remove(name)
            touched.add(base)
        for name in added:
            base = self._base[name] = base_slug(name)
            self._members.setdefault(base, []).append(name)
            touched.add(base)
        for base in touched:
            members = self._members[base]
            if members:
                members.sort(key=_plainest_first(base))
            else:
                del self._members[base]
        before = self._slug
        # Suffixes that grew, or one that equals a base slug now present, depend on the order of
        # assignment: only assigning every name afresh then gives the slugs a fresh build gives.
        if self._lengthened:
            slugs = self._assign_all()
        else:
            slugs = self._assign(touched, dict(before))
            if self._lengthened or not self._suffixed.isdisjoint(self._members):
                slugs = self._assign_all()
        self._slug = slugs
        return {name for name in before.keys() | slugs.keys() if before.get(name) != slugs.get(name)}

    def _assign_all(self) -> dict[str, str]:
        self._suffixed = set()
        return self._assign(set(self._members), {})

    def _assign(self, bases: set[str], slugs: dict[str, str]) -> dict[str, str]:
        """`slugs` with the names under `bases` assigned again (and names that are gone dropped)."""
        for name in [n for n in slugs if n not in self._base or self._base[n] in bases]:
            self._suffixed.discard(slugs.pop(name))
        self._lengthened = False
        taken = set(self._members) | self._suffixed
        for base in sorted(bases):
            members = self._members.get(base)
            if not members:
                continue
            slugs[members[0]] = base
            for name in members[1:]:
                length = 6
                candidate = f"{base}-{_digest(name, length)}"
                while candidate in taken:  # a 1-in-16-million accident; lengthen rather than guess
                    length += 2
                    candidate = f"{base}-{_digest(name, length)}"
                    self._lengthened = True
                taken.add(candidate)
                self._suffixed.add(candidate)
                slugs[name] = candidate
        return slugs


def _plainest_first(base: str) -> Callable[[str], tuple[bool, str]]:
    """Sort key: the name that, lowercased, is the slug itself first; then plain sort order."""
    return lambda name: (name.casefold() != base, name)


def _digest(name: str, length: int = 6) -> str:
    return hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:length]
