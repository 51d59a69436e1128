"""Getting a finished file onto disk, whole or not at all.

The encoder writes to a hidden temporary file in the target's own folder (so the
final rename is atomic on the same file system). Only a render that completes is
fsynced and renamed into place; an error or Ctrl-C deletes the temporary file.

This module is also the output side's one boundary with the operating system: an
`OSError` met while checking, creating or writing an output becomes an `OutputError`
(a folder where the file should be, a read-only or foreign folder, a name too long)
or an `InsufficientResourcesError` (disk full, quota), one line naming the path
(`output_error`). `check_target` finds what it can before any work starts.

A temporary's name records who writes it, ``.<name>.<tag>-<random>.p<pid>-<start>-<host>.part.mp4``
(the process id, its start time in base 36, and a hash of the host name, machine id
and PID namespace), and stays within the file system's 255 bytes however long the target's
name is (a long name is cut and a hash of it added). A process killed with SIGKILL
cannot delete its temporary; the next check of that folder does, once no process of
that id and start time exists on this host (`remove_stale_temporaries`,
`reel doctor --clean`).
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import hashlib
import os
import re
import secrets
import shutil
import socket
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import psutil

from .errors import EngineError, InsufficientResourcesError, OutputError
from .platforms import Output

__all__ = [
    "Sweep",
    "Temporary",
    "atomic_output",
    "check_resources",
    "check_target",
    "estimate_bytes",
    "estimate_peak_memory",
    "output_error",
    "refuse_duplicate_targets",
    "remove_stale_temporaries",
    "scratch_file",
    "sweep_temporaries",
    "temporaries_in",
    "temporaries_of",
]

# Slack above the bitrate cap for the container and the faststart rewrite, which
# copies the file once.
_DISK_FACTOR = 2.2
# What one render needs beyond its frame buffers: interpreter, libraries, x264's
# lookahead. Measured ~250 MB at 1080p; checked loosely so tests on small machines run.
_BASE_MEMORY = 150 * 1024 * 1024
# Most file systems allow 255 bytes per name; pathconf says when one allows fewer.
_NAME_MAX = 255


def estimate_bytes(output: Output, seconds: float) -> int:
    """An upper estimate of the finished file's size: the bitrate cap × duration."""
    return int(output.max_bitrate / 8 * seconds)


def estimate_peak_memory(output: Output) -> int:
    """Bytes one render of `output` may need at its peak (what schedulers plan with)."""
    # Frame buffers and slide planes scale with the frame; x264 keeps ~40 frames in flight.
    return _BASE_MEMORY + output.width * output.height * 3 // 2 * 48


def check_resources(output: Output, seconds: float, target: Path) -> None:
    """Before starting: `target` can be written (`check_target`), and disk and memory
    suffice (else InsufficientResourcesError)."""
    check_target(target)
    folder = target.parent
    need_disk = int(estimate_bytes(output, seconds) * _DISK_FACTOR)
    free_disk = shutil.disk_usage(folder).free
    if free_disk < need_disk:
        raise InsufficientResourcesError(
            f"{folder}: {free_disk / 1e6:.0f} MB free, this render may need {need_disk / 1e6:.0f} MB"
        )
    need_memory = estimate_peak_memory(output)
    available = psutil.virtual_memory().available
    if available < need_memory:
        raise InsufficientResourcesError(
            f"{available / 1e6:.0f} MB of memory available, a {output.width}x{output.height} render needs "
            f"about {need_memory / 1e6:.0f} MB"
        )


# -- OS errors → the engine's errors ------------------------------------------------------


