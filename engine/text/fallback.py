"""Which font draws each character: the fallback chain, and paragraphs cut into runs.

A `Typeface` is everything a deck's text is set in: the theme's regular, bold and
(optional) italic fonts, the theme's own fallback fonts, then the bundled Inter, then
whatever fontconfig finds on the machine (`system`). For each character the first
font in that chain that has its glyph is used, so a line mixing Latin, Arabic, CJK
and emoji draws every character instead of .notdef boxes.

Characters are taken in clusters (a base and its combining marks, an emoji with its
modifiers, variation selector and ZWJ partners, a flag's two letters), and a cluster
goes to one font that has all of it. Emoji that ask for colour (most pictographs, or
any with U+FE0F) prefer a colour font. Spaces, punctuation and digits stay in the
font of the text around them when it has them, so an Arabic sentence is one run, not
one per word (but not in an emoji font, whose spaces are as wide as its pictures).

`Para.build(typeface, rich, rtl)` does this once per paragraph: per character, its
font (an index into `Para.faces`) and its bidi level; `engine.text.runs` then cuts
lines out of it.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..resources import font_path
from .fonts import system_fonts
from .markup import BOLD, ITALIC, Rich
from .sfnt import FontFileError, font_facts
from .shaping import bidi_levels

__all__ = ["Face", "FontChain", "Para", "Typeface", "clear_caches", "clusters", "extends_cluster", "is_emoji_cluster"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Face:
    """One face of a font file (a collection holds several)."""

    path: str
    index: int = 0

    @property
    def facts(self):
        return font_facts(self.path, self.index)

    def covers(self, code_point: int) -> bool:
        try:
            return self.facts.covers(code_point)
        except FontFileError:
            return False


@dataclass(frozen=True)
class FontChain:
    """Faces to try in order, then (when `system`) fontconfig's fonts of this weight."""

    faces: tuple[Face, ...]
    system: bool = True
    bold: bool = False

    def face_for(self, code_points: tuple[int, ...], emoji: bool) -> Face | None:
        return _face_for(self, code_points, emoji)


@lru_cache(maxsize=16384)
def _face_for(chain: FontChain, code_points: tuple[int, ...], emoji: bool) -> Face | None:
    candidates = list(_candidates(chain))
    if emoji:  # a colour font first, if one has the whole cluster
        for face, covers, colour in candidates:
            if colour() and all(map(covers, code_points)):
                return face
    for face, covers, _ in candidates:
        if all(map(covers, code_points)):
            return face
    for face, covers, _ in candidates:  # at least the base character
        if covers(code_points[0]):
            return face
    return None


def _candidates(chain: FontChain):
    for face in chain.faces:
        yield face, face.covers, lambda face=face: _colour(face)
    if chain.system:
        for font in system_fonts(chain.bold):
            face = Face(font.path, font.index)
            colour = (lambda c=font.colour: c) if font.colour is not None else (lambda face=face: _colour(face))
            yield face, font.covers, colour


def _colour(face: Face) -> bool:
    try:
        return face.facts.colour
    except FontFileError:
        return False


@dataclass(frozen=True)
class Typeface:
    """The fonts a deck's text is set in, by emphasis, and where missing glyphs come from.

    `italic` / `bold_italic` may be None: italic text is then drawn slanted (a
    synthetic oblique) in the upright font. `fallbacks` are the theme's extra fonts
    (tried after its own, before the bundled Inter); `system` adds fontconfig's.
    """

    regular: str
    bold: str
    italic: str | None = None
    bold_italic: str | None = None
    fallbacks: tuple[str, ...] = ()
    system: bool = True
    language: str | None = None

    def chain(self, flags: int) -> tuple[FontChain, bool]:
        """The chain for text with these emphasis flags, and whether to slant it ourselves."""
        return _chain(self, flags & (BOLD | ITALIC))


@lru_cache(maxsize=64)
def _chain(typeface: Typeface, flags: int) -> tuple[FontChain, bool]:
    bold, italic = bool(flags & BOLD), bool(flags & ITALIC)
    upright = typeface.bold if bold else typeface.regular
    first = upright
    oblique = False
    if italic:
        own = typeface.bold_italic if bold else typeface.italic
        if own is None and bold and typeface.italic is not None and typeface.bold == typeface.regular:
            own = typeface.italic  # a theme with one weight: its italic serves bold italic too
        first, oblique = (own, False) if own is not None else (upright, True)
    bundled = str(font_path("Inter-Bold.otf" if bold else "Inter-Regular.otf"))
    paths: list[str] = []
    for path in (first, *typeface.fallbacks, bundled):
        if path not in paths:
            paths.append(path)
    return FontChain(tuple(Face(p) for p in paths), typeface.system, bold), oblique


# ── clusters ──────────────────────────────────────────────────────────────────────

