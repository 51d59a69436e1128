"""What a font file holds, read from its tables: which characters, colour, fixed sizes.

Pillow draws glyphs but cannot say whether a font *has* one (a missing character
quietly becomes the .notdef box), so the fallback chain reads each font's ``cmap``
itself. The same pass notes whether the font is a colour font (``CBDT``, ``sbix``,
``COLR`` or ``SVG`` tables) and, for a bitmap-only font such as Noto Color Emoji,
the pixel sizes its strikes come in (FreeType loads such a font at those sizes only).

    facts = font_facts("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
    facts.covers(0x1F600), facts.colour, facts.strikes     # True, True, (109,)

TrueType collections (``.ttc``) are read face by face (`index`). Only what the
fallback needs is parsed: cmap formats 4, 12 and 13, the strike sizes of CBLC, EBLC
and sbix, and the family name.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import AssetError

__all__ = ["FontFacts", "FontFileError", "font_facts"]


class FontFileError(AssetError, ValueError):
    """The file is not an OpenType/TrueType font (or collection) this module can read.

    An `AssetError` (the deck named a file that is not a font: one line, exit 2), and a
    ValueError as before. Its message names the file and what is wrong with it, and
    never quotes the file's contents.
    """

    def __init__(self, path: str, problem: str, where: str = "") -> None:
        self.problem = problem
        head = f"{where}: " if where else ""
        super().__init__(f"{head}font file {path} {problem}", path)


@dataclass(frozen=True)
class FontFacts:
    path: str
    index: int
    family: str
    starts: tuple[int, ...] = field(repr=False)  # covered code points: sorted, disjoint [start, end] ranges
    ends: tuple[int, ...] = field(repr=False)
    colour: bool = False  # CBDT, sbix, COLR or SVG: glyphs come in their own colours
    strikes: tuple[int, ...] = ()  # pixel sizes of a bitmap-only font; () for outline fonts

    def covers(self, code_point: int) -> bool:
        i = bisect_right(self.starts, code_point) - 1
        return i >= 0 and code_point <= self.ends[i]

    @property
    def scalable(self) -> bool:
        return not self.strikes

    @property
    def count(self) -> int:
        """How many code points the font maps."""
        return sum(e - s + 1 for s, e in zip(self.starts, self.ends))


@lru_cache(maxsize=128)
def font_facts(path: str | Path, index: int = 0) -> FontFacts:
    """The facts of face `index` of the font file at `path` (read once per process).

    FontFileError when it is not a regular file (nothing else is opened: a FIFO would
    block), cannot be read, or is not an OpenType/TrueType font or collection.
    """
    path = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise FontFileError(path, "is not found") from exc
    except (OSError, ValueError) as exc:
        raise FontFileError(path, f"cannot be read ({getattr(exc, 'strerror', None) or 'bad path'})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise FontFileError(path, "is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file")
    if info.st_size == 0:
        raise FontFileError(path, "is empty")
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read(data, path, index)
    except FontFileError:
        raise
    except (OSError, ValueError) as exc:  # unreadable, or changed since the stat
        raise FontFileError(path, f"cannot be read ({getattr(exc, 'strerror', None) or 'read error'})") from exc


#: What a file starting with these four bytes is, when it is a font Reel does not read.
_OTHER_FORMATS = {
    b"wOFF": "is a WOFF web font, which Reel does not read: convert it to .ttf or .otf",
    b"wOF2": "is a WOFF2 web font, which Reel does not read: convert it to .ttf or .otf",
}


def _read(data, path: str, index: int) -> FontFacts:
    if len(data) < 12:
        raise FontFileError(path, f"is not an OpenType or TrueType font (only {len(data)} bytes)")
    signature = bytes(data[:4])
    if signature in _OTHER_FORMATS:
        raise FontFileError(path, _OTHER_FORMATS[signature])
    if signature not in _SIGNATURES:
        raise FontFileError(path, "is not an OpenType or TrueType font (nor a collection of them)")
    try:
        tables = _tables(data, index)
        starts, ends = _coverage(data, tables.get(b"cmap"))
        strikes: tuple[int, ...] = ()
        if not any(t in tables for t in (b"glyf", b"CFF ", b"CFF2")):
            strikes = _strikes(data, tables)
        colour = any(t in tables for t in (b"CBDT", b"sbix", b"COLR", b"SVG "))
        family = _family(data, tables.get(b"name"))
    except (struct.error, IndexError, ValueError) as exc:
        if isinstance(exc, FontFileError):
            raise
        problem = f"is damaged or cut short: what it says it holds is not in its {len(data):,} bytes"
        raise FontFileError(path, problem) from exc
    return FontFacts(path, index, family, starts, ends, colour, strikes)


# ── sfnt structure ────────────────────────────────────────────────────────────────


#: The first four bytes of an sfnt font (TrueType, OpenType/CFF, Apple's "true") or collection.
_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"ttcf")


def _tables(data: bytes, index: int) -> dict[bytes, tuple[int, int]]:
    """Table tag → (offset, length) for face `index`."""
    base = 0
    if data[:4] == b"ttcf":
        count = struct.unpack_from(">I", data, 8)[0]
        if not 0 <= index < count:
            raise IndexError(f"face {index} asked of a collection of {count}")
        base = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    num = struct.unpack_from(">H", data, base + 4)[0]
    tables = {}
    for i in range(num):
        rec = base + 12 + 16 * i
        tag, _, offset, length = struct.unpack_from(">4sIII", data, rec)
        tables[tag] = (offset, length)
    return tables


def _coverage(data: bytes, cmap: tuple[int, int] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sorted, merged ranges of the code points any Unicode subtable maps to a real glyph."""
    if cmap is None:
        return (), ()
    start = cmap[0]
    count = struct.unpack_from(">H", data, start + 2)[0]
    subtables: dict[int, list[int]] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, start + 4 + 8 * i)
        if platform == 0 or (platform == 3 and encoding in (1, 10)):
            at = start + offset
            subtables.setdefault(struct.unpack_from(">H", data, at)[0], []).append(at)
    ranges: list[tuple[int, int]] = []
    # A format 12 table is the full map (format 4 is its BMP part): read 4 only without it.
    for at in sorted(set(subtables.get(12, []))):
        ranges.extend(_format12(data, at, 12))
    for at in sorted(set(subtables.get(13, []))):
        ranges.extend(_format12(data, at, 13))
    if not ranges:
        for at in sorted(set(subtables.get(4, []))):
            ranges.extend(_format4(data, at))
    return _merge(ranges)


