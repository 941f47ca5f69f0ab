"""Saving the live server's build state for the next start, and reading it back at a start.

The state is saved after a full load (by the watcher, off the start-up path) and at a graceful
stop, whenever it changed since it was saved (see `Rebuilder.version`).
"""

from __future__ import annotations

from pathlib import Path

from feedpub.stores import saved_state
from feedpub.stores.databases import cache_path
from feedpub.stores.saved_state import SavedState

from .rebuilder import Rebuilder


class Persistence:
    def __init__(self, rebuilder: Rebuilder, cache_dir: Path | None) -> None:
        self.rebuilder = rebuilder
        self.path = cache_path(cache_dir, "site", rebuilder.root, suffix=".state") if cache_dir else None
        # Where feedpub before the plain-value state kept a pickle (never read now): removed at a save.
        self._old = cache_path(cache_dir, "site", rebuilder.root, suffix=".pickle") if cache_dir else None
        self._saved: int | None = None  # the rebuilder's version saved last; None: none saved yet

    @property
    def dirty(self) -> bool:
        """What the build knows differs from the state saved last (or there is none)."""
        return self._saved != self.rebuilder.version

    def read(self) -> SavedState | None:
        """The state an earlier run saved under the same settings and code, if any."""
        if self.path is None:
            return None
        return saved_state.read(self.path, self.rebuilder.state_key)

    def mark_saved(self) -> None:
        """The state on disk is what the build knows now (a resumed start that changed nothing)."""
        self._saved = self.rebuilder.version

    def save(self) -> None:
        """Save the state if it changed since last saved. The caller holds the build (`Rebuilder.locked`)."""
        if self.dirty and self.path is not None and self.rebuilder.summary is not None:
            saved_state.write(self.path, self.rebuilder.saved_state())
            self.mark_saved()
            if self._old is not None:
                self._old.unlink(missing_ok=True)

    def save_on_exit(self) -> None:
        """At shutdown: save the state, so the next start reads only the files changed meanwhile."""
        with self.rebuilder.building:
            if not self.rebuilder.held:  # not the last good state of a folder that is gone
                self.save()