_ZWJ = 0x200D
_VS16 = 0xFE0F
_VS15 = 0xFE0E
_KEYCAP = 0x20E3


def _ignorable(cp: int) -> bool:
    """Default-ignorable: joiners, variation selectors, tags (a font need not map them)."""
    return (
        cp in (0x200B, 0x200C, _ZWJ, 0x2060, 0xFEFF)
        or 0xFE00 <= cp <= 0xFE0F
        or 0xE0000 <= cp <= 0xE0FFF
        or 0x180B <= cp <= 0x180F
    )


def extends_cluster(cp: int) -> bool:
    """Belongs to the cluster before it: marks, joiners, selectors, skin tones, tags."""
    if _ignorable(cp) or 0x1F3FB <= cp <= 0x1F3FF:
        return True
    return unicodedata.category(chr(cp)) in ("Mn", "Mc", "Me")


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def clusters(text: str) -> list[tuple[int, int]]:
    """(start, end) of each cluster of `text`: what must be drawn by one font."""
    if not text or max(text) < "\u0300":  # nothing below the combining marks joins a cluster
        return [(i, i + 1) for i in range(len(text))]
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        cp = ord(text[i])
        if _regional(cp) and j < n and _regional(ord(text[j])):
            j += 1  # a flag: two regional indicators
        while j < n:
            nxt = ord(text[j])
            if extends_cluster(nxt):
                j += 1
                if nxt == _ZWJ and j < n:
                    j += 1  # the ZWJ's partner joins the cluster too
            else:
                break
        out.append((i, j))
        i = j
    return out


# Code points whose default presentation is emoji (colour), in short ranges; the rest of
# the Emoji set (©, ❤, ☀ …) is text by default and colour only with U+FE0F.
_EMOJI_PRESENTATION = (
    (0x231A, 0x231B),
    (0x23E9, 0x23EC),
    (0x23F0, 0x23F0),
    (0x23F3, 0x23F3),
    (0x25FD, 0x25FE),
    (0x2614, 0x2615),
    (0x2648, 0x2653),
    (0x267F, 0x267F),
    (0x2693, 0x2693),
    (0x26A1, 0x26A1),
    (0x26AA, 0x26AB),
    (0x26BD, 0x26BE),
    (0x26C4, 0x26C5),
    (0x26CE, 0x26CE),
    (0x26D4, 0x26D4),
    (0x26EA, 0x26EA),
    (0x26F2, 0x26F3),
    (0x26F5, 0x26F5),
    (0x26FA, 0x26FA),
    (0x26FD, 0x26FD),
    (0x2705, 0x2705),
    (0x270A, 0x270B),
    (0x2728, 0x2728),
    (0x274C, 0x274C),
    (0x274E, 0x274E),
    (0x2753, 0x2755),
    (0x2757, 0x2757),
    (0x2795, 0x2797),
    (0x27B0, 0x27B0),
    (0x27BF, 0x27BF),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x1F004, 0x1F004),
    (0x1F0CF, 0x1F0CF),
    (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A),
    (0x1F1E6, 0x1F1FF),
    (0x1F201, 0x1F201),
    (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F),
    (0x1F232, 0x1F236),
    (0x1F238, 0x1F23A),
    (0x1F250, 0x1F251),
    (0x1F300, 0x1F320),
    (0x1F32D, 0x1F335),
    (0x1F337, 0x1F37C),
    (0x1F37E, 0x1F393),
    (0x1F3A0, 0x1F3CA),
    (0x1F3CF, 0x1F3D3),
    (0x1F3E0, 0x1F3F0),
    (0x1F3F4, 0x1F3F4),
    (0x1F3F8, 0x1F43E),
    (0x1F440, 0x1F440),
    (0x1F442, 0x1F4FC),
    (0x1F4FF, 0x1F53D),
    (0x1F54B, 0x1F54E),
    (0x1F550, 0x1F567),
    (0x1F57A, 0x1F57A),
    (0x1F595, 0x1F596),
    (0x1F5A4, 0x1F5A4),
    (0x1F5FB, 0x1F64F),
    (0x1F680, 0x1F6C5),
    (0x1F6CC, 0x1F6CC),
    (0x1F6D0, 0x1F6D2),
    (0x1F6D5, 0x1F6D7),
    (0x1F6DC, 0x1F6DF),
    (0x1F6EB, 0x1F6EC),
    (0x1F6F4, 0x1F6FC),
    (0x1F7E0, 0x1F7EB),
    (0x1F7F0, 0x1F7F0),
    (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945),
    (0x1F947, 0x1F9FF),
    (0x1FA70, 0x1FAFF),
)


def is_emoji_cluster(code_points: Sequence[int]) -> bool:
    """Whether a cluster asks to be drawn as (colour) emoji."""
    if _VS15 in code_points:
        return False
    if _VS16 in code_points or _KEYCAP in code_points:
        return True
    cp = code_points[0]
    return cp >= 0x231A and any(lo <= cp <= hi for lo, hi in _EMOJI_PRESENTATION)


