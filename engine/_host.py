"""The host process: how many cores and how much memory it may use, and how its allocator behaves.

`usable_cores` counts the cores this process may run on: its affinity mask (which
`taskset` and cpusets narrow) and its cgroup's CPU quota (which `docker --cpus` and
Kubernetes limits set), not the machine's. `available_memory` is the smaller of what
the host has free and what the cgroup's memory limit leaves: in a container psutil
alone reports the host's memory, and a render planned on it is OOM-killed.

`fix_mmap_threshold` keeps glibc from holding on to freed frame-sized buffers. glibc serves allocations above a threshold (128 KB) with mmap and returns them to the
system on free, but by default it *raises* that threshold each time such a block is
freed, up to 32 MB. After the first few slide rasters (6 MB each at 1080p) every later
one comes from the heap, and the heap keeps what it held. Fixing the threshold at its
default value turns that adjustment off (mallopt with M_MMAP_THRESHOLD). Measured on
the 5 min 1080p bench deck: the engine's own memory (encoder aside) grew by 50 MB over
the video before, by 20 MB after; peak RSS of the whole render went from 335 to 316 MB.
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import os
import sys
from pathlib import Path

import psutil

__all__ = ["usable_cores", "available_memory", "cgroup_cpu_limit", "cgroup_memory", "fix_mmap_threshold"]

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 * 1024
_done = False


_CGROUP = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as the largest page-aligned int64.
_V1_UNLIMITED = 2**62


def usable_cores(root: Path = _CGROUP) -> int:
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit(root)
    return max(1, min(cores, math.ceil(quota))) if quota is not None else cores


def available_memory(root: Path = _CGROUP) -> int:
    """Bytes this process tree can still allocate: host free memory, capped by the cgroup."""
    available = psutil.virtual_memory().available
    limit, used = cgroup_memory(root)
    if limit is not None:
        available = min(available, max(0, limit - used))
    return available


def cgroup_cpu_limit(root: Path = _CGROUP) -> float | None:
    """Cores' worth of CPU time the cgroup allows (quota / period), or None if unlimited."""
    for folder in _cgroup_folders(root, "cpu"):
        v2 = _read(folder / "cpu.max")  # "max 100000" or "200000 100000"
        if v2:
            quota, _, period = v2.partition(" ")
            return None if quota == "max" else int(quota) / int(period or 100000)
        quota = _read(folder / "cpu.cfs_quota_us")
        if quota:
            period = _read(folder / "cpu.cfs_period_us") or "100000"
            return None if int(quota) < 0 else int(quota) / int(period)
    return None


def cgroup_memory(root: Path = _CGROUP) -> tuple[int | None, int]:
    """(limit in bytes or None, bytes in use) of this process's memory cgroup."""
    for folder in _cgroup_folders(root, "memory"):
        limit = _read(folder / "memory.max")
        if limit:
            used = int(_read(folder / "memory.current") or 0)
            return (None if limit == "max" else int(limit)), used
        limit = _read(folder / "memory.limit_in_bytes")
        if limit:
            used = int(_read(folder / "memory.usage_in_bytes") or 0)
            return (None if int(limit) >= _V1_UNLIMITED else int(limit)), used
    return None, 0


def _cgroup_folders(root: Path, controller: str) -> list[Path]:
    """Where this process's cgroup files may be, most specific first (v2, then v1)."""
    folders = []
    for line in (_read(Path("/proc/self/cgroup")) or "").splitlines():
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":
            folders.append(root / relative)
        elif controller in controllers.split(","):
            folders.append(root / controllers / relative)
            folders.append(root / controller / relative)
    folders += [root, root / controller]
    return [f for f in dict.fromkeys(folders) if f.is_dir()]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, ValueError):
        return None


def fix_mmap_threshold() -> None:
    """Once per process, on glibc: stop the mmap threshold from rising."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc: nothing to tune
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) != 1:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused; memory may grow with long renders")
