"""The worker process: one job at a time from its supervisor, through `run_job`.

A worker is *spawned* (a fresh interpreter, never a fork: GL, EGL and CUDA state do not
survive one), takes jobs over a pipe and answers with progress and an outcome. It
dies with its supervisor: the kernel sends it SIGTERM when the parent goes (Linux's
PR_SET_PDEATHSIG), and a watchdog thread notices a new parent pid everywhere else.
SIGTERM unwinds the render like Ctrl-C, so its temporary file is removed on the way out.
SIGINT and SIGHUP, which a terminal sends to the whole process group, are ignored: the
supervisor hears them too and stops its workers itself.

Measured with `reel render -j 2` (two 1080p outputs, 2-core machine): after `kill -9` of
the parent both workers and multiprocessing's resource tracker are gone within 0.3 s,
and no partial file is left (each worker's SIGTERM unwinds its render; the tracker
exits when the last process holding its pipe does).

Messages, worker → supervisor (tuples, so they pickle small):
    ("progress", job_id, JobProgress fields as a dict)
    ("done", job_id, [report dicts])
    ("failed", job_id, error type name, one-line message, user_error)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection

__all__ = ["DEAD_MAN_SECONDS", "WorkerConfig", "die_with_parent", "worker_main"]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# Seconds without any Python thread running before a worker ends itself: longer than
# the supervisor waits for a frame (supervisor.FRAME_TIMEOUT), so it fires only in a
# worker nobody is left to stop.
DEAD_MAN_SECONDS = 90.0


@dataclass(frozen=True)
class WorkerConfig:
    cache_dir: str | None  # None: no output cache
    cache_bytes: int
    memory_limit: int  # bytes a job may plan to use (InsufficientResourcesError above)
    encoder_threads: int
    log_level: int = logging.WARNING


class _Stop(BaseException):
    """SIGTERM: unwind whatever runs (as KeyboardInterrupt would), then exit."""


def _terminated(signum, frame) -> None:
    raise _Stop


def die_with_parent(dead_man: float = DEAD_MAN_SECONDS) -> None:
    """SIGTERM when the parent goes (PR_SET_PDEATHSIG, and a thread that watches for it),
    and a dead-man's timer: `faulthandler`'s watchdog, a C thread that needs no GIL, ends
    the process (`_exit`) unless the watch thread re-arms it every few seconds. It fires
    only when no Python thread has run for `dead_man` seconds: a GL call that never
    returns holds the GIL, so SIGTERM's handler never runs, and without the timer a
    worker orphaned by `kill -9` of its parent would live as long as that call.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass

    silent = open(os.devnull, "w")  # noqa: SIM115 - faulthandler keeps writing to it for the process's life
    # Armed here, not first in the thread: a call that holds the GIL from the moment this
    # returns would keep a new thread from ever running (seen under load in the tests).
    faulthandler.dump_traceback_later(dead_man, exit=True, file=silent)
    rearm_turns = max(1, round(min(5.0, dead_man / 2) / 0.5))  # re-armed well inside `dead_man`

    def watch() -> None:
        turns = 0
        while True:
            time.sleep(0.5)
            turns += 1
            if turns % rearm_turns == 0:
                faulthandler.dump_traceback_later(dead_man, exit=True, file=silent)
            if os.getppid() != parent:  # the supervisor is gone; we were re-parented
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)  # time to unwind and remove temporaries
                os._exit(1)

    threading.Thread(target=watch, name="reel-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # it died before the watch began
        os._exit(1)


def worker_main(conn: Connection, config: WorkerConfig) -> None:
    """Entry point of a spawned worker process."""
    die_with_parent()
    signal.signal(signal.SIGTERM, _terminated)
    # Ctrl-C, and the hangup of a closed terminal, reach the whole process group: the
    # supervisor decides (it stops every worker at once), not each worker by itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    logging.basicConfig(level=config.log_level, format=f"reel worker {os.getpid()}: %(levelname)s: %(message)s")
    from .cache import OutputCache
    from .model import RenderJob
    from .run import run_job

    cache = OutputCache(config.cache_dir, config.cache_bytes) if config.cache_dir else None
    try:
        while True:
            message = conn.recv()
            if message is None:
                return
            job = RenderJob.from_json(message)

            def progress(p, job_id=job.id) -> None:
                conn.send(("progress", job_id, asdict(p)))

            try:
                reports = run_job(
                    job, progress, cache=cache, memory_limit=config.memory_limit, encoder_threads=config.encoder_threads
                )
            except _Stop:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the supervisor, typed
                conn.send(
                    ("failed", job.id, type(exc).__name__, _one_line(exc), bool(getattr(exc, "user_error", False)))
                )
            else:
                conn.send(("done", job.id, [r.to_dict() for r in reports]))
    except (_Stop, EOFError, BrokenPipeError, KeyboardInterrupt):
        return


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 500 else text[:497] + "..."
