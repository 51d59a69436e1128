"""Lines cut into runs, measured exactly as they will be drawn.

    line = shape_line(para, start, end, size)
    line.runs      # left to right on the page: text, font, direction, pen offset, ink
    line.ink       # (x0, y0, x1, y1) of all of them, relative to the pen on the baseline
    line.ascent, line.descent    # the largest of the fonts the line uses

A run is a stretch of one font, one bidi level and one colour. Runs are ordered by
bidi rule L2, placed one after the other (each pen offset rounded from the running
sum of advances), and each is drawn by Pillow with raqm shaping in its own direction.
A bitmap font (Noto Color Emoji comes at 109 px only) is measured and drawn at its
strike size and scaled to the line's size. A synthetic oblique shears the run about
its baseline by `OBLIQUE` and widens its ink accordingly.

Measuring and drawing share these runs, so wrapping and shrink-to-fit see exactly
what paint will draw. A line of one font, left to right, unstyled (all Latin text in
the theme's font) is one run measured by one ``getbbox`` call: the same numbers, and
the same pixels, as before runs existed.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, cast

from PIL import ImageFont

from .fallback import Face, Para, extends_cluster
from .markup import ACCENT
from .shaping import detect_language, layout_engine, needs_shaping, visual_order

__all__ = [
    "OBLIQUE",
    "Run",
    "ShapedLine",
    "clear_caches",
    "estimated_advances",
    "load_face",
    "shape_line",
    "strike_for",
]

#: Horizontal shear of a synthetic oblique (tan of ~11°, as browsers slant).
OBLIQUE = 0.2


@dataclass(frozen=True)
class Run:
    """One stretch of a line drawn with one font call, at `dx` from the line's pen."""

    text: str  # as handed to Pillow (reversed already for right-to-left runs in basic layout)
    font: str
    index: int  # face in a font collection
    size: int  # the size the font is loaded at (a bitmap font's strike)
    scale: float  # drawn at size × scale: 1.0 but for bitmap fonts
    direction: str | None  # "rtl" for right-to-left runs under raqm; None: Pillow's default
    language: str | None
    dx: int  # pen offset from the line's x
    advance: int
    ink: tuple[int, int, int, int]  # relative to (x + dx, baseline)
    oblique: bool = False  # synthetic slant
    accent: bool = False  # drawn in the accent colour
    colour_glyphs: bool = False  # a colour font: drawn with its own colours

    def load(self) -> ImageFont.FreeTypeFont:
        return load_face(self.font, self.index, self.size)


@dataclass(frozen=True)
class ShapedLine:
    text: str  # logical order
    runs: tuple[Run, ...]  # visual order, left to right
    ink: tuple[int, int, int, int]
    ascent: int
    descent: int
    advance: int
    missing: tuple[str, ...] = ()  # characters no font had
    complex: bool = False  # needs raqm to be right

    @property
    def width(self) -> int:
        """Ink extent measured from the pen (a glyph overhanging left counts)."""
        x0, _, x1, _ = self.ink
        return x1 - min(0, x0)


@lru_cache(maxsize=512)
def _truetype(path: str, index: int, size: int, engine: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index, layout_engine=engine)


