"""The article model: one published (or draft) news article, normalised and safe to render.

Everything here is already clean (see `text.py`): renderers never re-check a value.
The `secured` blob of the input has no field here on purpose: it never leaves the parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Compact:
    """Pickled as the class and its field values: several times faster to load from the parse
    cache than the generic state dict frozen, slotted dataclasses get by default."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (self.__class__, tuple(getattr(self, name) for name in self.__slots__))


@dataclass(frozen=True, slots=True)
class Image(Compact):
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Provider(Compact):
    name: str
    domain: str  # normalised: the per-provider feed key


@dataclass(frozen=True, slots=True)
class Related(Compact):
    title: str
    url: str
    provider: str  # display name; empty when unknown
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class Article(Compact):
    url: str  # canonical: webUrl, else originalUrl; also the item id readers de-duplicate on
    title: str
    summary: str
    published: datetime  # aware, UTC
    provider: Provider
    topics: tuple[str, ...] = ()
    image: Image | None = None
    related: tuple[Related, ...] = ()
    category: str = ""
    kind: str = ""  # the input's `type`
    quality: float | None = None
    heat: float | None = None
    draft: bool = False
    source: str = field(default="", compare=False)  # the file it came from, for reports

    @property
    def sort_key(self) -> tuple[float, str]:
        """Newest first; ties broken by URL so the order never depends on reading order."""
        return (-self.published.timestamp(), self.url)