def _format4(data: bytes, at: int) -> list[tuple[int, int]]:
    segs = struct.unpack_from(">H", data, at + 6)[0] // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + 2 * segs)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 4 * segs)
    range_at = at + 16 + 6 * segs
    offsets = struct.unpack_from(f">{segs}H", data, range_at)
    out = []
    for s, (first, last, delta, ro) in enumerate(zip(starts, ends, deltas, offsets)):
        if first == 0xFFFF:
            continue
        if ro == 0:
            # glyph = (c + delta) mod 65536; only the one code point that lands on 0 is unmapped
            hole = (-delta) % 65536
            if first <= hole <= last:
                if first < hole:
                    out.append((first, hole - 1))
                if hole < last:
                    out.append((hole + 1, last))
            else:
                out.append((first, last))
            continue
        run_start = None
        for c in range(first, last + 1):
            glyph_at = range_at + 2 * s + ro + 2 * (c - first)
            mapped = struct.unpack_from(">H", data, glyph_at)[0] != 0
            if mapped and run_start is None:
                run_start = c
            elif not mapped and run_start is not None:
                out.append((run_start, c - 1))
                run_start = None
        if run_start is not None:
            out.append((run_start, last))
    return out


def _format12(data: bytes, at: int, fmt: int) -> list[tuple[int, int]]:
    groups = struct.unpack_from(">I", data, at + 12)[0]
    out = []
    for g in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        if glyph == 0:
            if fmt == 13:
                continue
            first += 1  # format 12: glyph ids run from `glyph`, so only `first` maps to 0
        if first <= last:
            out.append((first, last))
    return out


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    starts: list[int] = []
    ends: list[int] = []
    for first, last in sorted(ranges):
        if ends and first <= ends[-1] + 1:
            ends[-1] = max(ends[-1], last)
        else:
            starts.append(first)
            ends.append(last)
    return tuple(starts), tuple(ends)


def _strikes(data: bytes, tables: dict[bytes, tuple[int, int]]) -> tuple[int, ...]:
    """Pixel sizes (ppem) of a bitmap font's strikes, from CBLC/EBLC or sbix."""
    sizes = set()
    for tag in (b"CBLC", b"EBLC"):
        if tag in tables:
            at = tables[tag][0]
            count = struct.unpack_from(">I", data, at + 4)[0]
            for i in range(count):
                # BitmapSize record (48 bytes): ppemX at byte 44, ppemY at 45
                sizes.add(data[at + 8 + 48 * i + 45])
    if b"sbix" in tables:
        at = tables[b"sbix"][0]
        count = struct.unpack_from(">I", data, at + 4)[0]
        for i in range(count):
            offset = struct.unpack_from(">I", data, at + 8 + 4 * i)[0]
            sizes.add(struct.unpack_from(">H", data, at + offset)[0])
    return tuple(sorted(s for s in sizes if s > 0))


def _family(data: bytes, name: tuple[int, int] | None) -> str:
    if name is None:
        return ""
    at = name[0]
    count, strings = struct.unpack_from(">HH", data, at + 2)
    best = ""
    for i in range(count):
        platform, _encoding, language, name_id, length, offset = struct.unpack_from(">6H", data, at + 6 + 12 * i)
        if name_id not in (1, 16):
            continue
        raw = data[at + strings + offset : at + strings + offset + length]
        if platform == 3 or platform == 0:
            text = raw.decode("utf-16-be", "replace")
        elif platform == 1:
            text = raw.decode("latin-1")
        else:
            continue
        if name_id == 16 or not best:  # the typographic family wins over the legacy one
            best = text
        if platform == 3 and language == 0x409 and name_id == 16:
            break
    return best
