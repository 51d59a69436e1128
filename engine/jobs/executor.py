"""Where jobs run: the `Executor` protocol, the local executor, and `render_many` on top.

An executor accepts `RenderJob`s and reports on them; `run_job` does the work wherever
the executor puts it. `LocalExecutor` keeps the queue in SQLite under a home folder
and runs a `Supervisor` of spawned workers on a thread of this process; other
processes sharing the home (a `reel worker`, a server) see the same jobs.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

from .. import errors
from ..errors import EngineError, JobFailedError, RenderError
from ..pipeline import ProgressCallback, RenderProgress
from ..report import RenderReport
from .cache import OutputCache
from .model import JobState, OutputRequest, RenderJob
from .run import JobProgress
from .store import JobRecord, JobStore
from .supervisor import Supervisor

__all__ = ["Executor", "LocalExecutor", "render_many", "raise_for_job", "wait_for"]

log = logging.getLogger(__name__)

JobProgressCallback = Callable[[JobProgress], None]


class Executor(Protocol):
    """What the CLI, the Python API and a server need from wherever jobs run."""

    def submit(self, job: RenderJob, on_progress: JobProgressCallback | None = None) -> JobRecord: ...

    def get(self, job_id: str) -> JobRecord: ...

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord: ...

    def cancel(self, job_id: str) -> JobRecord: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Jobs in `home`'s queue, run by a supervisor of worker processes on this machine.

    With `supervise=False` it only submits and reads: the jobs wait for a `reel worker`.
    """

    def __init__(
        self,
        settings,
        *,
        home: str | Path | None = None,
        workers: int | None = None,
        cache: bool = True,
        supervise: bool = True,
    ) -> None:
        self.settings = settings
        self.store = JobStore(home or settings.home)
        self.cache = open_cache(settings) if cache else None
        self._callbacks: dict[str, JobProgressCallback] = {}
        self.supervisor = None
        self._thread = None
        if supervise:
            self.supervisor = Supervisor(self.store, settings, workers=workers, cache=self.cache, listeners=[self._relay])
            self._thread = threading.Thread(target=self.supervisor.run, kwargs={"grace": 0}, name="reel-supervisor", daemon=True)
            self._thread.start()

    def submit(self, job: RenderJob, on_progress: JobProgressCallback | None = None) -> JobRecord:
        if on_progress is not None:
            self._callbacks[job.id] = on_progress
        return self.store.submit(job, max_attempts=self.settings.max_attempts, queue_max=self.settings.queue_max)

    def get(self, job_id: str) -> JobRecord:
        return self.store.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        return wait_for(self.store, job_id, timeout=timeout, alive=self._alive)

    def cancel(self, job_id: str) -> JobRecord:
        return self.store.cancel(job_id)

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
            self._thread.join()
            self.supervisor = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _relay(self, job_id: str, progress: JobProgress) -> None:
        callback = self._callbacks.get(job_id)
        if callback is not None:
            callback(progress)

    def _alive(self) -> None:
        if self._thread is not None and not self._thread.is_alive():
            raise RenderError("the supervisor thread stopped; see the log")


def open_cache(settings) -> OutputCache | None:
    """The shared output cache under REEL_HOME, or None where CACHE_SIZE_GB is 0."""
    if settings.cache_bytes <= 0:
        return None
    return OutputCache(Path(settings.home) / "cache", settings.cache_bytes)


