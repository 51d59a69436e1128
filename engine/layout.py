"""Where everything on a slide goes, for one frame size: text, images, accents.

Pure decisions, no drawing: `layout_slide` turns a slide (its kind and content), the
theme's fonts and one output's frame and safe area into a `SlideLayout`, a list of
items in drawing order, each with pixel positions. `engine.raster` paints them.

The same deck re-lays out for every frame shape. Sizes come from a type scale on the
*unit* ``u``, the smaller side of the platform's safe box (a little more in a tall
box, which has height to spare), so a title is as large relative to the frame in 16:9
as in 9:16; everything sits inside the safe box, inset by a padding of ``PADDING × u``.

Text is measured, wrapped, shrunk to fit and cut where it must be by `engine.text.fit`
(fonts from `engine.text.typeface`); this module says which text goes in which box at
which sizes, and where the fitted blocks, bars, dots and pictures land. On a bullets
slide the bullets' words come first: the heading gives way (smaller, fewer lines)
before any bullet is cut. What had to be given up (text cut to fit, characters no
font has, complex scripts laid out without raqm) is in `SlideLayout.warnings`, naming
the slide.

The theme's text options (`TextOptions`: alignment, line height, letter case,
legibility) apply to every layout; a layout's own "left" means the start of the line,
so right-to-left paragraphs are set from the right, and bullets and rules move to the
right with them.

    fonts = resolve_fonts(deck.theme)
    layout = layout_slide(deck.slides[0], fonts, 1080, 1920, safe_box)
    for item in layout.items: ...   # TextBlock | Shape | ImagePlacement | ChartPlacement
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from .errors import AssetError, RenderError
from .spec import BulletsSlide, ChartSlide, ImageSlide, Slide, TextSlide, TitleSlide
from .text.block import Box, TextBlock, place
from .text.fit import (
    ELLIPSIS,
    MIN_PX,
    PER_LINE,
    Bullets,
    FitRequest,
    FittedText,
    cut_bullets,
    fit_headline,
    fit_text,
    itemize,
    sizes,
    try_fit,
)
from .text.shaping import WITHOUT_RAQM
from .text.typeface import FontSet, load_font

__all__ = [
    "LAYOUT_VERSION",
    "Box",
    "ChartPlacement",
    "ImagePlacement",
    "LayoutItem",
    "Shape",
    "SlideLayout",
    "image_size",
    "layout_slide",
]

#: Bumped whenever a layout decision changes, so cached rasters keyed on it go stale.
LAYOUT_VERSION = "3"

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


# ── layout items ──────────────────────────────────────────────────────────────────


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
    slide: ChartSlide = field(compare=False, repr=False)  # its chart, image or figure
    fonts: FontSet = field(compare=False, repr=False)


LayoutItem = TextBlock | Shape | ImagePlacement | ChartPlacement


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


class _Sheet:
    """What a slide is set on, at one output size: its frame, content box, unit and type scale.

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
        options = fonts.options
        self.options = options
        #: The deck's alignment ("left" | "center" | "right"), None for each layout's own.
        self.align: str | None = None if options.align == "auto" else options.align
        self.slide: Slide | None = None
        self.warnings: list[str] = []

    def about(self, slide: Slide) -> None:
        """The slide being laid out: its own `align`, and its name in warnings."""
        self.slide = slide
        if slide.align is not None and slide.align != "auto":
            self.align = slide.align

    def px(self, fraction: float, minimum: int = 1) -> int:
        return max(minimum, round(fraction * self.u))

    def sizes(self, role: str) -> tuple[int, int]:
        largest, floor = SCALE[role]
        return self.px(largest, MIN_PX), self.px(floor, MIN_PX)

    def text_options(self, role: str, kw: dict[str, Any]) -> dict[str, Any]:
        """`kw` for fitting text of `role`, with the theme's line height, case and legibility."""
        kw = dict(kw)
        kw["spacing"] = kw.get("spacing", 1.0) * self.options.line_height
        case = self.options.case
        kw["upper"] = case == "upper" or (case == "upper-titles" and role in _TITLE_ROLES)
        # A caption sits on its own band already.
        kw["legibility"] = "none" if role == "caption" else self.options.legibility
        return kw

    def fit(self, role: str, text: str, box_w: int, box_h: int, *, bold: bool = False, **kw: Any) -> FittedText:
        largest, floor = self.sizes(role)
        kw = self.text_options(role, kw)
        fitted = fit_text(text, self.fonts, max(1, box_w), max(1, box_h), largest, floor, bold=bold, **kw)
        return self.check(role, text, fitted)

    def fit_few_lines(
        self, role: str, text: str, box_w: int, box_h: int, lines: int, shrink: float, **kw: Any
    ) -> FittedText:
        """Like `fit`, but first try `lines` lines at no less than `shrink` × the largest size.

        Headlines read better on one line a little smaller than wrapped at full size,
        and a big number better on two lines than on three.
        """
        largest, floor = self.sizes(role)
        bold = kw.pop("bold", False)
        options = self.text_options(role, kw)
        src = itemize(
            text,
            self.fonts,
            bold=bold,
            upper=options["upper"],
            legibility=options["legibility"],
            room=(box_w, box_h, max(MIN_PX, min(floor, largest))),
        )
        spacing = options["spacing"]
        few = FitRequest(box_w, box_h, largest, max(floor, round(largest * shrink)), spacing, lines, balance=True)
        fitted = try_fit(src, few)
        if fitted is None:
            per_line = shrink if shrink >= 0.5 else PER_LINE
            fitted = fit_headline(src, FitRequest(box_w, box_h, largest, floor, spacing, kw.get("max_lines")), per_line)
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
        """`engine.text.block.place` with the deck's alignment, if it set one, over the layout's own `align`."""
        if self.align is not None:
            return place(fit, role, colour, left, top, width, self.align, mirror=False)
        return place(fit, role, colour, left, top, width, align)

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


