"""Normalising untrusted text and URLs, once, on the way in.

Every string that reaches a renderer has passed through here: characters XML forbids are gone,
HTML entities the crawler left behind are decoded (so the renderers escape exactly once), and
links are absolute http(s) URIs.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

# XML 1.0 allows only #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# C1 controls (U+0080–U+009F) are legal but are always mojibake in news text, so they go too.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# JSON writers escape an emoji as a surrogate pair (`"\\ud83d\\ude00"`) and YAML hands over the halves.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
# Whitespace a reader would not show at the ends of a headline: NBSP, soft hyphen, zero-width.
_EDGE = " \t\r\n\u00a0\u00ad\u200b\u200c\u200d\u2060\ufeff"
_SPACE_RUN = re.compile(r"\s+")

TITLE_LIMIT = 300
SUMMARY_LIMIT = 2000
NAME_LIMIT = 200


def strip_forbidden(text: str) -> str:
    """`text` without the characters XML forbids; an escaped surrogate pair becomes its one character."""
    if _FORBIDDEN.search(text) is None:  # nearly always: one scan, not two substitutions
        return text
    text = _SURROGATE_PAIR.sub(_join_pair, text)
    return _FORBIDDEN.sub("", text)


# The bytes by which valid UTF-8 spells the characters `strip_forbidden` drops: C0 controls but
# tab, newline and return, and DEL, are single bytes (never part of a longer sequence); C1 controls
# (U+0080-U+009F) are C2 80-C2 9F; U+FFFE and U+FFFF are EF BF BE and EF BF BF. Surrogates cannot be
# spelled in valid UTF-8 at all.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def utf8_is_clean(data: bytes) -> bool:
    """Whether valid UTF-8 `data` decodes to text `strip_forbidden` leaves as it is: `_FORBIDDEN`,
    checked on bytes without decoding them (a file's front matter, on its way to the C accelerator)."""
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        return False
    at = data.find(b"\xc2")
    while at != -1:  # a lead byte, so a continuation byte follows it
        if data[at + 1] <= 0x9F:
            return False
        at = data.find(b"\xc2", at + 2)
    at = data.find(b"\xef\xbf")
    while at != -1:
        if data[at + 2] >= 0xBE:
            return False
        at = data.find(b"\xef\xbf", at + 3)
    return True


def _join_pair(match: re.Match[str]) -> str:
    pair = match.group()
    high, low = pair[0], pair[1]
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def clean_text(value: object, *, limit: int) -> str:
    """Plain text safe for any feed: decoded entities, no forbidden characters, one line, bounded."""
    if not isinstance(value, str):
        return ""
    if _already_clean(value, limit):
        return value
    return slow_clean_text(value, limit=limit)


def _already_clean(value: str, limit: int) -> bool:
    # Most titles and names come in clean, and cleaning them was a third of reading an article.
    # Printable means no control, format (soft hyphen, zero-width) or separator character but the
    # ASCII space, so nothing forbidden, no whitespace `\s` matches but single spaces, and no edge
    # character but a space; with no `&` there is no entity and with no double space no run.
    # `tests/test_properties.py` proves this path and `slow_clean_text` agree.
    return (len(value) <= limit and value.isprintable() and "&" not in value and "  " not in value
            and value[:1] != " " and value[-1:] != " " and (value.isascii() or unicodedata.is_normalized("NFC", value)))


def slow_clean_text(value: str, *, limit: int) -> str:
    """`clean_text` for any text: unescaped, stripped, collapsed, normalised and cut."""
    bound = limit * 4  # bound the work on a 100 KB field before the regexes run
    text = html.unescape(value[:bound])
    text = strip_forbidden(text)
    text = _SPACE_RUN.sub(" ", text).strip(_EDGE)
    # Entities and whitespace runs shrink in cleaning, so text cut by the bound may now fit the
    # limit: it is still incomplete and must still say so.
    return truncate(unicodedata.normalize("NFC", text), limit, cut=len(value) > bound)


def truncate(text: str, limit: int, *, cut: bool = False) -> str:
    """Cut at a word boundary (a character boundary for unspaced scripts), marking the cut.

    `cut` marks text that is already incomplete even when it fits the limit.
    """
    if len(text) <= limit and not cut:
        return text
    end = min(len(text), limit - 1)
    space = text.rfind(" ", 0, end)
    if space > limit // 2:
        end = space
    else:
        # Never part a letter from its accent or an emoji from its modifier or joiner.
        while end > 0 and end < len(text) and (_joins_previous(text[end]) or text[end - 1] == "\u200d"):
            end -= 1
    return text[:end].rstrip(_EDGE + ".,;:") + "…"


def _joins_previous(char: str) -> bool:
    # Combining marks (accents, vowel signs, variation selectors) and skin-tone modifiers.
    return unicodedata.category(char) in ("Mn", "Mc", "Me") or "\U0001f3fb" <= char <= "\U0001f3ff"


# Most URLs are already clean: lowercase scheme and host, no port, userinfo or fragment, and only
# characters the slow path leaves alone. Those are returned as they are, without splitting and
# re-quoting (a sizeable share of parsing an article); `tests/test_properties.py` proves both agree.
_PLAIN_URL = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]+)?"
)


def clean_url(value: object) -> str | None:
    """An absolute http(s) URI, or None.

    Non-ASCII hosts become punycode and non-ASCII or space characters in the path are
    percent-encoded, so the result is a valid URI in every format.
    """
    if isinstance(value, str) and len(value) <= 2048 and _PLAIN_URL.fullmatch(value):
        return value
    return slow_clean_url(value)


def slow_clean_url(value: object) -> str | None:
    """`clean_url` for any input: split, checked and re-quoted."""
    if not isinstance(value, str):
        return None
    raw = strip_forbidden(value).strip(_EDGE)
    if not raw or len(raw) > 2048:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    if ":" in host:  # an IPv6 address, which urlsplit gives without its brackets
        host = f"[{host}]"
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if not re.fullmatch(r"[a-z0-9.\-_]+|\[[0-9a-f:.]+\]", host):
        return None
    netloc = host + (f":{port}" if port is not None else "")
    safe = "/%:@!$&'()*+,;=-._~"
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=safe) or "/",
            quote(parts.query, safe=safe + "?"),
            quote(parts.fragment, safe=safe + "?"),
        )
    )


def domain_key(value: object) -> str | None:
    """A provider's domain as a stable feed key: lowercased, no port, no trailing dot, no `www.`."""
    if not isinstance(value, str):
        return None
    raw = strip_forbidden(value).strip(_EDGE).lower()
    if "://" in raw:
        raw = urlsplit(raw).netloc
    raw = raw.split("/", 1)[0].rsplit("@", 1)[-1]
    raw = re.sub(r":\d*$", "", raw.rstrip(".")).rstrip(".")  # `example.com.:443` and `example.com:443.`
    if raw.startswith("www."):
        raw = raw[4:]
    try:
        raw = raw.encode("idna").decode("ascii") if not raw.isascii() else raw
    except UnicodeError:
        return None
    # A domain is a key in a URL path: only label characters, no empty label (`..`), and at least
    # one dot, so that what is left of a path such as `news/world` does not pass for a domain.
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-_]{0,62}(?:\.[a-z0-9\-_]{1,63})+", raw) or len(raw) > 253:
        return None
    return raw
