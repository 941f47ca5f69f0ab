"""Plain values for the stores: msgpack behind a checksum, and articles and entries as plain values.

Nothing a store reads back can run code: msgpack gives only nil, booleans, numbers, strings, bytes,
arrays and maps (no extension types are accepted), and the objects feedpub keeps (`Article`,
`Entry`, ...) are made from those values here, with their types checked. Every blob starts with a
digest of the rest, so bytes flipped on disk are found before the blob is used: `sealed` and
`opened`. Anything wrong (the digest, the shape, a type) raises `Corrupt`, and the caller drops
what it read and makes it again from the article files.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack

from ..reading.article import Article, Entry, Extras, Image, Picture, Provider, Related
from ..reading.article_file import ParsedFile

DIGEST_BYTES = 16
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

_NO_EXTRAS = Extras()

# One parsed file as the parse cache keeps it: a tag, then its values.
_ARTICLE, _REASON, _NOTHING = 1, 2, 3
ARTICLE = _ARTICLE  # what begins a good file's stored outcome (render/fast_items.py reads one)


class Corrupt(ValueError):
    """A stored value that is not what feedpub wrote: a wrong digest, shape or type."""


def digest(data: bytes | memoryview, context: str = "") -> bytes:
    """A digest of a blob and of what it is filed under (a row's path or key), so a blob found under
    another row's name (copied, or a row written half over another) does not pass either."""
    made = hashlib.sha256(context.encode("utf-8", "surrogateescape") + b"\0")
    made.update(data)
    return made.digest()[:DIGEST_BYTES]


def pack(value: object) -> bytes:
    # surrogatepass: a file name that is not UTF-8 is kept as the surrogate-escaped str Python gives
    # it (`os.fsdecode`), and comes back as that str. One packer per thread: making one per call
    # (`msgpack.packb`) was a fifth of packing an article (a worker packs three blobs a file), and a
    # packer's buffer must not be shared by threads. It empties its buffer after an error too.
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogatepass")
    return packer.pack(value)


_packers = threading.local()


def unpack(data: bytes | memoryview) -> Any:
    """msgpack's plain values only (arrays as tuples); no extension type, no timestamp."""
    try:
        return msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=True, ext_hook=_no_extensions,
                               timestamp=0, unicode_errors="surrogatepass")
    except Corrupt:
        raise
    except Exception as error:  # msgpack's own errors, and ValueError for bad UTF-8 or trailing bytes
        raise Corrupt(f"not a stored value ({type(error).__name__})") from None


def _no_extensions(code: int, data: bytes) -> object:
    raise Corrupt(f"an extension type ({code}) where only plain values are stored")


def sealed(value: object, context: str) -> bytes:
    """`value` packed, after a digest of the packed bytes and of `context`, what it is filed under."""
    return seal(pack(value), context)


def seal(body: bytes, context: str) -> bytes:
    """`sealed` for a value already packed."""
    return digest(body, context) + body


def opened(blob: object, context: str) -> Any:
    """The value `sealed` packed under this `context`, once its digest matches."""
    if not isinstance(blob, bytes) or len(blob) < DIGEST_BYTES:
        raise Corrupt("too short to be a stored value")
    view = memoryview(blob)
    if digest(view[DIGEST_BYTES:], context) != view[:DIGEST_BYTES]:
        raise Corrupt("its digest does not match its bytes")
    return unpack(view[DIGEST_BYTES:])


# -- datetimes ----------------------------------------------------------------------------------

def micros(moment: datetime) -> int:
    """An aware datetime as microseconds since 1970 (UTC): what every stored date is."""
    return (moment - EPOCH) // MICROSECOND


def moment(value: object) -> datetime:
    """`micros` undone: the same aware UTC datetime (and so the same repr and digest)."""
    try:
        return EPOCH + MICROSECOND * _int(value)
    except OverflowError:
        raise Corrupt("a date out of range") from None


# -- articles -----------------------------------------------------------------------------------

def article_values(article: Article) -> tuple[object, ...]:
    image = article.image
    return (
        article.url, article.title, article.summary, micros(article.published), article.provider.name,
        article.provider.domain, article.topics,
        None if image is None else (image.url, image.width, image.height),
        tuple((r.title, r.url, r.provider, None if r.published is None else micros(r.published))
              for r in article.related),
        article.category, article.kind, article.quality, article.heat, article.draft, article.source,
        _extras_values(article.extras),
    )


