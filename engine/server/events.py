"""`GET /v1/jobs/{id}/events`: a job's progress and states as server-sent events.

The job store is the only source: it is polled (10 Hz at most), so a job run by a
worker on another machine sharing REEL_HOME streams the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

from ..jobs import JobRecord, JobState, JobStore
from .views import job_view, progress_view

__all__ = ["job_events"]

POLL_SECONDS = 0.1
KEEP_ALIVE_SECONDS = 15.0


def _event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


async def job_events(store: JobStore, job_id: str, stopping: Callable[[], bool]) -> AsyncIterator[str]:
    """The current state, then each progress change and each state change, until a final state."""
    record: JobRecord = await asyncio.to_thread(store.get, job_id)
    yield _event("state", job_view(record))
    state, progress = record.state, record.progress
    last_sent = time.monotonic()
    while record.state not in JobState.FINAL and not stopping():
        await asyncio.sleep(POLL_SECONDS)
        record = await asyncio.to_thread(store.get, job_id)
        if record.progress != progress and record.progress:
            progress = record.progress
            yield _event("progress", progress_view(record))
            last_sent = time.monotonic()
        if record.state != state:
            state = record.state
            yield _event("state", job_view(record))
            last_sent = time.monotonic()
        elif time.monotonic() - last_sent >= KEEP_ALIVE_SECONDS:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
