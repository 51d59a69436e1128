"""Where everything on a slide goes, for one frame size: text, images, accents.

Pure decisions, no drawing: `layout_slide` turns a slide (its kind and content), the
theme's fonts and one output's frame and safe area into a `SlideLayout`, a list of
items in drawing order, each with pixel positions. `engine.raster` paints them.

The same deck re-lays out for every frame shape. Sizes come from a type scale on the
*unit* ``u``, the smaller side of the platform's safe box (a little more in a tall
box, which has height to spare), so a title is as large relative to the frame in 16:9
as in 9:16; everything sits inside the safe box, inset by a padding of ``PADDING × u``.

Text is measured as it will be drawn (engine.text): each line is cut into runs, each
character in the first font of the chain (theme fonts → theme fallbacks → bundled
Inter → system fonts) that has it, ordered by the bidi algorithm and shaped by raqm.
A block's box spans every line's full metric height (ascent + descent of every font
the line uses, so a taller fallback font pushes lines apart) and its actual ink, plus
the room a legibility treatment needs, so nothing is ever clipped. A block that does
not fit its box wraps at word boundaries, then shrinks step by step; words longer
than a line are broken (between clusters) only when shrinking alone cannot help. The
breaks of the size that fits are then chosen again (engine.text.breaks): no short
word alone on a last line, breaks after punctuation where they cost little, and
titles balanced; a title's size and line count are chosen together, so it is not set
one word a line. On a bullets slide the bullets' words come first: the heading gives
way (smaller, fewer lines) before any bullet is cut. At the size floor, what still
does not fit is cut with an ellipsis rather than drawn outside its box, and
`SlideLayout.warnings` says so, naming the slide (as it does for characters no font
has, and complex scripts laid out without raqm).

The work is bounded by the box, not by the text: a text longer than its box can ever
show (a line is at least half its size tall, a character a tenth of it wide) is cut
before it is parsed, ending in "…" with a warning; wrapping stops once there are more
lines than the box's height allows; and first fit finds each line's break from an
estimate of the advances, measuring a couple of candidate lines instead of the line
again after every word. So a 1 MB title costs what a 100 KB one does, and Pillow is
never handed much more than a line.

Slide text may carry ``**bold**``, ``*italic*`` and ``[[accent]]`` (engine.text.markup).
The theme's text options (`TextOptions`: alignment, line height, letter case,
legibility) apply to every layout; a layout's own "left" means the start of the line,
so right-to-left paragraphs are set from the right, and bullets and rules move to the
right with them.

    fonts = resolve_fonts(deck.theme)
    layout = layout_slide(deck.slides[0], fonts, 1080, 1920, safe_box)
    for item in layout.items: ...   # TextBlock | Shape | ImagePlacement
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Union

from PIL import Image, ImageFont, UnidentifiedImageError

from .errors import AssetError, RenderError
from .resources import font_path
from .text.breaks import LineRef, is_orphan, refine, words, wrap
from .text.fallback import Para, Typeface, clusters
from .text.markup import BOLD, Rich
from .text.markup import parse as parse_markup
from .text.paint import legibility_margins
from .text.runs import Run, ShapedLine, shape_line
from .text.sfnt import FontFileError, font_facts
from .text.shaping import WITHOUT_RAQM, layout_engine, paragraph_rtl, raqm_status

__all__ = [
    "LAYOUT_VERSION",
    "LEGIBILITY",
    "Box",
    "FittedText",
    "FontSet",
    "ImagePlacement",
    "LayoutItem",
    "Line",
    "Shape",
    "SlideLayout",
    "TextBlock",
    "TextOptions",
    "check_font_file",
    "fit_text",
    "image_size",
    "layout_slide",
    "load_font",
    "resolve_fonts",
]

log = logging.getLogger(__name__)

#: Bumped whenever a layout decision changes, so cached rasters keyed on it go stale.
LAYOUT_VERSION = "3"

Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)

ELLIPSIS = "\u2026"

# ── type scale, as fractions of the unit u (the safe box's smaller side) ──────────
PADDING = 0.045
#: In a tall safe box u grows by up to this fraction (fully at 2:1), as height allows.
PORTRAIT_BOOST = 0.3
#: role → (largest size, floor), fractions of u.
SCALE: dict[str, tuple[float, float]] = {
    "hero": (0.150, 0.040),  # title slide's title
    "subtitle": (0.052, 0.026),
    "heading": (0.080, 0.034),  # bullets slide's title
    "bullet": (0.052, 0.024),
    "body": (0.056, 0.026),  # paragraph
    "quote": (0.085, 0.028),
    "quote_mark": (0.220, 0.080),
    "attribution": (0.038, 0.022),
    "big": (0.280, 0.050),
    "caption": (0.036, 0.022),
}
#: No text is ever set smaller than this many pixels, whatever the frame.
MIN_PX = 9
_SHRINK = 0.94  # each fitting step multiplies the size by this


# ── fonts ─────────────────────────────────────────────────────────────────────────

#: Legibility treatments of text over busy backgrounds (theme ``legibility``).
LEGIBILITY = ("none", "shadow", "outline", "scrim")


@dataclass(frozen=True)
class TextOptions:
    """The theme's text options (see `engine.spec.Theme`), as the layout applies them."""

    align: str = "auto"  # "auto" (each layout's own, mirrored for right-to-left) | left | center | right
    line_height: float = 1.0  # × each layout's own line spacing
    case: str = "none"  # "none" | "upper" | "upper-titles" (titles and headings only)
    legibility: str = "none"  # "none" | "shadow" | "outline" | "scrim"
    markup: bool = True  # **bold**, *italic*, [[accent]] (engine.text.markup)
    accent: str = "#ffcc00"  # colour of [[accent]] spans: the theme's accent
    language: str | None = None  # BCP 47 tag handed to the shaper (CJK glyph variants)


@dataclass(frozen=True)
class FontSet:
    """The font files a deck sets text in, where missing glyphs come from, and its text options.

    `italic` and `bold_italic` may be None: italic text is then slanted by the
    renderer (a synthetic oblique). `fallbacks` are the theme's extra fonts for
    characters its own fonts lack, tried before the bundled Inter and, when `system`
    is true, before the machine's fonts found through fontconfig.
    """

    regular: Path
    bold: Path
    italic: Path | None = None
    bold_italic: Path | None = None
    fallbacks: tuple[Path, ...] = ()
    system: bool = True
    options: TextOptions = field(default_factory=TextOptions)

    @property
    def typeface(self) -> Typeface:
        """The fonts as the text engine's fallback chains see them."""
        return _typeface(self)


@lru_cache(maxsize=64)
def _typeface(fonts: FontSet) -> Typeface:
    optional = lambda p: None if p is None else str(p)
    return Typeface(
        str(fonts.regular),
        str(fonts.bold),
        optional(fonts.italic),
        optional(fonts.bold_italic),
        tuple(str(p) for p in fonts.fallbacks),
        fonts.system,
        fonts.options.language,
    )