def output_error(exc: OSError, path: str | Path) -> EngineError:
    """The one-line error for `exc`, met while making or writing `path` (a file or a folder)."""
    path = Path(path)
    code = exc.errno
    if code == errno.ENOSPC:
        return InsufficientResourcesError(f"{path}: no space left on the device; free some space or write elsewhere")
    if code == errno.EDQUOT:
        return InsufficientResourcesError(f"{path}: disk quota exceeded; free some space or write elsewhere")
    if code == errno.EROFS:
        return OutputError(f"{path}: the file system is read-only; write elsewhere", path)
    if code in (errno.EACCES, errno.EPERM):
        return OutputError(f"{path}: no permission to write there; write elsewhere", path)
    if code == errno.ENAMETOOLONG:
        return OutputError(f"{_cut(path)}: the name is too long for the file system; choose a shorter one", path)
    if code == errno.EISDIR:
        return OutputError(f"{path}: is a folder; name a file that is not one", path)
    if code in (errno.ENOTDIR, errno.EEXIST):
        blocking = _blocking_file(path)
        return OutputError(f"{path}: not a folder ({blocking} is {_kind_of(blocking)})", path)
    if code == errno.EFBIG:
        return OutputError(f"{path}: the file is larger than the file system allows", path)
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"{path}: cannot write: {reason}", path)


def _cut(path: Path, keep: int = 40) -> str:
    """`path` with a long last part cut, so a message about a name too long stays one line."""
    name = path.name
    return str(path) if len(name) <= keep else str(path.parent / f"{name[:keep]}…")


def _blocking_file(path: Path) -> Path:
    """The part of `path` that exists but is not a folder (or `path` itself)."""
    for part in [*reversed(path.parents), path]:
        try:
            if not stat.S_ISDIR(os.stat(part).st_mode):
                return part
        except OSError:
            break
    return path


def _kind_of(path: Path) -> str:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "missing"
    for test, kind in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX")) or _NAME_MAX
    except (OSError, ValueError):
        return _NAME_MAX


def _output_side(exc: BaseException, target: Path) -> EngineError | None:
    """What a failure inside `atomic_output` becomes when the output's disk caused it.

    The encoder and the muxer wrap FFmpeg's errors in RenderError; a full disk or quota
    underneath is the user's to fix, and is said so. Other failures pass as they are.
    """
    if not isinstance(exc, Exception) or (isinstance(exc, EngineError) and exc.user_error):
        return None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS):
            return output_error(cause, target)
        cause = cause.__cause__ or cause.__context__
    return None


# -- Checked before any work -----------------------------------------------------------------


def check_target(target: str | Path, *, make_folder: bool = True) -> list[Path]:
    """Refuse, in milliseconds and before any work, an output that cannot be written.

    The folder must be a folder (made if missing, unless `make_folder` is false), the
    name must fit the file system, `target` must not be a folder or a device, and a
    file must be creatable beside it (read-only, permissions, a full inode table).
    Raises OutputError or InsufficientResourcesError. Temporaries that killed renders
    left in the folder are removed; returns them.
    """
    target = Path(target)
    folder = target.parent
    try:
        mode = os.stat(folder).st_mode
    except FileNotFoundError:
        if not make_folder:
            raise OutputError(f"{target}: the folder {folder} does not exist", target) from None
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, folder) from exc
    except OSError as exc:  # a part of the path is a file (ENOTDIR), or not ours to look into
        raise output_error(exc, folder) from exc
    else:
        if not stat.S_ISDIR(mode):
            raise OutputError(f"{folder}: the output folder is {_kind_of(folder)}, not a folder", folder)
    name_max = _name_max(folder)
    length = len(os.fsencode(target.name))
    if length > name_max:
        raise OutputError(
            f"{_cut(target)}: the name is {length} bytes, this file system allows {name_max}; choose a shorter one",
            target,
        )
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise output_error(exc, target) from exc
    else:
        if stat.S_ISDIR(mode):
            raise OutputError(f"{target}: is a folder; name a file that is not one", target)
        if not stat.S_ISREG(mode):
            raise OutputError(f"{target}: is {_kind_of(target)}, not a regular file; choose another name", target)
    removed = remove_stale_temporaries(folder)
    probe = _create_temporary(target, "")  # the way atomic_output will, so it fails now if it would then
    probe.unlink(missing_ok=True)
    return removed


