"""Finished outputs kept by the hash of everything that made them, least recently used out first.

An entry is one MP4 under ``objects/`` plus a row in ``index.sqlite`` with its size,
SHA-256 and render report. Every hit is checked against both before it is used: a
damaged or missing file is dropped and the output rendered again, never handed out.

Several processes share one cache. `claim(key)` holds an exclusive file lock while
one of them renders that key, so two identical jobs running at once render once: the
second waits, then finds the first one's entry. The lock is the kernel's (flock), so
a worker killed with SIGKILL releases it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .sqlite import create_schema, transaction

__all__ = ["CacheEntry", "CacheStats", "OutputCache", "file_sha256"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    report TEXT NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    key: str
    path: Path
    bytes: int
    sha256: str
    report: dict


@dataclass(frozen=True)
class CacheStats:
    entries: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    evictions: int
    damaged: int


class OutputCache:
    """Outputs by key in `folder`, kept under `max_bytes` in all."""

    def __init__(self, folder: str | Path, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        for sub in ("objects", "locks", "tmp"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        create_schema(self.folder / "index.sqlite", _SCHEMA)
        self._remove_stale_temporaries()

    # -- lookups -------------------------------------------------------------

    def get(self, key: str) -> CacheEntry | None:
        """The entry for `key` if it is there and intact; a damaged one is dropped."""
        with self._db() as db:
            row = db.execute("SELECT bytes, sha256, report FROM entries WHERE key = ?", (key,)).fetchone()
        if row is None:
            self._count("misses")
            return None
        size, sha, report = row
        path = self._object(key)
        problem = _damage(path, size, sha)
        if problem:
            log.warning(
                "cache entry %s is damaged (%s); it is dropped and the output rendered again", key[:12], problem
            )
            self._drop(key)
            self._count("damaged")
            self._count("misses")
            return None
        with self._db() as db:
            db.execute("UPDATE entries SET last_used = ? WHERE key = ?", (time.time(), key))
        self._count("hits")
        return CacheEntry(key, path, size, sha, json.loads(report))

    def put(self, key: str, file: Path, report: dict) -> None:
        """Keep a copy of the finished `file` under `key`, then evict down to the cap."""
        size = file.stat().st_size
        if size > self.max_bytes:
            return  # would evict everything and still not fit
        temporary = self.folder / "tmp" / f"{key}.{os.getpid()}.{secrets.token_hex(3)}.part"
        try:
            _link_or_copy(file, temporary)
            sha = file_sha256(temporary)
            os.replace(temporary, self._object(key))
        finally:
            temporary.unlink(missing_ok=True)
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO entries (key, bytes, sha256, report, created, last_used) VALUES (?, ?, ?, ?, ?, ?)",
                (key, size, sha, json.dumps(report), now, now),
            )
        self.evict()

    def copy_to(self, entry: CacheEntry, temporary: Path) -> None:
        """Put the entry's bytes at `temporary` (a hard link where the file system allows)."""
        temporary.unlink(missing_ok=True)
        _link_or_copy(entry.path, temporary)

    @contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Hold `key` exclusively while rendering it; blocks while another process holds it."""
        with open(self.folder / "locks" / f"{key}.lock", "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    # -- housekeeping --------------------------------------------------------

    def evict(self) -> int:
        """Drop least recently used entries until the cache fits `max_bytes`; how many went."""
        dropped = 0
        with self._db() as db:
            total = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM entries").fetchone()[0]
            if total <= self.max_bytes:
                return 0
            rows = db.execute("SELECT key, bytes FROM entries ORDER BY last_used ASC").fetchall()
        for key, size in rows:
            if total <= self.max_bytes:
                break
            self._drop(key)
            total -= size
            dropped += 1
        if dropped:
            self._count("evictions", dropped)
        return dropped

    def stats(self) -> CacheStats:
        with self._db() as db:
            entries, size = db.execute("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM entries").fetchone()
            counters = dict(db.execute("SELECT name, value FROM counters").fetchall())
        return CacheStats(
            entries,
            size,
            self.max_bytes,
            counters.get("hits", 0),
            counters.get("misses", 0),
            counters.get("evictions", 0),
            counters.get("damaged", 0),
        )

    def keys(self) -> list[str]:
        """Keys from least to most recently used."""
        with self._db() as db:
            return [k for (k,) in db.execute("SELECT key FROM entries ORDER BY last_used ASC")]

    def _drop(self, key: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM entries WHERE key = ?", (key,))
        self._object(key).unlink(missing_ok=True)

    def _object(self, key: str) -> Path:
        return self.folder / "objects" / f"{key}.mp4"

    def _count(self, name: str, by: int = 1) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + ?",
                (name, by, by),
            )

    def _remove_stale_temporaries(self) -> None:
        # A process killed while copying leaves its temporary behind; its pid says whose.
        for temporary in (self.folder / "tmp").glob("*.part"):
            try:
                pid = int(temporary.name.split(".")[1])
            except (IndexError, ValueError):
                pid = -1
            if pid <= 0 or not _alive(pid):
                temporary.unlink(missing_ok=True)

    def _db(self):
        return transaction(self.folder / "index.sqlite")


def _damage(path: Path, size: int, sha: str) -> str | None:
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        return "file missing"
    if actual != size:
        return f"{actual} bytes, expected {size}"
    if file_sha256(path) != sha:
        return "SHA-256 differs"
    return None


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, target)
        with open(target, "rb+") as fh:
            os.fsync(fh.fileno())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
