"""Where jobs run: the `Executor` protocol, the local executor, and `render_many` on top.

An executor accepts `RenderJob`s and reports on them; `run_job` does the work wherever
the executor puts it. `LocalExecutor` keeps the queue in SQLite under a home folder
and runs a `Supervisor` of spawned workers on a thread of this process; other
processes sharing the home (a `reel worker`, a server) see the same jobs.

`render_many` ends the same way whatever stops it: every worker is stopped at once,
every partial file is removed, and what it raises says which videos were finished
and kept (`RenderInterrupted` for Ctrl-C and the signals the CLI turns into it,
`RenderTimeoutError` past its `timeout`).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .. import errors
from ..errors import EngineError, JobFailedError, RenderError, RenderTimeoutError, SpecError
from ..pipeline import ProgressCallback, RenderProgress
from ..report import RenderReport
from .cache import OutputCache
from .model import JobState, OutputRequest, RenderJob
from .run import JobProgress, job_temporaries
from .store import JobRecord, JobStore
from .supervisor import Supervisor

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self is Python 3.11+

__all__ = [
    "Executor",
    "LocalExecutor",
    "RenderInterrupted",
    "describe_outcome",
    "raise_for_job",
    "render_many",
    "wait_for",
]

log = logging.getLogger(__name__)

JobProgressCallback = Callable[[JobProgress], None]

# Error types a job may record under another name than the class that stands for it.
_ERROR_CLASSES = {"JobTimeout": "RenderTimeoutError"}


class RenderInterrupted(KeyboardInterrupt):
    """`render_many` was interrupted (Ctrl-C, or a signal the CLI turns into one).

    `kept` are the paths of the videos finished before it, left in place; `removed` is
    how many outputs had begun writing and were deleted.
    """

    def __init__(self, kept: Sequence[str], removed: int) -> None:
        super().__init__(describe_outcome(kept, removed))
        self.kept, self.removed = list(kept), removed


def describe_outcome(kept: Sequence[str], removed: int) -> str:
    """What a stopped render left: "kept 1 finished video (out/a.mp4), removed 1 partial file"."""
    parts = []
    if kept:
        parts.append(f"kept {len(kept)} finished video{'s' if len(kept) > 1 else ''} ({', '.join(map(str, kept))})")
    elif removed:
        parts.append("no video was finished")
    if removed:
        parts.append(f"removed {removed} partial file{'s' if removed > 1 else ''}")
    return ", ".join(parts) or "no files were written"


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
    `quiet`: the caller raises every failure itself, so the supervisor does not log them
    as warnings (render_many).
    """

    def __init__(
        self,
        settings,
        *,
        home: str | Path | None = None,
        workers: int | None = None,
        cache: bool = True,
        supervise: bool = True,
        quiet: bool = False,
    ) -> None:
        self.settings = settings
        self.store = JobStore(home or settings.home)
        self.cache = open_cache(settings) if cache else None
        self._callbacks: dict[str, JobProgressCallback] = {}
        self.supervisor: Supervisor | None = None
        self._thread: threading.Thread | None = None
        if supervise:
            self.supervisor = Supervisor(
                self.store, settings, workers=workers, cache=self.cache, listeners=[self._relay], quiet=quiet
            )
            self._thread = threading.Thread(
                target=self.supervisor.run, kwargs={"grace": 0}, name="reel-supervisor", daemon=True
            )
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
            if self._thread is not None:
                self._thread.join()
            self.supervisor = None

    def __enter__(self) -> Self:
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
    kind = getattr(errors, _ERROR_CLASSES.get(record.error_type or "", record.error_type or ""), None)
    message = record.error_message or "failed"
    if isinstance(kind, type) and issubclass(kind, EngineError) and kind is not JobFailedError:
        try:
            raise kind(message)
        except TypeError:  # a constructor with other arguments
            pass
    raise JobFailedError(
        f"job {record.id}: {record.error_type}: {message}", record.id, record.error_type or "", bool(record.user_error)
    )


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
    timeout: float | None = None,
    skip_holds: bool = True,
    chunks: int | str | None = None,
    format: str = "mp4",
) -> list[RenderReport]:
    """Render `deck` once per platform into `out_dir`, several at once; reports in `platforms` order.

    Each output is a job for a local executor whose queue lives in a temporary folder
    (no REEL_HOME, no cache: the direct path stays direct). Progress arrives frame by
    frame from the workers. The first failure cancels the rest and is raised.
    A deck built in Python with a figure object cannot cross to a worker process: it
    renders here, one output after another. One output renders here too, unless the
    deck runs a user transition file: its GLSL may never return from a draw, and only
    a worker can be stopped then.

    `timeout` (seconds) limits the whole call: past it every output still rendering is
    stopped and RenderTimeoutError raised. Interrupted (KeyboardInterrupt), it raises
    RenderInterrupted. Either way, no partial file is left, and finished ones are kept.

    `chunks` (a number, or "auto": one per worker, chunks of at least 10 s) cuts each
    output into that many chunks at keyframes, rendered side by side by the workers and
    joined without re-encoding (`engine.jobs.chunked`). Finished chunks stay beside the
    target until the join, so a run stopped half way and started again renders only
    the chunks that were missing.
    """
    from ..api import deck_name, output_path
    from ..output import check_target, refuse_duplicate_targets
    from ..platforms import resolve_output
    from ..settings import load_settings
    from ..spec import load_deck

    loaded = load_deck(deck)
    outputs = [resolve_output(p, quality) for p in platforms]  # bad names fail before any work
    # Two outputs that are one file would silently replace each other; an output that
    # cannot be written fails now, not after the others are made.
    targets = [output_path(out_dir, deck_name(loaded), o, format) for o in outputs]
    refuse_duplicate_targets(targets, [o.label for o in outputs])
    for target in targets:
        check_target(target)
    replaces = [target.exists() for target in targets]
    deadline = None if timeout is None else time.monotonic() + timeout
    single = (len(outputs) == 1 or jobs == 1) and chunks in (None, 1)
    if _holds_python_objects(loaded) or (single and not _runs_transition_files(loaded)):
        reports = _render_here(
            loaded, outputs, targets, compositor, encoder, on_progress, thumbnail, timeout, deadline, skip_holds, format
        )
        return _mark_replaced(reports, replaces)
    settings = settings or load_settings()
    if isinstance(deck, (str, Path, Mapping)):
        source = deck
    else:  # a Deck: its file, else its data (paths in it are absolute already)
        source = loaded.source or loaded.model_dump(mode="json", exclude_unset=True)
    requests = [
        OutputRequest(platform=str(p), quality=quality, encoder=encoder, skip_holds=skip_holds, format=format)
        for p in platforms
    ]
    job_list = [
        RenderJob.for_deck(
            source, [r], out_dir=out_dir, base_dir=loaded.base_dir, compositor=compositor, thumbnail=thumbnail
        )
        for r in requests
    ]
    slots = max(1, min(settings.max_concurrent_videos, _cores()))
    plans = _chunk_plans(job_list, chunks, jobs or slots, loaded.total_duration())
    work = [j for plan in plans for j in plan.pending] if plans else job_list
    workers = jobs or min(max(1, len(work)), slots)
    started = time.perf_counter()
    begun: set[str] = set()  # jobs that have begun writing their file
    lock = threading.Lock()
    chunk_done: dict[str, int] = {}  # chunk job → frames done
    plan_of = {j.id: plan for plan in plans for j in plan.jobs}

    def relay(progress: JobProgress) -> None:
        begun.add(progress.job_id)
        if on_progress is None:
            return
        with lock:
            done, total = progress.frames_done, progress.frames_total
            plan = plan_of.get(progress.job_id)
            if plan is not None:  # frames across all the output's chunks
                chunk_done[progress.job_id] = done
                done = plan.frames_reused() + sum(chunk_done.get(j.id, 0) for j in plan.pending)
                total = plan.frame_count
            on_progress(RenderProgress(progress.output, done, total, time.perf_counter() - started))

    with tempfile.TemporaryDirectory(prefix="reel-jobs-") as home:
        executor = LocalExecutor(
            settings.with_overrides(queue_max=max(settings.queue_max, len(work))),
            home=home,
            workers=workers,
            cache=False,
            quiet=True,
        )
        try:
            for job in work:
                executor.submit(job, relay)
            reports = []
            for job in work:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    record = executor.wait(job.id, timeout=remaining)
                except TimeoutError:
                    raise _TimedOut from None
                raise_for_job(record)
                if job.id in plan_of:
                    plan_of[job.id].finished(job, record.reports[0])
                else:
                    reports.extend(RenderReport.from_dict(r) for r in record.reports)
            for plan in plans:
                reports.append(plan.join())
        except BaseException as exc:
            begun |= {job.id for job in work if job_temporaries(job)}  # writing now, if not a frame yet
            for job in work:
                executor.cancel(job.id)
            executor.close()  # every worker stopped at once: SIGTERM, then SIGKILL
            kept, removed = _settle(executor.store, work, begun)
            if plans:  # finished chunks are kept for the next run, and are not videos
                kept = [r.path for r in reports]
            if isinstance(exc, KeyboardInterrupt):
                raise RenderInterrupted(kept, removed) from exc
            if isinstance(exc, _TimedOut) and timeout is not None:  # only a deadline times out
                raise RenderTimeoutError(_timed_out(timeout, kept, removed)) from None
            raise
        finally:
            executor.close()
    return _mark_replaced(reports, replaces)


