"""feedgen's own extensions (Media RSS, Dublin Core), registered by class.

`FeedGenerator.load_extension("media")` imports `feedgen.ext.media_entry`, a module that does not
exist, on every call: the failed import searches the whole sys.path each time, ~75 µs a frame and
~1.3 s of an export at 100k with archives (one frame per archive document). Registering the classes
it would find registers exactly the same extension.
"""

from __future__ import annotations

import feedgen.feed  # noqa: F401 - first: feedgen.util, which the extensions import, uses lxml.etree unimported

# isort: split
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.ext.media import MediaEntryExtension, MediaExtension
from feedgen.feed import FeedGenerator


def add_media(fg: FeedGenerator, fmt: str) -> None:
    fg.register_extension("media", MediaExtension, MediaEntryExtension, atom=fmt == "atom", rss=fmt == "rss")


def add_dc(fg: FeedGenerator, fmt: str) -> None:
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=fmt == "atom", rss=fmt == "rss")