def _common(cp: int) -> bool:
    """Spaces, punctuation, digits, symbols: may stay in the font of the run around them."""
    category = unicodedata.category(chr(cp))
    return category[0] in "ZPC" or category in ("Nd", "Sm", "Sc", "Sk")


# ── paragraphs ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, eq=False)
class Para:
    """One paragraph, itemized: per character its face and bidi level.

    Built once per (typeface, text, flags, direction) and shared; identity is its hash,
    so lines cut from it are cheap cache keys.
    """

    typeface: Typeface
    rich: Rich  # flags include `base`
    rtl: bool
    base: int  # the block's own emphasis (BOLD for a heading): its first font sets the line metrics
    faces: tuple[Face | None, ...] = field(repr=False)  # distinct faces used, None = no font has it
    face_of: bytes = field(repr=False)  # per character, an index into `faces`
    oblique: bytes = field(repr=False)  # per character, 1 where the slant is synthetic
    levels: bytes = field(repr=False)  # per character, its bidi embedding level
    missing: tuple[str, ...] = ()  # characters no font in the chain has

    @property
    def text(self) -> str:
        return self.rich.text

    @property
    def primary(self) -> Face:
        """The block's own font: the first of the chain for its base emphasis."""
        return self.typeface.chain(self.base)[0].faces[0]

    @staticmethod
    def build(typeface: Typeface, rich: Rich, rtl: bool, base: int = 0) -> Para:
        """Itemize `rich` (its flags OR `base`) as a paragraph of direction `rtl`."""
        if base:
            rich = Rich(rich.text, bytes(f | base for f in rich.flags))
        return _build(typeface, rich, rtl, base)


#: Characters no font has, named one by one in the log; the rest are counted.
_SHOWN_MISSING = 24


@lru_cache(maxsize=1024)
def _build(typeface: Typeface, rich: Rich, rtl: bool, base: int) -> Para:
    text, flags = rich.text, rich.flags
    faces: list[Face | None] = []
    index: dict[Face | None, int] = {}
    face_of = bytearray(len(text))
    oblique = bytearray(len(text))
    missing: list[str] = []
    previous: Face | None = None
    previous_style = -1
    # A paragraph repeats its characters: each (cluster, emphasis) is looked up once.
    decided: dict[tuple[str, int], tuple] = {}
    stays: dict[tuple[Face, tuple[int, ...]], bool] = {}
    for start, end in clusters(text):
        style = flags[start] & (BOLD | ITALIC)
        cluster = text[start:end]
        known = decided.get((cluster, style))
        if known is None:
            chain, slanted = typeface.chain(style)
            cps = tuple(ord(c) for c in cluster if not _ignorable(ord(c))) or (ord(cluster[0]),)
            emoji = is_emoji_cluster(tuple(ord(c) for c in cluster))
            known = decided[cluster, style] = (
                chain,
                slanted,
                cps,
                not emoji and _common(cps[0]),
                chain.face_for(cps, emoji),
            )
        chain, slanted, cps, common, own = known
        face = None
        if common and previous is not None and style == previous_style:
            stay = stays.get((previous, cps))
            if stay is None:
                stay = stays[previous, cps] = not _colour(previous) and all(map(previous.covers, cps))
            if stay:
                face = previous  # punctuation and spaces stay with the text around them (not emoji's)
        if face is None:
            face = own
        if face is None:
            missing.append(cluster)
        if face not in index:
            if len(faces) >= 255:
                face = faces[0]
            else:
                index[face] = len(faces)
                faces.append(face)
        face_of[start:end] = bytes([index[face]]) * (end - start)
        if face is not None and not _colour(face) and (slanted or (style & ITALIC and face != chain.faces[0])):
            oblique[start:end] = b"\x01" * (end - start)
        previous, previous_style = face, style
    if missing:
        distinct = list(dict.fromkeys(missing))
        shown = ", ".join(f"{m!r} (U+{ord(m[0]):04X})" for m in distinct[:_SHOWN_MISSING])
        if len(distinct) > _SHOWN_MISSING:
            shown += f" and {len(distinct) - _SHOWN_MISSING:,} more"
        log.warning("no font in the chain has %s; they are drawn as boxes", shown)
    return Para(
        typeface,
        rich,
        rtl,
        base,
        tuple(faces),
        bytes(face_of),
        bytes(oblique),
        bidi_levels(text, rtl),
        tuple(dict.fromkeys(missing)),
    )


def clear_caches() -> None:
    """Forget the faces chosen and the paragraphs itemized (see `engine.text.caches`)."""
    for cached in (_face_for, _chain, _build):
        cached.cache_clear()
