"""What `reel serve` runs besides the API: the job store, a sweeper of finished jobs'
uploads and, unless told not to, a local supervisor of workers on a thread; and how they
stop on SIGTERM.

Stopping is in two steps: `begin_stop` refuses new jobs (503) and asks the supervisor to
finish, which gives running jobs `grace` seconds and queues again what is still running
(exactly as `reel worker` on SIGTERM); `wait_stopped` returns once it has.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from ..jobs import JobStore, OutputCache, Supervisor, open_cache
from ..settings import Settings
from .intake import sweep_uploads

__all__ = ["UPLOAD_SWEEP_SECONDS", "Service"]

#: How often the uploads of finished jobs are deleted (their outputs stay).
UPLOAD_SWEEP_SECONDS = 60.0

log = logging.getLogger(__name__)


class Service:
    def __init__(self, settings: Settings, *, workers: bool, worker_count: int | None = None, grace: float = 30.0):
        self.settings = settings
        self.store = JobStore(settings.home)
        self.cache: OutputCache | None = open_cache(settings)
        self.workers = workers
        self.grace = grace
        self.supervisor = (
            Supervisor(
                self.store, settings, workers=worker_count, cache=self.cache, frame_timeout=settings.frame_timeout_s
            )
            if workers
            else None
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_uploads, name="reel-uploads", daemon=True)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._sweeper.start()
        if self.supervisor is not None and self._thread is None:
            supervisor = self.supervisor
            self._thread = threading.Thread(
                target=lambda: supervisor.run(grace=self.grace), name="reel-supervisor", daemon=True
            )
            self._thread.start()

    def _sweep_uploads(self) -> None:
        """Delete finished jobs' uploads now and then, until the server stops."""
        while True:
            try:
                sweep_uploads(self.settings.home, self.store)
            except (sqlite3.Error, OSError) as exc:  # the next round tries again
                log.warning("cannot sweep finished jobs' uploads: %s", exc)
            if self._stopping.wait(UPLOAD_SWEEP_SECONDS):
                return

    def not_ready(self) -> str | None:
        """Why the server cannot take and run jobs now, or None."""
        if self.stopping:
            return "shutting down"
        try:
            self.store.counts()
        except (sqlite3.Error, OSError) as exc:  # the queue's file cannot be read
            return f"the job queue cannot be read: {exc}"
        if self.workers and (self._thread is None or not self._thread.is_alive()):
            return "the local worker supervisor is not running"
        return None

    def begin_stop(self) -> None:
        self._stopping.set()
        if self.supervisor is not None:
            self.supervisor.stop()

    def wait_stopped(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
