"""Worker processes for the two cold-build steps that run across cores: parsing and rendering."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

Job = TypeVar("Job")
Result = TypeVar("Result")

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_HELD = (signal.SIGINT, signal.SIGTERM)
# The C functions under `signal.signal` and `signal.getsignal`: those wrap each handler in an enum
# lookup that fails, slowly, for a Python handler (~15 µs a `signals_held`, which every submit to a
# pool takes: ~3,000 of them in a cold export at 100k). The same calls, without the wrapping.
try:
    import _signal  # type: ignore[import-not-found]  # CPython's C module, without stubs

    _set_handler: Callable[[int, Any], Any] = _signal.signal
    _get_handler: Callable[[int], Any] = _signal.getsignal
except ImportError:  # pragma: no cover - CPython has it
    _set_handler, _get_handler = signal.signal, signal.getsignal


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait at the door of this block, and are raised as soon as it ends.

    For code that forks or changes a pool's shared state. A Ctrl-C whose handler runs inside
    `os.fork` runs in an at-fork hook, which swallows the KeyboardInterrupt ("Exception ignored
    in _releaseLock") and can leave logging's lock held; one raised inside a process pool's
    submit or shutdown leaves the pool half-started, and the interpreter's exit then waits on it
    for ever. Held here, the same signal is raised a moment later, in plain code, where the
    caller's clean-up runs. The handlers are swapped rather than the signals masked: a mask is
    per thread, and the kernel hands a masked signal to another thread (the pool's own), whose
    C handler flags it for this one all the same. Python runs signal handlers only in the main
    thread, so elsewhere there is nothing to hold. A child forked inside inherits the stand-in:
    see `release_held_signals`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # Only a handler written in Python can raise in the wrong place; a default action (SIGTERM's,
    # unless someone set one) ends the process in C, which is what it should do anywhere.
    previous = {number: handler for number in _HELD if callable(handler := _get_handler(number))}
    caught: list[int] = []
    for held in previous:
        _set_handler(held, lambda number, _: caught.append(number))
    try:
        yield
    finally:
        for held, handler in previous.items():
            _set_handler(held, handler)
        for came in dict.fromkeys(caught):  # each signal once, in the order they came
            previous[signal.Signals(came)](came, None)


def release_held_signals() -> None:
    """In a child forked inside `signals_held`: the default actions again, not the parent's stand-in."""
    for number in _HELD:
        signal.signal(number, signal.SIG_DFL)


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of `jobs` workers; forked on Linux, so they start with the parent's modules loaded.

    A worker dies with the process that made it, however that one ends (kill -9 included): left
    alone, a worker blocked on its task queue would wait forever, holding its memory.
    """
    import multiprocessing  # only big cold builds pay for these imports
    from concurrent.futures import ProcessPoolExecutor

    class Pool(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            _widen_pipes(self)

        def submit(self, fn: Callable[..., Result], /, *args: Any, **kwargs: Any) -> Future[Result]:
            with signals_held():  # the first submit forks the workers
                return super().submit(fn, *args, **kwargs)

        def __exit__(self, kind: object, *_: object) -> None:
            # On an error or Ctrl-C, the tasks not started are dropped: waiting for every chunk
            # `map` queued would keep an interrupted build running for as long as the whole. The
            # wait is for the chunks under way, one per worker, a few milliseconds each.
            shut_down(self, cancel=kind is not None)

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    return Pool(max_workers=jobs, mp_context=context, initializer=_worker_started, initargs=(os.getpid(),))


# A worker's result (a chunk's fragments, ~1.6 MB for 200 articles in three formats and the page)
# went through the default 64 KB pipe in ~25 turns of writer and reader: a worker waited for the
# parent to drain each turn, and at 10k articles the render workers were idle ~45% of their span.
# With a pipe that holds a whole result, the worker hands it over in one write and goes on to the
# next chunk. 1 MiB is what /proc/sys/fs/pipe-max-size lets any process ask for by default.
_PIPE_SIZES = (4 << 20, 1 << 20)


def _widen_pipes(pool: ProcessPoolExecutor) -> None:
    """Give the pool's task and result pipes room for a whole chunk, where the system allows it."""
    import fcntl

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if setting is None:
        return
    for name in ("_call_queue", "_result_queue"):  # ProcessPoolExecutor's own; absent elsewhere, skipped
        reader = getattr(getattr(pool, name, None), "_reader", None)
        if reader is None:
            continue
        for size in _PIPE_SIZES:
            try:
                fcntl.fcntl(reader.fileno(), setting, size)
                break
            except OSError:  # above the system's limit for this process: try the next size
                continue


class Crew:
    """Worker processes one build's steps share: forked when the first step asks (the parse), while
    this process is still small, and handed to the next (the render).

    A pool forked for the render was forked from the whole read folder (~240 MB at 10k articles):
    every page this process then wrote (a reference count is a write) was copied first, ~22,000
    copy-on-write faults in the render at 10k, and the workers started cold. The parse workers were
    forked before any article was read; they import the renderers while this process builds the
    catalogue (`warm`). A step that needs workers forked later (they inherit a spool's descriptor)
    closes the crew and forks its own.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        """The workers, forked now if they are not yet."""
        if self._pool is None:
            self._pool = process_pool(self.jobs)
        return self._pool

    def warm(self, module: str) -> None:
        """Have the workers, if they are forked, import `module` now, without waiting for them: the
        tasks go one per idle worker, and any later task waits behind them."""
        if self._pool is not None:
            for _ in range(self.jobs):
                self._pool.submit(_imported, module)

    def close(self, *, cancel: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            shut_down(pool, cancel=cancel)

    def __enter__(self) -> Crew:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self.close(cancel=kind is not None)  # as `process_pool`'s: an error drops the tasks not started


def shut_down(pool: ProcessPoolExecutor, *, cancel: bool) -> None:
    """Wait for the pool's workers to finish their tasks (`cancel`: drop those not started) and end,
    with Ctrl-C and SIGTERM held meanwhile (see `signals_held`)."""
    with signals_held():
        pool.shutdown(wait=True, cancel_futures=cancel)


def _imported(module: str) -> None:
    """In a worker: `module` imported (a module itself could not be sent back)."""
    import importlib

    importlib.import_module(module)


def stop_now(pool: ProcessPoolExecutor) -> None:
    """End a pool whose start failed part way (a second fork refused: a pids limit, no memory): the
    workers already forked wait on their queue, the pool's manager thread that would stop them was
    never made, and the interpreter's exit would join them for ever. They are terminated instead."""
    with signals_held():
        processes = list((getattr(pool, "_processes", None) or {}).values())  # ProcessPoolExecutor's own
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        pool.shutdown(wait=False, cancel_futures=True)


def _worker_started(parent: int) -> None:
    """In each worker, first: die with the parent, and leave Ctrl-C to it (it stops the pool)."""
    release_held_signals()  # forked inside `Pool.submit`; SIGTERM ends a worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        try:
            import ctypes

            # The signal comes when the thread that forked this worker ends: a pool lives inside one
            # call (parse_many, render_items, a build's `load` for its `Crew`), in the thread that made
            # it, so that is the parent's end.
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