def resolve_fonts(theme: object) -> FontSet:
    """The theme's fonts, or the bundled Inter; each file checked to exist.

    A theme that names only a regular font uses it for bold text too, so a deck set in
    its own typeface is not mixed with Inter (Inter still draws characters the theme's
    font lacks, before the theme's `fallback_fonts` and the system's have a say).
    """
    regular = getattr(theme, "font", None)
    bold = getattr(theme, "font_bold", None)
    italic = getattr(theme, "font_italic", None)
    bold_italic = getattr(theme, "font_bold_italic", None)
    if regular is None and bold is None:
        regular, bold = font_path("Inter-Regular.otf"), font_path("Inter-Bold.otf")
    else:
        regular, bold = Path(regular or bold), Path(bold or regular)
    fallbacks = tuple(Path(p) for p in (getattr(theme, "fallback_fonts", None) or ()))
    accent = getattr(theme, "accent", None) or "#ffcc00"
    options = TextOptions(
        align=getattr(theme, "text_align", None) or "auto",
        line_height=float(getattr(theme, "line_height", None) or 1.0),
        case=getattr(theme, "text_case", None) or "none",
        legibility=getattr(theme, "legibility", None) or "none",
        markup=bool(getattr(theme, "markup", True)),
        accent=accent if isinstance(accent, str) else "#ffcc00",
        language=getattr(theme, "language", None),
    )
    fonts = FontSet(
        regular,
        bold,
        None if italic is None else Path(italic),
        None if bold_italic is None else Path(bold_italic),
        fallbacks,
        bool(getattr(theme, "system_fonts", True)),
        options,
    )
    keys = ("font", "font_bold", "font_italic", "font_bold_italic")
    named = [(f"theme.{key}", getattr(theme, key, None)) for key in keys]
    named += [(f"theme.fallback_fonts[{i}]", file) for i, file in enumerate(fonts.fallbacks)]
    for where, file in named:
        if file is not None:
            check_font_file(Path(file), where)
    return fonts


def check_font_file(file: Path | str, where: str = "") -> None:
    """Raise an AssetError of one line, naming `file` (and `where` the deck names it), unless
    it is a font file text can be set in: a regular file, OpenType or TrueType (or a
    collection), whose tables are all there and which FreeType opens.

    A `FontFileError` says what is wrong with the file itself; the file's contents are
    never quoted.
    """
    try:
        facts = font_facts(str(file))  # not a regular file, empty, not a font, cut short
    except FontFileError as exc:
        raise FontFileError(str(file), exc.problem, where) from exc
    try:
        _truetype(str(file), facts.strikes[0] if facts.strikes else 16, layout_engine())
    except (OSError, ValueError) as exc:  # FreeType's word for it: "broken file", "hmtx table missing" …
        raise FontFileError(str(file), f"cannot be read by FreeType ({exc})", where) from exc


@lru_cache(maxsize=256)
def _truetype(path: str, size: int, engine: ImageFont.Layout) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=engine)


def load_font(path: Path | str, size: int) -> ImageFont.FreeTypeFont:
    """`path` at `size` pixels, cached per (path, size); AssetError if unreadable.

    Laid out by raqm when it is usable (engine.text.shaping), else by basic layout.
    """
    try:
        return _truetype(str(path), int(size), layout_engine())
    except OSError as exc:  # missing file, or not a font FreeType can read
        if not Path(path).is_file():
            raise AssetError(f"font file not found: {path}", path) from exc
        raise AssetError(f"cannot read font {path}: {exc}", path) from exc


# ── layout items ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Line:
    """One line of text, drawn with Pillow's ``anchor="ls"`` at (x, baseline).

    `runs` are its pieces left to right, each with its own font, direction and pen
    offset from `x` (engine.text.runs); `text` is the whole line in logical order.
    """

    text: str
    x: int
    baseline: int
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class TextBlock:
    """Lines of one size. `box` encloses their ink, full line heights and any legibility treatment.

    `font` is the block's own font (the first of its chain); runs may use others.
    `legibility` is the theme's treatment ("shadow", "outline", "scrim") or "none";
    `accent` colours ``[[accent]]`` spans.
    """

    role: str
    lines: tuple[Line, ...]
    font: Path
    size: int
    colour: str  # "text" | "muted" | "accent" | "on_band"
    box: Box
    truncated: bool = False
    legibility: str = "none"
    accent: str | None = None


@dataclass(frozen=True)
class Shape:
    """A filled (rounded) rectangle or ellipse: accent bars, bullet dots, caption bands."""

    kind: str  # "rect" | "ellipse"
    box: Box
    colour: str  # "accent" | "band"
    radius: int = 0


@dataclass(frozen=True)
class ImagePlacement:
    """An image file fitted into `box`; it lands on `rect` (all of `box` for cover and fill).

    A "fill" picture's box is the whole frame, its corners square: the one item that
    lies outside the content box.
    """

    file: Path
    fit: str  # "cover" | "contain" | "fill"
    box: Box
    rect: Box
    radius: int = 0


@dataclass(frozen=True)
class ChartPlacement:
    """A chart slide's chart (data to draw, or a picture of one) filling `box`."""

    box: Box
    slide: object = field(compare=False, repr=False)  # the ChartSlide: its chart, image or figure
    fonts: FontSet = field(compare=False, repr=False)


LayoutItem = Union[TextBlock, Shape, ImagePlacement, ChartPlacement]


@dataclass(frozen=True)
class SlideLayout:
    width: int
    height: int
    safe_box: Box
    content_box: Box  # the safe box less the padding: every item lies inside it
    items: tuple[LayoutItem, ...]  # in drawing order
    #: What the layout had to give up, each naming its slide: text cut to fit, characters
    #: no font has, scripts shaped without raqm. The render report carries them.
    warnings: tuple[str, ...] = ()

    @property
    def blocks(self) -> tuple[TextBlock, ...]:
        return tuple(i for i in self.items if isinstance(i, TextBlock))

    def block(self, role: str) -> TextBlock:
        """The first text block with this role (tests, debugging)."""
        for b in self.blocks:
            if b.role == role:
                return b
        raise KeyError(role)


# ── measuring and fitting text ────────────────────────────────────────────────────


@dataclass(frozen=True)
class FittedText:
    """Text wrapped and sized to fit a box, in block-local coordinates (top = 0)."""

    lines: tuple[str, ...]
    font: Path  # the block's own font
    size: int
    first_baseline: int  # from the block's top
    gap: int  # baseline to baseline in the block's own font (taller fallback fonts add to it)
    width: int  # widest line's ink extent, plus the legibility margins
    height: int  # top of the block to the lowest of descent and ink, plus the margins
    inks: tuple[tuple[int, int], ...]  # per line, ink x0..x1 relative to the pen
    truncated: bool = False
    baselines: tuple[int, ...] = ()  # per line, from the block's top
    shaped: tuple[ShapedLine, ...] = ()  # per line, its runs (engine.text.runs)
    rtl: tuple[bool, ...] = ()  # per line, whether its paragraph runs right to left
    margins: tuple[int, int, int, int] = (0, 0, 0, 0)  # legibility treatment around the ink: l, t, r, b
    legibility: str = "none"
    accent: str | None = None  # colour of [[accent]] spans
    missing: tuple[str, ...] = ()  # characters no font in the chain has
    unshaped: bool = False  # has text that needs raqm, which is not usable here
    note: str = ""  # what was given up when the text did not fit


@dataclass(frozen=True)
class _Source:
    """A block's text itemized once per fit: its paragraphs, and what it is set in.

    `cut` says what `_source` left out of a text longer than its box can ever show, for
    the warning ("has 1,000,000 characters, … only the first 17,424 were set"); "" when
    it left nothing out.
    """

    paras: tuple[Para, ...]
    font: Path  # the block's own font: line spacing comes from its metrics
    legibility: str
    accent: str | None
    cut: str = ""


# ── how much text a box can ever show ─────────────────────────────────────────────
#: No line is shorter than this (ems of its size): the smallest line height (0.7) × a
#: font's usual ascent + descent (about 1.2 em), with room to spare.
_LINE_EM = 0.5
#: No character takes less room than this on a line (ems): the narrowest glyphs (i, l,
#: punctuation, spaces) take about 0.25 em; marks and joiners, which take none, are
#: counted with the letters they sit on.
_CHAR_EM = 0.1
#: How much longer than what can show a text may be before markup is parsed: marks and
#: runs of spaces take characters that are not drawn.
_RAW_FACTOR = 4


