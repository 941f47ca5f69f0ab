"""The catalog: which articles belong to which feed, kept sorted and updated in place.

Groups are the feed of everything, one per topic and one per provider domain. A topic is
every spelling that differs only in case or spacing (see `topics.py`), named by its most common
spelling: the group's name, which moves when another spelling becomes the most common. Each group
keeps its members as a sorted list of `Entry.sort_key`s, so a change costs a binary search per
group it touches, and selecting a feed's newest `limit` items is a slice.

With `records`, the catalog also keeps every member's filter fields (`records.py`); it notes
which members came and went, and the build hands it their fields (`take_member_changes`).
"""

from __future__ import annotations

import bisect
import operator
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..reading.article import Entry
from .archives import Page, describe, partition
from .records import Records
from .slugs import Slugs
from .topics import Topics, topic_key

_URL = operator.itemgetter(1)  # a member's url: members are (sort key, url)
_MEMO_MAX = 100_000  # topic spellings whose groups are remembered at once

ALL = "all"
TOPIC = "topic"
PROVIDER = "provider"
KINDS = (ALL, TOPIC, PROVIDER)

Group = tuple[str, str]  # (kind, topic name | provider domain | "")
EVERYTHING: Group = (ALL, "")


@dataclass(frozen=True, slots=True)
class ArchiveSpec:
    """One archive document of a feed (see `archives.py`): a range of time and its items, newest first."""

    name: str  # in its URL
    start: int  # its range, in seconds since 1970 (UTC): [start, end)
    end: int
    items: tuple[Entry, ...]

    @property
    def newest(self) -> datetime:
        return self.items[0].published

    def describe(self) -> str:
        return describe(Page(self.name, self.start, self.end, 0, len(self.items)))


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed to publish: its identity, its newest items and its archive documents, format-neutral."""

    kind: str
    key: str  # "all", a topic slug or a provider domain: the file name in the URL
    name: str  # what a reader shows: the topic's display name or the provider's name
    items: tuple[Entry, ...]  # full articles are fetched only to render them (`Library.articles_for`)
    total: int  # articles in the group, before the limit
    archives: tuple[ArchiveSpec, ...] = ()  # every older item, each in one of them; newest first

    @property
    def newest(self) -> datetime | None:
        return self.items[0].published if self.items else None


class Catalog:
    _marking = False  # whether apply() notes the dates that change (see `_archives`)

    def __init__(self, *, limit: int, include_drafts: bool = False, include_future: bool = False,
                 topic_titles: Mapping[str, str] | None = None, archive_size: int | None = None,
                 topic_aliases: Mapping[str, str] | None = None, records: bool = False) -> None:
        self.limit = limit
        self.archive_size = archive_size  # None: no archive documents, the feeds hold the newest only
        self.include_drafts = include_drafts
        self.include_future = include_future
        self.topic_titles = dict(topic_titles or {})
        self._titles = {topic_key(name): title for name, title in self.topic_titles.items()}  # by topic key
        self._topics = Topics(topic_aliases)
        self._members: dict[str, Entry] = {}  # url → article, eligible now
        self._waiting: dict[str, Entry] = {}  # url → scheduled article, not due yet
        self._drafts: set[str] = set()  # urls whose current version is a draft left out
        self._groups: dict[Group, list[tuple[float, str]]] = defaultdict(list)
        self._names: dict[str, Counter[str]] = defaultdict(Counter)  # domain → provider names seen
        self._slugs = Slugs()
        self._memo: dict[str, Group] = {}  # a topic spelling's group, see `_topic_group`
        self._specs: dict[Group, FeedSpec] = {}  # memo: a group's spec changes only when it is touched
        # A touched group's spec as it was, and the dates (seconds) of the articles that came or went
        # since: the archive documents away from those dates are taken over as they were.
        self._earlier: dict[Group, FeedSpec] = {}
        self._dirty: dict[Group, set[float]] = {}
        self._everything: dict[Group, tuple[FeedSpec, tuple[Entry, ...]]] = {}  # see `entries`
        # Every member's filter fields (None: not kept), and the members that came and went since
        # the build last took them (by digest: an entry that comes back unchanged is no change).
        self.records: Records | None = Records() if records else None
        self._came: dict[str, Entry] = {}
        self._went: dict[str, Entry] = {}

    @classmethod
    def build(cls, articles: Iterable[Entry], *, now: datetime, **options: Any) -> Catalog:
        catalog = cls(**options)
        catalog.apply({a.url: a for a in articles}, now=now)
        return catalog

    # -- changes -------------------------------------------------------------------------

    def apply(self, changes: Mapping[str, Entry | None], *, now: datetime) -> set[Group]:
        """Put each url's new version (None: gone) in place; return the groups that changed."""
        touched: set[Group] = set()
        self._marking = bool(self._specs or self._earlier)  # a first load has no documents to keep
        # Every removal first, while each group's list is still sorted for bisect.
        for url in changes:
            old = self._members.pop(url, None)
            self._waiting.pop(url, None)
            self._drafts.discard(url)
            if old is not None:
                touched |= self._remove(old)
        # A large batch (the first load, a resync) appends and sorts once per group: insort into
        # a 100,000-item list for each article would be quadratic.
        bulk = len(changes) > 64
        added: set[Group] = set()
        for url, article in changes.items():
            if article is None:
                continue
            if article.draft and not self.include_drafts:
                self._drafts.add(url)
                continue
            if article.published > now and not self.include_future:
                self._waiting[url] = article
                continue
            self._members[url] = article
            self._add(article, added, sort=not bulk)
        if bulk:
            for group in added:
                if group in self._groups:  # not a topic renamed later in the batch
                    self._groups[group].sort()
        touched |= added
        for group in touched:
            self._retire(group)
        if any(kind == TOPIC for kind, _ in touched):
            # A topic that came or went can rename the topics that share its slug, and only those.
            for key in self._slugs.update(set(self._topics.names())):
                name = self._topics.name(key)
                if name is not None:
                    self._retire((TOPIC, name))
        return touched

    def _retire(self, group: Group) -> None:
        spec = self._specs.pop(group, None)
        if spec is not None:
            self._earlier[group] = spec

    def advance(self, now: datetime) -> set[Group]:
        """Publish the scheduled articles whose time has come."""
        due = {url: a for url, a in self._waiting.items() if a.published <= now}
        return self.apply(due, now=now) if due else set()

    def next_due(self) -> datetime | None:
        return min((a.published for a in self._waiting.values()), default=None)

    def _groups_of(self, article: Entry) -> list[Group]:
        groups = [EVERYTHING, (PROVIDER, article.provider.domain)]
        memo = self._memo
        for spelling in article.topics:
            group = memo.get(spelling)
            if group is None:
                group = self._topic_group(spelling)
            if group not in groups:  # two spellings of one topic: one group (a handful of topics an article)
                groups.append(group)
        return groups

    def _topic_group(self, spelling: str) -> Group:
        """The group of a topic's spelling, remembered until a topic's name changes (`_counted`): its
        key is NFKC-normalized and case-folded, its name looked up, for each topic of each article."""
        topics = self._topics
        group = (TOPIC, topics.name(topics.key(spelling)) or spelling)
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        self._memo[spelling] = group
        return group

    def topic_key(self, spelling: str) -> str:
        """The key of the topic a spelling belongs to (aliases applied): a pure function of the settings."""
        return self._topics.key(spelling)

    def topic_names(self) -> dict[str, str]:
        """Every topic's key → its name, as of now."""
        return dict(self._topics.names())

    def topic_name(self, spelling: str) -> str | None:
        """The name of the topic a spelling belongs to (its group's name), if that topic has articles."""
        return self._topics.name(self._topics.key(spelling))

    def _rename(self, changed: dict[str, tuple[str | None, str | None]]) -> set[Group]:
        """Move the groups of topics whose most common spelling changed to their new names."""
        moved: set[Group] = set()
        for before, after in changed.values():
            if before is None or after is None:
                continue  # a topic that came (its group is made below) or went (emptied, so deleted)
            old, new = (TOPIC, before), (TOPIC, after)
            members = self._groups.pop(old, None)
            if members is not None:
                self._groups[new] = members
            for memo in (self._specs, self._earlier, self._dirty, self._everything):
                memo.pop(old, None)  # every document of the feed names the topic: all are made again
            moved |= {old, new}
        return moved

    def _add(self, article: Entry, added: set[Group], *, sort: bool = True) -> None:
        """Put the article in its groups, adding them (and any renamed on the way) to `added`."""
        renamed = self._rename(self._counted(article.topics, +1))
        if renamed:
            added |= renamed
        groups = self._groups_of(article)
        key = article.sort_key
        members = self._groups
        if sort:
            for group in groups:
                bisect.insort(members[group], key)
        else:
            for group in groups:
                members[group].append(key)
        added.update(groups)
        if self._marking:
            self._mark(groups, -key[0])
        self._names[article.provider.domain][article.provider.name] += 1
        if self.records is not None:
            self._note(self._came, self._went, article)

    def _remove(self, article: Entry) -> set[Group]:
        groups = self._groups_of(article)
        key = article.sort_key
        if self._marking:
            self._mark(groups, -key[0])
        for group in groups:
            members = self._groups[group]
            index = bisect.bisect_left(members, key)
            if index < len(members) and members[index] == key:
                del members[index]
            if not members and group != EVERYTHING:
                del self._groups[group]
        names = self._names[article.provider.domain]
        names[article.provider.name] -= 1
        if names[article.provider.name] <= 0:
            del names[article.provider.name]
        if not names:
            del self._names[article.provider.domain]
        if self.records is not None:
            self._note(self._went, self._came, article)
        return set(groups) | self._rename(self._counted(article.topics, -1))

    def _counted(self, topics: tuple[str, ...], delta: int) -> dict[str, tuple[str | None, str | None]]:
        """`Topics.count`, forgetting the groups remembered (`_topic_group`) when a topic's name changed."""
        changed = self._topics.count(topics, delta)
        if changed:
            self._memo.clear()
        return changed

    @staticmethod
    def _note(into: dict[str, Entry], other: dict[str, Entry], article: Entry) -> None:
        if other.pop(article.digest, None) is None:  # came and went (or went and came back): no change
            into[article.digest] = article

    def take_member_changes(self) -> tuple[list[Entry], list[Entry]]:
        """The members that came and went since last asked (for `records`), and forget them."""
        came, went = list(self._came.values()), list(self._went.values())
        self._came, self._went = {}, {}
        return came, went

    def _mark(self, groups: list[Group], published: float) -> None:
        for group in groups:
            if group in self._specs or group in self._earlier:
                self._dirty.setdefault(group, set()).add(published)

    # -- reading -------------------------------------------------------------------------

    @property
    def articles(self) -> Mapping[str, Entry]:
        return self._members

    @property
    def scheduled(self) -> int:
        return len(self._waiting)

    @property
    def drafts(self) -> int:
        return len(self._drafts)

    @property
    def feed_count(self) -> int:
        return len(self._groups) + (EVERYTHING not in self._groups)

    def groups(self) -> list[Group]:
        """Every group with at least one article (and always the feed of everything), in URL order."""
        keyed = [(KINDS.index(kind), self.key_of((kind, name)), (kind, name)) for kind, name in self._groups]
        if EVERYTHING not in self._groups:
            keyed.append((0, ALL, EVERYTHING))
        return [group for _, _, group in sorted(keyed)]

    def key_of(self, group: Group) -> str:
        kind, name = group
        return ALL if kind == ALL else self._slugs[topic_key(name)] if kind == TOPIC else name

    def entries(self, group: Group) -> tuple[Entry, ...]:
        """Every article of a group, newest first (its spec holds only the newest and the archives)."""
        spec = self.spec(group)
        known = self._everything.get(group)
        if known is None or known[0] is not spec:  # made again only after the group changed
            known = self._everything[group] = (spec, tuple(self._members[url] for _, url in self._groups.get(group, ())))
        return known[1]

    def spec(self, group: Group) -> FeedSpec:
        known = self._specs.get(group)
        if known is None:
            known = self._specs[group] = self._make_spec(group)
        return known

    def _make_spec(self, group: Group) -> FeedSpec:
        kind, name = group
        members = self._groups.get(group, [])
        entries = self._members
        items = tuple(entries[url] for _, url in members[: self.limit])
        earlier = self._earlier.pop(group, None)
        dirty = self._dirty.pop(group, set())
        archives: tuple[ArchiveSpec, ...] = ()
        if self.archive_size is not None:
            archives = self._archives(members, earlier, dirty)
        if kind == TOPIC:
            title = self._titles.get(topic_key(name), name)
        elif kind == PROVIDER:
            # The name most articles use; ties go to the alphabetically first, not the first read.
            title = min(self._names[name].items(), key=lambda pair: (-pair[1], pair[0]))[0]
        else:
            title = ""
        return FeedSpec(kind=kind, key=self.key_of(group), name=title, items=items, total=len(members),
                        archives=archives)

    def _archives(self, members: list[tuple[float, str]], earlier: FeedSpec | None,
                  dirty: set[float]) -> tuple[ArchiveSpec, ...]:
        """The group's archive documents; each one that holds none of the dates articles came or went
        at since `earlier` is taken over as the same object, so later stages can tell by identity."""
        assert self.archive_size is not None
        pages = partition(members, self.limit, self.archive_size)
        kept: dict[str, ArchiveSpec] = {}
        if earlier is not None and earlier.archives:
            kept = {archive.name: archive for archive in earlier.archives}
            # The edge of the subscription document moves with any change near the top: the item it
            # pushes out (now the newest archived) or pulls in (the newest archived before).
            dirty = dirty | {earlier.archives[0].items[0].published.timestamp()}
            if len(members) > self.limit:
                dirty.add(-members[self.limit][0])
        entry = self._members.__getitem__
        marks = sorted(dirty)
        archives = []
        for page in pages:
            same = kept.get(page.name)
            first = bisect.bisect_left(marks, page.start)
            if same is None or len(same.items) != page.hi - page.lo or (
                    first < len(marks) and marks[first] < page.end):
                # map, not a generator: ~370,000 entries at 100k in a cold plan, at half the cost
                same = ArchiveSpec(page.name, page.start, page.end,
                                   tuple(map(entry, map(_URL, members[page.lo : page.hi]))))
            archives.append(same)
        return tuple(archives)
