"""Filtered feeds: a subscription document's query (`catalog/query.py`) answered as a real feed.

A filtered feed is put together from the same item fragments as every feed, in the format asked
for; its title says what was filtered and its self link is the canonical query URL (the
parameters in a fixed order). A `FilterState` is what a query needs of one published state,
taken in the rebuild thread: it never changes after, so a query reads one state from start to end
while the next is being built. The static export has no filters (a file cannot read a query).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ..catalog.catalog import PROVIDER, TOPIC, Catalog, FeedSpec, Group
from ..catalog.query import Member, Query, QueryError, Selection, select
from ..catalog.records import Block
from ..catalog.topics import topic_key
from ..reading.article import Entry
from ..settings import Settings
from .feed import EPOCH, Feed
from .formats import FORMATS, Format
from .fragments import FragmentRenderer
from .outputs import Output, make_output
from .paths import feed_path
from .site import SiteBuilder, make_feed


@dataclass(frozen=True, slots=True)
class FilterState:
    settings: Settings
    blocks: tuple[Block, ...]  # every member's filter fields, newest first
    feeds: Mapping[str, tuple[Group, FeedSpec, Format]]  # subscription document path → its feed
    slugs: Mapping[str, Group]  # a topic's slug → its group
    slug_of: Mapping[str, str]  # a topic's key → its slug
    providers: frozenset[str]
    topic_key: Callable[[str], str]  # a spelling → its topic's key (aliases applied)
    topic_names: Mapping[str, str]  # a topic's key → its name
    renderers: Mapping[str, FragmentRenderer]

    @classmethod
    def of(cls, catalog: Catalog, builder: SiteBuilder, settings: Settings) -> FilterState:
        """The state as published now (call it in the thread that builds, right after a build)."""
        assert catalog.records is not None, "a build without filters"
        feeds: dict[str, tuple[Group, FeedSpec, Format]] = {}
        slugs: dict[str, Group] = {}
        slug_of: dict[str, str] = {}
        providers = set()
        for group in catalog.groups():
            spec = catalog.spec(group)
            for fmt in FORMATS:
                feeds[feed_path(spec.kind, spec.key, fmt)] = (group, spec, fmt)
            if spec.kind == TOPIC:
                slugs[spec.key] = group
                slug_of[topic_key(group[1])] = spec.key
            elif spec.kind == PROVIDER:
                providers.add(spec.key)
        names = catalog.topic_names()
        return cls(settings, catalog.records.blocks, feeds, slugs, slug_of, frozenset(providers), catalog.topic_key, names,
                   {renderer.fmt.name: renderer for renderer in builder.fragments})

    def feed_of(self, path: str) -> tuple[Group, FeedSpec, Format] | None:
        """The feed whose subscription document is at this site path (no leading slash), if any."""
        return self.feeds.get(path)

    def resolve(self, query: Query) -> Query:
        """The query with `topic` and `provider` as the site names them (a slug, a domain); a
        `QueryError` when the site has no such topic or provider."""
        params = list(query.params)
        for index, (name, value) in enumerate(params):
            if name == "topic":
                slug = value if value in self.slugs else self.slug_of.get(self.topic_key(value))
                if slug is None:
                    raise QueryError(f"there is no topic {value!r} (feeds/index.json lists every topic by its key)")
                params[index] = (name, slug)
            elif name == "provider":
                domain = value.lower().removeprefix("www.")
                if domain not in self.providers:
                    raise QueryError(f"there is no provider {value!r} (feeds/index.json lists every provider by its domain)")
                params[index] = (name, domain)
        return replace(query, params=tuple(params))

    def member(self, group: Group, query: Query) -> Member | None:
        """The test of membership in the feed and in the `topic` and `provider` the query names."""
        tests: list[Member] = []
        kind, name = group
        if kind == TOPIC:
            tests.append(self._in_topic(topic_key(name)))
        elif kind == PROVIDER:
            tests.append(_from(name))
        topic = query.get("topic")
        if topic is not None:
            tests.append(self._in_topic(topic_key(self.slugs[topic][1])))
        provider = query.get("provider")
        if provider is not None:
            tests.append(_from(provider))
        if not tests:
            return None
        if len(tests) == 1:
            return tests[0]
        return lambda entry: all(test(entry) for test in tests)

    def _in_topic(self, key: str) -> Member:
        known: dict[tuple[str, ...], bool] = {}
        topic_of = self.topic_key

        def test(entry: Entry) -> bool:
            answer = known.get(entry.topics)
            if answer is None:
                answer = known[entry.topics] = any(topic_of(topic) == key for topic in entry.topics)
            return answer

        return test

    def answer(self, path: str, query: Query, *, now: datetime) -> tuple[Output, Selection]:
        """The filtered feed at `path` (a subscription document) in its format, and what it selected."""
        found = self.feed_of(path)
        assert found is not None, path
        group, spec, fmt = found
        query = self.resolve(query)
        names = self.topic_names
        topic_of = self.topic_key
        chosen = select(query, self.blocks, member=self.member(group, query), now=now,
                        topic_name=lambda spelling: names.get(topic_of(spelling)))
        feed = filtered_feed(spec, query, self.settings, chosen.entries)
        body = self.renderers[fmt.name].assemble_stored(feed, chosen.entries)
        return make_output(body, fmt.media_type, feed.updated), chosen


def _from(domain: str) -> Member:
    return lambda entry: entry.provider.domain == domain


def filtered_feed(spec: FeedSpec, query: Query, settings: Settings, entries: tuple[Entry, ...]) -> Feed:
    """The feed `spec` as filtered by `query`: its own links carry the canonical query."""
    base = make_feed(spec, settings)
    about = query.describe()
    return replace(
        base,
        title=f"{base.title} · {about}",
        description=f"{base.description} ({about})",
        urls={name: f"{url}?{query.canonical}" for name, url in base.urls.items()},
        updated=entries[0].published if entries else EPOCH,
        history="",  # a selection: neither complete nor an archive (RFC 5005 says nothing of it)
        links=(),
    )