def _optional_micros(moment: datetime | None) -> int | None:
    return None if moment is None else micros(moment)


def _pictures_values(pictures: tuple[Picture, ...] | None) -> tuple[object, ...] | None:
    if pictures is None:
        return None
    return tuple((p.url, p.width, p.height, p.title, p.attribution, p.cached) for p in pictures)


def _extras_values(extras: Extras) -> tuple[object, ...] | None:
    if extras == _NO_EXTRAS:
        return None  # nearly every article outside the JSON API: one nil
    return (extras.web_url, extras.original_url, extras.source_url, extras.amp_url, extras.cdn_amp_url,
            extras.featured, extras.highlight, extras.tags, _pictures_values(extras.images),
            _optional_micros(extras.updated), _pictures_values(extras.provider_images), extras.publishers,
            extras.authors)


def _pictures_from(values: object) -> tuple[Picture, ...] | None:
    if values is None:
        return None
    pictures = []
    for item in _tuple(values):
        url, width, height, title, attribution, cached = _tuple(item)
        pictures.append(Picture(_str(url), _optional_int(width), _optional_int(height), _optional_str(title),
                                _optional_str(attribution), None if cached is None else _bool(cached)))
    return tuple(pictures)


def _extras_from(values: object) -> Extras:
    if values is None:
        return _NO_EXTRAS
    (web_url, original_url, source_url, amp_url, cdn_amp_url, featured, highlight, tags, images, updated,
     provider_images, publishers, authors) = _tuple(values)
    return Extras(
        web_url=_optional_str(web_url), original_url=_optional_str(original_url), source_url=_optional_str(source_url),
        amp_url=_optional_str(amp_url), cdn_amp_url=_optional_str(cdn_amp_url), featured=_optional_str(featured),
        highlight=_optional_str(highlight), tags=None if tags is None else _strings(tags), images=_pictures_from(images),
        updated=None if updated is None else moment(updated), provider_images=_pictures_from(provider_images),
        publishers=None if publishers is None else _strings(publishers),
        authors=None if authors is None else _strings(authors),
    )


def article_from(values: object) -> Article:
    try:
        (url, title, summary, published, name, domain, topics, image, related, category, kind, quality, heat,
         draft, source, extras) = _tuple(values)
        picture = None
        if image is not None:
            image_url, width, height = _tuple(image)
            picture = Image(_str(image_url), _optional_int(width), _optional_int(height))
        links = []
        for item in _tuple(related):
            r_title, r_url, r_provider, r_published = _tuple(item)
            links.append(Related(_str(r_title), _str(r_url), _str(r_provider),
                                 None if r_published is None else moment(r_published)))
        return Article(
            url=_str(url), title=_str(title), summary=_str(summary), published=moment(published),
            provider=Provider(_str(name), _str(domain)), topics=_strings(topics), image=picture,
            related=tuple(links), category=_str(category), kind=_str(kind), quality=_optional_float(quality),
            heat=_optional_float(heat), draft=_bool(draft), source=_str(source), extras=_extras_from(extras),
        )
    except (TypeError, ValueError) as error:  # a wrong count of values, or a wrong type
        raise Corrupt(f"not an article: {error}") from None


def outcome_values(outcome: ParsedFile | str | None) -> tuple[object, ...]:
    """A file's outcome (its article and warnings, the reason it is bad, or none) as plain values."""
    if isinstance(outcome, ParsedFile):
        return (_ARTICLE, article_values(outcome.article), outcome.warnings)
    if isinstance(outcome, str):
        return (_REASON, outcome)
    return (_NOTHING,)


def packed_outcome(article: bytes, warnings: tuple[str, ...]) -> bytes:
    """`pack(outcome_values(ParsedFile(a, warnings)))` from `article`, `pack(article_values(a))`: msgpack
    writes a tuple as a header and then each value packed, so values packed for the article's
    digest are used again, not built and packed a second time (~4 µs of a file's ~95)."""
    return _THREE + pack(_ARTICLE) + article + pack(warnings)


