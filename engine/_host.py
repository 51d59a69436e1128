"""The host process: how many cores and how much memory it may use, and how its allocator behaves.

`usable_cores` counts the cores this process may run on: its affinity mask (which
`taskset` and cpusets narrow) and its cgroup's CPU quota (which `docker --cpus` and
Kubernetes limits set), not the machine's. `available_memory` is the smaller of what
the host has free and what the cgroup's memory limit leaves: in a container psutil
alone reports the host's memory, and a render planned on it is OOM-killed.

`tune_allocator` sets how glibc serves the numpy compositor's memory. A frame is made
in bands of 64 rows, and every band allocates float temporaries of 0.3 to 1.5 MB at
1080p. Above glibc's mmap threshold each one is mapped, touched page by page and
unmapped again: 7.6 million page faults and 19 s of kernel time in a 50 s render of the
example deck. Below it, the heap reuses the same memory band after band. But glibc's
default *raises* the threshold each time a mapped block is freed (up to 32 MB), so
frame-sized rasters would also come from the heap, and the heap keeps what it held:
memory grew with the video's length. So the threshold is fixed at 2 MB (band
temporaries from the heap, rasters and frames mapped and returned on free), and the
heap keeps up to 16 MB free at its top instead of 128 KB (M_TRIM_THRESHOLD), so a band
does not fault its pages back in after the last one was trimmed. Measured on the
example deck at 1080p (2 cores): 48.8 s → 34.3 s, 6.6 M → 1.0 M page faults, peak
RSS 369 → 400 MB. `return_free_memory` (malloc_trim) hands the heaps' free memory back
after a render, so a worker between jobs holds only what it uses. Elsewhere than glibc
both do nothing.

glibc also gives each thread that allocates a heap of its own (an arena), up to 8 per
core, and memory freed in one is reused only by the threads on it. A render's threads
take turns with the same sizes: the slides made ahead are freed by the render thread,
a layer's planes (2,073,600 bytes at 1080p, under the threshold) are made on one thread
and let go on another. So `tune_allocator` keeps one arena (M_ARENA_MAX), unless
MALLOC_ARENA_MAX says otherwise: the example deck at 1080p peaks 14 MB lower (350–354
against 365–368 MB, four interleaved pairs) and renders as fast (15.65 against 15.66 s),
with the same bytes. A thread that allocated before keeps the arena it had, so `import
engine` tunes the process, before its threads start (a render tunes it too, for whoever
imported only a module).

`tune_allocator` also turns transparent huge pages off for the process (Linux's
PR_SET_THP_DISABLE; its children inherit it). x264 rounds each frame it allocates up to
whole 2 MB pages and asks for huge ones, and numpy asks for them on every array of
4 MB or more, so a page is resident whole as soon as one byte of it is touched: x264's
padding and a scratch buffer's unused tail cost memory. With 4 KB pages the example
deck at 1080p peaks 16–18 MB lower (465 against 482 MB, five interleaved pairs) and
renders as fast (median 21.6 against 21.7 s), with the same bytes.

`check_memory` is the memory pre-check of one render, against the tightest of three
limits: what the host has free, what the cgroup's limit leaves (v2 ``memory.max``, v1
``memory.limit_in_bytes``, less what other processes in it hold; reclaimable page cache
is not counted as held), and the address-space limit (RLIMIT_AS, ``ulimit -v``,
``prlimit --as``). A cgroup past its limit OOM-kills without warning, and an address
space that runs out fails wherever the next mapping happens (a library that does not
load, x264's next frame, a thread without a stack), so both are checked before a render
starts; `allocation_failure` recognises the failures that get through anyway, so the
caller can say "not enough memory" instead of whatever broke.

Address space is not memory: every thread reserves its stack, every library maps its
segments. `address_space_needed` is what a render needs in a fresh process, measured by
bisecting RLIMIT_AS on the 2-core machine (a 4 s deck, libx264, 2026-12): with the numpy
compositor 362 MB at 320x180, 618 MB at 1920x1080 with one encoder thread (712 with two,
984 with eight), 1125 MB at 3840x2160; the GL compositor (llvmpipe: LLVM and its
threads) adds 315 MB at 320x180 and about 605 MB from 1080p up. The model stays a little
under those figures, so what it refuses could not have worked.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import logging
import math
import mmap
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil

__all__ = [
    "NO_ADDRESS_SPACE",
    "MemoryLimit",
    "address_space_limit",
    "address_space_needed",
    "allocation_failure",
    "available_memory",
    "cgroup_cpu_limit",
    "cgroup_memory",
    "cgroup_oom_kills",
    "check_memory",
    "lazy_zeros",
    "memory_limit",
    "return_free_memory",
    "tune_allocator",
    "usable_cores",
]

log = logging.getLogger(__name__)

# mallopt parameters (malloc.h) and the values tune_allocator sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
_MMAP_THRESHOLD = 2 * 1024 * 1024
_TRIM_THRESHOLD = 16 * 1024 * 1024
_PR_SET_THP_DISABLE = 41  # prctl option (linux/prctl.h)
_LAZY_FROM = 256 * 1024  # bytes: below, a mapping of its own is not worth its system calls
_libc: ctypes.CDLL | None = None
_tuned = False


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
        v1_quota = _read(folder / "cpu.cfs_quota_us")  # -1: unlimited
        if v1_quota:
            v1_period = _read(folder / "cpu.cfs_period_us") or "100000"
            return None if int(v1_quota) < 0 else int(v1_quota) / int(v1_period)
    return None


def cgroup_memory(root: Path = _CGROUP) -> tuple[int | None, int]:
    """(limit in bytes or None, bytes in use) of this process's memory cgroup.

    "In use" leaves out inactive file cache, which the kernel reclaims before it
    OOM-kills (the working set, as Kubernetes counts it): a container that wrote a lot
    of files is not full.
    """
    for folder in _cgroup_folders(root, "memory"):
        limit = _read(folder / "memory.max")
        if limit:
            used = _working_set(folder, "memory.current", "inactive_file")
            return (None if limit == "max" else int(limit)), used
        limit = _read(folder / "memory.limit_in_bytes")
        if limit:
            used = _working_set(folder, "memory.usage_in_bytes", "total_inactive_file")
            return (None if int(limit) >= _V1_UNLIMITED else int(limit)), used
    return None, 0


def _working_set(folder: Path, usage_file: str, inactive_key: str) -> int:
    used = int(_read(folder / usage_file) or 0)
    for line in (_read(folder / "memory.stat") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == inactive_key and value.strip().isdigit():
            return max(0, used - int(value))
    return used


def cgroup_oom_kills(root: Path = _CGROUP) -> int | None:
    """How many processes the kernel has OOM-killed in this process's memory cgroup, if it says."""
    for folder in _cgroup_folders(root, "memory"):
        for name in ("memory.events", "memory.oom_control"):  # v2, v1 (kernel 4.13+)
            for line in (_read(folder / name) or "").splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
    return None


