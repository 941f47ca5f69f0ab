"""A build's state saved beside the caches, so the next start takes up where the last one left off.

The saved state holds what a `Build` knows (each file's entry and stamp, the catalog, the rendered
feeds and the site), under the key of the settings and code that shaped it (`StoreKeys.state`).
A start with an equal key restores it and reads again only the files whose stamp differs from the
folder's now (`Build.resume`); any other start loads the folder. So a saved state is never served
as it was: at worst it saves no work.

The file holds plain values only, in an explicit, versioned layout (`_encode`, `_decode`): reading
it can run no code. Objects shared in memory are written once and named by their place in a table
(files, providers, topic lists, entries, archive documents, outputs), so the state read back shares
them as the one written did:

    MAGIC  version (1 byte)  key (64 ASCII)  header length (8, little-endian)  header digest (32)
    header: msgpack of the tables and the state, naming each held output's body by its length
    the bodies, one after another               digest of the bodies (32)

The header's digest is SHA-256 (of everything before it too); the bodies', which are six times more
bytes and are read on every start, a CRC-32 (as 4 bytes and 28 zeros): flipped bytes and a cut file
are what it must find, and a forger who can write the cache folder is refused before (see
`databases.private_folder`). The header is checked before it is unpacked, the bodies as they are
read, and nothing is used before both match: a file cut short, with flipped bytes, from another
version or made by anything else gives None (and one warning), and the start loads the folder instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zlib
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..memory import collector_paused
from .databases import log, warn_corrupt
from .packing import EPOCH, MICROSECOND, Corrupt, article_from, article_values, micros, pack, unpack

if TYPE_CHECKING:
    from ..catalog.catalog import Catalog
    from ..render.site import BuilderState, Output

MAGIC = b"feedpub state\n"
_VERSION = 3
_KEY_BYTES = 64  # a hex SHA-256 (`StoreKeys.state`)
_PREFIX = len(MAGIC) + 1 + _KEY_BYTES + 8
_HEADER_LIMIT = 1 << 32  # a length past this is damage, not a header


@dataclass(frozen=True, slots=True)
class SavedState:
    key: str  # `StoreKeys.state()`: the settings and code the state was made under
    library: dict[str, object]  # `Library.state()`
    catalog: Catalog
    rendered: BuilderState  # `SiteBuilder.state()`
    site: dict[str, Output]


def read(path: Path, key: str) -> SavedState | None:
    """The state saved at `path` if it was made under the same settings and code and is intact; else None."""
    try:
        with collector_paused(), open(path, "rb") as handle:  # collecting was half the time of this
            return _read(handle, key)
    except FileNotFoundError:
        return None
    except (OSError, Corrupt, MemoryError):
        warn_corrupt(path)
        return None


def write(path: Path, state: SavedState) -> None:
    """Replace the saved state atomically (a reader sees the old file or the new one); errors are ignored."""
    try:
        header, bodies = _encode(state)
    except (TypeError, ValueError, KeyError, AttributeError) as error:  # a shape the layout does not know: see `_fields`
        log.warning("the state was not saved for the next start: %s", error)
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        try:
            with os.fdopen(fd, "wb") as handle:
                key = state.key.encode("ascii")
                assert len(key) == _KEY_BYTES, "a state key is a hex SHA-256"
                prefix = MAGIC + bytes([_VERSION]) + key + len(header).to_bytes(8, "little")
                handle.write(prefix + hashlib.sha256(prefix + header).digest() + header)
                del header
                check = 0
                # Written one by one: joining them first would hold a second copy of every body.
                for body in bodies:
                    check = zlib.crc32(body, check)
                    handle.write(body)
                handle.write(_trailer(check))
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass


def _read(handle: Any, key: str) -> SavedState | None:
    prefix = handle.read(_PREFIX)
    if len(prefix) < _PREFIX or not prefix.startswith(MAGIC):
        raise Corrupt("not a saved state")
    if prefix[len(MAGIC)] != _VERSION or prefix[len(MAGIC) + 1 : -8] != key.encode("ascii"):
        return None  # another version of feedpub, other settings or code: not damage, just not ours
    length = int.from_bytes(prefix[-8:], "little")
    if length > _HEADER_LIMIT:
        raise Corrupt("a header longer than any feedpub writes")
    expected = handle.read(32)
    header = handle.read(length)
    if len(header) != length or hashlib.sha256(prefix + header).digest() != expected:
        raise Corrupt("the header's digest does not match")
    values = unpack(header)
    del header
    try:
        lengths = [length for *_, length in values["outputs"]]
    except (TypeError, KeyError, ValueError) as error:
        raise Corrupt(f"no outputs table ({error})") from None
    check = 0
    bodies = []
    for size in lengths:
        if type(size) is not int or size < 0:
            raise Corrupt("a body of no length")
        body = handle.read(size)
        if len(body) != size:
            raise Corrupt("cut short")
        check = zlib.crc32(body, check)
        bodies.append(body)
    if handle.read(33) != _trailer(check):  # the check, and then nothing
        raise Corrupt("the bodies' digest does not match")
    try:
        return _decode(key, values, bodies)
    except Corrupt:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as error:
        raise Corrupt(f"not a saved state's values ({type(error).__name__}: {error})") from None


def _trailer(check: int) -> bytes:
    return check.to_bytes(4, "little") + bytes(28)


# -- the layout --------------------------------------------------------------------------------
# Every field of the catalog, the slugs and the library is named here: one that is added without
# being named stops the state from being saved (`_fields`), so nothing is silently left behind.

_CATALOG_FIELDS = ("limit", "archive_size", "include_drafts", "include_future", "topic_titles", "_members",
                   "_waiting", "_drafts", "_groups", "_names", "_slugs", "_specs", "_earlier", "_dirty", "_topics",
                   "records", "_came", "_went")
_CATALOG_OPTIONAL = ("_marking",)  # set by the first `apply`; the class's default before
_CATALOG_MEMOS = ("_everything", "_memo")  # made again when asked for: not saved, restored empty
_CATALOG_DERIVED = ("_titles",)  # made by the constructor from what is saved
_TOPICS_FIELDS = ("_aliases", "_spellings", "_names")
_BLOCK_FIELDS = ("entries", "heat", "quality", "titles", "descriptions", "title_starts", "description_starts")
_SLUG_FIELDS = ("_base", "_members", "_slug", "_suffixed", "_lengthened")
_LIBRARY_FIELDS = ("good", "bad", "stamps", "_held", "_by_url", "_shared", "shared")


def _fields(thing: object, names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    have = dict(thing) if isinstance(thing, dict) else vars(thing)
    unknown = have.keys() - set(names) - set(optional)
    missing = set(names) - have.keys()
    if unknown or missing:
        raise TypeError(f"{type(thing).__name__} has fields the saved state does not know: "
                        f"{sorted(unknown)} (missing: {sorted(missing)})")
    return have


class _Tables:
    """Objects written once each, named by their place: shared in memory, so shared on disk."""

    def __init__(self) -> None:
        self.files: dict[str, int] = {}
        self.providers: dict[int, int] = {}
        self.provider_rows: list[tuple[str, str]] = []
        self.topics: dict[tuple[str, ...], int] = {}
        self.entries: dict[int, int] = {}
        self.entry_list: list[Any] = []
        self.pages: dict[int, int] = {}
        self.page_rows: list[tuple[object, ...]] = []
        self.keep: list[object] = []  # what the ids above name stays alive while they are used

    def file(self, rel: str) -> int:
        index = self.files.get(rel)
        if index is None:
            index = self.files[rel] = len(self.files)
        return index

    def provider(self, provider: Any) -> int:
        index = self.providers.get(id(provider))
        if index is None:
            index = self.providers[id(provider)] = len(self.provider_rows)
            self.provider_rows.append((provider.name, provider.domain))
            self.keep.append(provider)
        return index

    def topic_list(self, topics: tuple[str, ...]) -> int:
        index = self.topics.get(topics)
        if index is None:
            index = self.topics[topics] = len(self.topics)
        return index

    def entry(self, entry: Any) -> int:
        index = self.entries.get(id(entry))
        if index is None:
            index = self.entries[id(entry)] = len(self.entry_list)
            self.entry_list.append(entry)
        return index

    def items(self, entries: tuple[Any, ...]) -> tuple[int, ...]:
        return tuple(map(self.entry, entries))

    def page(self, page: Any) -> int:
        index = self.pages.get(id(page))
        if index is None:
            index = self.pages[id(page)] = len(self.page_rows)
            self.page_rows.append((page.name, page.start, page.end, self.items(page.items)))
            self.keep.append(page)
        return index

    def spec(self, spec: Any) -> tuple[object, ...]:
        return (spec.kind, spec.key, spec.name, self.items(spec.items), spec.total,
                tuple(self.page(page) for page in spec.archives))

    def entry_columns(self) -> tuple[tuple[object, ...], ...]:
        """Every entry, a column per field (decoded a column at a time, in C, see `_decode`)."""
        entries = self.entry_list
        return (tuple(entry.url for entry in entries), tuple(micros(entry.published) for entry in entries),
                tuple(self.provider(entry.provider) for entry in entries),
                tuple(self.topic_list(entry.topics) for entry in entries), tuple(entry.draft for entry in entries),
                tuple(entry.digest for entry in entries), tuple(self.file(entry.source) for entry in entries),
                tuple(entry.warnings for entry in entries))


def _encode(state: SavedState) -> tuple[bytes, list[bytes]]:
    tables = _Tables()
    library = _fields(state.library, _LIBRARY_FIELDS)
    providers, topic_lists = library["shared"]
    shared = (tuple(tables.provider(provider) for provider in providers.values()),
              tuple(tables.topic_list(topics) for topics in topic_lists))
    good = library["good"]
    by_url = library["_by_url"]
    for url, rel in by_url.items():
        if good[rel].url != url:
            raise TypeError("a url claimed by a file whose entry has another")
    file, entry = tables.file, tables.entry
    encoded_library = {
        "good": (tuple(map(file, good)), tuple(map(entry, good.values()))),
        "bad": (tuple(map(file, library["bad"])), tuple(library["bad"].values())),
        "stamps": (tuple(map(file, library["stamps"])), tuple(library["stamps"].values())),
        "held": tuple((file(rel), article_values(article)) for rel, article in library["_held"].items()),
        # A url is claimed by files whose entry has that url: the url itself is the entry's.
        "by_url": (tuple(map(file, by_url.values())), tuple(entry(good[rel]) for rel in by_url.values())),
        "shared": tuple((tuple(map(file, sorted(rels))), entry(good[min(rels)])) for rels in library["_shared"].values()),
        "shared_values": shared,
    }

    catalog = _fields(state.catalog, _CATALOG_FIELDS, _CATALOG_OPTIONAL + _CATALOG_MEMOS + _CATALOG_DERIVED)
    slugs = _fields(catalog["_slugs"], _SLUG_FIELDS)
    topics = _fields(catalog["_topics"], _TOPICS_FIELDS)
    records = catalog["records"]
    if records is not None:
        _fields(records, ("blocks",))
        for block in records.blocks:
            if {field.name for field in dataclass_fields(block)} != set(_BLOCK_FIELDS):
                raise TypeError("a records block has fields the saved state does not know")
    members = catalog["_members"]
    for url, member in members.items():
        if member.url != url:
            raise TypeError("a catalog member filed under another url")

    def group_members(keys: list[tuple[float, str]]) -> tuple[int, ...]:
        return tuple(entry(members[url]) for _, url in keys)

    encoded_catalog = {
        "options": (catalog["limit"], catalog["archive_size"], catalog["include_drafts"], catalog["include_future"],
                    tuple(catalog["topic_titles"].items())),
        "members": tuple(map(entry, members.values())),
        # Each member's sort key's date, as `Entry.sort_key` gave it: reading a float beats making it.
        "member_dates": tuple(-member.published.timestamp() for member in members.values()),
        "waiting": tuple(map(entry, catalog["_waiting"].values())),
        "drafts": tuple(sorted(catalog["_drafts"])),
        "groups": tuple((group, group_members(keys)) for group, keys in catalog["_groups"].items()),
        "names": tuple((domain, tuple(names.items())) for domain, names in catalog["_names"].items()),
        "slugs": (tuple(slugs["_base"].items()), tuple((base, tuple(names)) for base, names in slugs["_members"].items()),
                  tuple(slugs["_slug"].items()), tuple(sorted(slugs["_suffixed"])), slugs["_lengthened"]),
        "specs": tuple((group, tables.spec(spec)) for group, spec in catalog["_specs"].items()),
        "earlier": tuple((group, tables.spec(spec)) for group, spec in catalog["_earlier"].items()),
        "dirty": tuple((group, tuple(sorted(dates))) for group, dates in catalog["_dirty"].items()),
        "marking": catalog.get("_marking", False),
        "topics": (tuple(topics["_aliases"].items()),
                   tuple((key, tuple(counts.items())) for key, counts in topics["_spellings"].items()),
                   tuple(topics["_names"].items())),
        # The filter fields (a live server's): each block's arrays as bytes, its text as compressed.
        "records": None if records is None else tuple(
            (tuple(map(entry, block.entries)), block.heat.tobytes(), block.quality.tobytes(), block.titles,
             block.descriptions, block.title_starts.tobytes(), block.description_starts.tobytes())
            for block in records.blocks),
        "came": tuple(map(entry, catalog["_came"].values())),
        "went": tuple(map(entry, catalog["_went"].values())),
    }

    rows: list[tuple[object, ...]] = []
    bodies: list[bytes] = []
    for path, output in state.site.items():
        rows.append((path, output.media_type, output.etag, micros(output.last_modified), len(output.body)))
        bodies.append(output.body)
    rendered, latest = state.rendered
    encoded_rendered = []
    for group, made in rendered.items():
        kind, key, name, items, first = made.signature
        for path, document in made.outputs.items():
            if state.site.get(path) is not document:
                raise TypeError(f"a rendered feed's output {path} is not the site's")
        encoded_rendered.append((group, (kind, key, name, tables.items(items), first), tuple(made.outputs)))

    entries = tables.entry_columns()  # last: every table above may add entries, and entries files
    header = pack({
        "files": tuple(tables.files),
        "providers": tuple(tables.provider_rows),
        "topics": tuple(tables.topics),
        "entries": entries,
        "pages": tuple(tables.page_rows),
        "library": encoded_library,
        "catalog": encoded_catalog,
        "outputs": tuple(rows),
        "rendered": tuple(encoded_rendered),
        "latest": tuple(latest.items()),
    })
    return header, bodies


def _decode(key: str, values: dict[str, Any], bodies: list[bytes]) -> SavedState:
    from ..catalog.catalog import ArchiveSpec, Catalog, FeedSpec
    from ..catalog.records import Block, Records
    from ..catalog.slugs import Slugs
    from ..reading.article import Entry, Provider
    from ..render.site import Output, _Rendered

    # Columns are turned into objects with map and zip, in C: a Python loop per entry and field
    # would double the time of a restart at 100,000 articles.
    files = _typed(values["files"], tuple)
    if not all(type(rel) is str for rel in files):
        raise Corrupt("a file name that is not text")
    file = files.__getitem__
    providers = [Provider(_typed(name, str), _typed(domain, str)) for name, domain in values["providers"]]
    topic_lists = [_typed(topics, tuple) for topics in values["topics"]]
    urls, published, provider_of, topics_of, drafts, digests, sources, warnings = values["entries"]
    when = map(EPOCH.__add__, map(MICROSECOND.__mul__, published))
    entries = list(map(Entry, urls, when, map(providers.__getitem__, provider_of),
                       map(topic_lists.__getitem__, topics_of), drafts, digests, map(file, sources), warnings))
    entry = entries.__getitem__
    url_of = attrgetter("url")
    if not all(type(url) is str for url in urls) or not all(type(draft) is bool for draft in drafts):
        raise Corrupt("an entry's url or draft flag of another type")
    pages = [ArchiveSpec(name, start, end, tuple(map(entry, items))) for name, start, end, items in values["pages"]]

    encoded = values["library"]
    good = dict(zip(map(file, encoded["good"][0]), map(entry, encoded["good"][1]), strict=True))
    shared_providers, shared_topics = encoded["shared_values"]
    library: dict[str, object] = {
        "good": good,
        "bad": dict(zip(map(file, encoded["bad"][0]), encoded["bad"][1], strict=True)),
        "stamps": dict(zip(map(file, encoded["stamps"][0]), encoded["stamps"][1], strict=True)),
        "_held": {file(rel): article_from(article) for rel, article in encoded["held"]},
        "_by_url": dict(zip(map(url_of, map(entry, encoded["by_url"][1])), map(file, encoded["by_url"][0]),
                            strict=True)),
        "_shared": {entry(claimed).url: set(map(file, claims)) for claims, claimed in encoded["shared"]},
        "shared": ({(providers[i].name, providers[i].domain): providers[i] for i in shared_providers},
                   {topic_lists[i]: topic_lists[i] for i in shared_topics}),
    }

    encoded = values["catalog"]
    limit, archive_size, include_drafts, include_future, titles = encoded["options"]
    catalog = Catalog(limit=_typed(limit, int), include_drafts=_typed(include_drafts, bool),
                      include_future=_typed(include_future, bool), topic_titles=dict(titles),
                      archive_size=archive_size if archive_size is None else _typed(archive_size, int))

    def spec(values: tuple[Any, ...]) -> FeedSpec:
        kind, key, name, items, total, archives = values
        return FeedSpec(kind=_typed(kind, str), key=_typed(key, str), name=_typed(name, str),
                        items=tuple(map(entry, items)), total=_typed(total, int),
                        archives=tuple(map(pages.__getitem__, archives)))

    members = list(map(entry, encoded["members"]))
    catalog._members = dict(zip(map(url_of, members), members, strict=True))
    # Each member's sort key, one tuple shared by all its groups (as `Catalog._add` makes them).
    dates = encoded["member_dates"]
    if not all(type(date) is float for date in dates):
        raise Corrupt("a sort key's date that is not a number")
    sort_keys: list[Any] = [None] * len(entries)  # by entry; members only
    for index, sort_key in zip(encoded["members"], zip(dates, map(url_of, members), strict=True), strict=True):
        sort_keys[index] = sort_key
    key_of = sort_keys.__getitem__
    catalog._waiting = {entries[i].url: entries[i] for i in encoded["waiting"]}
    catalog._drafts = {_typed(url, str) for url in encoded["drafts"]}
    catalog._groups = defaultdict(list, {_group(group): list(map(key_of, items)) for group, items in encoded["groups"]})
    catalog._names = defaultdict(Counter, {_typed(domain, str): Counter(dict(names)) for domain, names in encoded["names"]})
    base, slug_members, slug, suffixed, lengthened = encoded["slugs"]
    slugs = Slugs()
    slugs._base = dict(base)
    slugs._members = {name: list(names) for name, names in slug_members}
    slugs._slug = dict(slug)
    slugs._suffixed = set(suffixed)
    slugs._lengthened = _typed(lengthened, bool)
    catalog._slugs = slugs
    catalog._specs = {_group(group): spec(made) for group, made in encoded["specs"]}
    catalog._earlier = {_group(group): spec(made) for group, made in encoded["earlier"]}
    catalog._dirty = {_group(group): set(dates) for group, dates in encoded["dirty"]}
    catalog._marking = _typed(encoded["marking"], bool)
    for memo in _CATALOG_MEMOS:
        setattr(catalog, memo, {})
    aliases, spellings, names = encoded["topics"]
    catalog._topics._aliases = {_typed(alias, str): _typed(target, str) for alias, target in aliases}
    catalog._topics._spellings = {_typed(key, str): Counter(dict(counts)) for key, counts in spellings}
    catalog._topics._names = {_typed(key, str): _typed(name, str) for key, name in names}
    if encoded["records"] is not None:
        catalog.records = Records()
        catalog.records.blocks = tuple(
            Block(tuple(map(entry, items)), _array("d", heat), _array("d", quality), _typed(titles, bytes),
                  _typed(descriptions, bytes), _array("I", title_starts), _array("I", description_starts))
            for items, heat, quality, titles, descriptions, title_starts, description_starts in encoded["records"])
    catalog._came = {entries[i].digest: entries[i] for i in encoded["came"]}
    catalog._went = {entries[i].digest: entries[i] for i in encoded["went"]}

    site: dict[str, Output] = {}
    for (path, media_type, etag, modified, _), body in zip(values["outputs"], bodies, strict=True):
        site[_typed(path, str)] = Output(body, _typed(media_type, str), _typed(etag, str), EPOCH + MICROSECOND * modified)
    rendered = {}
    for group, (kind, key_, name, items, first), paths in values["rendered"]:
        signature = (kind, key_, name, tuple(map(entry, items)), first)
        rendered[_group(group)] = _Rendered(signature, {path: site[path] for path in paths})
    latest = {_typed(digest, str): _typed(line, str) for digest, line in values["latest"]}
    return SavedState(key, library, catalog, (rendered, latest), site)


def _array(typecode: str, data: object) -> array:
    values = array(typecode)
    values.frombytes(_typed(data, bytes))
    return values


def _group(value: object) -> tuple[str, str]:
    kind, name = _typed(value, tuple)
    return (_typed(kind, str), _typed(name, str))


def _typed(value: Any, kind: type) -> Any:
    if type(value) is not kind:
        raise Corrupt(f"{kind.__name__} expected, not {type(value).__name__}")
    return value
