"""A build's state saved beside the caches, so the next start takes up where the last one left off.

The saved state holds what a `Build` knows (each file's entry and stamp, the catalog, the rendered
feeds and the site), under the key of the settings and code that shaped it (`StoreKeys.state`).
A start with an equal key restores it and reads again only the files whose stamp differs from the
folder's now (`Build.resume`); any other start loads the folder. So a saved state is never served
as it was: at worst it saves no work.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..memory import collector_paused

if TYPE_CHECKING:
    from ..catalog.catalog import Catalog
    from ..render.site import BuilderState, Output

_VERSION = 2


@dataclass(frozen=True, slots=True)
class SavedState:
    key: str  # `StoreKeys.state()`: the settings and code the state was made under
    library: dict[str, object]  # `Library.state()`
    catalog: Catalog
    rendered: BuilderState  # `SiteBuilder.state()`
    site: dict[str, Output]


def read(path: Path, key: str) -> SavedState | None:
    """The state saved at `path` if it was made under the same settings and code; else None."""
    try:
        with collector_paused(), open(path, "rb") as handle:  # collecting was half the time of this
            version, stored = pickle.load(handle)
    except Exception:  # missing, truncated, from another version: only an accelerator
        return None
    if version != _VERSION or not isinstance(stored, SavedState) or stored.key != key:
        return None
    return stored


def write(path: Path, state: SavedState) -> None:
    """Replace the saved state atomically (a reader sees the old file or the new one); errors are ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        try:
            with os.fdopen(fd, "wb") as handle:
                # Streamed: pickling to bytes first would hold a second copy of every body.
                pickle.dump((_VERSION, state), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass
