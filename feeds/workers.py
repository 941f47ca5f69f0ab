"""Worker processes for the two cold-build steps that run across cores: parsing and rendering."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

Job = TypeVar("Job")
Result = TypeVar("Result")


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` workers; forked on Linux, so they start with the parent's modules loaded."""
    import multiprocessing  # only big cold builds pay for these imports
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context)


def ordered_map(pool: ProcessPoolExecutor, work: Callable[[Job], Result], jobs: Iterable[Job], *,
                ahead: int) -> Iterator[Result]:
    """`pool.map(work, jobs)` with at most `ahead` jobs submitted and not yet taken: `Executor.map`
    submits every job at once, which would hold every job's arguments (a cold build's articles,
    pickled) in memory at the same time."""
    pending: deque[Future[Result]] = deque()
    for job in jobs:
        pending.append(pool.submit(work, job))
        if len(pending) >= max(1, ahead):
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
