"""Where everything on a slide goes, for one frame size: text, images, accents.

Pure decisions, no drawing: `layout_slide` turns a slide (its kind and content), the
theme's fonts and one output's frame and safe area into a `SlideLayout`, a list of
items in drawing order, each with pixel positions. `engine.raster` paints them.

The same deck re-lays out for every frame shape. Sizes come from a type scale on the
*unit* ``u``, the smaller side of the platform's safe box (a little more in a tall
box, which has height to spare), so a title is as large relative to the frame in 16:9
as in 9:16; everything sits inside the safe box, inset by a padding of ``PADDING × u``.

Text is measured with the font itself: a block's box spans every line's full metric
height (ascent + descent) and its actual ink, so descenders and accents are never
clipped. A block that does not fit its box wraps at word boundaries, then shrinks
step by step; words longer than a line are broken only when shrinking alone cannot
help. At the size floor, what still does not fit is cut with an ellipsis (and a
warning is logged) rather than drawn outside its box.

    fonts = resolve_fonts(deck.theme)
    layout = layout_slide(deck.slides[0], fonts, 1080, 1920, safe_box)
    for item in layout.items: ...   # TextBlock | Shape | ImagePlacement
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Sequence, Union

from PIL import Image, ImageFont, UnidentifiedImageError

from .errors import AssetError, RenderError
from .resources import font_path

__all__ = [
    "Box",
    "FontSet",
    "Line",
    "TextBlock",
    "Shape",
    "ImagePlacement",
    "LayoutItem",
    "SlideLayout",
    "FittedText",
    "resolve_fonts",
    "load_font",
    "fit_text",
    "image_size",
    "layout_slide",
    "LAYOUT_VERSION",
]

log = logging.getLogger(__name__)

#: Bumped whenever a layout decision changes, so cached rasters keyed on it go stale.
LAYOUT_VERSION = "1"

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


@dataclass(frozen=True)
class FontSet:
    """The two font files a deck sets text in."""

    regular: Path
    bold: Path


def resolve_fonts(theme: object) -> FontSet:
    """The theme's fonts, or the bundled Inter; each file checked to exist.

    A theme that names only a regular font uses it for bold text too, so a deck set in
    its own typeface is never mixed with Inter.
    """
    regular = getattr(theme, "font", None)
    bold = getattr(theme, "font_bold", None)
    if regular is None and bold is None:
        fonts = FontSet(font_path("Inter-Regular.otf"), font_path("Inter-Bold.otf"))
    else:
        fonts = FontSet(Path(regular or bold), Path(bold or regular))
    for file in (fonts.regular, fonts.bold):
        if not file.is_file():
            raise AssetError(f"font file not found: {file}", file)
    return fonts


@lru_cache(maxsize=256)
def _truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def load_font(path: Path | str, size: int) -> ImageFont.FreeTypeFont:
    """`path` at `size` pixels, cached per (path, size); AssetError if unreadable."""
    try:
        return _truetype(str(path), int(size))
    except OSError as exc:  # missing file, or not a font FreeType can read
        if not Path(path).is_file():
            raise AssetError(f"font file not found: {path}", path) from exc
        raise AssetError(f"cannot read font {path}: {exc}", path) from exc


# ── layout items ──────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Line:
    """One line of text, drawn with Pillow's ``anchor="ls"`` at (x, baseline)."""

    text: str
    x: int
    baseline: int


@dataclass(frozen=True)
class TextBlock:
    """Lines of one font and size. `box` encloses their ink and full line heights."""

    role: str
    lines: tuple[Line, ...]
    font: Path
    size: int
    colour: str  # "text" | "muted" | "accent" | "on_band"
    box: Box
    truncated: bool = False


@dataclass(frozen=True)
class Shape:
    """A filled (rounded) rectangle or ellipse: accent bars, bullet dots, caption bands."""

    kind: str  # "rect" | "ellipse"
    box: Box
    colour: str  # "accent" | "band"
    radius: int = 0


@dataclass(frozen=True)
class ImagePlacement:
    """An image file fitted into `box`; it lands on `rect` (all of `box` for cover)."""

    file: Path
    fit: str  # "cover" | "contain"
    box: Box
    rect: Box
    radius: int = 0


@dataclass(frozen=True)
class ChartPlacement:
    """A chart slide's chart (data to draw, or a picture of one) filling `box`."""

    box: Box
    slide: object = field(compare=False, repr=False)  # the ChartSlide: its chart, image or figure
    fonts: "FontSet" = field(compare=False, repr=False)


