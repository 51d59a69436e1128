"""The durable queue: every job's state in one SQLite file under REEL_HOME.

Any number of processes (`reel submit`, a server, several supervisors) open the same
file. Writes happen in short ``BEGIN IMMEDIATE`` transactions, so two supervisors
never claim one job, and WAL mode lets readers go on while one writes.

A running job is leased to the supervisor that claimed it; the supervisor renews the
lease while it lives. A job whose lease ran out, or whose supervisor on this host is
no longer a process, was orphaned by a crash and goes back to the queue
(`recover`). Nothing about a job lives only in a process's memory.
"""

from __future__ import annotations

import builtins
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import JobNotFoundError, QueueFullError
from .model import JobState, RenderJob
from .sqlite import create_schema, reading, transaction

__all__ = ["JobRecord", "JobStore", "supervisor_id"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    submitted REAL NOT NULL,
    started REAL,
    finished REAL,
    not_before REAL NOT NULL DEFAULT 0,
    owner TEXT,
    worker TEXT,
    lease_until REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error_type TEXT,
    error_message TEXT,
    user_error INTEGER,
    reports TEXT,
    progress TEXT,
    history TEXT NOT NULL DEFAULT '[]',
    client TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, submitted);
CREATE TABLE IF NOT EXISTS supervisors (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    heartbeat REAL NOT NULL,
    workers TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    value REAL NOT NULL,
    PRIMARY KEY (name, label)
);
"""


def supervisor_id() -> str:
    """host:pid:start — unique across hosts sharing REEL_HOME and across pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(time.time() * 1000)}"


@dataclass
class JobRecord:
    """A job and everything the queue knows about it."""

    id: str
    job: RenderJob
    state: str
    attempts: int
    max_attempts: int
    submitted: float
    started: float | None = None
    finished: float | None = None
    owner: str | None = None
    worker: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    user_error: bool | None = None
    reports: list[dict] = field(default_factory=list)
    progress: dict | None = None
    history: list[dict] = field(default_factory=list)
    cancel_requested: bool = False
    client: str | None = None  # who submitted it (a server's API token id); None from the CLI

    @property
    def final(self) -> bool:
        return self.state in JobState.FINAL

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "state": self.state,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "submitted": self.submitted,
            "started": self.started,
            "finished": self.finished,
            "owner": self.owner,
            "worker": self.worker,
            "error": None
            if self.error_type is None
            else {
                "type": self.error_type,
                "message": self.error_message,
                "user_error": self.user_error,
            },
            "progress": self.progress,
            "reports": self.reports,
            "history": self.history,
            "client": self.client,
            "job": self.job.to_dict(),
        }


_COLUMNS = (
    "id, spec, state, attempts, max_attempts, submitted, started, finished, owner, worker, "
    "error_type, error_message, user_error, reports, progress, history, cancel_requested, client"
)


def _record(row: tuple) -> JobRecord:
    (
        id_,
        spec,
        state,
        attempts,
        max_attempts,
        submitted,
        started,
        finished,
        owner,
        worker,
        error_type,
        error_message,
        user_error,
        reports,
        progress,
        history,
        cancel_requested,
        client,
    ) = row
    return JobRecord(
        id_,
        RenderJob.from_json(spec),
        state,
        attempts,
        max_attempts,
        submitted,
        started,
        finished,
        owner,
        worker,
        error_type,
        error_message,
        None if user_error is None else bool(user_error),
        json.loads(reports) if reports else [],
        json.loads(progress) if progress else None,
        json.loads(history),
        bool(cancel_requested),
        client,
    )


