"""The task queue's worker processes beside a web server (`gunmane serve`, `gunmane serve --production`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gunmane.cli.common import err, t


@contextmanager
def task_workers(count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `gunmane worker` processes beside the web server, stopped with it (SIGTERM: a running task is
    finished first; after WORKER_STOP_SECONDS they are killed). None when tasks run inside the request."""
    from django.conf import settings

    if settings.GUNMANE_TASKS == "immediate":
        count = 0
    # a service manager stops the server with SIGTERM: leave through `finally`, which stops the workers too
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    procs = [subprocess.Popen([sys.executable, "-m", "gunmane", "worker"], env=os.environ.copy())
             for _ in range(count)]
    if procs:
        err(t(f"タスクの実行プロセスを {len(procs)} 個起動しました（PDF・Excel・全国の集計表などを作ります）。",
              f"Started {len(procs)} task worker process(es)."))
    owner = os.getpid()
    try:
        yield procs
    finally:
        # gunicorn's web processes are forked inside this block and leave through it too: only the process that
        # started the workers stops them (a recycled web process must not stop the task workers)
        mine = procs if os.getpid() == owner else []
        for proc in mine:
            proc.terminate()
        for proc in mine:
            try:
                proc.wait(timeout=WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


#: how long `gunmane serve` waits for its workers to finish their task when it stops
WORKER_STOP_SECONDS = 30
