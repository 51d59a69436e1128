"""The local supervisor: takes jobs from the queue and runs each in a spawned worker process.

One loop, on one thread, does everything that decides: it claims jobs the machine has
room for, hands them to idle workers (starting or recycling workers as needed),
relays their progress, records outcomes, and watches for what goes wrong:

- a worker that exits mid-job (a crash, `kill -9`): the job is retried, with backoff,
  up to its attempts; what the worker was writing is removed;
- a job past the timeout, a cancel request, a worker past its memory limit: the
  worker is stopped (SIGTERM, then SIGKILL), and the job failed, cancelled or retried;
- a worker that stops sending frames mid-render (`frame_timeout`: a frame of a user
  transition shader that never finishes holds the GIL inside one GL call, so only
  killing the process ends it): stopped, and the job fails with RenderTimeoutError;
- a worker the kernel OOM-killed (SIGKILL while the cgroup's oom_kill count rose): the
  job fails with InsufficientResourcesError, naming the cgroup's limit;
- a supervisor that died elsewhere: its jobs' leases run out and they are queued again.

How many workers run at once: min(MAX_CONCURRENT_VIDEOS, usable cores), unless told;
a job is started only when the memory it is estimated to need is free (or nothing
else runs), and at most `nvenc_sessions` jobs that name an NVENC encoder run at once.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import psutil

from .. import metrics
from .._host import NO_ADDRESS_SPACE, available_memory, cgroup_oom_kills, memory_limit, usable_cores
from ..output import estimate_peak_memory
from .cache import OutputCache
from .model import JobState, RenderJob
from .run import JobProgress, remove_temporaries, resolve_request
from .store import JobRecord, JobStore, supervisor_id
from .worker import WorkerConfig, worker_main

__all__ = ["ProgressListener", "Supervisor"]

log = logging.getLogger(__name__)

ProgressListener = Callable[[str, JobProgress], None]

# A running job's lease: renewed every heartbeat; another supervisor may take the job
# back once it runs out.
LEASE_SECONDS = 15.0
_HEARTBEAT = 1.0
_MEMORY_CHECK = 0.25  # seconds between reads of each worker's RSS
_RECOVER_EVERY = 5.0
_PROGRESS_WRITES = 0.5  # seconds between progress rows written per job (2 Hz)
_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL for a worker being stopped
# Memory one idle worker holds (interpreter, numpy, PyAV): counted before a job's own.
_WORKER_BASE = 120 * 2**20
# Concurrent NVENC sessions a consumer GeForce allows (8 since driver 550).
NVENC_SESSIONS = 8
# Seconds a worker may go without a frame once its render has begun. Far above any
# real frame (a 4K user transition on llvmpipe takes about a second, a new slide's
# raster less); what passes it is stuck.
FRAME_TIMEOUT = 60.0


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    jobs_done: int = 0
    record: JobRecord | None = None
    job_started: float = 0.0
    last_progress_write: float = 0.0
    stopping: str | None = None  # why the supervisor is stopping it
    last_frame: float = 0.0  # when it last reported a frame
    mid_render: bool = False  # between an output's first and last frame
    frames: tuple[int, int] = (0, 0)  # the last report: frames done, of how many
    oom_kills: int | None = None  # the cgroup's OOM-kill count when its job began

    @property
    def name(self) -> str:
        return f"{self.process.pid}@{socket.gethostname()}"

    @property
    def busy(self) -> bool:
        return self.record is not None

    @property
    def job(self) -> JobRecord:
        """The record of the job it runs: asked only of a busy worker."""
        if self.record is None:
            raise RuntimeError(f"worker {self.name} runs no job")
        return self.record


@dataclass
class _Plan:
    """What the machine can take, worked out once when the supervisor starts."""

    capacity: int
    encoder_threads: int
    memory_limit: int
    reserved: dict[str, int] = field(default_factory=dict)  # job id → estimated peak bytes


class Supervisor:
    """Runs queued jobs of `store` in up to `workers` spawned processes."""

    def __init__(
        self,
        store: JobStore,
        settings,
        *,
        workers: int | None = None,
        cache: OutputCache | None = None,
        listeners: list[ProgressListener] | None = None,
        frame_timeout: float = FRAME_TIMEOUT,
        quiet: bool = False,
    ) -> None:
        """`quiet`: the caller hears every outcome itself (render_many), so failures are
        logged at INFO, not WARNING, and no service alerts are raised."""
        self.store, self.settings, self.cache = store, settings, cache
        self.frame_timeout = frame_timeout
        self._warn = log.info if quiet else log.warning
        self.id = supervisor_id()
        self.listeners = list(listeners or [])
        capacity = workers or max(1, min(settings.max_concurrent_videos, usable_cores()))
        self.plan = _Plan(
            capacity=capacity,
            encoder_threads=max(1, usable_cores() // capacity),
            memory_limit=settings.worker_memory_limit_mb * 2**20,
        )
        self.alerts = _NoAlerts() if quiet else metrics.AlertMonitor(store, settings)
        self.workers: list[_Worker] = []
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._last_heartbeat = self._last_recover = self._last_memory_check = 0.0

    # -- running -------------------------------------------------------------

    def run(self, *, drain: bool = False, grace: float = 30.0) -> None:
        """Supervise until `stop()` is called (or, with `drain`, until the queue is empty).

        On stop, running jobs get `grace` seconds to finish; those still running then are
        stopped and queued again without losing an attempt.
        """
        log.info(
            "supervisor %s: up to %d workers, %d encoder threads each",
            self.id,
            self.plan.capacity,
            self.plan.encoder_threads,
        )
        self._recover()
        try:
            while not self._stop.is_set():
                self._step()
                if drain and not any(w.busy for w in self.workers) and self.store.counts()[JobState.QUEUED] == 0:
                    break
        finally:
            self._shut_down(grace)

    def stop(self) -> None:
        """Ask `run` to finish (safe from a signal handler or another thread)."""
        self._stop.set()

    def _step(self) -> None:
        now = time.monotonic()
        if now - self._last_memory_check >= _MEMORY_CHECK:
            self._last_memory_check = now
            self._check_memory()
        if now - self._last_heartbeat >= _HEARTBEAT:
            self._last_heartbeat = now
            self._heartbeat()
            self._check_cancels()
        if now - self._last_recover >= _RECOVER_EVERY:
            self._last_recover = now
            self._recover()
        self._check_timeouts()
        self._dispatch()
        self._receive(timeout=0.1)

    # -- starting jobs -------------------------------------------------------

    def _dispatch(self) -> None:
        while sum(w.busy for w in self.workers) < self.plan.capacity and not self._stop.is_set():
            record = self.store.claim(self.id, LEASE_SECONDS, self._fits)
            if record is None:
                return
            worker = self._idle_worker()
            worker.record = record
            worker.job_started = time.monotonic()
            worker.mid_render, worker.oom_kills = False, cgroup_oom_kills()
            self.plan.reserved[record.id] = self._estimate(record.job)
            self.store.assign(record.id, worker.name)
            try:
                worker.conn.send(record.job.to_json())
            except OSError:  # it died between jobs: this attempt is lost with it
                worker.process.join(1)
                self._lost(worker)
                continue
            log.info("job %s → worker %s (attempt %d)", record.id, worker.name, record.attempts)

    def _fits(self, job: RenderJob) -> bool:
        busy = [w for w in self.workers if w.busy]
        if not busy:
            return True  # alone, it runs: run_job steps down or says what is short
        nvenc = sum(_wants_nvenc(w.job.job) for w in busy)
        if _wants_nvenc(job) and nvenc >= NVENC_SESSIONS:
            return False
        # Running jobs that have not reached their estimated peak yet will take more.
        pending = sum(max(0, self.plan.reserved.get(w.job.id, 0) - _rss(w)) for w in busy)
        return self._estimate(job) + pending <= available_memory()

    def _estimate(self, job: RenderJob) -> int:
        try:
            peak = max(estimate_peak_memory(resolve_request(r)) for r in job.outputs)
        except Exception:  # noqa: BLE001 - a bad output fails in the worker, with its message
            peak = 0
        return _WORKER_BASE + peak

    def _idle_worker(self) -> _Worker:
        for worker in self.workers:
            if not worker.busy and worker.process.is_alive():
                if worker.jobs_done < self.settings.worker_max_jobs:
                    return worker
                self._retire(worker, "recycled")
                break
        return self._start_worker()

    def _start_worker(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        config = WorkerConfig(
            cache_dir=None if self.cache is None else str(self.cache.folder),
            cache_bytes=0 if self.cache is None else self.cache.max_bytes,
            memory_limit=self.plan.memory_limit,
            encoder_threads=self.plan.encoder_threads,
            log_level=logging.getLogger("engine").getEffectiveLevel(),
        )
        process = self._context.Process(target=worker_main, args=(theirs, config), name="reel-worker", daemon=True)
        process.start()
        theirs.close()
        worker = _Worker(process, ours)
        self.workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, reason: str | None) -> None:
        """Let an idle worker exit; `reason` is counted as a worker restart when given."""
        try:
            worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
        self.workers.remove(worker)
        if reason is not None:
            metrics.record_worker_event(self.store, reason)

    # -- hearing from workers ------------------------------------------------

    def _receive(self, timeout: float) -> None:
        if not self.workers:
            time.sleep(timeout)
            return
        # What `wait` hands back (a worker's connection, or its process's sentinel) → the worker.
        owners: dict[object, _Worker] = {}
        for w in self.workers:
            owners[w.conn] = owners[w.process.sentinel] = w
        handles = [w.conn for w in self.workers] + [w.process.sentinel for w in self.workers]
        for ready in wait(handles, timeout):
            worker = owners.get(ready)
            if worker not in self.workers:
                continue
            if ready is worker.conn:
                self._read_messages(worker)
            elif not worker.process.is_alive():
                self._read_messages(worker)  # what it said before it went
                if worker in self.workers:
                    self._lost(worker)

    def _read_messages(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
                if worker not in self.workers:
                    return
        except (EOFError, OSError):
            worker.process.join(1)
            if worker in self.workers:
                self._lost(worker)

    def _handle(self, worker: _Worker, message: tuple) -> None:
        kind, job_id = message[0], message[1]
        if worker.record is None or worker.record.id != job_id:
            return  # about a job we already gave up on
        if kind == "progress":
            self._progress(worker, message[2])
        elif kind == "done":
            self._done(worker, message[2])
        elif kind == "failed":
            self._failed(worker, *message[2:])

    def _progress(self, worker: _Worker, fields: dict) -> None:
        progress = JobProgress(**fields)
        worker.last_frame = time.monotonic()
        worker.mid_render = 0 < progress.frames_done < progress.frames_total
        worker.frames = (progress.frames_done, progress.frames_total)
        for listener in self.listeners:
            listener(worker.job.id, progress)
        now = time.monotonic()
        last_frame = progress.frames_done == progress.frames_total
        if now - worker.last_progress_write >= _PROGRESS_WRITES or last_frame:
            worker.last_progress_write = now
            self.store.set_progress(worker.job.id, fields)

    def _done(self, worker: _Worker, reports: list[dict]) -> None:
        record = self._release(worker)
        self.store.finish(record.id, reports)
        rendered = [r for r in reports if not r.get("cache_hit")]
        for report in rendered:
            metrics.record_render(self.store, report["wall_seconds"], report["frames"])
            self.alerts.render_finished(record.id, report["wall_seconds"])
        self.alerts.job_finished()
        log.info("job %s done (%d output(s))", record.id, len(reports))

    def _failed(self, worker: _Worker, error_type: str, message: str, user_error: bool) -> None:
        record = self._release(worker)
        # A deck or file mistake fails the same way every time; a machine short of
        # memory or disk may not be later, if other jobs were holding some of it (an
        # address-space limit is each process's own: nothing frees it).
        short = (
            error_type == "InsufficientResourcesError"
            and any(w.busy for w in self.workers)
            and not message.startswith(NO_ADDRESS_SPACE)
        )
        retry = not user_error or short
        self._record_failure(record, error_type, message, user_error=user_error, retry=retry)

    def _lost(self, worker: _Worker) -> None:
        """The worker process ended; if it had a job, that attempt failed."""
        code = worker.process.exitcode
        reason, record = worker.stopping, worker.record
        self.workers.remove(worker)
        worker.conn.close()
        if record is None:
            return
        self.plan.reserved.pop(record.id, None)
        remove_temporaries(record.job)
        if reason == "cancelled":
            self.store.cancelled(record.id)
            metrics.record_worker_event(self.store, "cancelled")
            log.info("job %s cancelled", record.id)
        elif reason == "timeout":
            metrics.record_worker_event(self.store, "timeout")
            self._record_failure(
                record,
                "JobTimeout",
                f"ran longer than {self.settings.job_timeout_s:g} s (REEL_JOB_TIMEOUT)",
                user_error=False,
                retry=False,
            )
        elif reason == "stalled":
            metrics.record_worker_event(self.store, "timeout")
            done, total = worker.frames
            self._record_failure(
                record,
                "RenderTimeoutError",
                f"no frame for {self.frame_timeout:g} s at frame {done} of {total} (a user transition shader that "
                f"does not finish?); the worker was stopped and its partial file removed",
                user_error=True,
                retry=False,
            )
        elif reason == "memory":
            metrics.record_worker_event(self.store, "memory")
            limit = self.settings.worker_memory_limit_mb
            self._record_failure(
                record,
                "WorkerMemoryLimit",
                f"worker {worker.name} passed {limit} MB (REEL_WORKER_MEMORY_LIMIT_MB) and was stopped",
                user_error=False,
                retry=True,
            )
        elif reason == "shutdown" and self.store.get(record.id).cancel_requested:
            self.store.cancelled(record.id)
        elif reason == "shutdown":
            self.store.requeue(record.id, f"supervisor {self.id} shut down")
        elif self._oom_killed(worker, code):
            metrics.record_worker_event(self.store, "memory")
            limit = memory_limit()
            self._record_failure(
                record,
                "InsufficientResourcesError",
                f"not enough memory: the kernel stopped worker {worker.name} when its cgroup ran out "
                f"({limit.description}); render fewer outputs at once (-j) or a smaller size",
                user_error=True,
                retry=any(w.busy for w in self.workers),
            )
        else:
            metrics.record_worker_event(self.store, "crashed")
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            self._record_failure(
                record,
                "WorkerLost",
                f"worker {worker.name} ended with {how} during the render",
                user_error=False,
                retry=True,
            )

    def _record_failure(
        self, record: JobRecord, error_type: str, message: str, *, user_error: bool, retry: bool
    ) -> None:
        metrics.record_error(self.store, error_type)
        state = self.store.fail(
            record.id, error_type, message, user_error=user_error, retry=retry, backoff_s=self.settings.retry_backoff_s
        )
        if state == JobState.FAILED:
            remove_temporaries(record.job)
            self.alerts.job_finished()
            self._warn("job %s failed: %s: %s", record.id, error_type, message)
        else:
            self._warn(
                "job %s attempt %d failed (%s: %s); it will be retried", record.id, record.attempts, error_type, message
            )

    def _release(self, worker: _Worker) -> JobRecord:
        record = worker.job
        worker.record = None
        worker.jobs_done += 1
        self.plan.reserved.pop(record.id, None)
        return record

    # -- watching ------------------------------------------------------------

    def _heartbeat(self) -> None:
        rows = []
        for worker in self.workers:
            rss = _rss(worker)
            rows.append(
                {
                    "pid": worker.process.pid,
                    "rss": rss,
                    "busy": worker.busy,
                    "job": worker.record.id if worker.record is not None else None,
                }
            )
        self.store.heartbeat(self.id, LEASE_SECONDS, rows)
        self.alerts.queue_depth(self.store.counts()[JobState.QUEUED])

    def _check_memory(self) -> None:
        for worker in list(self.workers):
            rss = _rss(worker)
            if worker.process.pid is not None:  # None only before it starts
                self.alerts.worker_memory(worker.process.pid, rss)
            if worker.busy and rss > self.plan.memory_limit and worker.stopping is None:
                log.warning("worker %s uses %.0f MB, past its limit; stopping it", worker.name, rss / 2**20)
                self._stop_worker(worker, "memory")

    def _check_cancels(self) -> None:
        wanted = set(self.store.cancel_requests(self.id))
        for worker in self.workers:
            if worker.record is not None and worker.record.id in wanted and worker.stopping is None:
                self._stop_worker(worker, "cancelled")

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for worker in list(self.workers):
            if not worker.busy or worker.stopping is not None:
                continue
            if now - worker.job_started > self.settings.job_timeout_s:
                self._stop_worker(worker, "timeout")
            elif worker.mid_render and now - worker.last_frame > self.frame_timeout:
                self._warn("worker %s: no frame for %.0f s; stopping it", worker.name, now - worker.last_frame)
                self._stop_worker(worker, "stalled")

    def _oom_killed(self, worker: _Worker, code: int | None) -> bool:
        """Whether the kernel's OOM killer ended `worker` (SIGKILL, and the cgroup counted a kill)."""
        if code != -9 or worker.oom_kills is None:
            return False
        now = cgroup_oom_kills()
        return now is not None and now > worker.oom_kills

    def _stop_worker(self, worker: _Worker, reason: str) -> None:
        """SIGTERM (the render unwinds and removes its temporary), SIGKILL if it lingers."""
        self._stop_workers([worker], reason)

    def _stop_workers(self, workers: list[_Worker], reason: str) -> None:
        """Stop `workers` together: SIGTERM to each, one grace period for all, then SIGKILL."""
        for worker in workers:
            worker.stopping = reason
            worker.process.terminate()
        deadline = time.monotonic() + _STOP_GRACE
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():  # stuck in a call that never returns to Python
                worker.process.kill()
                worker.process.join()
        for worker in workers:
            if worker in self.workers:
                self._read_messages(worker)  # a "done" that raced the signal still counts
                if worker in self.workers:
                    self._lost(worker)

    def _recover(self) -> None:
        for job_id in self.store.recover(_process_alive):
            record = self.store.get(job_id)
            log.warning("job %s was running under a supervisor that stopped; now %s", job_id, record.state)
            if record.state == JobState.FAILED:
                remove_temporaries(record.job)

    def _shut_down(self, grace: float) -> None:
        deadline = time.monotonic() + grace
        while any(w.busy for w in self.workers) and time.monotonic() < deadline:
            self._receive(timeout=0.2)
        self._stop_workers([w for w in self.workers if w.busy], "shutdown")
        for worker in list(self.workers):
            self._retire(worker, None)
        self.store.leave(self.id)


class _NoAlerts:
    """metrics.AlertMonitor's methods, alerting about nothing (a quiet supervisor)."""

    def __getattr__(self, name: str):
        return lambda *args: False


def _wants_nvenc(job: RenderJob) -> bool:
    return any("nvenc" in r.encoder for r in job.outputs)


def _rss(worker: _Worker) -> int:
    try:
        return psutil.Process(worker.process.pid).memory_info().rss
    except (psutil.Error, TypeError):
        return 0


def _process_alive(host: str, pid: int) -> bool:
    return psutil.pid_exists(pid) and pid != 0
