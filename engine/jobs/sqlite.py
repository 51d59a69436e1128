"""The one way the job layer opens SQLite: WAL, a long busy wait, short write transactions.

Several processes share each database (supervisors, `reel submit`, a server). WAL
lets readers go on during a write; ``BEGIN IMMEDIATE`` takes the write lock up front,
so a read-then-write (claim the oldest job, count then insert) cannot interleave
with another writer's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["connect", "create_schema", "reading", "transaction"]

# Seconds a writer waits for another's lock before "database is locked".
_BUSY_SECONDS = 60


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=_BUSY_SECONDS, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL keeps commits durable across a process crash
    return db


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A write transaction: committed on success, rolled back on any exception."""
    db = connect(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.close()


@contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    db = connect(path)
    try:
        yield db
    finally:
        db.close()


def create_schema(path: Path, schema: str) -> None:
    with reading(path) as db:
        db.executescript(schema)  # runs its own transaction
