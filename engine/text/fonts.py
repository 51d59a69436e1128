"""The machine's own fonts, found through fontconfig, for characters nothing else has.

    for font in system_fonts(bold=False):      # in fontconfig's order for sans-serif
        if font.covers(0x65E5): ...

One ``fc-match --sort`` call per weight lists every font fontconfig would consider
for ``sans-serif``, best first, with the characters each has (its charset) and
whether it is a colour font, so finding a font for a character needs no further
process. The list is read once per process (`clear_cache` forgets it, for tests or
after installing fonts); ``FONTCONFIG_FILE`` and the other fontconfig variables
apply as usual. No fontconfig (no ``fc-match``): no system fonts, and `reel doctor`
says so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["SystemFont", "clear_cache", "fontconfig_problem", "system_fonts"]

log = logging.getLogger(__name__)

_FORMAT = "%{file}\\t%{index}\\t%{color}\\t%{family[0]}\\t%{charset}\\n"
_TIMEOUT_S = 20


@dataclass(frozen=True)
class SystemFont:
    path: str
    index: int
    family: str
    colour: bool | None  # None where fontconfig does not say (before 2.13.1)
    starts: tuple[int, ...] = field(repr=False)
    ends: tuple[int, ...] = field(repr=False)

    def covers(self, code_point: int) -> bool:
        i = bisect_right(self.starts, code_point) - 1
        return i >= 0 and code_point <= self.ends[i]


def fontconfig_problem() -> str | None:
    """Why system fonts cannot be searched here, or None when they can."""
    if shutil.which("fc-match") is None:
        return "fontconfig's fc-match is not installed"
    return None


@lru_cache(maxsize=2)
def system_fonts(bold: bool = False) -> tuple[SystemFont, ...]:
    """Fonts fontconfig offers for sans-serif text (bold or regular), best first."""
    exe = shutil.which("fc-match")
    if exe is None:
        return ()
    pattern = "sans-serif:weight=bold" if bold else "sans-serif"
    try:
        done = subprocess.run(
            [exe, "--sort", "--format", _FORMAT, pattern],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("fontconfig could not list the system fonts (%s); no system font fallback", exc)
        return ()
    if done.returncode != 0:
        log.warning("fc-match failed (%s); no system font fallback", done.stderr.strip()[:200])
        return ()
    return tuple(_parse(done.stdout))


def _parse(listing: str):
    seen = set()
    for row in listing.splitlines():
        parts = row.split("\t")
        if len(parts) != 5 or not parts[0]:
            continue
        path, index, colour, family, charset = parts
        try:
            key = (path, int(index or 0))
        except ValueError:
            continue
        if key in seen:
            continue
        seen.add(key)
        starts, ends = _charset(charset)
        flag = {"true": True, "false": False}.get(colour.strip().lower())
        yield SystemFont(path, key[1], family, flag, starts, ends)


def _charset(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """fontconfig's charset text ("20-7e a0-17f 2010") as sorted ranges."""
    starts, ends = [], []
    for part in text.split():
        first, _, last = part.partition("-")
        try:
            lo = int(first, 16)
            hi = int(last, 16) if last else lo
        except ValueError:
            continue
        starts.append(lo)
        ends.append(hi)
    order = sorted(range(len(starts)), key=starts.__getitem__)
    return tuple(starts[i] for i in order), tuple(ends[i] for i in order)


def clear_cache() -> None:
    """Forget the system font lists (read again on next use)."""
    system_fonts.cache_clear()