def _describe(slide: Slide | None) -> str:
    """'title slide "Weekly plan": ' — how a warning names its slide ("" when unknown)."""
    if slide is None:
        return ""
    kind = slide.kind
    named: str | None
    if slide.kind == "text":
        named = slide.text
    elif slide.kind == "image":
        named = slide.caption
    elif slide.kind == "video":
        named = None
    else:
        named = slide.title
    if named and named.strip():
        return f"{kind} slide {_excerpt(named, 30)}: "
    if slide.kind == "bullets" and slide.bullets:
        return f"{kind} slide {_excerpt(str(slide.bullets[0]), 30)}: "
    return f"{kind} slide: "


def _stack_top(sheet: _Sheet, heights: Sequence[int], gaps: Sequence[int]) -> int:
    """Top of a vertically centred stack, nudged up a little (optical centre)."""
    total = sum(heights) + sum(gaps)
    spare = max(0, sheet.h - total)
    return sheet.top + round(spare * 0.46)


def layout_slide(
    slide: Slide,
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
    sheet = _Sheet(width, height, safe_box, fonts)
    if slide.kind == "title":
        return _title(sheet, slide)
    if slide.kind == "bullets":
        return _bullets(sheet, slide)
    if slide.kind == "image":
        return _image(sheet, slide, size_of)
    if slide.kind == "chart":
        return _chart(sheet, slide)
    if slide.kind == "video":  # its frames come from the clip (engine/clips.py), over the background
        return SlideLayout(width, height, safe_box, safe_box, ())
    if slide.kind == "text":
        if slide.style == "quote":
            return _quote(sheet, slide)
        if slide.style == "big":
            return _big(sheet, slide)
        return _paragraph(sheet, slide)
    raise RenderError(f"cannot lay out a slide of kind {getattr(slide, 'kind', None)!r}")


def _title(sheet: _Sheet, slide: TitleSlide) -> SlideLayout:
    sheet.about(slide)
    subtitle = slide.subtitle
    gap = sheet.px(0.045)
    bar_h = sheet.px(0.009, 3)
    sub = None
    if subtitle:
        sub = sheet.fit(
            "subtitle", subtitle, round(sheet.w * 0.82), round(sheet.h * 0.24), spacing=1.15, max_lines=3, balance=True
        )
    reserved = (bar_h + 2 * gap + sub.height) if sub else (bar_h + gap)
    title = sheet.fit_few_lines(
        "hero", slide.title, round(sheet.w * 0.94), sheet.h - reserved, 1, 0.85, bold=True, spacing=1.0, balance=True
    )

    heights = [title.height, bar_h] + ([sub.height] if sub else [])
    gaps = [gap] * (len(heights) - 1)
    y = _stack_top(sheet, heights, gaps)
    items: list[LayoutItem] = [sheet.place(title, "title", "text", sheet.left, y, sheet.w, "center")]
    y += title.height + gap
    items.append(sheet.bar(sheet.left, y, 0.11, centered=True))
    y += bar_h + gap
    if sub:
        items.append(sheet.place(sub, "subtitle", "muted", sheet.left, y, sheet.w, "center"))
    return sheet.done(items)


def _giving_way(sheet: _Sheet, text: str, preferred: FittedText, room: int) -> FittedText:
    """The largest heading below `preferred` at most `room` px tall (balanced, so in fewer lines as it shrinks).

    The smallest heading there is when none is that short.
    """
    _, floor = sheet.sizes("heading")
    options = sheet.text_options("heading", {"spacing": 1.02})
    box_h = round(sheet.h * 0.3)
    src = itemize(
        text,
        sheet.fonts,
        bold=True,
        upper=options["upper"],
        legibility=options["legibility"],
        room=(sheet.w, box_h, floor),
    )
    smallest = preferred
    for size in sizes(preferred.size, floor):
        if size >= preferred.size:
            continue
        got = try_fit(src, FitRequest(sheet.w, box_h, size, size, options["spacing"], 3, balance=True))
        if got is None:
            continue
        if got.height <= room:
            return got
        smallest = got
    return smallest


def _bullets(sheet: _Sheet, slide: BulletsSlide) -> SlideLayout:
    """A heading, its accent bar, and the bullets: the bullets' words come first.

    The heading takes its preferred size when the bullets still fit whole below it;
    otherwise it gives way (smaller, so in fewer lines) until they do. Only when they
    cannot fit whole even under the smallest heading are they cut, with a warning.
    """
    sheet.about(slide)
    title_text = slide.title
    options = sheet.text_options("bullet", {"spacing": 1.1})
    largest, floor = sheet.sizes("bullet")
    bullets = Bullets.of(
        slide.bullets,
        sheet.fonts,
        largest,
        floor,
        (sheet.w, sheet.h),
        spacing=options["spacing"],
        upper=options["upper"],
        legibility=options["legibility"],
    )
    check = partial(sheet.check, "bullet")
    gap_bar = sheet.px(0.03)
    gap_after = sheet.px(0.055)
    bar_h = sheet.px(0.009, 3)

    def reserve(h: FittedText | None) -> int:  # what a heading and its bar take from the bullets
        return (h.height + gap_bar + bar_h + gap_after) if h else 0

    heading = None
    warned = len(sheet.warnings)
    if title_text:
        heading = sheet.fit_few_lines(
            "heading",
            title_text,
            sheet.w,
            round(sheet.h * 0.3),
            1,
            0.9,
            bold=True,
            spacing=1.02,
            max_lines=3,
            balance=True,
        )
    fitted = bullets.fit(sheet.w, sheet.h - reserve(heading)) if bullets.texts else None
    if bullets.texts and fitted is None and heading is not None and title_text:
        need = bullets.need(sheet.w, sheet.h)
        smaller = _giving_way(sheet, title_text, heading, sheet.h - need - (gap_bar + bar_h + gap_after))
        if smaller is not heading:
            del sheet.warnings[warned:]  # what the preferred heading warned of is the smaller one's to say
            heading = sheet.check("heading", title_text, smaller)
        if need <= sheet.h - reserve(heading):
            fitted = bullets.fit(sheet.w, sheet.h - reserve(heading))
    if bullets.texts and fitted is None:
        fitted = cut_bullets(bullets, sheet.w, sheet.h - reserve(heading), heading is not None, check)
    elif fitted is not None:  # whole, but a bullet's text may have been longer than any box shows
        for text, src, m in zip(bullets.texts, bullets.sources, fitted.fits):
            if src.cut:
                check(text, m)
    # Right-to-left bullets (or align=right) hang from the right: dots, bar and text.
    side = sheet.side(fitted.fits[0] if fitted else heading)

    heights = ([heading.height, bar_h] if heading else []) + ([fitted.height] if fitted else [])
    gaps = ([gap_bar] if heading else []) + ([gap_after] if heading and fitted else [])
    y = _stack_top(sheet, heights, gaps)
    items: list[LayoutItem] = []
    if heading:
        items.append(sheet.place(heading, "title", "text", sheet.left, y, sheet.w, side))
        y += heading.height + gap_bar
        items.append(sheet.bar(sheet.left, y, 0.07, centered=sheet.align == "center", side=side))
        y += bar_h + gap_after
    if fitted:
        font = load_font(sheet.fonts.regular, fitted.size)
        x_height = -font.getbbox("x", anchor="ls")[1]
        dot = max(3, round(fitted.size * 0.3))
        for m in fitted.fits:
            if side == "right":
                block = place(m, "bullet", "text", sheet.left, y, sheet.w - fitted.indent, "right", mirror=False)
                dot_x = sheet.right - dot
            else:
                block = place(
                    m, "bullet", "text", sheet.left + fitted.indent, y, sheet.w - fitted.indent, "left", mirror=False
                )
                dot_x = sheet.left
            cy = block.lines[0].baseline - x_height / 2
            top = round(cy - dot / 2)
            items.append(Shape("ellipse", (dot_x, top, dot_x + dot, top + dot), "accent"))
            items.append(block)
            y += m.height + fitted.item_gap
    return sheet.done(items)


def _fit_image(rect_w: int, rect_h: int, img_w: int, img_h: int) -> tuple[int, int]:
    scale = min(rect_w / img_w, rect_h / img_h)
    return max(1, round(img_w * scale)), max(1, round(img_h * scale))


def _image(sheet: _Sheet, slide: ImageSlide, size_of: Callable[[Path], tuple[int, int]]) -> SlideLayout:
    """The picture framed in the content box (cover, contain) or on the whole frame (fill).

    A caption goes on a band under a contained picture, or over the lower edge of a
    covering one. Over a filled picture it takes the theme's legibility treatment
    instead of a band where the theme has one: the picture is never shrunk for it.
    """
    sheet.about(slide)
    file = Path(slide.file)
    fit_mode = slide.fit
    caption = slide.caption
    radius = sheet.px(0.022, 0)
    pad_x, pad_y = sheet.px(0.03), sheet.px(0.016)
    margin = sheet.px(0.025)
    over = fit_mode == "fill" and sheet.options.legibility != "none"  # caption text straight on the picture
    cap = None
    if caption and over:
        cap = _caption_over_picture(sheet, caption, round(sheet.w * 0.9), round(sheet.h * 0.2))
    elif caption:
        cap_w, cap_h = round(sheet.w * 0.9) - 2 * pad_x, round(sheet.h * 0.2)
        cap = sheet.fit("caption", caption, cap_w, cap_h, spacing=1.1, max_lines=3, balance=True)
    band_h = cap.height + 2 * pad_y if cap else 0

    items: list[LayoutItem] = []
    if fit_mode == "contain":
        iw, ih = size_of(file)
        area_h = sheet.h - (band_h + margin if cap else 0)
        w, h = _fit_image(sheet.w, area_h, iw, ih)
        stack = h + (margin + band_h if cap else 0)
        x, y = sheet.left + (sheet.w - w) // 2, sheet.top + (sheet.h - stack) // 2
        rect = (x, y, x + w, y + h)
        items.append(ImagePlacement(file, "contain", sheet.content, rect, radius))
        band_top = rect[3] + margin
    elif fit_mode == "fill":
        frame = (0, 0, sheet.width, sheet.height)
        items.append(ImagePlacement(file, "fill", frame, frame, 0))
        band_top = sheet.bottom - margin - band_h  # as low as over a covering picture
    else:
        rect = sheet.content
        items.append(ImagePlacement(file, "cover", sheet.content, rect, radius))
        band_top = rect[3] - margin - band_h
    if cap and over:
        items.append(sheet.place(cap, "caption", "text", sheet.left, sheet.bottom - cap.height, sheet.w, "center"))
    elif cap:
        band_w = cap.width + 2 * pad_x
        bx = sheet.cx - band_w // 2
        band = (bx, band_top, bx + band_w, band_top + band_h)
        items.append(Shape("rect", band, "band", radius=min(band_h // 2, sheet.px(0.02))))
        items.append(sheet.place(cap, "caption", "on_band", bx + pad_x, band_top + pad_y, cap.width, "center"))
    return sheet.done(items)


def _caption_over_picture(sheet: _Sheet, caption: str, box_w: int, box_h: int) -> FittedText:
    """A caption fitted with the theme's legibility treatment (a caption on a band has none)."""
    largest, floor = sheet.sizes("caption")
    kw = sheet.text_options("caption", {"spacing": 1.1, "max_lines": 3, "balance": True})
    kw["legibility"] = sheet.options.legibility
    fitted = fit_text(caption, sheet.fonts, max(1, box_w), max(1, box_h), largest, floor, **kw)
    return sheet.check("caption", caption, fitted)


def _paragraph(sheet: _Sheet, slide: TextSlide) -> SlideLayout:
    sheet.about(slide)
    rule_w, rule_gap = sheet.px(0.008, 3), sheet.px(0.035)
    measure = round(sheet.w * (0.82 if sheet.w > sheet.h else 1.0)) - rule_w - rule_gap
    body = sheet.fit("body", slide.text, measure, sheet.h, spacing=1.16)
    total_w = rule_w + rule_gap + body.width
    x = sheet.left + (sheet.w - total_w) // 2
    y = _stack_top(sheet, [body.height], [])
    # The accent rule stands at the start of the lines: on the right for right-to-left text.
    if sheet.side(body) == "right":
        rule_x, body_x = x + body.width + rule_gap, x
    else:
        rule_x, body_x = x, x + rule_w + rule_gap
    items: list[LayoutItem] = [
        Shape("rect", (rule_x, y, rule_x + rule_w, y + body.height), "accent", radius=rule_w // 2),
        sheet.place(body, "body", "text", body_x, y, body.width, "left"),
    ]
    return sheet.done(items)


def _quote(sheet: _Sheet, slide: TextSlide) -> SlideLayout:
    sheet.about(slide)
    attribution = slide.attribution
    gap, mark_gap = sheet.px(0.04), sheet.px(0.012)
    mark = sheet.fit("quote_mark", "\u201c", sheet.w, round(sheet.h * 0.25), bold=True, tight=True)
    attr = None
    if attribution:
        attr = sheet.fit("attribution", f"\u2014 {attribution}", sheet.w, round(sheet.h * 0.15), bold=True, max_lines=2)
    reserved = mark.height + mark_gap + ((attr.height + gap) if attr else 0)
    measure = round(sheet.w * (0.88 if sheet.w > sheet.h else 1.0))
    body = sheet.fit("quote", slide.text, measure, sheet.h - reserved, spacing=1.18)

    column = max(body.width, attr.width if attr else 0)
    left = sheet.left + (sheet.w - column) // 2
    heights = [mark.height, body.height] + ([attr.height] if attr else [])
    y = _stack_top(sheet, heights, [mark_gap] + [gap] * (len(heights) - 2))
    side = "center" if sheet.align == "center" else sheet.side(body)
    mark_x = {"left": left, "right": left + column - mark.width, "center": left + (column - mark.width) // 2}[side]
    items: list[LayoutItem] = [place(mark, "quote_mark", "accent", mark_x, y, mark.width, "left", mirror=False)]
    y += mark.height + mark_gap
    items.append(sheet.place(body, "quote", "text", left, y, column, "left"))
    y += body.height + gap
    if attr:
        items.append(sheet.place(attr, "attribution", "accent", left, y, column, side if side != "center" else "left"))
    return sheet.done(items)


def _big(sheet: _Sheet, slide: TextSlide) -> SlideLayout:
    sheet.about(slide)
    gap = sheet.px(0.05)
    bar_h = sheet.px(0.009, 3)
    big = sheet.fit_few_lines(
        "big", slide.text, sheet.w, sheet.h - gap - bar_h, 2, 0.0, bold=True, spacing=0.98, max_lines=4, balance=True
    )
    y = _stack_top(sheet, [big.height, bar_h], [gap])
    items: list[LayoutItem] = [sheet.place(big, "big", "text", sheet.left, y, sheet.w, "center")]
    items.append(sheet.bar(sheet.left, y + big.height + gap, 0.11, centered=True))
    return sheet.done(items)


def _chart(sheet: _Sheet, slide: ChartSlide) -> SlideLayout:
    """A heading and its accent bar at the top, the chart in all the room below."""
    title_text = slide.title
    items: list[LayoutItem] = []
    top = sheet.top
    if title_text:
        heading = sheet.fit_few_lines(
            "heading",
            title_text,
            sheet.w,
            round(sheet.h * 0.22),
            1,
            0.8,
            bold=True,
            spacing=1.02,
            max_lines=2,
            balance=True,
        )
        items.append(place(heading, "title", "text", sheet.left, top, sheet.w, "left"))
        top += heading.height + sheet.px(0.025)
        items.append(sheet.bar(sheet.left, top, 0.07))
        top += sheet.px(0.009, 3) + sheet.px(0.04)
    items.append(ChartPlacement((sheet.left, top, sheet.right, sheet.bottom), slide, sheet.fonts))
    return sheet.done(items)
