"""The seed site's own JSON API (`everyday_api`): every published article in pages, all and per topic.

Paths and shapes as that site published them:

    api/news/index.json, api/news/page/N/index.json            {"page": N, "value": [...], "nextPage": N + 1 | null}
    api/news/<topic-slug>/index.json, .../page/N/index.json    the same, per topic
    api/topics/index.json                                      {"value": [{"name", "shortname", "id", "services"}]}

Pages hold `page_size` items, newest first, so they shift as news arrives: they are the lossy
"paged feeds" of RFC 5005 §3. The archived feeds are the stable way to walk a feed's history.
An item is rendered once per article (a fragment, like a feed item) and pages are spliced from them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..catalog.catalog import ALL, EVERYTHING, TOPIC, FeedSpec, Group
from ..reading.article import Article, Entry, Picture
from ..reading.dates import rfc3339
from ..settings import Settings
from ..stores.fragment_store import Fragments
from . import formats
from .feed import EPOCH, Feed
from .formats import Format
from .fragments import FragmentRenderer
from .jsonfeed import compact_json, dump_json
from .outputs import Document, LazyOutput, Output, made_of_etag, make_output
from .paths import API

NEWS = API + "news/"
TOPICS = API + "topics/index.json"


def page_paths(slug: str | None, number: int) -> list[str]:
    """The paths page `number` (from 1) of the news of everything (`slug` None) or of a topic is at."""
    base = NEWS + (f"{slug}/" if slug else "")
    paths = [f"{base}page/{number}/index.json"]
    return [f"{base}index.json", *paths] if number == 1 else paths


def api_item(template: Feed, article: Article) -> bytes:
    """One article as the API lists it, on one line: pages are spliced from these."""
    extras = article.extras
    item: dict[str, Any] = {
        "path": article.source,
        "title": article.title,
        "excerpt": article.summary or None,
        "sourceUrl": extras.source_url,
        "webUrl": extras.web_url,
        "originalUrl": extras.original_url,
        "featuredContent": extras.featured,
        "highlight": extras.highlight,
        "heat": _number(article.heat),
        "tags": _list(extras.tags),
        "images": _pictures(extras.images),
        "content": "",  # the site never published article bodies
        "type": article.kind or None,
        "ampWebUrl": extras.amp_url,
        "cdnAmpWebUrl": extras.cdn_amp_url,
        "publishedDateTime": rfc3339(article.published),
        "updatedDateTime": rfc3339(extras.updated) if extras.updated else None,
        "provider": {"name": article.provider.name, "domain": article.provider.domain,
                     "images": _pictures(extras.provider_images), "publishers": _list(extras.publishers),
                     "authors": _list(extras.authors)},
        "locale": template.language,
        "categories": [article.category] if article.category else None,
        "topics": list(article.topics),
    }
    return compact_json(item)


def _number(value: float | None) -> int | float | None:
    """A score as the file wrote it: -1 stays -1, not -1.0."""
    return None if value is None else int(value) if value.is_integer() else value


def _list(values: tuple[str, ...] | None) -> list[str] | None:
    return None if values is None else list(values)


def _pictures(pictures: tuple[Picture, ...] | None) -> list[dict[str, Any]] | None:
    if pictures is None:
        return None
    return [{"url": p.url, "width": p.width, "height": p.height, "title": p.title, "attribution": p.attribution,
             "isCached": p.cached} for p in pictures]


def page_frame(number: int, has_next: bool) -> tuple[bytes, bytes]:
    """A page around its items."""
    following = str(number + 1).encode() if has_next else b"null"
    return b'{"page":' + str(number).encode() + b',"value":[\n', b'\n],"nextPage":' + following + b"}\n"


def render_page(number: int, has_next: bool, items: Sequence[bytes]) -> bytes:
    head, tail = page_frame(number, has_next)
    return head + b",\n".join(items) + tail if items else head[:-1] + tail[1:]


def render_topics(topics: Sequence[tuple[Group, str, str]], settings: Settings) -> bytes:
    """`api/topics/index.json`: every topic (its group, display name and slug), by slug."""
    value = [{"name": title, "shortname": group[1], "id": slug,
              "services": [{"name": "news", "endpoint": settings.url(f"{NEWS}{slug}/")}]}
             for group, title, slug in sorted(topics, key=lambda topic: topic[2])]
    return dump_json({"value": value})


def _no_whole_feed(feed: Feed, items: Sequence[Article]) -> bytes:
    raise NotImplementedError("API items are spliced into pages, never rendered as a feed")


# API items kept and stored like feed items: the same fragment store, under their own name.
API_ITEMS = Format("api", ".json", formats.JSON, "JSON API", _no_whole_feed, item_of=api_item)


class ApiPages:
    """The API's documents as the site builder keeps them: one item per article (a fragment, in the
    fragment store with the feeds' items), the pages of each group, and the list of topics.

    Pages are `LazyOutput`s put together from the items when asked for: every page of a group
    shifts when an article arrives, so a change makes them all again, but only as objects that
    say what they are made of (their ETags wait until asked for too).
    """

    def __init__(self, settings: Settings, *, store: Fragments | None, code: str, fragments: bool) -> None:
        self.settings = settings
        self._code = code
        self._items = FragmentRenderer(API_ITEMS, store=store) if fragments else None
        self._known: set[str] = set()  # digests whose item is stored (or held)
        self._wanted: set[str] = set()  # digests whose item the current build renders
        self._articles: dict[str, Article] = {}  # the straightforward path: articles of this build
        self._pages: dict[Group, dict[str, Document]] = {}
        self._entries: dict[Group, tuple[Entry, ...]] = {}  # what each group's pages show

    def plan(self, groups: Mapping[Group, tuple[Entry, ...]]) -> list[Entry]:
        """For the groups whose pages change (with every article of each, newest first): the entries
        whose item is still to render (or, rendering whole, every one)."""
        if self._items is None:
            return list({e.digest: e for entries in groups.values() for e in entries}.values())
        unknown = list({e.digest: e for entries in groups.values() for e in entries if e.digest not in self._known}.values())
        missing = self._items.missing(unknown)
        self._wanted = {e.digest for e in missing}
        self._known |= {e.digest for e in unknown} - self._wanted
        return missing

    def render(self, template: Feed, articles: Mapping[str, Article]) -> None:
        if self._items is None:
            self._articles.update(articles)
            return
        todo = [digest for digest in articles if digest in self._wanted]
        if todo:
            self._items.add(todo, API_ITEMS.items(template, [articles[d] for d in todo]))
            self._known.update(todo)

    def assemble(self, feeds: Sequence[tuple[Group, FeedSpec]], changed: Mapping[Group, tuple[Entry, ...]],
                 template: Feed) -> dict[str, Document]:
        """Every path of the API; `changed` holds the groups whose pages are made again."""
        paths: dict[str, Document] = {}
        pages: dict[Group, dict[str, Document]] = {}
        topics = []
        for group, spec in feeds:
            if spec.kind == TOPIC:
                topics.append((group, spec.name, spec.key))
            elif spec.kind != ALL:
                continue
            made = self._pages.get(group)
            if made is None or group in changed:
                self._entries[group] = changed.get(group, ())
                made = self._make_pages(None if spec.kind == ALL else spec.key, self._entries[group], template)
            pages[group] = made
            paths.update(made)
        self._pages = pages
        self._entries = {group: entries for group, entries in self._entries.items() if group in pages}
        self._articles = {}
        if self._items is not None and self._items.store is not None:
            self._items.retain(set())  # the pages take their items from the store when asked for
        paths[TOPICS] = make_output(render_topics(topics, self.settings), formats.JSON, EPOCH)
        return paths

    def _make_pages(self, slug: str | None, entries: tuple[Entry, ...], template: Feed) -> dict[str, Document]:
        size = self.settings.page_size
        made: dict[str, Document] = {}
        media_type = f"{formats.JSON}; charset=utf-8"
        for number in range(1, max(1, -(-len(entries) // size)) + 1):
            items = entries[(number - 1) * size : number * size]
            has_next = number * size < len(entries)
            newest = items[0].published if items else EPOCH
            if self._items is not None:
                output: Document = LazyOutput(media_type, newest, _page_maker(self._items, number, has_next, items),
                                              _page_made_of(self._code, slug, number, has_next, items))
            else:
                body = render_page(number, has_next, [api_item(template, self._articles[e.digest]) for e in items])
                output = Output(body, media_type, made_of_etag(_page_made_of(self._code, slug, number, has_next,
                                                                             items)()), newest)
            for path in page_paths(slug, number):
                made[path] = output
        return made

    def digests(self) -> set[str]:
        """Every article an API page shows (to keep its item in the store): those of everything."""
        return {entry.digest for entry in self._entries.get(EVERYTHING, ())}

    kind = API_ITEMS.name  # its items' keys are `kind:digest`

    def key(self, digest: str) -> str:
        return self.kind + ":" + digest


def _page_maker(items: FragmentRenderer, number: int, has_next: bool,
                entries: tuple[Entry, ...]) -> Callable[[], bytes]:
    return lambda: render_page(number, has_next, items.pieces(entries))


def _page_made_of(code: str, slug: str | None, number: int, has_next: bool,
                  entries: tuple[Entry, ...]) -> Callable[[], str]:
    return lambda: f"{code}\0api\0{slug}\0{number}\0{has_next}\0" + ",".join(e.digest for e in entries)