def load_face(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    """The face at `size` px with the layout engine in use (raqm when usable); cached."""
    return _truetype(path, index, size, layout_engine())


def strike_for(strikes: tuple[int, ...], size: int) -> int:
    """The strike of a bitmap font to scale to `size`: the smallest at least as large."""
    larger = [s for s in strikes if s >= size]
    return min(larger) if larger else max(strikes)


@dataclass(frozen=True)
class _Sized:
    font: ImageFont.FreeTypeFont
    load_size: int
    scale: float
    colour: bool


def _sized(face: Face, size: int) -> _Sized:
    facts = face.facts
    if facts.strikes:
        strike = strike_for(facts.strikes, size)
        return _Sized(load_face(face.path, face.index, strike), strike, size / strike, facts.colour)
    return _Sized(load_face(face.path, face.index, size), size, 1.0, facts.colour)


def shape_line(para: Para, start: int, end: int, size: int) -> ShapedLine:
    """Characters [start, end) of `para` as one line at `size` px."""
    return _shape(para, start, end, size)


@lru_cache(maxsize=8192)
def _shape(para: Para, start: int, end: int, size: int) -> ShapedLine:
    text = para.text[start:end]
    if not text:
        return ShapedLine("", (), (0, 0, 0, 0), *_metrics(para, size), 0)
    pieces = _pieces(para, start, end)
    order = visual_order([p[3] for p in pieces])
    raqm = layout_engine() == ImageFont.Layout.RAQM
    language_default = para.typeface.language
    runs = []
    pen = 0.0
    ascent = descent = 0
    x0 = y0 = x1 = y1 = None
    faces: dict[int, tuple[Face, _Sized, int, int]] = {}  # per face index: its face, size and metrics
    for k in order:
        a, b, face_index, level, oblique, accent = pieces[k]
        known = faces.get(face_index)
        if known is None:
            face = para.faces[face_index] or _notdef_face(para)
            sized = _sized(face, size)
            a_, d_ = sized.font.getmetrics()
            known = faces[face_index] = (face, sized, round(a_ * sized.scale), round(d_ * sized.scale))
        face, sized, run_ascent, run_descent = known
        chunk = para.text[a:b]
        rtl = level % 2 == 1
        direction = language = None
        if raqm:
            direction = "rtl" if rtl else None
            language = detect_language(chunk, language_default)
        elif rtl:
            chunk = chunk[::-1]  # basic layout: at least the letters come in the right order
        if para.faces[face_index] is None:
            chunk = _boxes(chunk, face)
        length, (bx0, by0, bx1, by1) = _measure_run(face, size, chunk, direction, language)
        if oblique:
            bx0, bx1 = math.floor(bx0 - OBLIQUE * max(0, by1)), math.ceil(bx1 + OBLIQUE * max(0, -by0))
        dx = round(pen)
        advance = round(pen + length) - dx
        pen += length
        ascent = max(ascent, run_ascent)
        descent = max(descent, run_descent)
        runs.append(
            Run(
                chunk,
                face.path,
                face.index,
                sized.load_size,
                sized.scale,
                direction,
                language,
                dx,
                advance,
                (bx0, by0, bx1, by1),
                bool(oblique),
                bool(accent),
                sized.colour,
            )
        )
        if bx1 > bx0 or by1 > by0 or len(pieces) == 1:
            x0 = dx + bx0 if x0 is None else min(x0, dx + bx0)
            y0 = by0 if y0 is None else min(y0, by0)
            x1 = dx + bx1 if x1 is None else max(x1, dx + bx1)
            y1 = by1 if y1 is None else max(y1, by1)
    base_ascent, base_descent = _metrics(para, size)
    ink = (x0 or 0, y0 or 0, x1 or 0, y1 or 0)
    present = set(text) if para.missing else ()
    missing = tuple(m for m in para.missing if m[0] in present and m in text)
    return ShapedLine(
        text,
        tuple(runs),
        ink,
        max(ascent, base_ascent),
        max(descent, base_descent),
        round(pen),
        missing,
        needs_shaping(text),
    )


@lru_cache(maxsize=16384)
def _measure_run(
    face: Face, size: int, chunk: str, direction: str | None, language: str | None
) -> tuple[float, tuple[int, int, int, int]]:
    """Advance and ink box of one run's text as Pillow draws it: the same for every line that has it.

    Wrapping measures a line again each time it grows by a word, and a line of many runs
    (emphasis, fallback fonts) would otherwise shape every run again each time.
    """
    sized = _sized(face, size)
    kw: dict[str, Any] = {}
    if direction:
        kw["direction"] = direction
    if language:
        kw["language"] = language
    font = sized.font
    length = font.getlength(chunk, **kw) * sized.scale
    bx0, by0, bx1, by1 = map(int, font.getbbox(chunk, anchor="ls", **kw))  # whole pixels from FreeType
    if sized.scale != 1.0:
        s = sized.scale
        bx0, by0, bx1, by1 = math.floor(bx0 * s), math.floor(by0 * s), math.ceil(bx1 * s), math.ceil(by1 * s)
    return length, (bx0, by0, bx1, by1)


def _pieces(para: Para, start: int, end: int) -> list[tuple[int, int, int, int, int, int]]:
    """Maximal stretches of one face, level, slant and colour: (a, b, face, level, oblique, accent)."""
    face_of, levels, oblique, flags = para.face_of, para.levels, para.oblique, para.rich.flags
    text = para.text
    base = 1 if para.rtl else 0
    # Rule L1: whitespace at the end of a line goes to the paragraph's level.
    trail = end
    while trail > start and text[trail - 1].isspace():
        trail -= 1
    pieces: list[tuple[int, int, int, int, int, int]] = []
    a = start
    key: tuple[int, int, int, int] | None = None
    for i in range(start, end):
        k = (face_of[i], base if i >= trail else levels[i], oblique[i], flags[i] & ACCENT)
        if k != key:
            if key is not None:
                pieces.append((a, i, *key))
            a, key = i, k
    pieces.append((a, end, *cast(tuple[int, int, int, int], key)))  # set by the loop (start < end)
    return pieces


def _boxes(chunk: str, face: Face) -> str:
    """What draws characters no font has in `face` (the block's own font): its .notdef box for each.

    A run of letters, digits, punctuation and symbols none of which `face` has is drawn
    as its first character repeated, the same boxes: shaping that many different
    characters a font lacks costs raqm a hundred times more (a CJK paragraph on a
    machine without CJK fonts). A run with marks, spaces or format characters (which
    shaping may hide or stack) is drawn as it is.
    """
    first = chunk[0]
    if chunk.count(first) == len(chunk):
        return chunk
    distinct = set(chunk)
    if not all(unicodedata.category(c)[0] in "LNPS" and not face.covers(ord(c)) for c in distinct):
        return chunk
    return first * len(chunk)


def _notdef_face(para: Para) -> Face:
    """No font has these characters: draw them with the block's own (its .notdef box)."""
    return para.primary


def _metrics(para: Para, size: int) -> tuple[int, int]:
    """Ascent and descent of the block's own font: every line has at least these."""
    face = para.primary
    return _sized_metrics(face, size)


@lru_cache(maxsize=512)
def _sized_metrics(face: Face, size: int) -> tuple[int, int]:
    sized = _sized(face, size)
    ascent, descent = sized.font.getmetrics()
    return round(ascent * sized.scale), round(descent * sized.scale)


# ── estimates ─────────────────────────────────────────────────────────────────────

#: The size estimates are measured at (a bitmap font: its first strike).
_ESTIMATE_PX = 64


@lru_cache(maxsize=4096)
def estimated_advances(para: Para) -> tuple[float, ...]:
    """Running sum of the paragraph's advances, in ems, one character at a time, unshaped.

    ``(e[b] - e[a]) × size`` is roughly the width of characters [a, b) at `size` px: no
    kerning, ligatures or joining, each character in its own font without shaping (marks
    and joiners count nothing). Only a guess where to look: wrapping starts its search for
    each line's break there and measures (`shape_line`) what it keeps.
    """
    text, face_of, faces = para.text, para.face_of, para.faces
    tables = [_em_table(face or para.primary) for face in faces]
    per_char = []
    for ch, index in zip(text, face_of):
        table = tables[index]
        em = table.get(ch)
        if em is None:
            em = table[ch] = 0.0 if extends_cluster(ord(ch)) else _em_advance(faces[index] or para.primary, ch)
        per_char.append(em)
    return (0.0, *accumulate(per_char))


@lru_cache(maxsize=256)
def _em_table(face: Face) -> dict[str, float]:
    """Characters of `face` measured so far → advance in ems (filled as characters come)."""
    return {}


def _em_advance(face: Face, ch: str) -> float:
    try:
        strikes = face.facts.strikes
        px = strikes[0] if strikes else _ESTIMATE_PX
        return _basic_face(face.path, face.index, px).getlength(ch) / px
    except (OSError, ValueError):  # an unreadable face, a character it cannot measure: an average letter
        return 0.5


@lru_cache(maxsize=64)
def _basic_face(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)


def clear_caches() -> None:
    """Forget every shaped run, loaded font and measure (see `engine.text.caches`)."""
    for cached in (
        _shape,
        _truetype,
        _sized_metrics,
        _measure_run,
        estimated_advances,
        _em_table,
        _basic_face,
    ):
        cached.cache_clear()
