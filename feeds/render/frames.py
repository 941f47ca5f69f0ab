"""RSS and Atom frames (the document around the items) filled into templates feedgen wrote.

A frame is feedgen's empty document for a feed: ~160 µs for RSS and ~95 µs for Atom, and an export
at 100k articles with archives makes ~9,700 of them (a frame per archive document and format), ~1.3 s
of CPU for what differs between two feeds only in a dozen values. Here feedgen renders, once per
*shape* (the format, the feed history state, the kinds of extra link, the number of hubs, the
polling interval), a document whose values are markers, and every frame of that shape is that
document with the feed's values put in place of the markers.

How each value is escaped where it lands (element text or attribute, the RSS profile's hex
references, the description's HTML escaping) is learned, not written down again: each marker carries
every character that any of those steps changes, one by one, and the document feedgen wrote shows what
each became at that place. That is exact because every one of those steps maps characters one at a
time. A feed with a value this does not cover gives None, and the caller renders the frame with
feedgen, the reference: an empty value (feedgen leaves out some elements then), text the Atom renderer
would mark as HTML (`looks_like_markup`), or a character outside the usual ones (a control
character, which lxml refuses, or one of the markers' own). `tests/render/test_frames.py` and the
suite-wide frame audit (tests/conftest.py) prove every frame equal to feedgen's.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from feedgen.util import formatRFC2822

from .. import accelerators
from .feed import Feed, looks_like_markup
from .items import rfc2822

# Marker n is OPEN + n + PROBE + CLOSE: PROBE is every character an escaping step changes, each
# followed by SEPARATOR, so what each became can be read off the rendered document.
_OPEN, _CLOSE, _SEPARATOR = "\ue000", "\ue001", "\ue002"
_SPECIAL = "&<>\"'\t\n\r"
_PROBE = "".join(ch + _SEPARATOR for ch in _SPECIAL)
_MARKER = re.compile(f"{_OPEN}(\\d+)(.*?){_CLOSE}", re.DOTALL)
# A date no feed has, to find where `updated` lands (and the two ways it is written).
_SENTINEL = datetime(2999, 9, 9, 9, 9, 9, tzinfo=UTC)
# What a value may hold on this path: anything but the markers' own characters, the control characters
# lxml refuses, surrogates and the two non-characters XML forbids.
_UNUSUAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ue000-\ue002\ud800-\udfff\ufffe\uffff]")

# A template: literal text, each piece followed by a slot but the last. A slot is a value's index and
# what each special character becomes there, or None for the date `updated`.
Slot = tuple[int, dict[int, str]] | None
Template = tuple[list[str], list[Slot]]
_NEEDS_ESCAPING = re.compile("[" + re.escape(_SPECIAL) + "]")


class Templates:
    """The templates of one format, by shape, made when a shape is first seen."""

    def __init__(self, name: str, render: Callable[[Feed, tuple[()]], bytes]) -> None:
        self.name = name
        self._render = render
        self._made: dict[tuple[object, ...], Template | None] = {}
        self._lock = threading.Lock()

    def document(self, feed: Feed) -> bytes | None:
        """`render(feed, ())`, filled into its shape's template; None when the feed is not covered."""
        if not accelerators.enabled():
            return None
        values = _values(feed)
        if not all(values) or _UNUSUAL.search("".join(values)):
            return None
        if looks_like_markup(feed.title) or looks_like_markup(feed.description):
            return None  # Atom marks such text type="html": a shape of its own, left to feedgen
        shape = (feed.history, tuple(rel for rel, _ in feed.links), len(feed.hubs), feed.max_age,
                 tuple(sorted(feed.urls)), tuple(sorted(fmt for _, hrefs in feed.links for fmt, _ in hrefs)))
        template = self._made.get(shape)
        if template is None and shape not in self._made:
            with self._lock:
                template = self._made[shape] = self._learn(feed)
        if template is None:
            return None
        literals, slots = template
        out = [literals[0]]
        for slot, literal in zip(slots, literals[1:], strict=True):
            if slot is None:
                out.append(rfc2822(feed.updated) if self.name == "rss" else feed.updated.isoformat())
            else:
                value = values[slot[0]]
                out.append(value.translate(slot[1]) if _NEEDS_ESCAPING.search(value) else value)
            out.append(literal)
        return "".join(out).encode("utf-8")

    def _learn(self, feed: Feed) -> Template | None:
        """The template of `feed`'s shape: feedgen's document of a feed of that shape whose values are
        markers, cut into literal text, value slots and the date."""
        count = len(_values(feed))
        marked = _with_values(feed, [f"{_OPEN}{n}{_PROBE}{_CLOSE}" for n in range(count)])
        try:
            text = self._render(replace(marked, updated=_SENTINEL), ()).decode("utf-8")
        except Exception:  # a shape feedgen refuses is feedgen's to refuse for every feed of it
            return None
        date = formatRFC2822(_SENTINEL) if self.name == "rss" else _SENTINEL.isoformat()
        literals: list[str] = []
        slots: list[Slot] = []
        at = 0
        for match in _MARKER.finditer(text):
            _dated(text[at : match.start()], date, literals, slots)
            became = match.group(2).split(_SEPARATOR)[: len(_SPECIAL)]
            if len(became) != len(_SPECIAL):
                return None  # not one character at a time: not this path's to write
            slots.append((int(match.group(1)), {ord(ch): out for ch, out in zip(_SPECIAL, became, strict=True)
                                                if out != ch}))
            at = match.end()
        _dated(text[at:], date, literals, slots)
        if any(mark in literal for literal in literals for mark in (_OPEN, _CLOSE, _SEPARATOR)):
            return None  # a marker feedgen split or changed
        return literals, slots


def _dated(text: str, date: str, literals: list[str], slots: list[Slot]) -> None:
    """Add literal text to a template being made, the sentinel date in it made a slot for `updated`."""
    parts = text.split(date)
    for index, part in enumerate(parts):
        if index:
            slots.append(None)
        if len(literals) > len(slots):  # after a value's slot or at the start: a literal to go on
            literals[-1] += part
        else:
            literals.append(part)


def _values(feed: Feed) -> list[str]:
    """The strings of `feed` a frame can print, in a fixed order (`_with_values`)."""
    return [feed.title, feed.description, feed.language, feed.author, feed.home_url,
            *(feed.urls[name] for name in sorted(feed.urls)), *feed.hubs,
            *(href for _, hrefs in feed.links for _, href in sorted(hrefs))]


def _with_values(feed: Feed, values: list[str]) -> Feed:
    """`feed` with the strings `_values` lists replaced by these, in the same order."""
    it = iter(values)
    title, description, language, author, home_url = (next(it) for _ in range(5))
    urls = {name: next(it) for name in sorted(feed.urls)}
    hubs = tuple(next(it) for _ in feed.hubs)
    links = tuple((rel, tuple((name, next(it)) for name, _ in sorted(hrefs))) for rel, hrefs in feed.links)
    return replace(feed, title=title, description=description, language=language, author=author,
                   home_url=home_url, urls=urls, hubs=hubs, links=links)