class JobStore:
    """Jobs in ``<home>/jobs.sqlite``."""

    def __init__(self, home: str | Path) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / "jobs.sqlite"
        create_schema(self.path, _SCHEMA)
        with self._tx() as db:  # a queue made before jobs had a client
            if "client" not in {row[1] for row in db.execute("PRAGMA table_info(jobs)")}:
                db.execute("ALTER TABLE jobs ADD COLUMN client TEXT")

    # -- submitting and reading ---------------------------------------------

    def submit(
        self, job: RenderJob, *, max_attempts: int = 3, queue_max: int = 50, client: str | None = None
    ) -> JobRecord:
        """Queue `job`; QueueFullError if `queue_max` jobs are already waiting.

        `client` names who submitted it (a server's API token id), for `list(client=...)`.
        """
        now = time.time()
        with self._tx() as db:
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (JobState.QUEUED,)).fetchone()[0]
            if waiting >= queue_max:
                raise QueueFullError(
                    f"the queue is full: {waiting} jobs waiting (REEL_QUEUE_MAX={queue_max}); submit again later"
                )
            db.execute(
                "INSERT INTO jobs (id, spec, state, max_attempts, submitted, client) VALUES (?, ?, ?, ?, ?, ?)",
                (job.id, job.to_json(), JobState.QUEUED, max_attempts, now, client),
            )
        return self.get(job.id)

    def get(self, job_id: str) -> JobRecord:
        """The job with this id, or with this unique id prefix (4 characters or more)."""
        with self._read() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None and len(job_id) >= 4:
                rows = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id LIKE ? LIMIT 2", (job_id + "%",)).fetchall()
                if len(rows) == 2:
                    raise JobNotFoundError(f"job id {job_id!r} is ambiguous; give more of it")
                row = rows[0] if rows else None
        if row is None:
            raise JobNotFoundError(f"no job {job_id!r} in {self.home}")
        return _record(row)

    # Below this method, `list` in an annotation would name it: they say `builtins.list`.
    def list(self, state: str | None = None, limit: int = 100, client: str | None = None) -> list[JobRecord]:
        """The newest `limit` jobs, newest first, optionally only those in `state` or of `client`."""
        where = {"state = ?": state, "client = ?": client}
        args = tuple(v for v in where.values() if v is not None)
        clauses = [c for c, v in where.items() if v is not None]
        query = f"SELECT {_COLUMNS} FROM jobs" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        with self._read() as db:
            rows = db.execute(query + " ORDER BY submitted DESC, rowid DESC LIMIT ?", (*args, limit)).fetchall()
        return [_record(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._read() as db:
            found = dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        return {state: found.get(state, 0) for state in JobState.ALL}

    def recent_outcomes(self, n: int = 100) -> builtins.list[str]:
        """States of the last `n` jobs to finish, newest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT state FROM jobs WHERE state IN (?, ?) ORDER BY finished DESC LIMIT ?",
                (JobState.DONE, JobState.FAILED, n),
            ).fetchall()
        return [s for (s,) in rows]

    def finished_since(self, since: float) -> builtins.list[JobRecord]:
        with self._read() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE finished >= ? ORDER BY finished", (since,)).fetchall()
        return [_record(r) for r in rows]

    # -- what a supervisor does ---------------------------------------------

    def claim(
        self, owner: str, lease_s: float, accept: Callable[[RenderJob], bool] = lambda job: True
    ) -> JobRecord | None:
        """Take the oldest waiting job that `accept` takes; it is now running, leased to `owner`."""
        now = time.time()
        with self._tx() as db:
            rows = db.execute(
                "SELECT id, spec FROM jobs WHERE state = ? AND not_before <= ? ORDER BY submitted, rowid LIMIT 64",
                (JobState.QUEUED, now),
            ).fetchall()
            for job_id, spec in rows:
                if accept(RenderJob.from_json(spec)):
                    db.execute(
                        "UPDATE jobs SET state = ?, attempts = attempts + 1, owner = ?, started = ?, "
                        "lease_until = ?, progress = NULL WHERE id = ?",
                        (JobState.RUNNING, owner, now, now + lease_s, job_id),
                    )
                    break
            else:
                return None
        return self.get(job_id)

    def assign(self, job_id: str, worker: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET worker = ? WHERE id = ?", (worker, job_id))

    def heartbeat(self, owner: str, lease_s: float, workers: builtins.list[dict]) -> None:
        """Renew the leases of `owner`'s running jobs and record its workers."""
        now = time.time()
        host, pid, _ = owner.rsplit(":", 2)
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET lease_until = ? WHERE owner = ? AND state = ?",
                (now + lease_s, owner, JobState.RUNNING),
            )
            db.execute(
                "INSERT INTO supervisors (id, host, pid, started, heartbeat, workers) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET heartbeat = excluded.heartbeat, workers = excluded.workers",
                (owner, host, int(pid), now, now, json.dumps(workers)),
            )

    def leave(self, owner: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM supervisors WHERE id = ?", (owner,))

    def supervisors(self, fresh_within: float = 30.0) -> builtins.list[dict]:
        """Supervisors that sent a heartbeat in the last `fresh_within` seconds, with their workers."""
        with self._read() as db:
            rows = db.execute(
                "SELECT id, host, pid, heartbeat, workers FROM supervisors WHERE heartbeat >= ?",
                (time.time() - fresh_within,),
            ).fetchall()
        return [{"id": i, "host": h, "pid": p, "heartbeat": b, "workers": json.loads(w)} for i, h, p, b, w in rows]

    def set_progress(self, job_id: str, progress: dict) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET progress = ? WHERE id = ? AND state = ?",
                (json.dumps(progress), job_id, JobState.RUNNING),
            )

    def finish(self, job_id: str, reports: builtins.list[dict]) -> None:
        self._end(job_id, JobState.DONE, "done", reports=reports)
        with self._tx() as db:  # an earlier attempt's error stays in the history only
            db.execute(
                "UPDATE jobs SET error_type = NULL, error_message = NULL, user_error = NULL WHERE id = ?", (job_id,)
            )

    def fail(
        self, job_id: str, error_type: str, message: str, *, user_error: bool, retry: bool, backoff_s: float = 0.0
    ) -> str:
        """Record a failed attempt; queue the job again if `retry` and attempts remain. The new state."""
        now = time.time()
        with self._tx() as db:
            attempts, max_attempts, history = db.execute(
                "SELECT attempts, max_attempts, history FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            history = json.loads(history) + [
                {"attempt": attempts, "outcome": error_type, "message": message, "at": now}
            ]
            if retry and attempts < max_attempts:
                delay = backoff_s * 2 ** (attempts - 1)
                db.execute(
                    "UPDATE jobs SET state = ?, not_before = ?, owner = NULL, worker = NULL, lease_until = NULL, "
                    "error_type = ?, error_message = ?, user_error = ?, history = ? WHERE id = ?",
                    (JobState.QUEUED, now + delay, error_type, message, int(user_error), json.dumps(history), job_id),
                )
                return JobState.QUEUED
            db.execute(
                "UPDATE jobs SET state = ?, finished = ?, lease_until = NULL, error_type = ?, error_message = ?, "
                "user_error = ?, history = ? WHERE id = ?",
                (JobState.FAILED, now, error_type, message, int(user_error), json.dumps(history), job_id),
            )
            return JobState.FAILED

    def cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued job now; ask the supervisor running a running one to stop it."""
        record = self.get(job_id)
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = ?, finished = ? WHERE id = ? AND state = ?",
                (JobState.CANCELLED, time.time(), record.id, JobState.QUEUED),
            )
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = ?", (record.id, JobState.RUNNING))
        return self.get(record.id)

    def cancel_requests(self, owner: str) -> builtins.list[str]:
        with self._read() as db:
            rows = db.execute(
                "SELECT id FROM jobs WHERE owner = ? AND state = ? AND cancel_requested = 1", (owner, JobState.RUNNING)
            ).fetchall()
        return [i for (i,) in rows]

    def cancelled(self, job_id: str) -> None:
        self._end(job_id, JobState.CANCELLED, "cancelled")

    def requeue(self, job_id: str, reason: str) -> None:
        """Put a running job back in the queue without counting the attempt (a clean shutdown)."""
        with self._tx() as db:
            history = json.loads(db.execute("SELECT history FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])
            history.append({"outcome": "requeued", "message": reason, "at": time.time()})
            db.execute(
                "UPDATE jobs SET state = ?, attempts = MAX(attempts - 1, 0), owner = NULL, worker = NULL, "
                "lease_until = NULL, progress = NULL, history = ? WHERE id = ? AND state = ?",
                (JobState.QUEUED, json.dumps(history), job_id, JobState.RUNNING),
            )

    def recover(self, alive: Callable[[str, int], bool]) -> builtins.list[str]:
        """Queue again the running jobs whose supervisor is gone; their ids.

        Gone means its lease ran out, or `alive(host, pid)` says its process is not there
        (checked only for this host, where a pid means something).
        """
        now = time.time()
        host = socket.gethostname()
        with self._read() as db:
            rows = db.execute("SELECT id, owner, lease_until FROM jobs WHERE state = ?", (JobState.RUNNING,)).fetchall()
        orphans = []
        for job_id, owner, lease_until in rows:
            owner_host, pid, _ = (owner or "::").rsplit(":", 2)
            dead = owner_host == host and pid.isdigit() and not alive(owner_host, int(pid))
            if dead or lease_until is None or lease_until < now:
                orphans.append((job_id, owner))
        recovered = []
        for job_id, owner in orphans:
            with self._tx() as db:
                row = db.execute(
                    "SELECT attempts, max_attempts, history, owner, state FROM jobs WHERE id = ?", (job_id,)
                ).fetchone()
                attempts, max_attempts, history, current_owner, state = row
                if state != JobState.RUNNING or current_owner != owner:
                    continue  # someone else got there first
                history = json.loads(history) + [
                    {
                        "attempt": attempts,
                        "outcome": "SupervisorLost",
                        "message": f"supervisor {owner} stopped while running it",
                        "at": now,
                    }
                ]
                state = JobState.QUEUED if attempts < max_attempts else JobState.FAILED
                db.execute(
                    "UPDATE jobs SET state = ?, owner = NULL, worker = NULL, lease_until = NULL, progress = NULL, "
                    "history = ?, finished = ?, error_type = ?, error_message = ?, user_error = 0 WHERE id = ?",
                    (
                        state,
                        json.dumps(history),
                        now if state == JobState.FAILED else None,
                        "SupervisorLost",
                        f"its supervisor stopped while running it ({attempts} attempt(s))",
                        job_id,
                    ),
                )
            recovered.append(job_id)
        with self._tx() as db:  # supervisors that stopped without saying so
            db.execute("DELETE FROM supervisors WHERE heartbeat < ?", (now - 3600,))
        return recovered

    # -- counters (alerts, worker events) -------------------------------------

    def count(self, name: str, label: str = "", by: float = 1) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO counters (name, label, value) VALUES (?, ?, ?) "
                "ON CONFLICT(name, label) DO UPDATE SET value = value + excluded.value",
                (name, label, by),
            )

    def counters(self) -> dict[tuple[str, str], float]:
        with self._read() as db:
            return {(n, l): v for n, l, v in db.execute("SELECT name, label, value FROM counters")}

    # -- plumbing ------------------------------------------------------------

    def _end(self, job_id: str, state: str, outcome: str, reports: builtins.list[dict] | None = None) -> None:
        now = time.time()
        with self._tx() as db:
            attempts, history = db.execute("SELECT attempts, history FROM jobs WHERE id = ?", (job_id,)).fetchone()
            history = json.loads(history) + [{"attempt": attempts, "outcome": outcome, "at": now}]
            db.execute(
                "UPDATE jobs SET state = ?, finished = ?, lease_until = NULL, reports = COALESCE(?, reports), "
                "history = ? WHERE id = ?",
                (state, now, None if reports is None else json.dumps(reports), json.dumps(history), job_id),
            )

    def _tx(self):
        return transaction(self.path)

    def _read(self):
        return reading(self.path)
