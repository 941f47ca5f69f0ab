"""Log and report lines that a file name cannot forge: control characters and undecodable bytes escaped.

A file name may hold a newline (`a.md\\nERROR: …` would print a second, made-up line) or bytes that
are not UTF-8 (kept as surrogates by the folder walk). Every line feedpub writes about a file goes
through `printable`: the escapes are Python's own (`\\n`, `\\x1b`, `\\udcff` for byte 0xff).
"""

from __future__ import annotations

import logging
import re

# C0 and C1 controls, DEL, the line and paragraph separators, and lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def plural(count: int, noun: str) -> str:
    """`1 feed`, `2 feeds`, `0 feeds`: counts in what a person reads."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def printable(text: str) -> str:
    """`text` with every character that could end or disguise a line written as an escape."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if "\udc80" <= char <= "\udcff":  # a byte that was not UTF-8, as the folder walk keeps it
        return f"\\x{ord(char) - 0xDC00:02x}"
    if "\ud800" <= char <= "\udfff":
        return f"\\u{ord(char):04x}"
    return char.encode("unicode_escape").decode("ascii")


class Printable(logging.Filter):
    """A handler filter: the record's message made `printable` (tracebacks keep their lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = printable(message)
        if shown != message:
            record.msg, record.args = shown, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Put `Printable` on every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(existing, Printable) for existing in handler.filters):
            handler.addFilter(Printable())
