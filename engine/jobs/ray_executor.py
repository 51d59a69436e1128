"""`RayExecutor`: the same `RenderJob`s, run as Ray tasks on a cluster (`reel-engine[ray]`).

Each job is one Ray task that calls `run_job` in a Ray worker process: a fresh
interpreter started by the node's raylet, never a fork of a process holding GL, so
this driver touches no GL, EGL or CUDA. Only the job's JSON goes out and report dicts
come back; frames never cross Ray. Outputs, chunks and the cache are written to paths
every node mounts at the same place (REEL_SHARED_DIR, docs/cluster.md).

Placement: a job asks `num_cpus`; one with a GPU compositor (`gl`) asks `num_gpus`; an
NVENC encoder asks one `nvenc`, a custom resource a node advertises only when the
NVENC probe succeeds there (`node_resources`), since H100/H200 have no NVENC.

Faults: a task whose worker process dies (`kill -9`, a lost node) is run again by Ray,
up to `max_retries` times; an engine error (a bad deck) is an outcome, not retried
(`retry_exceptions=False`). `run_job` writes through temporaries, so a re-run is safe.

Progress: the task reports frame by frame, throttled, to a small actor (`_Board`); a
monitor thread here reads it and relays it to the `on_progress` callbacks and to the
job's record. The records live in a `JobStore` (a temporary folder, or `home`), leased
to this executor like a supervisor's jobs, so `reel jobs` reads them as usual.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from ..errors import BackendUnavailableError, JobNotFoundError
from .model import JobState, RenderJob
from .run import JobProgress, remove_temporaries
from .store import JobRecord, JobStore, supervisor_id

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["RayExecutor", "node_resources"]

log = logging.getLogger(__name__)

JobProgressCallback = Callable[[JobProgress], None]

_PROGRESS_SECONDS = 0.25  # between progress reports from a task (and reads of them here)
_LEASE_SECONDS = 60.0
_NVENC_ENCODERS = ("nvenc", "h264_nvenc", "hevc_nvenc", "av1_nvenc", "nvenc_hevc")


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError("the Ray executor needs Ray: pip install 'reel-engine[ray]'") from exc
    return ray


def node_resources(nvenc_sessions: int = 3) -> dict[str, float]:
    """The custom resources this node should advertise to Ray: ``{"nvenc": n}`` where the
    NVENC probe succeeds, else ``{}``. For ``ray start --resources "$(reel ray-resources)"``.

    The probe runs in a spawned child: a CUDA or NVENC call in this process would poison
    every process it later forks (docs/cluster.md). `nvenc_sessions` is how many NVENC
    encodes one node takes at once (consumer cards cap sessions; data-centre cards with
    NVENC do not, but share one engine).
    """
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        works = pool.apply(_nvenc_works)
    return {"nvenc": float(nvenc_sessions)} if works else {}


def _nvenc_works() -> bool:
    from ..encode import probe_encoder

    return any(probe_encoder(name) is None for name in ("nvenc", "h264_nvenc"))


def _wants_nvenc(job: RenderJob) -> bool:
    return any(r.encoder in _NVENC_ENCODERS for r in job.outputs)


def _run_in_worker(job_json: str, board, cache_dir: str | None, cache_bytes: int) -> dict:
    """The Ray task: `run_job` in this worker process; reports, or the engine error it raised."""
    import os

    import ray

    from .cache import OutputCache
    from .run import run_job

    job = RenderJob.from_json(job_json)
    worker = f"ray:{ray.get_runtime_context().get_node_id()[:12]}:{os.getpid()}"
    last = [0.0]

    def progress(p: JobProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_SECONDS or p.frames_done == p.frames_total:
            last[0] = now
            board.update.remote(job.id, {**asdict(p), "worker": worker})  # not awaited: never blocks a frame

    board.update.remote(job.id, {"worker": worker})
    cache = OutputCache(cache_dir, cache_bytes) if cache_dir else None
    try:
        reports = run_job(job, progress, cache=cache)
    except Exception as exc:  # noqa: BLE001 - an engine error is the job's outcome, not a crash to retry
        text = " ".join(str(exc).split()) or type(exc).__name__
        return {
            "error": {
                "type": type(exc).__name__,
                "message": text[:500],
                "user_error": bool(getattr(exc, "user_error", False)),
            }
        }
    # The progress updates were sent without waiting; waiting on one more (an actor runs
    # one caller's calls in order) puts every one of them on the board before the result
    # can reach the executor, so its last relay has the final frames.
    with contextlib.suppress(ray.exceptions.RayError):
        ray.get(board.update.remote(job.id, {"worker": worker}), timeout=30)
    return {"reports": [r.to_dict() for r in reports], "worker": worker}


class _Board:
    """A Ray actor: the newest progress of each job, written by tasks, read by the executor."""

    def __init__(self) -> None:
        self.latest: dict[str, dict] = {}

    def update(self, job_id: str, fields: dict) -> None:
        self.latest[job_id] = {**self.latest.get(job_id, {}), **fields}

    def take(self) -> dict[str, dict]:
        latest, self.latest = self.latest, {}
        return latest


class RayExecutor:
    """Jobs run as Ray tasks; their records in a `JobStore` under `home` (default: a temporary folder).

    `address`: the cluster (host:port; None: RAY_ADDRESS or a running local one). If Ray
    is already initialised in this process, that connection is used and left open.
    `node_ip_address`: this driver's address as the cluster sees it (127.0.0.1 for a
    cluster bound to loopback). `max_retries`: re-runs of a task whose worker died.
    """

    def __init__(
        self,
        settings=None,
        *,
        address: str | None = None,
        home: str | Path | None = None,
        node_ip_address: str | None = None,
        num_cpus: float = 1,
        num_gpus: float = 1,
        max_retries: int = 3,
        cache: bool = False,
    ) -> None:
        ray = _ray()
        self.settings = settings
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            kwargs: dict[str, Any] = {"address": address or None, "namespace": "reel"}
            if node_ip_address:
                kwargs["_node_ip_address"] = node_ip_address
            ray.init(**kwargs)
        self._temporary = None if home is not None else tempfile.TemporaryDirectory(prefix="reel-ray-")
        self.store = JobStore(home if home is not None else self._temporary.name)  # type: ignore[union-attr]
        self.owner = supervisor_id()
        # Jobs a stopped driver (this one before a restart, a `reel worker --ray`) was
        # running go back to the queue once its lease runs out; chunks it finished stay.
        self.store.recover(lambda host, pid: psutil.pid_exists(pid))
        self.num_cpus, self.num_gpus, self.max_retries = num_cpus, num_gpus, max_retries
        self._cache_dir: str | None = None
        self._cache_bytes = 0
        if cache and settings is not None and settings.cache_bytes > 0:
            self._cache_dir, self._cache_bytes = str(Path(settings.home) / "cache"), settings.cache_bytes
        strategy = ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(
            ray.get_runtime_context().get_node_id(), soft=True
        )
        # On the driver's node, so losing a worker node does not lose the progress board.
        self._board = (
            ray.remote(_Board)
            .options(num_cpus=0, max_restarts=-1, max_task_retries=-1, scheduling_strategy=strategy)
            .remote()
        )
        self._task = ray.remote(_run_in_worker)
        self._refs: dict[Any, str] = {}  # Ray object ref → job id
        self._callbacks: dict[str, JobProgressCallback] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._monitor, name="reel-ray-monitor", daemon=True)
        self._thread.start()

    # -- the Executor protocol ----------------------------------------------------------

    def submit(self, job: RenderJob, on_progress: JobProgressCallback | None = None) -> JobRecord:
        queue_max = self.settings.queue_max if self.settings is not None else 1_000_000
        self.store.submit(job, max_attempts=self.max_retries + 1, queue_max=max(queue_max, len(self._refs) + 1))
        claimed = self.store.claim(self.owner, _LEASE_SECONDS, accept=lambda j: j.id == job.id)
        if claimed is None:  # taken by a supervisor sharing the home between the two lines
            return self.store.get(job.id)
        return self.launch(claimed, on_progress)

    def launch(self, record: JobRecord, on_progress: JobProgressCallback | None = None) -> JobRecord:
        """Run a job this executor has claimed (running, owned by `self.owner`) as a Ray task."""
        job = record.job
        outside = self._outside_shared(job)
        if outside is not None:
            self.store.fail(job.id, "SpecError", outside, user_error=True, retry=False)
            return self.store.get(job.id)
        if on_progress is not None:
            self._callbacks[job.id] = on_progress
        options: dict[str, Any] = {
            "num_cpus": self.num_cpus,
            "max_retries": self.max_retries,
            "retry_exceptions": False,
            "name": f"reel-{job.id}",
        }
        if job.compositor == "gl":
            options["num_gpus"] = self.num_gpus
        if _wants_nvenc(job):
            options["resources"] = {"nvenc": 1}
        ref = self._task.options(**options).remote(job.to_json(), self._board, self._cache_dir, self._cache_bytes)
        with self._lock:
            self._refs[ref] = job.id
        return self.store.get(job.id)

    def run_queued(self) -> JobRecord | None:
        """Claim the oldest job waiting in the store (`reel submit`) and run it on Ray; None if none waits."""
        record = self.store.claim(self.owner, _LEASE_SECONDS)
        return None if record is None else self.launch(record)

    def slots(self) -> int:
        """How many jobs the cluster runs at once now (its CPUs ÷ `num_cpus`)."""
        return max(1, int(_ray().cluster_resources().get("CPU", 1) // self.num_cpus))

    def get(self, job_id: str) -> JobRecord:
        return self.store.get(job_id)

    def _outside_shared(self, job: RenderJob) -> str | None:
        """Why `job` cannot run on other nodes (a path outside REEL_SHARED_DIR), or None."""
        shared = getattr(self.settings, "shared_dir", None)
        if shared is None:
            return None
        paths = [job.out_dir, job.deck_file, job.base_dir, *(r.path for r in job.outputs)]
        for path in filter(None, paths):
            if not Path(path).absolute().is_relative_to(Path(shared).absolute()):
                return f"{path} is outside REEL_SHARED_DIR ({shared}): other Ray nodes cannot see it"
        return None

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        from .executor import wait_for

        return wait_for(self.store, job_id, timeout=timeout, alive=self._alive)

    def cancel(self, job_id: str) -> JobRecord:
        record = self.store.cancel(job_id)
        ref = self._ref_of(record.id)
        if ref is not None:
            _ray().cancel(ref, force=True)  # the monitor records it once Ray says so
        return self.store.get(record.id)

    def close(self) -> None:
        ray = _ray()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            running = dict(self._refs)
            self._refs.clear()
        for ref, job_id in running.items():
            ray.cancel(ref, force=True)
            self.store.requeue(job_id, "the Ray executor was closed")
        self.store.leave(self.owner)
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> int:
        """Jobs handed to Ray and not finished."""
        return len(self._refs)

    # -- the monitor thread --------------------------------------------------------------

    def _ref_of(self, job_id: str):
        with self._lock:
            return next((ref for ref, i in self._refs.items() if i == job_id), None)

    def _alive(self) -> None:
        if self._failure is not None:
            raise self._failure
        if not self._thread.is_alive():
            from ..errors import RenderError

            raise RenderError("the Ray executor's monitor thread stopped; see the log")

    def _monitor(self) -> None:
        ray = _ray()
        last_beat = 0.0
        try:
            while not self._stop.is_set():
                with self._lock:
                    refs = list(self._refs)
                if refs:
                    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=_PROGRESS_SECONDS)
                    for ref in ready:
                        self._settle(ray, ref)
                else:
                    self._stop.wait(_PROGRESS_SECONDS)
                self._relay_progress(ray)
                if time.monotonic() - last_beat > _LEASE_SECONDS / 6:
                    last_beat = time.monotonic()
                    self.store.heartbeat(self.owner, _LEASE_SECONDS, [])
                    for job_id in self.store.cancel_requests(self.owner):  # `reel jobs cancel`
                        ref = self._ref_of(job_id)
                        if ref is not None:
                            ray.cancel(ref, force=True)
        except BaseException as exc:
            log.exception("the Ray executor's monitor stopped")
            self._failure = exc

    def _relay_progress(self, ray) -> None:
        try:
            latest = ray.get(self._board.take.remote(), timeout=30)
        except ray.exceptions.RayError as exc:  # the board restarts; progress resumes with it
            log.info("progress board unavailable: %s", exc)
            return
        for job_id, fields in latest.items():
            try:
                if self.store.get(job_id).final:  # a late word from an attempt that was killed
                    continue
            except JobNotFoundError:
                continue
            if "worker" in fields:
                self.store.assign(job_id, fields["worker"])
            if "frames_done" not in fields:
                continue
            progress = JobProgress(**{k: v for k, v in fields.items() if k != "worker"})
            self.store.set_progress(job_id, asdict(progress))
            callback = self._callbacks.get(job_id)
            if callback is not None:
                callback(progress)

    def _settle(self, ray, ref) -> None:
        with self._lock:
            job_id = self._refs.pop(ref)
        self._relay_progress(ray)  # the last frames before the outcome
        self._callbacks.pop(job_id, None)
        try:
            outcome = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            remove_temporaries(self.store.get(job_id).job)
            self.store.cancelled(job_id)
            return
        except ray.exceptions.RayError as exc:  # retries used up: workers died, nodes lost
            remove_temporaries(self.store.get(job_id).job)
            text = " ".join(str(exc).split())[:500]
            self.store.fail(job_id, type(exc).__name__, text, user_error=False, retry=False)
            return
        if self.store.get(job_id).state != JobState.RUNNING:  # cancelled or requeued meanwhile
            return
        if "error" in outcome:
            error = outcome["error"]
            self.store.fail(job_id, error["type"], error["message"], user_error=error["user_error"], retry=False)
        else:
            self.store.assign(job_id, outcome["worker"])  # the attempt that finished, if progress missed it
            self.store.finish(job_id, outcome["reports"])