LayoutItem = Union[TextBlock, Shape, ImagePlacement, ChartPlacement]


@dataclass(frozen=True)
class SlideLayout:
    width: int
    height: int
    safe_box: Box
    content_box: Box  # the safe box less the padding: every item lies inside it
    items: tuple[LayoutItem, ...]  # in drawing order

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
    font: Path
    size: int
    first_baseline: int  # from the block's top
    gap: int  # baseline to baseline
    width: int  # widest line's ink extent
    height: int  # top of the block to the lowest of descent and ink
    inks: tuple[tuple[int, int], ...]  # per line, ink x0..x1 relative to the pen
    truncated: bool = False


@lru_cache(maxsize=8192)
def _ink(font: ImageFont.FreeTypeFont, text: str) -> tuple[int, int, int, int]:
    """Ink box of `text` relative to the pen on the baseline (may be all zero for "")."""
    if not text:
        return (0, 0, 0, 0)
    return font.getbbox(text, anchor="ls")


def _width(font: ImageFont.FreeTypeFont, text: str) -> int:
    x0, _, x1, _ = _ink(font, text)
    return x1 - min(0, x0)


def _measure(
    lines: Sequence[str], path: Path, size: int, spacing: float, tight: bool = False, truncated: bool = False
) -> FittedText:
    font = load_font(path, size)
    ascent, descent = font.getmetrics()
    gap = round(spacing * (ascent + descent))
    top = 0 if not tight else None
    bottom = 0
    inks = []
    for i, line in enumerate(lines):
        base = ascent + i * gap
        x0, y0, x1, y1 = _ink(font, line)
        inks.append((min(0, x0), x1))
        if line:
            top = base + y0 if top is None else min(top, base + y0)
            bottom = max(bottom, base + y1)
        if not tight:
            bottom = max(bottom, base + descent)
    top = top or 0
    width = max((x1 - x0 for x0, x1 in inks), default=0)
    return FittedText(tuple(lines), path, size, ascent - top, gap, width, bottom - top, tuple(inks), truncated)


#: Separators that end a line rather than start one: "wrap ·" / "540 kcal".
_GLUE_LEFT = frozenset("·•—–-/|:")


def _tokens(paragraph: str) -> list[str]:
    """Words to wrap, with a free-standing separator glued to the word before it."""
    words: list[str] = []
    for word in paragraph.split():
        if words and word in _GLUE_LEFT:
            words[-1] = f"{words[-1]} {word}"
        else:
            words.append(word)
    return words


