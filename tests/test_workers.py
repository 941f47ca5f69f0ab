"""Worker processes die with their parent, even when it is killed with SIGKILL (issue 16, must-have 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

PARENT = """
import os, sys, time
from feedpub.workers import process_pool

def task(_):
    time.sleep(120)  # a worker busy (or blocked) when its parent goes

pool = process_pool(2)
futures = [pool.submit(task, n) for n in range(2)]
time.sleep(0.5)
print(" ".join(str(pid) for pid in pool._processes), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"  # a zombie is gone, only not reaped yet
    except FileNotFoundError:
        return False


def test_workers_exit_when_their_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(pid) for pid in workers), "workers outlived their killed parent"
    finally:
        parent.kill()
        for pid in workers:  # only the workers this test started, by their pid
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
