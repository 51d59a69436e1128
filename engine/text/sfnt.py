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
import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

__all__ = ["FontFacts", "font_facts", "FontFileError"]


class FontFileError(ValueError):
    """The file is not an OpenType/TrueType font (or collection) this module can read."""


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
    """The facts of face `index` of the font file at `path` (read once per process)."""
    path = str(path)
    try:
        with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read(data, path, index)
    except (OSError, ValueError) as exc:  # missing, unreadable or empty (mmap refuses 0 bytes)
        if isinstance(exc, FontFileError):
            raise
        raise FontFileError(f"cannot read font {path}: {exc}") from exc


def _read(data, path: str, index: int) -> FontFacts:
    try:
        tables = _tables(data, index)
        starts, ends = _coverage(data, tables.get(b"cmap"))
        strikes: tuple[int, ...] = ()
        if not any(t in tables for t in (b"glyf", b"CFF ", b"CFF2")):
            strikes = _strikes(data, tables)
        colour = any(t in tables for t in (b"CBDT", b"sbix", b"COLR", b"SVG "))
        family = _family(data, tables.get(b"name"))
    except (struct.error, IndexError) as exc:
        raise FontFileError(f"{path} is not a font file that can be read: {exc}") from exc
    return FontFacts(path, index, family, starts, ends, colour, strikes)


# ── sfnt structure ────────────────────────────────────────────────────────────────


def _tables(data: bytes, index: int) -> dict[bytes, tuple[int, int]]:
    """Table tag → (offset, length) for face `index`."""
    base = 0
    tag = data[:4]
    if tag == b"ttcf":
        count = struct.unpack_from(">I", data, 8)[0]
        if not 0 <= index < count:
            raise FontFileError(f"face {index} asked of a collection of {count}")
        base = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    elif tag not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise FontFileError(f"unknown font signature {tag!r}")
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
        platform, encoding, language, name_id, length, offset = struct.unpack_from(">6H", data, at + 6 + 12 * i)
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
