"""Worker processes for the two cold-build steps that run across cores: parsing and rendering."""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

Job = TypeVar("Job")
Result = TypeVar("Result")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` workers; forked on Linux, so they start with the parent's modules loaded.

    A worker dies with the process that made it, however that one ends (kill -9 included): left
    alone, a worker blocked on its task queue would wait forever, holding its memory.
    """
    import multiprocessing  # only big cold builds pay for these imports
    from concurrent.futures import ProcessPoolExecutor

    class Pool(ProcessPoolExecutor):
        def __exit__(self, kind: object, *_: object) -> None:
            # On an error or Ctrl-C, the tasks not started are dropped: waiting for every chunk
            # `map` queued would keep an interrupted build running for as long as the whole.
            self.shutdown(wait=True, cancel_futures=kind is not None)

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    return Pool(max_workers=jobs, mp_context=context, initializer=_worker_started, initargs=(os.getpid(),))


def _worker_started(parent: int) -> None:
    """In each worker, first: die with the parent, and leave Ctrl-C to it (it stops the pool)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        try:
            import ctypes

            # The signal comes when the thread that forked this worker ends: a pool lives inside one
            # call (parse_many, render_items), in the thread that made it, so that is the parent's end.
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent went before the line above took effect
        os._exit(1)


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
