"""The article model: one published (or draft) news article, normalised and safe to render.

Everything here is already clean (see `text.py`): renderers never re-check a value.
The `secured` blob of the input has no field here on purpose: it never leaves the parser.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Compact:
    """Pickled as the class and its field values: several times faster to load from the parse
    cache than the generic state dict frozen, slotted dataclasses get by default."""

    __slots__: tuple[str, ...] = ()

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
class Picture(Compact):
    """An image as the JSON API lists it (`Image` is the one a feed item shows)."""

    url: str
    width: int | None = None
    height: int | None = None
    title: str | None = None
    attribution: str | None = None
    cached: bool | None = None  # the input's `isCached`


@dataclass(frozen=True, slots=True)
class Extras(Compact):
    """What only the seed site's JSON API shows (`everyday_api`), clean; None where the file lacks it."""

    web_url: str | None = None
    original_url: str | None = None
    source_url: str | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    featured: str | None = None  # the https URL of an embed, never its HTML
    highlight: str | None = None
    tags: tuple[str, ...] | None = None
    images: tuple[Picture, ...] | None = None
    updated: datetime | None = None
    provider_images: tuple[Picture, ...] | None = None
    publishers: tuple[str, ...] | None = None
    authors: tuple[str, ...] | None = None


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
    extras: Extras = Extras()

    @property
    def sort_key(self) -> tuple[float, str]:
        """Newest first; ties broken by URL so the order never depends on reading order."""
        return (-self.published.timestamp(), self.url)


def article_digest(article: Article) -> str:
    """Digest of every field of the article: of its plain values as the parse cache packs them
    (`stores.packing.article_values`, which give back an equal article), a third of the cost of
    its dataclass repr."""
    from ..stores.packing import article_values, pack  # packing builds articles: it imports this module

    return digest_of_packed(pack(article_values(article)))


def digest_of_packed(packed: bytes) -> str:
    """`article_digest` from the article's values already packed (a worker packs them once, for its
    digest and for the outcome it sends: `stores.packing.packed_outcome`)."""
    return hashlib.blake2b(packed, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True, eq=False)
class Entry(Compact):
    """What the library and the catalog keep of an article: where it goes, not what it says.

    Holding 100,000 full articles costs ~2.8 KB each; an entry is a fraction of that. The full
    `Article` is fetched (`Library.articles_for`) only when an item has to be rendered, which happens
    once per article per format. Entries are equal when their articles are: the digest covers
    every field, and it is also the key of the article's rendered fragments.
    """

    url: str
    published: datetime
    provider: Provider
    topics: tuple[str, ...]
    draft: bool
    digest: str
    source: str
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, article: Article, warnings: tuple[str, ...] = (), *, digest: str | None = None) -> Entry:
        """The entry of `article`; `digest`, when given, is its `article_digest`, already taken."""
        return cls(article.url, article.published, article.provider, article.topics, article.draft,
                   article_digest(article) if digest is None else digest, article.source, warnings)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and self.digest == other.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    @property
    def sort_key(self) -> tuple[float, str]:
        return (-self.published.timestamp(), self.url)