# -- the memory pre-check -------------------------------------------------------------

_MB = 10**6
# address_space_needed's model (see the module's docstring for the measurements).
_AS_BASE = 350 * _MB  # interpreter, numpy, Pillow, PyAV and its codec libraries
_AS_PER_PIXEL = 110  # frame buffers, slide planes, x264's lookahead: up to 1080p ...
_AS_PER_PIXEL_BEYOND = 75  # ... and past it (levels cap x264's reference frames at 4K)
_AS_KNEE = 1920 * 1088
_AS_PER_THREAD = 10 * _MB  # an encoder thread's stack and buffers ...
_AS_PER_THREAD_PIXEL = 25  # ... and its frames in flight
_AS_GL = 280 * _MB  # LLVM, Mesa, EGL
_AS_GL_PER_CORE = 10 * _MB  # a llvmpipe thread per core
_AS_GL_PER_PIXEL = 140  # its framebuffers and textures, up to ...
_AS_GL_PIXELS_MAX = 300 * _MB
# An address space this close to its limit is exhausted: the next library segment or
# thread stack does not fit.
_AS_EXHAUSTED_MARGIN = 128 * _MB
# What the messages say about each limit.
_RLIMIT_AS_NAME = "the address-space limit (ulimit -v, RLIMIT_AS)"
#: How a message about the address space begins: a limit of each process, which no
#: other process's ending frees (the job supervisor does not retry it).
NO_ADDRESS_SPACE = "not enough address space"


