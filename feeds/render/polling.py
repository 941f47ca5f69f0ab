"""RSS polling hints, `<ttl>` and `sy:updatePeriod` / `sy:updateFrequency`, derived from the document's max-age.

A reader that does not use WebSub polls. RSS has two ways to say how often to poll: RSS 2.0's `<ttl>`
(minutes a channel may be cached before it is fetched again) and the syndication module's
`sy:updatePeriod` (hourly, daily, weekly, monthly, yearly) with `sy:updateFrequency` (times per
period). Both repeat the document's `Cache-Control: max-age` (`max_age` for subscription documents,
`archive_max_age` for archive documents), so every way of asking gives one answer:

- `<ttl>` is the max-age in whole minutes, rounded up, and at least 1 (the validator wants a positive
  integer, and a max-age of 0, revalidate every time, has no "every 0 minutes");
- the period is the shortest that holds one such interval, and the frequency how many whole intervals
  fit in it, rounded down, so the hint never asks for polling more often than the max-age allows:
  300 s is 5 minutes, hourly 12 times; 90 s is 2 minutes, hourly 30; 3600 s hourly once; 7200 s daily
  12; 86400 s (archives) daily once; 5000 s is 84 minutes, daily 17. A month counts 30 days, a year
  365; beyond a year, yearly once.

Specs: https://www.rssboard.org/rss-specification#ltttlgtSubelementOfLtchannelgt,
https://web.resource.org/rss/1.0/modules/syndication/ (the element names are lowercase there;
feedgen's own syndication extension capitalises them, so it is not used).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

SY = "http://purl.org/rss/1.0/modules/syndication/"
PERIODS = (("hourly", 3600), ("daily", 86400), ("weekly", 7 * 86400), ("monthly", 30 * 86400),
           ("yearly", 365 * 86400))


@dataclass(frozen=True, slots=True)
class Polling:
    ttl: int  # minutes
    period: str  # one of PERIODS' names
    frequency: int  # polls per period, at least 1


def polling(max_age: int) -> Polling:
    """The polling hints for a document served with `Cache-Control: max-age=<max_age>` (see above)."""
    minutes = max(1, -(-max_age // 60))
    interval = minutes * 60
    for period, seconds in PERIODS:
        if interval <= seconds:
            return Polling(minutes, period, seconds // interval)
    return Polling(minutes, "yearly", 1)


class _Syndication(BaseExtension):
    def __init__(self) -> None:
        self.hints: Polling | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"sy": SY}

    def extend_rss(self, feed: Any) -> Any:
        from lxml import etree

        assert self.hints is not None
        channel = feed[0]
        etree.SubElement(channel, f"{{{SY}}}updatePeriod").text = self.hints.period
        etree.SubElement(channel, f"{{{SY}}}updateFrequency").text = str(self.hints.frequency)
        return feed


class _NoEntrySyndication(BaseEntryExtension):
    """Items carry no polling hints."""


def add_polling(fg: FeedGenerator, max_age: int | None) -> None:
    """Give an RSS generator `<ttl>` and the `sy:` hints for `max_age` (nothing when it is None).

    Both go in the channel before the items (feedgen writes `ttl` and runs extensions first), so they
    are part of the frame that item fragments are spliced into."""
    if max_age is None:
        return
    hints = polling(max_age)
    fg.ttl(hints.ttl)
    fg.register_extension("feedpub_polling", _Syndication, _NoEntrySyndication, atom=False, rss=True)
    extension: _Syndication = fg.feedpub_polling  # set by register_extension
    extension.hints = hints