def refuse_duplicate_targets(targets: Sequence[str | Path], labels: Sequence[str] | None = None) -> None:
    """Raise OutputError if two of `targets` are one file (one platform asked for twice,
    or two resolving to one name): the second would silently replace the first."""
    seen: dict[str, int] = {}
    for index, target in enumerate(targets):
        key = os.path.normcase(str(Path(target).resolve()))
        if key in seen:
            first = seen[key]
            which = (
                f"{labels[first]} and {labels[index]}"
                if labels and labels[first] != labels[index]
                else f"{labels[index]} twice"
                if labels
                else f"outputs {first + 1} and {index + 1}"
            )
            raise OutputError(
                f"{target}: two outputs of this render would write this one file ({which}); ask for each once", target
            )
        seen[key] = index


# -- Temporaries: named by their owner ----------------------------------------------------

# p<pid>-<start>-<host>: at most "p" + 7 + "-" + 7 + "-" + 8 characters.
_OWNER_MAX = 25
_RANDOM = 6  # hex digits
_SUFFIX_MAX = 16
_OWNER = re.compile(r"(?P<random>[0-9a-f]{6})\.p(?P<pid>\d+)-(?P<start>[0-9a-z]+)-(?P<host>[0-9a-f]{8})\.part")


@lru_cache(maxsize=1)
def _host() -> str:
    """This host, as temporaries name it: a hash of the host name, the machine id (two
    machines of one name sharing a network folder) and the PID namespace (two containers
    of one name sharing a folder), where process ids mean the same."""
    parts = [socket.gethostname()]
    for read in (lambda: Path("/etc/machine-id").read_text().strip(), lambda: os.readlink("/proc/self/ns/pid")):
        try:
            parts.append(read())
        except OSError:
            parts.append("")
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:8]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if number == 0:
            return text


@lru_cache(maxsize=4)
def _owner_of(pid: int) -> str:
    try:
        started = int(psutil.Process(pid).create_time())
    except psutil.Error:
        started = 0
    return f"p{pid}-{_base36(started)}-{_host()}"


def _temporary_name(target: Path, tag: str, name_max: int) -> str:
    owner = _owner_of(os.getpid())
    token = secrets.token_hex(_RANDOM // 2)
    nested = _OWNER.search(target.name) if _is_temporary(target) else None
    if nested is not None:
        # A temporary of a temporary (the audio mux, the cover): the same name with its
        # own random part, so it is found, and cleaned, with the first one.
        name = target.name
        return f"{name[: nested.start()]}{token}.{owner}.part{name[nested.end() :]}"
    suffix = target.suffix if len(target.suffix) <= _SUFFIX_MAX else ""
    stem = target.name[: len(target.name) - len(suffix)] if suffix else target.name
    return f".{_short_stem(stem, tag, suffix, name_max)}.{tag + '-' if tag else ''}{token}.{owner}.part{suffix}"


def _short_stem(stem: str, tag: str, suffix: str, name_max: int) -> str:
    """`stem`, or its start and a hash of it where the whole would not fit `name_max`."""
    fixed = len(f"..{tag}-" if tag else "..") + _RANDOM + 1 + _OWNER_MAX + len(".part") + len(os.fsencode(suffix))
    room = name_max - fixed
    raw = os.fsencode(stem)
    if len(raw) <= room:
        return stem
    digest = hashlib.sha1(raw).hexdigest()[:8]
    cut = raw[: max(0, room - len(digest) - 1)].decode("utf-8", "ignore")  # whole characters only
    return f"{cut}~{digest}"


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and _OWNER.search(path.name) is not None


def _create_temporary(target: Path, tag: str) -> Path:
    name_max = _name_max(target.parent)
    while True:
        tmp = target.with_name(_temporary_name(target, tag, name_max))
        try:
            # Not mkstemp: its 0600 would carry over to the finished video. Mode 0666
            # lets the umask decide, as for any file the user writes.
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            if _is_temporary(target):  # said by the outer atomic_output, naming the real target
                raise
            raise output_error(exc, target) from exc


@contextmanager
def scratch_file(beside: Path, tag: str = "") -> Iterator[Path]:
    """A working file beside `beside`, named as `atomic_output` names its temporaries (so
    `temporaries_of` and the sweeps find it if the process dies), removed when the block
    ends, whatever happens. Beside a temporary it is that temporary's kin, cleaned with it."""
    path = _create_temporary(Path(beside), tag)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def temporaries_of(target: Path, tag: str) -> list[Path]:
    """Temporary files `atomic_output(target, tag)` may have left (a process killed mid-write)."""
    target = Path(target)
    suffix = target.suffix if len(target.suffix) <= _SUFFIX_MAX else ""
    stem = target.name[: len(target.name) - len(suffix)] if suffix else target.name
    short = _short_stem(stem, tag, suffix, _name_max(target.parent))
    # Also the older names without an owner, and a temporary of a temporary.
    patterns = {
        f".*{glob.escape(target.stem)}.{glob.escape(tag)}-*.part*",
        f".{glob.escape(short)}.{glob.escape(tag)}-*.part*",
    }
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return sorted(target.parent / n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns))