def _most_shown(box_w: int, box_h: int, floor: int) -> tuple[int, int]:
    """At most how many lines, and characters in all, a box_w × box_h box shows of any text.

    `floor` is the smallest size the block is set at; a box less than two lines of it
    tall may be set smaller (`_truncate`), down to about a third of its height.
    """
    size = max(1, min(floor, box_h // 3))
    lines = max(1, box_h) // max(1, int(_LINE_EM * size)) + 1
    per_line = int(max(1, box_w) / (_CHAR_EM * size)) + 1
    return lines, lines * per_line


def _source(
    text: str,
    font: Path | str | FontSet,
    *,
    bold: bool = False,
    upper: bool = False,
    legibility: str = "none",
    room: tuple[int, int, int] | None = None,
) -> _Source:
    """`text` parsed (markup, letter case), cut into paragraphs and itemized.

    `room` is (box_w, box_h, smallest size) of the block: text beyond what such a box
    can ever show (`_most_shown`) is left out before anything else is done with it, and
    ends in "…". So the work is bounded by the box, whatever the text's length, and no
    string longer than a box can show reaches Pillow.
    """
    if isinstance(font, FontSet):
        typeface, markup, accent = font.typeface, font.options.markup, font.options.accent
        own = font.bold if bold else font.regular
    else:  # a lone font file: Inter and the system's fonts back it up, no markup
        typeface, markup, accent = Typeface(str(font), str(font)), False, None
        own = Path(font)
    most_lines, most_chars = _most_shown(*room) if room is not None else (None, None)
    raw = text if most_chars is None else text[: _RAW_FACTOR * most_chars]
    rich = parse_markup(raw) if markup else Rich.plain(raw)
    if upper:
        rich = rich.upper()
    paragraphs = [p.squeeze() for p in rich.split_lines(most_lines)]
    cut = len(raw) < len(text) or (most_lines is not None and rich.text.count("\n") >= most_lines)
    if most_chars is not None:
        kept, budget = [], most_chars
        for paragraph in paragraphs:
            if len(paragraph) > budget:
                paragraph, cut = paragraph[:budget], True
            kept.append(paragraph)
            budget -= len(paragraph)
            if budget <= 0:
                break
        cut = cut or len(kept) < len(paragraphs)
        paragraphs = kept
    note = ""
    if cut:  # the last paragraph kept ends in "…"
        shown = sum(len(p) for p in paragraphs) + len(paragraphs) - 1  # and the line breaks between
        note = f"has {len(text):,} characters, more than its box can ever show; only the first {shown:,} were set"
        last = paragraphs[-1]
        paragraphs[-1] = last + Rich.plain(ELLIPSIS, last.flags[-1] if len(last) else 0)
    directions = [paragraph_rtl(p.text) for p in paragraphs]
    default = next((d for d in directions if d is not None), False)
    paras = []
    for paragraph, rtl in zip(paragraphs, directions):
        default = default if rtl is None else rtl
        paras.append(Para.build(typeface, paragraph, default, BOLD if bold else 0))
    return _Source(tuple(paras), own, legibility, accent, note)


def _ink(font: ImageFont.FreeTypeFont, text: str) -> tuple[int, int, int, int]:
    """Ink box of `text` in one font relative to the pen on the baseline (zero for "")."""
    if not text:
        return (0, 0, 0, 0)
    return font.getbbox(text, anchor="ls")


def _width(line: LineRef, size: int) -> int:
    return shape_line(*line, size).width


def _measure(
    lines: Sequence[LineRef], src: _Source, size: int, spacing: float, tight: bool = False, truncated: bool = False
) -> FittedText:
    ascent, descent = load_font(src.font, size).getmetrics()
    gap = round(spacing * (ascent + descent))
    shaped = [shape_line(*line, size) for line in lines]
    top = 0 if not tight else None
    bottom = 0
    inks, baselines = [], []
    base = 0
    for i, line in enumerate(shaped):
        if i == 0:
            base = max(ascent, line.ascent)
        else:  # a line in a taller font (Arabic, Devanagari) pushes its neighbours apart
            base += gap + max(0, shaped[i - 1].descent - descent) + max(0, line.ascent - ascent)
        baselines.append(base)
        x0, y0, x1, y1 = line.ink
        inks.append((min(0, x0), x1))
        if line.text:
            top = base + y0 if top is None else min(top, base + y0)
            bottom = max(bottom, base + y1)
        if not tight:
            bottom = max(bottom, base + line.descent)
    top = top or 0
    ml, mt, mr, mb = legibility_margins(src.legibility, size)
    width = max((x1 - x0 for x0, x1 in inks), default=0)
    return FittedText(
        tuple(line.text for line in shaped),
        src.font,
        size,
        baselines[0] - top + mt if baselines else ascent + mt,
        gap,
        width + ml + mr,
        bottom - top + mt + mb,
        tuple(inks),
        truncated or bool(src.cut),
        tuple(b - top + mt for b in baselines),
        tuple(shaped),
        tuple(para.rtl for para, _, _ in lines),
        (ml, mt, mr, mb),
        src.legibility,
        src.accent,
        tuple(dict.fromkeys(m for line in shaped for m in line.missing)),
        any(line.complex for line in shaped) and not raqm_status().usable,
        src.cut,
    )


def _sizes(largest: int, floor: int) -> Iterator[int]:
    size = largest
    while size > floor:
        yield size
        size = max(floor, min(size - 1, int(size * _SHRINK)))
    yield floor


def _fits(m: FittedText, box_w: int, box_h: int) -> bool:
    return m.width <= box_w and m.height <= box_h


def _inner_width(src: _Source, size: int, box_w: int) -> int:
    ml, _, mr, _ = legibility_margins(src.legibility, size)
    return max(1, box_w - ml - mr)


def _line_limit(src: _Source, size: int, spacing: float, box_h: int, tight: bool = False) -> int | None:
    """The most lines of `src` at `size` that can be box_h tall or less (None: no bound).

    Every line but the first adds at least a line gap, and the first and last add the
    font's ascent and descent (`_measure`), so more lines than this never fit: wrapping
    stops there instead of setting the rest of a text that cannot fit anyway.
    """
    if tight:  # ink only: an empty line takes no room
        return None
    ascent, descent = load_font(src.font, size).getmetrics()
    gap = round(spacing * (ascent + descent))
    _, mt, _, mb = legibility_margins(src.legibility, size)
    room = box_h - ascent - descent - mt - mb
    if room < 0:
        return 0
    return None if gap <= 0 else room // gap + 1


def _least(*limits: int | None) -> int | None:
    """The smallest of the limits that are set (None when none is)."""
    known = [n for n in limits if n is not None]
    return min(known) if known else None


def fit_text(
    text: str,
    font: Path | str | FontSet,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    *,
    spacing: float = 1.0,
    max_lines: int | None = None,
    balance: bool = False,
    tight: bool = False,
    bold: bool = False,
    upper: bool = False,
    legibility: str = "none",
) -> FittedText:
    """Wrap and size `text` to fit box_w × box_h, from `largest` down to `floor` px.

    `font` is a deck's `FontSet` (markup, fallback chain, theme options) or one font
    file. Every measure is of the runs that will be drawn, fallback fonts included.
    Words are broken mid-word only when no size down to the floor fits without it.
    At the floor, lines that still do not fit are dropped and the last kept line ends
    in an ellipsis (`truncated`, with a `note` of what was cut). `tight` measures ink
    only (for decorative glyphs).
    """
    floor = max(MIN_PX, min(floor, largest))
    src = _source(text, font, bold=bold, upper=upper, legibility=legibility, room=(box_w, box_h, floor))
    fitted = _try_fit(src, box_w, box_h, largest, floor, spacing, max_lines, balance, tight)
    if fitted is not None:
        return fitted
    return _truncate(src, box_w, box_h, floor, spacing, max_lines, tight)


def _try_fit(
    src: _Source,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    spacing: float = 1.0,
    max_lines: int | None = None,
    balance: bool = False,
    tight: bool = False,
) -> FittedText | None:
    """The largest size from `largest` down to `floor` that fits; None if none does.

    The size is found with first-fit wraps (the fewest lines); the breaks of the one
    that fits are then chosen again (`engine.text.breaks.refine`): no orphans, breaks
    after punctuation, balanced lines when `balance`.
    """
    for break_words in (False, True):
        for size in _sizes(largest, floor):
            width = _inner_width(src, size, box_w)
            most = _least(max_lines, _line_limit(src, size, spacing, box_h, tight))
            lines = _wrap(src, size, width, break_words, most)
            if lines is None or (most is not None and len(lines) > most):
                continue
            m = _measure(lines, src, size, spacing, tight)
            if _fits(m, box_w, box_h):
                return _refined(m, lines, src, width, box_w, box_h, spacing, balance, tight)
    return None


#: A headline's score (`_fit_headline`) is its size times this (or the role's own) for
#: each line after the first...
_PER_LINE = 0.85
#: ...and this for each line of a single short word (a longer one: the second), and
#: again for an orphan at its end.
_PER_LONE_WORD = (0.8, 0.92)
_PER_ORPHAN = 0.8


def _fit_headline(
    src: _Source,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    spacing: float,
    max_lines: int | None,
    per_line: float = 0.85,
) -> FittedText | None:
    """A title's size and line count, chosen together: large, but in few lines of several words.

    For each line count, the largest size that sets it in the box (balanced); the one
    scoring best wins: size × `per_line` per line after the first × ``_PER_LONE_WORD``
    per line of one word (× ``_PER_ORPHAN`` more for an orphan). So "Shop | once, |
    cook | twice, | eat well" at full size gives way to "Shop once, | cook twice, |
    eat well" a little smaller, and a title does not stand one word a line. None when
    no size fits without breaking a word.
    """
    best, best_score = None, 0.0
    seen: set[int] = set()
    many_words = sum(len(words(p.text)) for p in src.paras) > len(src.paras)
    for size in _sizes(largest, floor):
        width = _inner_width(src, size, box_w)
        most = _least(max_lines, _line_limit(src, size, spacing, box_h))
        lines = _wrap(src, size, width, False, most)
        if lines is None or (most is not None and len(lines) > most) or len(lines) in seen:
            continue
        m = _measure(lines, src, size, spacing)
        if not _fits(m, box_w, box_h):
            continue
        seen.add(len(lines))
        m = _refined(m, lines, src, width, box_w, box_h, spacing, True, False)
        score = size * per_line ** (len(lines) - 1)
        for line in m.lines if many_words else ():
            if len(words(line)) == 1:
                score *= _PER_LONE_WORD[0] if is_orphan(line) else _PER_LONE_WORD[1]
        if len(m.lines) > 1 and is_orphan(m.lines[-1]):
            score *= _PER_ORPHAN
        if score > best_score:
            best, best_score = m, score
        if len(lines) == 1:
            break  # fewer lines cannot be
    return best


def _wrap(src: _Source, size: int, width: int, break_words: bool, max_lines: int | None = None) -> list[LineRef] | None:
    return wrap(src.paras, size, width, break_words, max_lines)


#: A text cut to fit is wrapped whole, to say of how many lines it kept how many, when
#: it has no more characters than this; a longer one only as far as `_enough` says.
_COUNTED_CHARS = 2500


def _enough(src: _Source, limit: int | None) -> int | None:
    """Lines worth wrapping of a text cut to fit (None: all): a few times the `limit` that can show."""
    if limit is None or sum(len(p.text) for p in src.paras) <= _COUNTED_CHARS:
        return None
    return 4 * limit + 8


def _of_lines(lines: Sequence[LineRef], wrapped_to: int | None) -> str:
    """ "5 lines", or "more than 40 lines" where wrapping stopped at `wrapped_to`."""
    if wrapped_to is not None and len(lines) > wrapped_to:
        return f"more than {wrapped_to} lines"
    return f"{len(lines)} lines"


def _refined(
    fitted: FittedText,
    lines: list[LineRef],
    src: _Source,
    width: int,
    box_w: int,
    box_h: int,
    spacing: float,
    balance: bool,
    tight: bool,
) -> FittedText:
    """`fitted` with its breaks chosen again, where the new lines still fit the box."""
    better = refine(lines, fitted.size, width, balance)
    if better == lines:
        return fitted
    m = _measure(better, src, fitted.size, spacing, tight, fitted.truncated)
    return m if _fits(m, box_w, box_h) else fitted


def _truncate(
    src: _Source, box_w: int, box_h: int, size: int, spacing: float, max_lines: int | None, tight: bool
) -> FittedText:
    empty: list[LineRef] = [(src.paras[0], 0, 0)]
    lines = _wrap(src, size, _inner_width(src, size, box_w), True, 1) or empty
    # A box too small for even one line at the floor: go below the floor, not outside.
    while size > 1 and _measure(lines[:1], src, size, spacing, tight).height > box_h:
        size -= 1
        lines = _wrap(src, size, _inner_width(src, size, box_w), True, 1) or empty
    limit = _line_limit(src, size, spacing, box_h, tight)
    enough = _enough(src, _least(max_lines, limit))
    lines = _wrap(src, size, _inner_width(src, size, box_w), True, enough) or empty
    keep = len(lines) if max_lines is None else min(len(lines), max_lines)
    keep = keep if limit is None else max(1, min(keep, limit))  # more than `limit` lines never fit
    while keep > 1 and _measure(lines[:keep], src, size, spacing, tight).height > box_h:
        keep -= 1
    kept = lines[:keep]
    if keep < len(lines):
        kept[-1] = _with_ellipsis(kept[-1], size, _inner_width(src, size, box_w))
    note = f"does not fit its {box_w}×{box_h} px box even at {size} px; cut to {keep} of {_of_lines(lines, enough)}"
    if src.cut:
        note = f"{note}; it {src.cut}"
    text = " / ".join(p.text for p in src.paras)
    # A warning only where the text's slide is known: SlideLayout.warnings names it.
    log.debug("text %s: %.60r", note, text)
    fitted = _measure(kept, src, size, spacing, tight, truncated=True)
    return replace(fitted, note=note)


def _with_ellipsis(line: LineRef, size: int, width: int) -> LineRef:
    """`line` cut back until it fits with "…" after it: a word at a time, else a cluster at a time."""
    para, start, end = line
    text = para.text
    word_ends = [i for i in range(start + 1, end) if text[i] == " " and not text[i - 1].isspace()]
    for stop in reversed(word_ends):
        flag = para.rich.flags[stop - 1]
        rich = para.rich[start:stop] + Rich.plain(ELLIPSIS, flag)
        cut = Para.build(para.typeface, rich, para.rtl, para.base)
        if _width((cut, 0, len(rich)), size) <= width:
            return (cut, 0, len(rich))
    ends = [start] + [start + e for _, e in clusters(text[start:end])]
    for k in range(len(ends) - 1, -1, -1):
        stop = ends[k]
        while stop > start and text[stop - 1].isspace():
            stop -= 1
        flag = para.rich.flags[stop - 1] if stop > start else para.base
        rich = para.rich[start:stop] + Rich.plain(ELLIPSIS, flag)
        cut = Para.build(para.typeface, rich, para.rtl, para.base)
        if k == 0 or _width((cut, 0, len(rich)), size) <= width:
            return (cut, 0, len(rich))
    raise AssertionError("unreachable")  # k == 0 always returns


def _place(
    fit: FittedText, role: str, colour: str, left: int, top: int, width: int, align: str, mirror: bool = True
) -> TextBlock:
    """Position a fitted block: its top edge at `top`, aligned within [left, left+width).

    With `mirror` (a layout's own choice of alignment, not the deck's), "left" means
    the start of the line: the lines of a right-to-left paragraph go to the right.
    """
    ml, _, mr, _ = fit.margins
    inner_left, inner_width = left + ml, width - ml - mr
    lines, box_l, box_r = [], None, None
    for i, (text, (x0, x1)) in enumerate(zip(fit.lines, fit.inks)):
        line_align = align
        if mirror and align == "left" and i < len(fit.rtl) and fit.rtl[i]:
            line_align = "right"
        if line_align == "center":
            x = inner_left + (inner_width - (x1 - x0)) // 2 - x0
        elif line_align == "right":
            x = inner_left + inner_width - x1
        else:
            x = inner_left - x0
        baseline = top + (fit.baselines[i] if fit.baselines else fit.first_baseline + i * fit.gap)
        runs = fit.shaped[i].runs if fit.shaped else ()
        lines.append(Line(text, x, baseline, runs))
        if text:
            box_l = x + x0 if box_l is None else min(box_l, x + x0)
            box_r = x + x1 if box_r is None else max(box_r, x + x1)
    if box_l is None:
        box_l = box_r = inner_left
    box = (box_l - ml, top, box_r + mr, top + fit.height)
    return TextBlock(role, tuple(lines), fit.font, fit.size, colour, box, fit.truncated, fit.legibility, fit.accent)


# ── slide layouts ─────────────────────────────────────────────────────────────────


def image_size(file: Path) -> tuple[int, int]:
    """Pixel size of an image file as drawn (upright), from its header; AssetError if unreadable."""
    try:
        with Image.open(file) as im:
            w, h = im.size
            # EXIF orientations 5-8 turn the picture a quarter (as ImageOps.exif_transpose does).
            return (h, w) if im.getexif().get(0x0112, 1) in (5, 6, 7, 8) else (w, h)
    except FileNotFoundError as exc:
        raise AssetError(f"image file not found: {file}", file) from exc
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise AssetError(f"cannot read image {file}: {exc}", file) from exc


class _Frame:
    """The geometry every slide layout shares: content box, unit and type scale.

    It also applies the theme's text options to every block it fits (line height,
    letter case, legibility margins) and collects the slide's `warnings`.
    """

    def __init__(self, width: int, height: int, safe_box: Box, fonts: FontSet) -> None:
        self.width, self.height, self.safe_box, self.fonts = width, height, safe_box, fonts
        sl, st, sr, sb = safe_box
        sw, sh = sr - sl, sb - st
        # Tall frames have height to spare: type a little larger than their width alone allows.
        self.u = round(min(sw, sh) * (1 + PORTRAIT_BOOST * min(1.0, max(0.0, sh / sw - 1))))
        pad = round(PADDING * self.u)
        self.content = (sl + pad, st + pad, sr - pad, sb - pad)
        self.left, self.top, self.right, self.bottom = self.content
        self.w, self.h = self.right - self.left, self.bottom - self.top
        self.cx = (self.left + self.right) // 2
        options = getattr(fonts, "options", None) or TextOptions()
        self.options = options
        #: The deck's alignment ("left" | "center" | "right"), None for each layout's own.
        self.align: str | None = None if options.align == "auto" else options.align
        self.slide: object | None = None
        self.warnings: list[str] = []

    def about(self, slide: object) -> None:
        """The slide being laid out: its own `align`, and its name in warnings."""
        self.slide = slide
        own = getattr(slide, "align", None)
        if isinstance(own, str) and own != "auto":
            self.align = own

    def px(self, fraction: float, minimum: int = 1) -> int:
        return max(minimum, round(fraction * self.u))

    def sizes(self, role: str) -> tuple[int, int]:
        largest, floor = SCALE[role]
        return self.px(largest, MIN_PX), self.px(floor, MIN_PX)

    def text_options(self, role: str, kw: dict) -> dict:
        """`kw` for fitting text of `role`, with the theme's line height, case and legibility."""
        kw = dict(kw)
        kw["spacing"] = kw.get("spacing", 1.0) * self.options.line_height
        case = self.options.case
        kw["upper"] = case == "upper" or (case == "upper-titles" and role in _TITLE_ROLES)
        # A caption sits on its own band already.
        kw["legibility"] = "none" if role == "caption" else self.options.legibility
        return kw

    def fit(self, role: str, text: str, box_w: int, box_h: int, *, bold: bool = False, **kw) -> FittedText:
        largest, floor = self.sizes(role)
        kw = self.text_options(role, kw)
        fitted = fit_text(text, self.fonts, max(1, box_w), max(1, box_h), largest, floor, bold=bold, **kw)
        return self.check(role, text, fitted)

    def fit_few_lines(
        self, role: str, text: str, box_w: int, box_h: int, lines: int, shrink: float, **kw
    ) -> FittedText:
        """Like `fit`, but first try `lines` lines at no less than `shrink` × the largest size.

        Headlines read better on one line a little smaller than wrapped at full size,
        and a big number better on two lines than on three.
        """
        largest, floor = self.sizes(role)
        bold = kw.pop("bold", False)
        options = self.text_options(role, kw)
        src = _source(
            text,
            self.fonts,
            bold=bold,
            upper=options["upper"],
            legibility=options["legibility"],
            room=(box_w, box_h, max(MIN_PX, min(floor, largest))),
        )
        fitted = _try_fit(
            src, box_w, box_h, largest, max(floor, round(largest * shrink)), options["spacing"], lines, True
        )
        if fitted is None:
            per_line = shrink if shrink >= 0.5 else _PER_LINE
            fitted = _fit_headline(src, box_w, box_h, largest, floor, options["spacing"], kw.get("max_lines"), per_line)
        if fitted is not None:
            return self.check(role, text, fitted)
        return self.fit(role, text, box_w, box_h, bold=bold, **kw)

    def check(self, role: str, text: str, fitted: FittedText) -> FittedText:
        """Note in the slide's warnings what `fitted` could not do."""
        where = _describe(self.slide)
        quoted = _excerpt(text)
        if fitted.truncated:
            self.warnings.append(f"{where}{_ROLE_NAMES.get(role, role)} {quoted} {fitted.note}")
        if fitted.missing:
            chars = ", ".join(f"{m!r} (U+{ord(m[0]):04X})" for m in fitted.missing[:_NAMED_MISSING])
            if len(fitted.missing) > _NAMED_MISSING:
                chars += f" and {len(fitted.missing) - _NAMED_MISSING:,} more"
            self.warnings.append(
                f"{where}no font has {chars} in {quoted}: drawn as boxes; add a font that has "
                "them to theme.fallback_fonts (or install one, e.g. Noto)"
            )
        if fitted.unshaped:
            self.warnings.append(f"{where}{quoted} needs libraqm, which is not usable here: {WITHOUT_RAQM}")
        return fitted

    def place(self, fit: FittedText, role: str, colour: str, left: int, top: int, width: int, align: str) -> TextBlock:
        """`_place` with the deck's alignment, if it set one, over the layout's own `align`."""
        if self.align is not None:
            return _place(fit, role, colour, left, top, width, self.align, mirror=False)
        return _place(fit, role, colour, left, top, width, align)

    def side(self, fit: FittedText | None) -> str:
        """Which side a layout's start-aligned decorations go: "right" for RTL text or align=right."""
        if self.align == "right":
            return "right"
        if self.align == "left":
            return "left"
        return "right" if fit is not None and fit.rtl and fit.rtl[0] else "left"

    def bar(self, left: int, top: int, width_frac: float, centered: bool = False, side: str = "left") -> Shape:
        w, h = self.px(width_frac, 4), self.px(0.009, 3)
        if centered and self.align in ("left", "right"):
            centered, side = False, self.align
        x = self.cx - w // 2 if centered else (self.right - w if side == "right" else left)
        return Shape("rect", (x, top, x + w, top + h), "accent", radius=h // 2)

    def done(self, items: list[LayoutItem]) -> SlideLayout:
        warnings = tuple(dict.fromkeys(self.warnings))
        return SlideLayout(self.width, self.height, self.safe_box, self.content, tuple(items), warnings)


_TITLE_ROLES = frozenset({"hero", "heading"})
#: Characters no font has that a warning names one by one; the rest are counted.
_NAMED_MISSING = 24
_ROLE_NAMES = {"hero": "title", "heading": "heading", "big": "big text", "quote_mark": "quote mark"}


def _excerpt(text: str, limit: int = 40) -> str:
    head = text[:1000]  # a warning quotes a few words, however long the text
    flat = " ".join(head.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + ELLIPSIS
    elif len(head) < len(text):  # only spaces in the first thousand characters
        flat += ELLIPSIS
    return '"' + flat + '"'


def _describe(slide: object | None) -> str:
    """'title slide "Weekly plan": ' — how a warning names its slide ("" when unknown)."""
    if slide is None:
        return ""
    kind = getattr(slide, "kind", "a")
    for name in ("title", "text", "caption"):
        value = getattr(slide, name, None)
        if isinstance(value, str) and value.strip():
            return f"{kind} slide {_excerpt(value, 30)}: "
    bullets = getattr(slide, "bullets", None)
    if bullets:
        return f"{kind} slide {_excerpt(str(bullets[0]), 30)}: "
    return f"{kind} slide: "


def _stack_top(f: _Frame, heights: Sequence[int], gaps: Sequence[int]) -> int:
    """Top of a vertically centred stack, nudged up a little (optical centre)."""
    total = sum(heights) + sum(gaps)
    spare = max(0, f.h - total)
    return f.top + round(spare * 0.46)


def layout_slide(
    slide: object,
    fonts: FontSet,
    width: int,
    height: int,
    safe_box: Box,
    *,
    size_of: Callable[[Path], tuple[int, int]] = image_size,
) -> SlideLayout:
    """Lay `slide` out on a width × height frame whose safe rectangle is `safe_box`.

    `size_of` gives an image file's pixel size (by default read from its header).
    """
    f = _Frame(width, height, safe_box, fonts)
    kind = getattr(slide, "kind", None)
    if kind == "title":
        return _title(f, slide)
    if kind == "bullets":
        return _bullets(f, slide)
    if kind == "image":
        return _image(f, slide, size_of)
    if kind == "chart":
        return _chart(f, slide)
    if kind == "text":
        style = getattr(slide, "style", "paragraph")
        if style == "quote":
            return _quote(f, slide)
        if style == "big":
            return _big(f, slide)
        return _paragraph(f, slide)
    raise RenderError(f"cannot lay out a slide of kind {kind!r}")


def _title(f: _Frame, slide: object) -> SlideLayout:
    f.about(slide)
    subtitle = getattr(slide, "subtitle", None)
    gap = f.px(0.045)
    bar_h = f.px(0.009, 3)
    sub = None
    if subtitle:
        sub = f.fit("subtitle", subtitle, round(f.w * 0.82), round(f.h * 0.24), spacing=1.15, max_lines=3, balance=True)
    reserved = (bar_h + 2 * gap + sub.height) if sub else (bar_h + gap)
    title = f.fit_few_lines(
        "hero", slide.title, round(f.w * 0.94), f.h - reserved, 1, 0.85, bold=True, spacing=1.0, balance=True
    )

    heights = [title.height, bar_h] + ([sub.height] if sub else [])
    gaps = [gap] * (len(heights) - 1)
    y = _stack_top(f, heights, gaps)
    items: list[LayoutItem] = [f.place(title, "title", "text", f.left, y, f.w, "center")]
    y += title.height + gap
    items.append(f.bar(f.left, y, 0.11, centered=True))
    y += bar_h + gap
    if sub:
        items.append(f.place(sub, "subtitle", "muted", f.left, y, f.w, "center"))
    return f.done(items)


@dataclass(frozen=True)
class _BulletFit:
    fits: tuple[FittedText, ...]
    size: int
    indent: int
    item_gap: int
    height: int


@dataclass(frozen=True)
class _Bullets:
    """A slide's bullets itemized once, and how they are set (the theme's options)."""

    texts: tuple[str, ...]
    sources: tuple[_Source, ...]
    spacing: float
    largest: int
    floor: int

    @staticmethod
    def of(f: _Frame, bullets: Sequence[str]) -> _Bullets:
        options = f.text_options("bullet", {"spacing": 1.1})
        largest, floor = f.sizes("bullet")
        room = (f.w - round(floor * 1.05), f.h, floor)  # a bullet has at most the whole box
        sources = tuple(
            _source(text, f.fonts, upper=options["upper"], legibility=options["legibility"], room=room)
            for text in bullets
        )
        return _Bullets(tuple(bullets), sources, options["spacing"], largest, floor)

    def at(
        self, size: int, box_w: int, break_words: bool, refine_lines: bool = False, box_h: int | None = None
    ) -> _BulletFit | None:
        """Every bullet wrapped at `size`; None if a word is wider than a line and may not be
        broken, or (given `box_h`) as soon as they are taller than that."""
        got = self._stack(size, box_w, break_words, refine_lines, box_h)
        return got if isinstance(got, _BulletFit) else None

    def _stack(
        self, size: int, box_w: int, break_words: bool, refine_lines: bool, box_h: int | None
    ) -> _BulletFit | str:
        """`at`, or why not: "wide" (a word wider than a line) or "tall" (taller than `box_h`)."""
        indent = round(size * 1.05)
        fits: list[FittedText] = []
        item_gap = total = 0
        for src in self.sources:
            width = _inner_width(src, size, box_w - indent)
            most = None
            if box_h is not None:  # the room left for this bullet, below the ones before it
                most = _line_limit(src, size, self.spacing, box_h - total - (item_gap if fits else 0))
            lines = _wrap(src, size, width, break_words, most)
            if lines is None:
                return "wide"
            if most is not None and len(lines) > most:
                return "tall"
            m = _measure(lines, src, size, self.spacing)
            if m.width > box_w - indent:
                return "wide"
            if refine_lines:  # better breaks (no orphans, after punctuation) at the same height
                m = _refined(m, lines, src, width, box_w - indent, m.height, self.spacing, False, False)
            if not fits:
                item_gap = round(m.gap * 0.5)
            total += m.height + (item_gap if fits else 0)
            fits.append(m)
            if box_h is not None and total > box_h:
                return "tall"
        return _BulletFit(tuple(fits), size, indent, item_gap, total)

    def fit(self, box_w: int, box_h: int) -> _BulletFit | None:
        """One shared size for every bullet, the largest at which all of them fit whole; None if none does.

        Words are broken only when no size fits without it.
        """
        for size in _sizes(self.largest, self.floor):
            if self.at(size, box_w, False, box_h=box_h) is not None:
                return self.at(size, box_w, False, refine_lines=True)
        if self.at(self.floor, box_w, True, box_h=box_h) is None:
            return None  # not even the smallest, words broken, fits
        for size in _sizes(self.largest, self.floor):
            if self.at(size, box_w, True, box_h=box_h) is not None:
                return self.at(size, box_w, True, refine_lines=True)
        return None

    def need(self, box_w: int, box_h: int) -> int:
        """The height every bullet needs, whole, at the smallest size: more than `box_h` is all
        that is known of bullets taller than that (0 when a character is wider than a line)."""
        got = self._stack(self.floor, box_w, True, False, box_h)
        if isinstance(got, _BulletFit):
            return got.height
        return box_h + 1 if got == "tall" else 0


def _cut_bullets(f: _Frame, bullets: _Bullets, box_w: int, box_h: int, under_heading: bool) -> _BulletFit:
    """Bullets too long for the room even at the smallest size: as many lines of each as fit, cut with "…".

    Lines are shared out a round at a time (each bullet one more line while the room
    allows), so short bullets stay whole and long ones are cut evenly, and no room is
    left empty. Every cut is a warning naming the slide and the bullet.
    """
    size = bullets.floor
    indent = round(size * 1.05)
    spacing = bullets.spacing
    wraps = []
    enough = []  # lines wrapped of each bullet: all of them, or enough to know it is cut
    for src in bullets.sources:
        width = _inner_width(src, size, box_w - indent)
        enough.append(_enough(src, _line_limit(src, size, spacing, box_h)))
        wraps.append((src, width, _wrap(src, size, width, True, enough[-1]) or [(src.paras[0], 0, 0)]))
    heights: dict[tuple[int, int], int] = {}

    def height(i: int, keep: int) -> int:
        if (i, keep) not in heights:
            src, _, lines = wraps[i]
            heights[i, keep] = _measure(lines[:keep], src, size, spacing).height
        return heights[i, keep]

    ascent, descent = load_font(bullets.sources[0].font, size).getmetrics()
    item_gap = round(round(spacing * (ascent + descent)) * 0.5)
    keep = [1] * len(wraps)
    total = sum(height(i, 1) for i in range(len(wraps))) + item_gap * (len(wraps) - 1)
    if total > box_h:
        return _share_bullets(f, bullets, box_w, box_h, item_gap)
    grown = True
    while grown:
        grown = False
        for i, (_, _, lines) in enumerate(wraps):
            if keep[i] < len(lines):
                more = total - height(i, keep[i]) + height(i, keep[i] + 1)
                if more <= box_h:
                    keep[i], total, grown = keep[i] + 1, more, True
    fits = []
    for i, (src, width, lines) in enumerate(wraps):
        if keep[i] == len(lines):
            m = _measure(lines, src, size, spacing)
            fits.append(_refined(m, lines, src, width, box_w - indent, m.height, spacing, False, False))
            if src.cut:
                f.check("bullet", bullets.texts[i], fits[-1])
            continue
        kept = lines[: keep[i]]
        kept[-1] = _with_ellipsis(kept[-1], size, width)
        where = "beside the other bullets" + (" under the smallest heading" if under_heading else "")
        note = f"does not fit {where} even at {size} px; cut to {keep[i]} of {_of_lines(lines, enough[i])}"
        note = f"{note}; it {src.cut}" if src.cut else note
        m = replace(_measure(kept, src, size, spacing, truncated=True), note=note)
        fits.append(f.check("bullet", bullets.texts[i], m))
    total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
    return _BulletFit(tuple(fits), size, indent, item_gap, total)


def _share_bullets(f: _Frame, bullets: _Bullets, box_w: int, box_h: int, item_gap: int) -> _BulletFit:
    """Not even a line of each fits: each bullet gets an equal share, below the floor if it must."""
    floor = bullets.floor
    indent = round(floor * 1.05)
    share = max(1, (box_h - item_gap * (len(bullets.texts) - 1)) // max(1, len(bullets.texts)))
    options = f.text_options("bullet", {"spacing": 1.1})
    fits = []
    for text in bullets.texts:
        m = fit_text(text, f.fonts, box_w - indent, share, floor, floor, **options)
        fits.append(f.check("bullet", text, m))
    size = min(m.size for m in fits)
    total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
    return _BulletFit(tuple(fits), size, indent, item_gap, total)


def _giving_way(f: _Frame, text: str, preferred: FittedText, room: int) -> FittedText:
    """The largest heading below `preferred` at most `room` px tall (balanced, so in fewer lines as it shrinks).

    The smallest heading there is when none is that short.
    """
    _, floor = f.sizes("heading")
    options = f.text_options("heading", {"spacing": 1.02})
    box_h = round(f.h * 0.3)
    src = _source(
        text, f.fonts, bold=True, upper=options["upper"], legibility=options["legibility"], room=(f.w, box_h, floor)
    )
    smallest = preferred
    for size in _sizes(preferred.size, floor):
        if size >= preferred.size:
            continue
        got = _try_fit(src, f.w, box_h, size, size, options["spacing"], 3, True)
        if got is None:
            continue
        if got.height <= room:
            return got
        smallest = got
    return smallest


def _bullets(f: _Frame, slide: object) -> SlideLayout:
    """A heading, its accent bar, and the bullets: the bullets' words come first.

    The heading takes its preferred size when the bullets still fit whole below it;
    otherwise it gives way (smaller, so in fewer lines) until they do. Only when they
    cannot fit whole even under the smallest heading are they cut, with a warning.
    """
    f.about(slide)
    title_text = getattr(slide, "title", None)
    bullets = _Bullets.of(f, list(getattr(slide, "bullets", [])))
    gap_bar = f.px(0.03)
    gap_after = f.px(0.055)
    bar_h = f.px(0.009, 3)

    def reserve(h: FittedText | None) -> int:  # what a heading and its bar take from the bullets
        return (h.height + gap_bar + bar_h + gap_after) if h else 0

    heading = None
    warned = len(f.warnings)
    if title_text:
        heading = f.fit_few_lines(
            "heading", title_text, f.w, round(f.h * 0.3), 1, 0.9, bold=True, spacing=1.02, max_lines=3, balance=True
        )
    fitted = bullets.fit(f.w, f.h - reserve(heading)) if bullets.texts else None
    if bullets.texts and fitted is None and heading is not None:
        need = bullets.need(f.w, f.h)
        smaller = _giving_way(f, title_text, heading, f.h - need - (gap_bar + bar_h + gap_after))
        if smaller is not heading:
            del f.warnings[warned:]  # what the preferred heading warned of is the smaller one's to say
            heading = f.check("heading", title_text, smaller)
        if need <= f.h - reserve(heading):
            fitted = bullets.fit(f.w, f.h - reserve(heading))
    if bullets.texts and fitted is None:
        fitted = _cut_bullets(f, bullets, f.w, f.h - reserve(heading), heading is not None)
    elif fitted is not None:  # whole, but a bullet's text may have been longer than any box shows
        for text, src, m in zip(bullets.texts, bullets.sources, fitted.fits):
            if src.cut:
                f.check("bullet", text, m)
    # Right-to-left bullets (or align=right) hang from the right: dots, bar and text.
    side = f.side(fitted.fits[0] if fitted else heading)

    heights = ([heading.height, bar_h] if heading else []) + ([fitted.height] if fitted else [])
    gaps = ([gap_bar] if heading else []) + ([gap_after] if heading and fitted else [])
    y = _stack_top(f, heights, gaps)
    items: list[LayoutItem] = []
    if heading:
        items.append(f.place(heading, "title", "text", f.left, y, f.w, side))
        y += heading.height + gap_bar
        items.append(f.bar(f.left, y, 0.07, centered=f.align == "center", side=side))
        y += bar_h + gap_after
    if fitted:
        font = load_font(f.fonts.regular, fitted.size)
        x_height = -_ink(font, "x")[1]
        dot = max(3, round(fitted.size * 0.3))
        for m in fitted.fits:
            if side == "right":
                block = _place(m, "bullet", "text", f.left, y, f.w - fitted.indent, "right", mirror=False)
                dot_x = f.right - dot
            else:
                block = _place(
                    m, "bullet", "text", f.left + fitted.indent, y, f.w - fitted.indent, "left", mirror=False
                )
                dot_x = f.left
            cy = block.lines[0].baseline - x_height / 2
            top = round(cy - dot / 2)
            items.append(Shape("ellipse", (dot_x, top, dot_x + dot, top + dot), "accent"))
            items.append(block)
            y += m.height + fitted.item_gap
    return f.done(items)


def _fit_image(rect_w: int, rect_h: int, img_w: int, img_h: int) -> tuple[int, int]:
    scale = min(rect_w / img_w, rect_h / img_h)
    return max(1, round(img_w * scale)), max(1, round(img_h * scale))


def _image(f: _Frame, slide: object, size_of: Callable[[Path], tuple[int, int]]) -> SlideLayout:
    """The picture framed in the content box (cover, contain) or on the whole frame (fill).

    A caption goes on a band under a contained picture, or over the lower edge of a
    covering one. Over a filled picture it takes the theme's legibility treatment
    instead of a band where the theme has one: the picture is never shrunk for it.
    """
    f.about(slide)
    file = Path(slide.file)
    fit_mode = getattr(slide, "fit", "cover") or "cover"
    caption = getattr(slide, "caption", None)
    radius = f.px(0.022, 0)
    pad_x, pad_y = f.px(0.03), f.px(0.016)
    margin = f.px(0.025)
    over = fit_mode == "fill" and f.options.legibility != "none"  # caption text straight on the picture
    cap = None
    if caption and over:
        cap = _caption_over_picture(f, caption, round(f.w * 0.9), round(f.h * 0.2))
    elif caption:
        cap_w, cap_h = round(f.w * 0.9) - 2 * pad_x, round(f.h * 0.2)
        cap = f.fit("caption", caption, cap_w, cap_h, spacing=1.1, max_lines=3, balance=True)
    band_h = cap.height + 2 * pad_y if cap else 0

    items: list[LayoutItem] = []
    if fit_mode == "contain":
        iw, ih = size_of(file)
        area_h = f.h - (band_h + margin if cap else 0)
        w, h = _fit_image(f.w, area_h, iw, ih)
        stack = h + (margin + band_h if cap else 0)
        x, y = f.left + (f.w - w) // 2, f.top + (f.h - stack) // 2
        rect = (x, y, x + w, y + h)
        items.append(ImagePlacement(file, "contain", f.content, rect, radius))
        band_top = rect[3] + margin
    elif fit_mode == "fill":
        frame = (0, 0, f.width, f.height)
        items.append(ImagePlacement(file, "fill", frame, frame, 0))
        band_top = f.bottom - margin - band_h  # as low as over a covering picture
    else:
        rect = f.content
        items.append(ImagePlacement(file, "cover", f.content, rect, radius))
        band_top = rect[3] - margin - band_h
    if cap and over:
        items.append(f.place(cap, "caption", "text", f.left, f.bottom - cap.height, f.w, "center"))
    elif cap:
        band_w = cap.width + 2 * pad_x
        bx = f.cx - band_w // 2
        band = (bx, band_top, bx + band_w, band_top + band_h)
        items.append(Shape("rect", band, "band", radius=min(band_h // 2, f.px(0.02))))
        items.append(f.place(cap, "caption", "on_band", bx + pad_x, band_top + pad_y, cap.width, "center"))
    return f.done(items)


def _caption_over_picture(f: _Frame, caption: str, box_w: int, box_h: int) -> FittedText:
    """A caption fitted with the theme's legibility treatment (a caption on a band has none)."""
    largest, floor = f.sizes("caption")
    kw = f.text_options("caption", {"spacing": 1.1, "max_lines": 3, "balance": True})
    kw["legibility"] = f.options.legibility
    fitted = fit_text(caption, f.fonts, max(1, box_w), max(1, box_h), largest, floor, **kw)
    return f.check("caption", caption, fitted)


def _paragraph(f: _Frame, slide: object) -> SlideLayout:
    f.about(slide)
    rule_w, rule_gap = f.px(0.008, 3), f.px(0.035)
    measure = round(f.w * (0.82 if f.w > f.h else 1.0)) - rule_w - rule_gap
    body = f.fit("body", slide.text, measure, f.h, spacing=1.16)
    total_w = rule_w + rule_gap + body.width
    x = f.left + (f.w - total_w) // 2
    y = _stack_top(f, [body.height], [])
    # The accent rule stands at the start of the lines: on the right for right-to-left text.
    if f.side(body) == "right":
        rule_x, body_x = x + body.width + rule_gap, x
    else:
        rule_x, body_x = x, x + rule_w + rule_gap
    items: list[LayoutItem] = [
        Shape("rect", (rule_x, y, rule_x + rule_w, y + body.height), "accent", radius=rule_w // 2),
        f.place(body, "body", "text", body_x, y, body.width, "left"),
    ]
    return f.done(items)


def _quote(f: _Frame, slide: object) -> SlideLayout:
    f.about(slide)
    attribution = getattr(slide, "attribution", None)
    gap, mark_gap = f.px(0.04), f.px(0.012)
    mark = f.fit("quote_mark", "\u201c", f.w, round(f.h * 0.25), bold=True, tight=True)
    attr = None
    if attribution:
        attr = f.fit("attribution", f"\u2014 {attribution}", f.w, round(f.h * 0.15), bold=True, max_lines=2)
    reserved = mark.height + mark_gap + ((attr.height + gap) if attr else 0)
    measure = round(f.w * (0.88 if f.w > f.h else 1.0))
    body = f.fit("quote", slide.text, measure, f.h - reserved, spacing=1.18)

    column = max(body.width, attr.width if attr else 0)
    left = f.left + (f.w - column) // 2
    heights = [mark.height, body.height] + ([attr.height] if attr else [])
    y = _stack_top(f, heights, [mark_gap] + [gap] * (len(heights) - 2))
    side = "center" if f.align == "center" else f.side(body)
    mark_x = {"left": left, "right": left + column - mark.width, "center": left + (column - mark.width) // 2}[side]
    items: list[LayoutItem] = [_place(mark, "quote_mark", "accent", mark_x, y, mark.width, "left", mirror=False)]
    y += mark.height + mark_gap
    items.append(f.place(body, "quote", "text", left, y, column, "left"))
    y += body.height + gap
    if attr:
        items.append(f.place(attr, "attribution", "accent", left, y, column, side if side != "center" else "left"))
    return f.done(items)


def _big(f: _Frame, slide: object) -> SlideLayout:
    f.about(slide)
    gap = f.px(0.05)
    bar_h = f.px(0.009, 3)
    big = f.fit_few_lines(
        "big", slide.text, f.w, f.h - gap - bar_h, 2, 0.0, bold=True, spacing=0.98, max_lines=4, balance=True
    )
    y = _stack_top(f, [big.height, bar_h], [gap])
    items: list[LayoutItem] = [f.place(big, "big", "text", f.left, y, f.w, "center")]
    items.append(f.bar(f.left, y + big.height + gap, 0.11, centered=True))
    return f.done(items)


def _chart(f: _Frame, slide: object) -> SlideLayout:
    """A heading and its accent bar at the top, the chart in all the room below."""
    title_text = getattr(slide, "title", None)
    items: list[LayoutItem] = []
    top = f.top
    if title_text:
        heading = f.fit_few_lines(
            "heading", title_text, f.w, round(f.h * 0.22), 1, 0.8, bold=True, spacing=1.02, max_lines=2, balance=True
        )
        items.append(_place(heading, "title", "text", f.left, top, f.w, "left"))
        top += heading.height + f.px(0.025)
        items.append(f.bar(f.left, top, 0.07))
        top += f.px(0.009, 3) + f.px(0.04)
    items.append(ChartPlacement((f.left, top, f.right, f.bottom), slide, f.fonts))
    return f.done(items)