def wait_for(
    store: JobStore,
    job_id: str,
    *,
    timeout: float | None = None,
    poll: float = 0.1,
    on_update: Callable[[JobRecord], None] | None = None,
    alive: Callable[[], None] | None = None,
) -> JobRecord:
    """Poll `store` until the job ends; its final record. TimeoutError after `timeout` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        record = store.get(job_id)
        if on_update is not None:
            on_update(record)
        if record.final:
            return record
        if alive is not None:
            alive()
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {record.state} after {timeout:g} s")
        time.sleep(poll)


def raise_for_job(record: JobRecord) -> None:
    """Raise what a failed or cancelled job failed with, as the engine's own error type."""
    if record.state == JobState.DONE:
        return
    if record.state == JobState.CANCELLED:
        raise JobFailedError(f"job {record.id} was cancelled", record.id, "cancelled")
    kind = getattr(errors, record.error_type or "", None)
    message = record.error_message or "failed"
    if isinstance(kind, type) and issubclass(kind, EngineError) and kind is not JobFailedError:
        try:
            raise kind(message)
        except TypeError:  # a constructor with other arguments
            pass
    raise JobFailedError(f"job {record.id}: {record.error_type}: {message}", record.id, record.error_type or "", bool(record.user_error))


# -- render_many: several outputs at once, through the local executor -----------------------


def render_many(
    deck,
    out_dir: str | Path,
    platforms: Sequence[str],
    *,
    quality: str = "standard",
    compositor: str = "auto",
    encoder: str = "auto",
    jobs: int | None = None,
    on_progress: ProgressCallback | None = None,
    settings=None,
    thumbnail: bool = False,
) -> list[RenderReport]:
    """Render `deck` once per platform into `out_dir`, several at once; reports in `platforms` order.

    Each output is a job for a local executor whose queue lives in a temporary folder
    (no REEL_HOME, no cache: the direct path stays direct). Progress arrives frame by
    frame from the workers. The first failure cancels the rest and is raised.
    A deck built in Python with a figure object cannot cross to a worker process: it
    renders here, one output after another.
    """
    from ..api import deck_name, output_path
    from ..pipeline import render_output
    from ..platforms import resolve_output
    from ..settings import load_settings
    from ..spec import load_deck

    loaded = load_deck(deck)
    outputs = [resolve_output(p, quality) for p in platforms]  # bad names fail before any work
    if len(outputs) == 1 or jobs == 1 or _holds_python_objects(loaded):
        name = deck_name(loaded)
        return [
            render_output(loaded, o, output_path(out_dir, name, o), compositor=compositor, encoder=encoder,
                          on_progress=on_progress, thumbnail=thumbnail)
            for o in outputs
        ]
    settings = settings or load_settings()
    if isinstance(deck, (str, Path, Mapping)):
        source = deck
    else:  # a Deck: its file, else its data (paths in it are absolute already)
        source = loaded.source or loaded.model_dump(mode="json", exclude_unset=True)
    requests = [OutputRequest(platform=str(p), quality=quality, encoder=encoder, path=None) for p in platforms]
    job_list = [
        RenderJob.for_deck(source, [r], out_dir=out_dir, base_dir=loaded.base_dir, compositor=compositor, thumbnail=thumbnail)
        for r in requests
    ]
    workers = jobs or min(len(job_list), max(1, min(settings.max_concurrent_videos, _cores())))
    started = time.perf_counter()
    lock = threading.Lock()

    def relay(progress: JobProgress) -> None:
        if on_progress is not None:
            with lock:
                on_progress(RenderProgress(progress.output, progress.frames_done, progress.frames_total, time.perf_counter() - started))

    with tempfile.TemporaryDirectory(prefix="reel-jobs-") as home:
        with LocalExecutor(settings.with_overrides(queue_max=max(settings.queue_max, len(job_list))), home=home, workers=workers, cache=False) as executor:
            for job in job_list:
                executor.submit(job, relay)
            reports = []
            try:
                for job in job_list:
                    record = executor.wait(job.id)
                    raise_for_job(record)
                    reports.extend(RenderReport.from_dict(r) for r in record.reports)
            except BaseException:
                for job in job_list:
                    executor.cancel(job.id)
                raise
    return reports


def _holds_python_objects(deck) -> bool:
    return any(getattr(slide, "figure", None) is not None for slide in deck.slides)


def _cores() -> int:
    from .._host import usable_cores

    return usable_cores()
