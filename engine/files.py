"""The one gate every user file passes before Reel reads it: a regular file, within its limit.

A deck, an image, a font, an audio file, a matte or a shader file that is a FIFO, a
socket, a device or a folder is refused *before* anything opens it: opening a FIFO
with no writer blocks for ever, and reading ``/dev/zero`` never ends. `regular_file`
says so with `os.stat` (symlinks followed) and returns the resolved path for readers
that open files themselves (Pillow, PyAV, FreeType); `read_regular` reads a file we
parse ourselves (a deck, a shader) through a non-blocking open whose `fstat` is
checked too, so a file swapped for a FIFO in between is still refused, and never
reads more than its limit. `image_size` reads an image's size from its header, with
Pillow's own decompression-bomb check turned into the same `AssetError`.

Every refusal is an `AssetError` on one line: ``where: what problem: path``, the
problem naming the setting whose limit was passed.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

from .errors import AssetError

__all__ = ["file_problem", "format_bytes", "image_size", "read_regular", "regular_file"]

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def format_bytes(count: int) -> str:
    """``1.5 MB``, ``200 kB``, ``12 bytes``: a size in messages (decimal units)."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


def _mode_problem(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    for test, kind in _KINDS:
        if test(mode):
            return f"is {kind}, not a regular file"
    return "is not a regular file"


def _size_problem(size: int, limit_bytes: int | None, setting: str) -> str | None:
    if limit_bytes is None or size <= limit_bytes:
        return None
    return f"is {format_bytes(size)}, more than the {format_bytes(limit_bytes)} {setting or 'limit'} allows"


def file_problem(path: Path | str, limit_bytes: int | None = None, setting: str = "") -> str | None:
    """Why `path` cannot be read as a file ("not found", "is a FIFO …"), or None if it can.

    Only `os.stat` and `os.access` look at it: nothing is opened.
    """
    try:
        info = os.stat(path)  # follows symlinks: the target is what gets read
    except FileNotFoundError:
        return "not found"
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, ELOOP, EACCES on a folder, a NUL in the name
        return f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
    problem = _mode_problem(info.st_mode) or _size_problem(info.st_size, limit_bytes, setting)
    if problem is None and not os.access(path, os.R_OK):
        problem = "cannot be read (permission denied)"
    return problem


def _refusal(where: str, what: str, problem: str, path: Path | str) -> AssetError:
    head = f"{where}: " if where else ""
    return AssetError(f"{head}{what} {problem}: {short_path(path)}", path)


def short_path(path: Path | str, limit: int = 160) -> str:
    """`path` as written, its middle elided past `limit` characters (a 4 KB path stays one short line)."""
    text = str(path)
    if len(text) <= limit:
        return text
    keep = (limit - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


def regular_file(
    path: Path | str, what: str, limit_bytes: int | None = None, *, setting: str = "", where: str = ""
) -> Path:
    """`path` resolved (symlinks followed), or AssetError unless it is a readable regular file.

    `what` names the file in the message ("image", "deck file"); `limit_bytes`, if
    given, is the most it may hold, and `setting` the setting that says so
    (``REEL_MAX_IMAGE_BYTES``); `where` is the deck path that named the file.
    """
    problem = file_problem(path, limit_bytes, setting)
    if problem:
        raise _refusal(where, what, problem, path)
    return Path(os.path.realpath(path))


def read_regular(
    path: Path | str, what: str, limit_bytes: int | None = None, *, setting: str = "", where: str = ""
) -> bytes:
    """The bytes of regular file `path`, at most `limit_bytes` of them; AssetError otherwise.

    The open cannot block (O_NONBLOCK, which a regular file ignores) and the opened file
    is checked again, so nothing but a regular file of at most `limit_bytes` is read.
    """
    problem = file_problem(path, limit_bytes, setting)
    if problem:
        raise _refusal(where, what, problem, path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _refusal(where, what, f"cannot be read ({exc.strerror or exc})", path) from exc
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        problem = _mode_problem(info.st_mode) or _size_problem(info.st_size, limit_bytes, setting)
        if problem:
            raise _refusal(where, what, problem, path)
        try:
            data = file.read() if limit_bytes is None else file.read(limit_bytes + 1)
        except OSError as exc:
            raise _refusal(where, what, f"cannot be read ({exc.strerror or exc})", path) from exc
    if limit_bytes is not None and len(data) > limit_bytes:  # it grew since the fstat
        raise _refusal(where, what, _size_problem(len(data), limit_bytes, setting) or "", path)
    return data


def image_size(
    path: Path | str, what: str = "image", max_pixels: int | None = None, *, setting: str = "", where: str = ""
) -> tuple[int, int]:
    """Width and height of the image at `path` (as stored), from its header alone.

    AssetError if it is not a regular file, not an image Pillow reads, or larger than
    `max_pixels` (a decompression bomb: a small file that decodes to gigabytes).
    """
    from PIL import Image, UnidentifiedImageError

    resolved = regular_file(path, what, where=where)
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own MAX_IMAGE_PIXELS; here the size is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(resolved) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        limit = f"the {max_pixels:,} pixels {setting or 'the limit'} allows" if max_pixels else "Pillow's limit"
        raise _refusal(where, what, f"is a decompression bomb (more pixels than {limit})", path) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refusal(where, what, "is not an image Pillow can read", path) from exc
    if max_pixels is not None and width * height > max_pixels:
        problem = (
            f"is {width}×{height} = {width * height:,} pixels, more than the {max_pixels:,} {setting or 'limit'} allows"
        )
        raise _refusal(where, what, problem, path)
    return width, height