def _wrap(font: ImageFont.FreeTypeFont, text: str, width: int, break_words: bool) -> list[str] | None:
    """Greedy word wrap; None when a word is wider than a line and may not be broken."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in _tokens(paragraph):
            candidate = f"{current} {word}" if current else word
            if _width(font, candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            if _width(font, word) <= width:
                current = word
                continue
            if not break_words:
                return None
            pieces = _break_word(font, word, width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
        lines.append(current)
    return lines


def _break_word(font: ImageFont.FreeTypeFont, word: str, width: int) -> list[str]:
    """Split a word wider than a line, after a hyphen or slash where one is near."""
    pieces, current = [], ""
    for ch in word:
        if current and _width(font, current + ch) > width:
            cut = max(current.rfind("-"), current.rfind("/")) + 1
            if cut < len(current) // 3:  # no break point in the last two thirds
                cut = len(current)
            pieces.append(current[:cut])
            current = current[cut:]
        current += ch
    pieces.append(current)
    return pieces


def _balance(font: ImageFont.FreeTypeFont, text: str, width: int, lines: list[str]) -> list[str]:
    """The narrowest wrap with as many lines as `lines` (CSS ``text-wrap: balance``)."""
    n = len(lines)
    if n < 2:
        return lines
    lo, hi, best = max(1, width // n), width, lines
    while lo < hi:
        mid = (lo + hi) // 2
        trial = _wrap(font, text, mid, break_words=False)
        if trial is not None and len(trial) <= n:
            best, hi = trial, mid
        else:
            lo = mid + 1
    return best


def _sizes(largest: int, floor: int) -> Iterator[int]:
    size = largest
    while size > floor:
        yield size
        size = max(floor, min(size - 1, int(size * _SHRINK)))
    yield floor


def _fits(m: FittedText, box_w: int, box_h: int) -> bool:
    return m.width <= box_w and m.height <= box_h


def fit_text(
    text: str,
    path: Path,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    *,
    spacing: float = 1.0,
    max_lines: int | None = None,
    balance: bool = False,
    tight: bool = False,
) -> FittedText:
    """Wrap and size `text` to fit box_w × box_h, from `largest` down to `floor` px.

    Words are broken mid-word only when no size down to the floor fits without it.
    At the floor, lines that still do not fit are dropped and the last kept line ends
    in an ellipsis. `tight` measures ink only (for decorative glyphs).
    """
    floor = max(MIN_PX, min(floor, largest))
    fitted = _try_fit(text, path, box_w, box_h, largest, floor, spacing, max_lines, balance, tight)
    if fitted is not None:
        return fitted
    return _truncate(text, path, box_w, box_h, floor, spacing, max_lines, tight)


def _try_fit(
    text: str,
    path: Path,
    box_w: int,
    box_h: int,
    largest: int,
    floor: int,
    spacing: float = 1.0,
    max_lines: int | None = None,
    balance: bool = False,
    tight: bool = False,
) -> FittedText | None:
    """The largest size from `largest` down to `floor` that fits; None if none does."""
    for break_words in (False, True):
        for size in _sizes(largest, floor):
            font = load_font(path, size)
            lines = _wrap(font, text, box_w, break_words)
            if lines is None or (max_lines is not None and len(lines) > max_lines):
                continue
            if balance and not break_words:
                lines = _balance(font, text, box_w, lines)
            m = _measure(lines, path, size, spacing, tight)
            if _fits(m, box_w, box_h):
                return m
    return None


def _truncate(
    text: str, path: Path, box_w: int, box_h: int, size: int, spacing: float, max_lines: int | None, tight: bool
) -> FittedText:
    font = load_font(path, size)
    lines = _wrap(font, text, box_w, break_words=True) or [""]
    # A box too small for even one line at the floor: go below the floor, not outside.
    while size > 1 and _measure(lines[:1], path, size, spacing, tight).height > box_h:
        size -= 1
        font = load_font(path, size)
        lines = _wrap(font, text, box_w, break_words=True) or [""]
    keep = len(lines) if max_lines is None else min(len(lines), max_lines)
    while keep > 1 and _measure(lines[:keep], path, size, spacing, tight).height > box_h:
        keep -= 1
    kept = lines[:keep]
    if keep < len(lines):
        last = kept[-1].rstrip()
        while last and _width(font, last + ELLIPSIS) > box_w:
            last = last[:-1].rstrip()
        kept[-1] = last + ELLIPSIS
    log.warning(
        "text does not fit its %d×%d px box even at %d px; cut to %d of %d lines: %.60r",
        box_w,
        box_h,
        size,
        keep,
        len(lines),
        text,
    )
    return _measure(kept, path, size, spacing, tight, truncated=True)


def _place(fit: FittedText, role: str, colour: str, left: int, top: int, width: int, align: str) -> TextBlock:
    """Position a fitted block: its top edge at `top`, aligned within [left, left+width)."""
    lines, box_l, box_r = [], None, None
    for i, (text, (x0, x1)) in enumerate(zip(fit.lines, fit.inks)):
        if align == "center":
            x = left + (width - (x1 - x0)) // 2 - x0
        elif align == "right":
            x = left + width - x1
        else:
            x = left - x0
        lines.append(Line(text, x, top + fit.first_baseline + i * fit.gap))
        if text:
            box_l = x + x0 if box_l is None else min(box_l, x + x0)
            box_r = x + x1 if box_r is None else max(box_r, x + x1)
    if box_l is None:
        box_l = box_r = left
    box = (box_l, top, box_r, top + fit.height)
    return TextBlock(role, tuple(lines), fit.font, fit.size, colour, box, fit.truncated)


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
    """The geometry every slide layout shares: content box, unit and type scale."""

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

    def px(self, fraction: float, minimum: int = 1) -> int:
        return max(minimum, round(fraction * self.u))

    def sizes(self, role: str) -> tuple[int, int]:
        largest, floor = SCALE[role]
        return self.px(largest, MIN_PX), self.px(floor, MIN_PX)

    def fit(self, role: str, text: str, box_w: int, box_h: int, *, bold: bool = False, **kw) -> FittedText:
        largest, floor = self.sizes(role)
        path = self.fonts.bold if bold else self.fonts.regular
        return fit_text(text, path, max(1, box_w), max(1, box_h), largest, floor, **kw)

    def fit_few_lines(
        self, role: str, text: str, box_w: int, box_h: int, lines: int, shrink: float, **kw
    ) -> FittedText:
        """Like `fit`, but first try `lines` lines at no less than `shrink` × the largest size.

        Headlines read better on one line a little smaller than wrapped at full size,
        and a big number better on two lines than on three.
        """
        largest, floor = self.sizes(role)
        path = self.fonts.bold if kw.pop("bold", False) else self.fonts.regular
        spacing = kw.get("spacing", 1.0)
        fitted = _try_fit(text, path, box_w, box_h, largest, max(floor, round(largest * shrink)), spacing, lines, True)
        return fitted or fit_text(text, path, max(1, box_w), max(1, box_h), largest, floor, **kw)

    def bar(self, left: int, top: int, width_frac: float, centered: bool = False) -> Shape:
        w, h = self.px(width_frac, 4), self.px(0.009, 3)
        x = self.cx - w // 2 if centered else left
        return Shape("rect", (x, top, x + w, top + h), "accent", radius=h // 2)

    def done(self, items: list[LayoutItem]) -> SlideLayout:
        return SlideLayout(self.width, self.height, self.safe_box, self.content, tuple(items))


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
    items: list[LayoutItem] = [_place(title, "title", "text", f.left, y, f.w, "center")]
    y += title.height + gap
    items.append(f.bar(f.left, y, 0.11, centered=True))
    y += bar_h + gap
    if sub:
        items.append(_place(sub, "subtitle", "muted", f.left, y, f.w, "center"))
    return f.done(items)


@dataclass(frozen=True)
class _BulletFit:
    fits: tuple[FittedText, ...]
    size: int
    indent: int
    item_gap: int
    height: int


def _fit_bullets(f: _Frame, bullets: Sequence[str], box_w: int, box_h: int) -> _BulletFit:
    """One shared size for every bullet: the largest at which all of them fit together."""
    largest, floor = f.sizes("bullet")
    path = f.fonts.regular
    spacing = 1.1

    def attempt(size: int, break_words: bool) -> _BulletFit | None:
        font = load_font(path, size)
        indent = round(size * 1.05)
        fits = []
        for text in bullets:
            lines = _wrap(font, text, box_w - indent, break_words)
            if lines is None:
                return None
            fits.append(_measure(lines, path, size, spacing))
        item_gap = round(fits[0].gap * 0.5)
        total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
        if total > box_h or any(m.width > box_w - indent for m in fits):
            return None
        return _BulletFit(tuple(fits), size, indent, item_gap, total)

    for break_words in (False, True):
        for size in _sizes(largest, floor):
            got = attempt(size, break_words)
            if got is not None:
                return got
    # At the floor and still too tall: give each bullet an equal share, cut with "…".
    indent = round(floor * 1.05)
    item_gap = round(_measure(["x"], path, floor, spacing).gap * 0.5)
    share = max(1, (box_h - item_gap * (len(bullets) - 1)) // max(1, len(bullets)))
    fits = []
    for text in bullets:
        m = fit_text(text, path, box_w - indent, share, floor, floor, spacing=spacing)
        fits.append(m)
    size = min(m.size for m in fits)
    total = sum(m.height for m in fits) + item_gap * (len(fits) - 1)
    return _BulletFit(tuple(fits), size, indent, item_gap, total)


def _bullets(f: _Frame, slide: object) -> SlideLayout:
    title_text = getattr(slide, "title", None)
    bullets = list(getattr(slide, "bullets", []))
    gap_bar = f.px(0.03)
    gap_after = f.px(0.055)
    bar_h = f.px(0.009, 3)
    heading = None
    if title_text:
        heading = f.fit_few_lines(
            "heading", title_text, f.w, round(f.h * 0.3), 1, 0.9, bold=True, spacing=1.02, max_lines=3, balance=True
        )
    reserved = (heading.height + gap_bar + bar_h + gap_after) if heading else 0
    fitted = _fit_bullets(f, bullets, f.w, f.h - reserved) if bullets else None

    heights = ([heading.height, bar_h] if heading else []) + ([fitted.height] if fitted else [])
    gaps = ([gap_bar] if heading else []) + ([gap_after] if heading and fitted else [])
    y = _stack_top(f, heights, gaps)
    items: list[LayoutItem] = []
    if heading:
        items.append(_place(heading, "title", "text", f.left, y, f.w, "left"))
        y += heading.height + gap_bar
        items.append(f.bar(f.left, y, 0.07))
        y += bar_h + gap_after
    if fitted:
        font = load_font(f.fonts.regular, fitted.size)
        x_height = -_ink(font, "x")[1]
        dot = max(3, round(fitted.size * 0.3))
        for m in fitted.fits:
            block = _place(m, "bullet", "text", f.left + fitted.indent, y, f.w - fitted.indent, "left")
            cy = block.lines[0].baseline - x_height / 2
            top = round(cy - dot / 2)
            items.append(Shape("ellipse", (f.left, top, f.left + dot, top + dot), "accent"))
            items.append(block)
            y += m.height + fitted.item_gap
    return f.done(items)


def _fit_image(rect_w: int, rect_h: int, img_w: int, img_h: int) -> tuple[int, int]:
    scale = min(rect_w / img_w, rect_h / img_h)
    return max(1, round(img_w * scale)), max(1, round(img_h * scale))


def _image(f: _Frame, slide: object, size_of: Callable[[Path], tuple[int, int]]) -> SlideLayout:
    file = Path(slide.file)
    fit_mode = getattr(slide, "fit", "cover") or "cover"
    caption = getattr(slide, "caption", None)
    radius = f.px(0.022, 0)
    pad_x, pad_y = f.px(0.03), f.px(0.016)
    margin = f.px(0.025)
    cap = None
    if caption:
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
    else:
        rect = f.content
        items.append(ImagePlacement(file, "cover", f.content, rect, radius))
        band_top = rect[3] - margin - band_h
    if cap:
        band_w = cap.width + 2 * pad_x
        bx = f.cx - band_w // 2
        band = (bx, band_top, bx + band_w, band_top + band_h)
        items.append(Shape("rect", band, "band", radius=min(band_h // 2, f.px(0.02))))
        items.append(_place(cap, "caption", "on_band", bx + pad_x, band_top + pad_y, cap.width, "center"))
    return f.done(items)


def _paragraph(f: _Frame, slide: object) -> SlideLayout:
    rule_w, rule_gap = f.px(0.008, 3), f.px(0.035)
    measure = round(f.w * (0.82 if f.w > f.h else 1.0)) - rule_w - rule_gap
    body = f.fit("body", slide.text, measure, f.h, spacing=1.16)
    total_w = rule_w + rule_gap + body.width
    x = f.left + (f.w - total_w) // 2
    y = _stack_top(f, [body.height], [])
    items: list[LayoutItem] = [
        Shape("rect", (x, y, x + rule_w, y + body.height), "accent", radius=rule_w // 2),
        _place(body, "body", "text", x + rule_w + rule_gap, y, body.width, "left"),
    ]
    return f.done(items)


def _quote(f: _Frame, slide: object) -> SlideLayout:
    attribution = getattr(slide, "attribution", None)
    gap, mark_gap = f.px(0.04), f.px(0.012)
    mark = f.fit("quote_mark", "\u201c", f.w, round(f.h * 0.25), bold=True, tight=True)
    attr = None
    if attribution:
        attr = f.fit("attribution", f"\u2014 {attribution}", f.w, round(f.h * 0.15), bold=True, max_lines=2)
    reserved = mark.height + mark_gap + ((attr.height + gap) if attr else 0)
    measure = round(f.w * (0.88 if f.w > f.h else 1.0))
    body = f.fit("quote", slide.text, measure, f.h - reserved, spacing=1.18)

    left = f.left + (f.w - max(body.width, attr.width if attr else 0)) // 2
    heights = [mark.height, body.height] + ([attr.height] if attr else [])
    y = _stack_top(f, heights, [mark_gap] + [gap] * (len(heights) - 2))
    items: list[LayoutItem] = [_place(mark, "quote_mark", "accent", left, y, mark.width, "left")]
    y += mark.height + mark_gap
    items.append(_place(body, "quote", "text", left, y, body.width, "left"))
    y += body.height + gap
    if attr:
        items.append(_place(attr, "attribution", "accent", left, y, attr.width, "left"))
    return f.done(items)


def _big(f: _Frame, slide: object) -> SlideLayout:
    gap = f.px(0.05)
    bar_h = f.px(0.009, 3)
    big = f.fit_few_lines(
        "big", slide.text, f.w, f.h - gap - bar_h, 2, 0.0, bold=True, spacing=0.98, max_lines=4, balance=True
    )
    y = _stack_top(f, [big.height, bar_h], [gap])
    items: list[LayoutItem] = [_place(big, "big", "text", f.left, y, f.w, "center")]
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