def _chunk_plans(job_list: list[RenderJob], chunks: int | str | None, workers: int, seconds: float) -> list:
    """Each job's ChunkPlan, or none when the outputs are not chunked."""
    from .chunked import ChunkPlan, auto_chunks

    if chunks is None or chunks == 1:
        return []
    if chunks == "auto":
        count = auto_chunks(seconds, workers)
        if count == 1:
            return []
    elif isinstance(chunks, int) and chunks > 1:
        count = chunks
    else:
        raise SpecError(f"chunks {chunks!r}: a whole number of at least 1, or auto", "chunks")
    return [ChunkPlan.of(job, count) for job in job_list]


def _mark_replaced(reports: list[RenderReport], replaces: Sequence[bool]) -> list[RenderReport]:
    for report, replaced in zip(reports, replaces):
        report.replaced = report.replaced or replaced
    return reports


class _TimedOut(Exception):
    """render_many's own deadline passed (turned into RenderTimeoutError once all is stopped)."""


def _timed_out(timeout: float, kept: Sequence[str], removed: int) -> str:
    return f"the render ran past its time limit of {timeout:g} s and was stopped; {describe_outcome(kept, removed)}"


def _render_here(
    deck, outputs, targets, compositor, encoder, on_progress, thumbnail, timeout, deadline, skip_holds, format="mp4"
) -> list[RenderReport]:
    """The outputs one after another in this process (render_many without workers)."""
    from ..pipeline import render_output

    reports: list[RenderReport] = []
    writing = [False]

    def progress(p: RenderProgress) -> None:
        writing[0] = True  # the first report comes once its file exists
        if on_progress is not None:
            on_progress(p)

    try:
        for index, (output, target) in enumerate(zip(outputs, targets)):
            writing[0] = False
            remaining = timeout if deadline is None or index == 0 else max(0.0, deadline - time.monotonic())
            reports.append(
                render_output(
                    deck,
                    output,
                    target,
                    compositor=compositor,
                    encoder=encoder,
                    on_progress=progress,
                    thumbnail=thumbnail,
                    timeout=remaining,
                    skip_holds=skip_holds,
                    format=format,
                )
            )
    except KeyboardInterrupt as exc:
        raise RenderInterrupted([r.path for r in reports], int(writing[0])) from exc
    except RenderTimeoutError as exc:
        if len(outputs) == 1:
            raise
        raise RenderTimeoutError(_timed_out(timeout, [r.path for r in reports], int(writing[0]))) from exc
    return reports


def _settle(store: JobStore, job_list: Sequence[RenderJob], begun: set[str]) -> tuple[list[str], int]:
    """After the workers are stopped: the finished videos, and how many partial ones were removed.

    Whatever a stopped worker's temporary file was, it is deleted here too (a worker
    killed with SIGKILL could not), so the count is of outputs that had begun.
    """
    kept: list[str] = []
    removed = 0
    for job in job_list:
        record = store.get(job.id)
        if record.state == JobState.DONE:
            kept.extend(r["path"] for r in record.reports or [])
            continue
        leftovers = job_temporaries(job)
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        removed += job.id in begun or bool(leftovers)
    return kept, removed


def _runs_transition_files(deck) -> bool:
    """Whether a user GLSL transition file is in the deck (a render that must run in a worker)."""
    from ..usershader import user_transition_file

    return any(user_transition_file(t.transition) is not None for t in deck.timings())


def _holds_python_objects(deck) -> bool:
    return any(getattr(slide, "figure", None) is not None for slide in deck.slides)


def _cores() -> int:
    from .._host import usable_cores

    return usable_cores()
