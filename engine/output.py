"""Getting a finished file onto disk, whole or not at all.

The encoder writes to a hidden temporary file in the target's own folder (so the
final rename is atomic on the same file system). Only a render that completes is
fsynced and renamed into place; an error or Ctrl-C deletes the temporary file.
"""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psutil

from .errors import InsufficientResourcesError
from .platforms import Output

__all__ = ["atomic_output", "check_resources", "estimate_bytes", "estimate_peak_memory", "temporaries_of"]

# Slack above the bitrate cap for the container and the faststart rewrite, which
# copies the file once.
_DISK_FACTOR = 2.2
# What one render needs beyond its frame buffers: interpreter, libraries, x264's
# lookahead. Measured ~250 MB at 1080p; checked loosely so tests on small machines run.
_BASE_MEMORY = 150 * 1024 * 1024


def estimate_bytes(output: Output, seconds: float) -> int:
    """An upper estimate of the finished file's size: the bitrate cap × duration."""
    return int(output.max_bitrate / 8 * seconds)


def estimate_peak_memory(output: Output) -> int:
    """Bytes one render of `output` may need at its peak (what schedulers plan with)."""
    # Frame buffers and slide planes scale with the frame; x264 keeps ~40 frames in flight.
    return _BASE_MEMORY + output.width * output.height * 3 // 2 * 48


def check_resources(output: Output, seconds: float, target: Path) -> None:
    """Raise InsufficientResourcesError before starting if disk or memory is short."""
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


def temporaries_of(target: Path, tag: str) -> list[Path]:
    """Temporary files `atomic_output(target, tag)` may have left (a process killed mid-write)."""
    target = Path(target)
    # The audio mux writes a temporary of the temporary: "..name.tag-x.part.y.part.mp4".
    return sorted(target.parent.glob(f".*{target.stem}.{tag}-*.part*"))


@contextmanager
def atomic_output(target: Path, tag: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync and rename it to `target`.

    `tag` goes into the temporary's name, so whoever supervises a process that may be
    killed mid-write can find what it left (`temporaries_of`).
    """
    target = Path(target)
    prefix = f"{tag}-" if tag else ""
    while True:
        tmp = target.with_name(f".{target.stem}.{prefix}{secrets.token_hex(4)}.part{target.suffix}")
        try:
            # Not mkstemp: its 0600 would carry over to the finished video. Mode 0666
            # lets the umask decide, as for any file the user writes.
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
