"""Exchanging two paths in one step: Linux's `renameat2(RENAME_EXCHANGE)`, called through ctypes.

Python's `os` has no renameat2. glibc exports it since 2.28 (and musl since 1.2.4); the kernel has
had it since 3.15, but not every filesystem implements the exchange (some network and FUSE ones
answer EINVAL). Where it cannot be done, `exchange` raises `ExchangeUnsupported` and the caller
falls back to something weaker; any other failure is an ordinary `OSError`.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path

_AT_FDCWD = -100  # <fcntl.h>: relative paths are taken from the current folder
_RENAME_EXCHANGE = 1 << 1  # <linux/fs.h>

# What a kernel, libc or filesystem without the exchange answers.
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP}


class ExchangeUnsupported(OSError):
    """This system or filesystem cannot exchange two paths atomically."""


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc older than glibc 2.28, or without the symbol
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def available() -> bool:
    """Whether the C library offers renameat2 at all (the filesystem may still refuse it)."""
    return _renameat2() is not None


def exchange(first: Path, second: Path) -> None:
    """Swap what `first` and `second` name, in one step: a reader sees one or the other, never
    neither. Both must exist, on the same filesystem; they may be of different types (a folder and
    a symlink, say)."""
    function = _renameat2()
    if function is None:
        raise ExchangeUnsupported(errno.ENOSYS, "renameat2 is not available on this system", str(second))
    if function(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return
    code = ctypes.get_errno()
    kind = ExchangeUnsupported if code in _UNSUPPORTED else OSError
    raise kind(code, os.strerror(code), str(second))
