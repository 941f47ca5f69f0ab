"""Worker processes for the two cold-build steps that run across cores: parsing and rendering."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` workers; forked on Linux, so they start with the parent's modules loaded."""
    import multiprocessing  # only big cold builds pay for these imports
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)
