"""Keeping a large, long-lived build cheap to hold: the cyclic collector and the C heap."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside: for work that makes many long-lived objects and almost no
    garbage (a load, a resume, unpickling a saved state: ~1M objects at 100,000 articles), where the
    collector would only walk them again and again. Nests: the collector comes back on only if it
    was on when the outermost pause began."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def release_free_memory() -> None:
    """Hand the heap pages a load freed back to the OS (glibc keeps them otherwise): a load's
    transient objects (cache rows, a saved state's spare bodies) would stay resident for the process's life."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
