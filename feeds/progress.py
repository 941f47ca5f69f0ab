"""Progress bars for long work (reading a folder, rendering its articles), on a terminal only.

A bar shows only when the work takes more than half a second, and is cleared when it ends, so a
quick run, a pipe or a log file sees none of it (tqdm's `disable=None`: no bar off a terminal).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


class Progress:
    """The bars of one load: each `reading` or `rendering` call opens one; `close` clears them all."""

    def __init__(self) -> None:
        self._bars: list[Any] = []

    def reading(self, total: int) -> Callable[[int], None]:
        return self._bar(total, "file", "reading")

    def rendering(self, total: int) -> Callable[[int], None]:
        return self._bar(total, "article", "rendering")

    def _bar(self, total: int, unit: str, what: str) -> Callable[[int], None]:
        from tqdm import tqdm

        self._close_open()  # one phase after the other: the last bar goes when the next begins
        bar = tqdm(total=total, unit=unit, desc=what, file=sys.stderr, delay=0.5, disable=None, leave=False)
        self._bars.append(bar)
        return bar.update

    def _close_open(self) -> None:
        for bar in self._bars:
            bar.close()
        self._bars = []

    def close(self) -> None:
        self._close_open()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