@dataclass(frozen=True)
class Temporary:
    """A temporary in a folder, and what its name says about who writes it."""

    path: Path
    pid: int | None  # None: an older name that records no owner
    this_host: bool
    alive: bool  # its owner runs (True too where that cannot be known)

    @property
    def stale(self) -> bool:
        return self.pid is not None and self.this_host and not self.alive

    @property
    def why_kept(self) -> str:
        """Why a sweep leaves this temporary alone (it is not stale)."""
        if self.pid is None:
            return "its name records no writer (an older Reel); remove it by hand if no render runs"
        if not self.this_host:
            return "written on another host; clean it there"
        return f"process {self.pid} is still writing it"


def temporaries_in(folder: str | Path) -> list[Temporary]:
    """Every output temporary in `folder` (hidden ``.part`` files), with its owner's state."""
    folder = Path(folder)
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(".") or ".part" not in entry.name:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
        except OSError:
            continue
        mark = _OWNER.search(entry.name)
        if mark is None:
            found.append(Temporary(Path(entry.path), None, False, True))
            continue
        pid, host = int(mark["pid"]), mark["host"]
        this_host = host == _host()
        alive = not this_host or _running(pid, int(mark["start"], 36))
        found.append(Temporary(Path(entry.path), pid, this_host, alive))
    return sorted(found, key=lambda t: t.path.name)


def _running(pid: int, started: int) -> bool:
    """Whether the process `pid`, started at `started` (whole seconds), still runs here."""
    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # killed, not yet reaped: writes nothing more
            return False
        # A process of that id started at another time is a later one that reuses the id.
        return started == 0 or abs(int(process.create_time()) - started) <= 1
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # not ours to look at: it exists
        return True


@dataclass
class Sweep:
    """What sweeping a folder's temporaries did: those removed, and those kept with why."""

    removed: list[Temporary]
    kept: list[tuple[Temporary, str]]


def sweep_temporaries(folder: str | Path) -> Sweep:
    """Delete the temporaries in `folder` whose writer no longer runs on this host."""
    sweep = Sweep([], [])
    for temporary in temporaries_in(folder):
        if not temporary.stale:
            sweep.kept.append((temporary, temporary.why_kept))
            continue
        try:
            temporary.path.unlink()
        except FileNotFoundError:
            continue  # its writer's own cleanup, or another sweep, got there first
        except OSError as exc:
            sweep.kept.append((temporary, f"cannot remove it ({exc.strerror})"))
            continue
        sweep.removed.append(temporary)
    return sweep


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporaries in `folder` whose writer no longer runs on this host; return them."""
    return [temporary.path for temporary in sweep_temporaries(folder).removed]


@contextmanager
def atomic_output(target: Path, tag: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync and rename it to `target`.

    `tag` goes into the temporary's name, so whoever supervises a process that may be
    killed mid-write can find what it left (`temporaries_of`). OS errors of the output
    side (no space, quota, read-only) raise as `output_error` says. Where `target` is
    itself a temporary (the audio mux and the cover rewrite the video's), errors pass
    unchanged to the outer `atomic_output`, which names the file the user asked for.
    """
    target = Path(target)
    nested = _is_temporary(target)
    tmp = _create_temporary(target, tag)
    try:
        yield tmp
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        mapped = None if nested else _output_side(exc, target)
        if mapped is None:
            raise
        raise mapped from exc
    try:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not nested:
            raise output_error(exc, target) from exc
        raise