_THREE = pack((None, None, None))[:1]  # the header of a tuple of three


def outcome_from(values: object) -> ParsedFile | str | None:
    values = _tuple(values)
    if values and values[0] == _ARTICLE and len(values) == 3:
        return ParsedFile(article_from(values[1]), _strings(values[2]))
    if values and values[0] == _REASON and len(values) == 2:
        return _str(values[1])
    if values == (_NOTHING,):
        return None
    raise Corrupt("not the outcome of a file")


# -- entries ------------------------------------------------------------------------------------

# An entry as plain values (its file is known from where it is kept): url, published (µs since
# 1970), provider name and domain, topics, draft, digest, warnings.
EntryRow = tuple[str, int, str, str, tuple[str, ...], bool, str, tuple[str, ...]]
# One object per distinct provider and topic list, shared by every entry that has it.
SharedValues = tuple[dict[tuple[str, str], Provider], dict[tuple[str, ...], tuple[str, ...]]]


def entry_row(entry: Entry) -> EntryRow:
    return (entry.url, micros(entry.published), entry.provider.name, entry.provider.domain, entry.topics,
            entry.draft, entry.digest, entry.warnings)


def entry_row_of(values: tuple[Any, ...], digest: str, warnings: tuple[str, ...]) -> EntryRow:
    """`entry_row(Entry.of(article, warnings))` from `article_values(article)` and its digest: for an
    article built as values (`reading.fast_article`), never made into objects in the worker."""
    return (values[0], values[3], values[4], values[5], values[6], values[13], digest, warnings)


def entry_from_row(row: object, source: str, shared: SharedValues) -> Entry:
    """The entry back from `entry_row`; `shared` maps equal providers and topic lists to one object
    each, so 100,000 entries hold a few hundred of them."""
    try:
        url, published, name, domain, topics, draft, key, warnings = _tuple(row)
        return shared_entry(_str(url), moment(published), _str(name), _str(domain), _strings(topics), _bool(draft),
                            _str(key), source, _strings(warnings), shared)
    except (TypeError, ValueError) as error:
        raise Corrupt(f"not an entry: {error}") from None


def entry_from_fresh(blob: bytes, source: str, shared: SharedValues) -> Entry:
    """`entry_from_row(opened(blob, ...), ...)` for an entry blob a worker of this process made a
    moment ago (`pack_entry_row`) and sent through its pipe: no disk lay between, so its digest is
    not checked nor its values' types, which `entry_from_row` checks for a store's rows (~6 µs of the
    parent's ~25 µs a file in a cold load, spent while both cores parse)."""
    url, published, name, domain, topics, draft, key, warnings = unpack(memoryview(blob)[DIGEST_BYTES:])
    return shared_entry(url, EPOCH + MICROSECOND * published, name, domain, topics, draft, key, source, warnings,
                        shared)


def shared_entry(url: str, published: datetime, name: str, domain: str, topics: tuple[str, ...], draft: bool,
                 digest: str, source: str, warnings: tuple[str, ...], shared: SharedValues) -> Entry:
    """An entry whose provider and topic list are the objects `shared` holds for them (added when new)."""
    providers, topic_lists = shared
    pair = (name, domain)
    provider = providers.get(pair)
    if provider is None:
        provider = providers[pair] = Provider(name, domain)
    return Entry(url, published, provider, topic_lists.setdefault(topics, topics), draft, digest, source, warnings)


# -- type checks: a value of the wrong type is a corrupt store, never a crash later -----------------

def _tuple(value: object) -> tuple[Any, ...]:
    if type(value) is not tuple:
        raise Corrupt(f"an array expected, not {type(value).__name__}")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise Corrupt(f"a string expected, not {type(value).__name__}")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise Corrupt(f"an integer expected, not {type(value).__name__}")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise Corrupt(f"a boolean expected, not {type(value).__name__}")
    return value


def _optional_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _optional_float(value: object) -> float | None:
    if value is None:
        return None
    if type(value) is not float:
        raise Corrupt(f"a number expected, not {type(value).__name__}")
    return value


def _strings(value: object) -> tuple[str, ...]:
    items = _tuple(value)
    for item in items:
        _str(item)
    return items