@dataclass(frozen=True)
class MemoryLimit:
    """How many bytes this process may grow to in all (its own use included), and why."""

    bytes: int
    source: str  # "host", "cgroup"
    description: str  # for messages: "the cgroup's memory.max of 200 MB (30 MB held by other processes)"


def memory_limit(root: Path = _CGROUP) -> MemoryLimit:
    """The tightest of host memory and the cgroup's limit, as this process sees it."""
    own = _own_rss()
    host = psutil.virtual_memory().available + own
    tightest = MemoryLimit(host, "host", f"{host / _MB:.0f} MB of memory available on this machine")
    limit, used = cgroup_memory(root)
    if limit is not None:
        others = max(0, used - own)
        room = max(0, limit - others)
        if room < tightest.bytes:
            name = "memory.max" if _cgroup_v2(root) else "memory.limit_in_bytes"
            held = f" ({others / _MB:.0f} MB held by other processes)" if others >= 10 * _MB else ""
            tightest = MemoryLimit(room, "cgroup", f"the cgroup's {name} of {limit / _MB:.0f} MB{held}")
    return tightest


def address_space_limit() -> int | None:
    """This process's RLIMIT_AS in bytes, or None if it has none."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


def address_space_needed(width: int, height: int, *, encoder_threads: int, gl: bool) -> int:
    """Bytes of address space one render of `width`×`height` needs in a fresh process."""
    pixels = width * height
    need = _AS_BASE + min(pixels, _AS_KNEE) * _AS_PER_PIXEL + max(0, pixels - _AS_KNEE) * _AS_PER_PIXEL_BEYOND
    need += max(0, encoder_threads - 1) * (_AS_PER_THREAD + pixels * _AS_PER_THREAD_PIXEL)
    if gl:
        need += _AS_GL + usable_cores() * _AS_GL_PER_CORE + min(pixels * _AS_GL_PER_PIXEL, _AS_GL_PIXELS_MAX)
    return need


def check_memory(what: str, need: int, need_address_space: int, root: Path = _CGROUP) -> None:
    """Raise InsufficientResourcesError if `what` (e.g. "a 1920x1080 render") cannot fit.

    `need` is its peak resident memory, `need_address_space` the address space it maps.
    """
    from .errors import InsufficientResourcesError

    limit = memory_limit(root)
    if limit.bytes < need:
        raise InsufficientResourcesError(
            f"not enough memory: {what} needs about {need / _MB:.0f} MB, and {_limit_text(limit)}"
        )
    space = address_space_limit()
    if space is not None and space < need_address_space:
        raise InsufficientResourcesError(
            f"{NO_ADDRESS_SPACE}: {what} needs about {need_address_space / _MB:.0f} MB, and "
            f"{_RLIMIT_AS_NAME} is {space / _MB:.0f} MB; raise it, or render a smaller size"
        )


def _limit_text(limit: MemoryLimit) -> str:
    if limit.source == "host":
        return f"this machine has {limit.bytes / _MB:.0f} MB available"
    return f"{limit.description} leaves {limit.bytes / _MB:.0f} MB"


def allocation_failure(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is memory running out, not a bug.

    True for a MemoryError or an ENOMEM anywhere in its chain, for the words libraries
    use when an allocation fails (a library segment that cannot be mapped, "malloc of
    size ... failed"), and for any failure while the address space is within a few
    dozen MB of RLIMIT_AS (x264 says only "Generic error" when its malloc fails).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MemoryError):
            return True
        if isinstance(current, OSError) and current.errno == errno.ENOMEM:
            return True
        text = str(current)[:2000].lower()
        if any(words in text for words in _ALLOCATION_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return address_space_exhausted()


_ALLOCATION_WORDS = (
    "cannot allocate memory",
    "failed to map segment",
    "out of memory",
    "memory allocation",
    "bad_alloc",
)


def address_space_exhausted() -> bool:
    """True when RLIMIT_AS is set and this process's peak address space came close to it."""
    limit = address_space_limit()
    peak = _status_bytes("VmPeak")
    return limit is not None and peak is not None and peak + _AS_EXHAUSTED_MARGIN >= limit


