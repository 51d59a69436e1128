"""Reel as a service: jobs, a durable queue, a supervisor of worker processes, an output cache.

RenderJob ─ plain data: a deck (inline or a file) and the outputs to make
  └─ run_job(job, on_progress) ─ the only code here that touches GL and encoders
JobStore ─ the queue, in SQLite under REEL_HOME
Supervisor ─ spawned worker processes that take jobs from the queue
LocalExecutor ─ submit / wait / cancel, with a supervisor on a thread
RayExecutor ─ the same, each job a Ray task on a cluster (reel-engine[ray])
render_chunked ─ one output as chunk jobs on any executor, joined here
OutputCache ─ finished outputs by the hash of what made them, LRU under CACHE_SIZE_GB
"""

from .cache import CacheStats, OutputCache
from .chunked import render_chunked
from .executor import Executor, LocalExecutor, open_cache, raise_for_job, render_many, wait_for
from .model import JobState, OutputRequest, RenderJob
from .ray_executor import RayExecutor, node_resources
from .run import JobProgress, job_targets, output_key, run_job
from .store import JobRecord, JobStore
from .supervisor import Supervisor

__all__ = [
    "CacheStats",
    "Executor",
    "JobProgress",
    "JobRecord",
    "JobState",
    "JobStore",
    "LocalExecutor",
    "OutputCache",
    "OutputRequest",
    "RayExecutor",
    "RenderJob",
    "Supervisor",
    "job_targets",
    "node_resources",
    "open_cache",
    "output_key",
    "raise_for_job",
    "render_chunked",
    "render_many",
    "run_job",
    "wait_for",
]