def memory_shortage_message(what: str, need: int, need_address_space: int, failure: BaseException) -> str:
    """One line for `what` running out of memory part way: the limit it met, its need, what failed."""
    cause = " ".join(str(failure).split()) or type(failure).__name__
    cause = cause if len(cause) <= 60 else cause[:57] + "..."
    space = address_space_limit()
    if space is not None and address_space_exhausted():
        figure = (
            f"about {need_address_space / _MB:.0f} MB"
            if need_address_space > space
            else f"more than {space / _MB:.0f} MB"
        )
        return (
            f"{NO_ADDRESS_SPACE}: {what} needs {figure}, and {_RLIMIT_AS_NAME} is {space / _MB:.0f} MB; "
            f"raise it, or render a smaller size (it failed with: {cause})"
        )
    limit = memory_limit()
    figure = f"needs about {need / _MB:.0f} MB" if need > 0 else "ran out"
    return f"not enough memory: {what} {figure}, and {_limit_text(limit)} (it failed with: {cause})"


def _status_bytes(field: str) -> int | None:
    """A "kB" field of /proc/self/status (VmPeak, VmSize, VmHWM, VmRSS) in bytes."""
    for line in (_read(Path("/proc/self/status")) or "").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def _own_rss() -> int:
    try:
        return psutil.Process().memory_info().rss
    except psutil.Error:
        return 0


def _cgroup_v2(root: Path) -> bool:
    return any((folder / "memory.max").exists() for folder in _cgroup_folders(root, "memory"))


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


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has mallopt and malloc_trim), else None."""
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            _libc = libc
        except (OSError, AttributeError):  # musl or another libc: nothing to tune
            return None
    return _libc


def tune_allocator() -> None:
    """Once per process: on Linux, small pages only; on glibc, fix the mmap threshold at
    2 MB, keep 16 MB of free heap, and serve every thread from one arena."""
    global _tuned
    if _tuned:
        return
    _tuned = True
    _small_pages()
    libc = _glibc()
    if libc is None:
        return
    options = [(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)]
    if "MALLOC_ARENA_MAX" not in os.environ:  # (whoever set it knows their process)
        options.append((_M_ARENA_MAX, 1))
    for option, value in options:
        if libc.mallopt(option, value) != 1:
            log.debug("mallopt(%d, %d) refused: renders may be slower or hold more memory", option, value)


def _small_pages() -> None:
    """Turn transparent huge pages off for this process and its children (Linux 3.15+)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_THP_DISABLE) refused (errno %d): renders may hold more memory", ctypes.get_errno())
    except (OSError, AttributeError):  # no prctl in this C library
        log.debug("no prctl here: transparent huge pages stay as the system sets them")


def lazy_zeros(shape: tuple[int, ...], dtype=np.uint8) -> np.ndarray:
    """Zeros that take memory only where written: an anonymous mapping of their own.

    A slide's text layer is a frame-sized plane with a few rows of ink. From the heap
    (a 1080p plane is just under the 2 MB mmap threshold `tune_allocator` sets) calloc
    may clear, and so make resident, every page of it; a fresh mapping's pages stay the
    kernel's shared zero page until written. Small arrays come from numpy as usual.
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size < _LAZY_FROM or not hasattr(mmap, "MAP_PRIVATE"):  # (Windows has no such flags)
        return np.zeros(shape, dtype)
    # Private: a shared mapping (mmap's default) gets a page of its own on every read too.
    mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(mapping, dtype=dtype).reshape(shape)


def return_free_memory() -> None:
    """Give the heaps' free memory back to the system (glibc's malloc_trim), after a render."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
