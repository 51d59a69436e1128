"""Drawing laid-out text: runs in their fonts and colours, and the legibility treatments.

    paint_block(draw, block, rgba)      # a TextBlock (engine.text.block), onto draw's image

Each run is drawn at its line's baseline plus its pen offset, with its direction and
language handed to raqm. Plain runs are one ``ImageDraw.text`` call each, so Latin
text in the theme's font draws exactly as Pillow draws it. A colour or bitmap font
(Noto Color Emoji) is drawn at its strike with ``embedded_color`` and scaled to the
line's size; a synthetic oblique is drawn as a mask and sheared about the baseline.

Legibility, for text over pictures (theme ``legibility``):

- ``shadow``: a soft drop shadow (the block's glyphs blurred, offset down);
- ``outline``: a stroke around every glyph (Pillow's ``stroke_width``);
- ``scrim``: a translucent rounded panel behind the block.

Their colour opposes the text's: dark behind light text, light behind dark text. The
layout reserves room for them (`engine.text.legibility.legibility_margins`), and nothing is drawn outside a
block's box.
"""

from __future__ import annotations

import math
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from ..colour import parse_colour
from .block import TextBlock
from .legibility import outline_width, shadow_geometry
from .runs import OBLIQUE, Run
from .typeface import load_font

__all__ = ["paint_block"]

RGBA = tuple[int, int, int, int]


def _backing(rgba: RGBA) -> tuple[int, int, int]:
    """Dark behind light text, light behind dark text."""
    r, g, b = rgba[:3]
    return (0, 0, 0) if 0.2126 * r + 0.7152 * g + 0.0722 * b > 110 else (255, 255, 255)


def paint_block(draw: ImageDraw.ImageDraw, block: TextBlock, rgba: RGBA) -> None:
    """Draw a `TextBlock` with colour `rgba` ([[accent]] spans in the block's accent)."""
    accent = rgba
    if block.accent:
        accent = (*parse_colour(block.accent), rgba[3])
    kind = block.legibility
    backing = _backing(rgba)
    if kind == "scrim":
        _scrim(draw, block, backing, rgba[3])
    elif kind == "shadow":
        _shadow(draw, block, backing, rgba[3])
    stroke = outline_width(block.size) if kind == "outline" else 0
    stroke_fill = (*backing, rgba[3]) if stroke else None
    for line in block.lines:
        if not line.text:
            continue
        if not line.runs:  # a block laid out without runs: one font, as Pillow shapes it
            font = load_font(block.font, block.size)
            extra: dict[str, Any] = {"stroke_width": stroke, "stroke_fill": stroke_fill} if stroke else {}
            draw.text((line.x, line.baseline), line.text, font=font, fill=rgba, anchor="ls", **extra)
            continue
        for run in line.runs:
            colour = accent if run.accent else rgba
            _draw_run(draw, run, line.x + run.dx, line.baseline, colour, stroke, stroke_fill)


def _kw(run: Run) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if run.direction:
        kw["direction"] = run.direction
    if run.language:
        kw["language"] = run.language
    return kw


def _draw_run(
    draw: ImageDraw.ImageDraw, run: Run, x: int, baseline: int, colour: RGBA, stroke: int, stroke_fill
) -> None:
    if run.colour_glyphs or run.scale != 1.0:
        picture, (ox, oy) = _run_picture(run, colour)
        if picture is not None:
            with picture:
                _composite(draw, picture, (x + ox, baseline + oy))
        return
    if run.oblique:
        if stroke:
            mask, (ox, oy) = _run_mask(run, stroke)
            with mask:
                draw.bitmap((x + ox, baseline + oy), mask, fill=stroke_fill)
        mask, (ox, oy) = _run_mask(run, 0)
        with mask:
            draw.bitmap((x + ox, baseline + oy), mask, fill=colour)
        return
    extra = {"stroke_width": stroke, "stroke_fill": stroke_fill} if stroke else {}
    draw.text((x, baseline), run.text, font=run.load(), fill=colour, anchor="ls", **_kw(run), **extra)


def _run_mask(run: Run, stroke: int) -> tuple[Image.Image, tuple[int, int]]:
    """The run's coverage as an L image, sheared when oblique, and its offset from the pen."""
    font = run.load()
    x0, y0, x1, y1 = map(int, font.getbbox(run.text, anchor="ls", stroke_width=stroke, **_kw(run)))  # whole pixels
    width, height = max(1, x1 - x0), max(1, y1 - y0)
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).text(
        (-x0, -y0), run.text, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255, **_kw(run)
    )
    if not run.oblique:
        return mask, (x0, y0)
    # x' = x - OBLIQUE · y (y down from the baseline): the top leans right. Output pixel
    # (u, v), at pen offset (x0 - lean_bottom + u, y0 + v), samples the mask at
    # (u - lean_bottom + OBLIQUE · (v + y0), v).
    lean_top = math.ceil(OBLIQUE * max(0, -y0))
    lean_bottom = math.ceil(OBLIQUE * max(0, y1))
    sheared = mask.transform(
        (width + lean_top + lean_bottom, height),
        Image.Transform.AFFINE,
        (1, OBLIQUE, OBLIQUE * y0 - lean_bottom, 0, 1, 0),
        resample=Image.Resampling.BICUBIC,
    )
    mask.close()
    return sheared, (x0 - lean_bottom, y0)


def _run_picture(run: Run, colour: RGBA) -> tuple[Image.Image | None, tuple[int, int]]:
    """A colour (or bitmap) run drawn at its strike and scaled: RGBA, and its offset from the pen."""
    font = run.load()
    x0, y0, x1, y1 = map(int, font.getbbox(run.text, anchor="ls", **_kw(run)))  # whole pixels
    if x1 <= x0 or y1 <= y0:
        return None, (0, 0)
    picture = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    ImageDraw.Draw(picture).text(
        (-x0, -y0), run.text, font=font, fill=colour, anchor="ls", embedded_color=run.colour_glyphs, **_kw(run)
    )
    s = run.scale
    if s != 1.0:
        left, top = math.floor(x0 * s), math.floor(y0 * s)
        size = (max(1, math.ceil(x1 * s) - left), max(1, math.ceil(y1 * s) - top))
        scaled = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        picture.close()
        picture, (x0, y0) = scaled, (left, top)
    if run.colour_glyphs and colour[3] < 255:  # a muted block fades its emoji too
        alpha = picture.getchannel("A").point(lambda v, a=colour[3]: v * a // 255)
        picture.putalpha(alpha)
    return picture, (x0, y0)


def _composite(draw: ImageDraw.ImageDraw, picture: Image.Image, at: tuple[int, int]) -> None:
    """Lay an RGBA picture over the draw's image (RGB: alpha as mask; RGBA: "over")."""
    canvas = getattr(draw, "_image", None)
    if canvas is None:  # no image to paste on: its shape in the draw's colour at least
        draw.bitmap(at, picture.getchannel("A"), fill=(255, 255, 255, 255))
        return
    x, y = at
    # Clip to the canvas (alpha_composite refuses to reach outside it).
    left, top = max(0, -x), max(0, -y)
    right = min(picture.width, canvas.width - x)
    bottom = min(picture.height, canvas.height - y)
    if right <= left or bottom <= top:
        return
    part = picture.crop((left, top, right, bottom))
    with part:
        if canvas.mode == "RGBA":
            canvas.alpha_composite(part, (x + left, y + top))
        else:
            with part.convert("RGB") as rgb, part.getchannel("A") as alpha:
                canvas.paste(rgb, (x + left, y + top), alpha)


def _scrim(draw: ImageDraw.ImageDraw, block: TextBlock, backing: tuple[int, int, int], alpha: int) -> None:
    left, top, right, bottom = block.box
    if right <= left or bottom <= top:
        return
    radius = min((bottom - top) // 2, max(2, round(block.size * 0.3)))
    fill = (*backing, round(0.55 * alpha))
    draw.rounded_rectangle((left, top, right - 1, bottom - 1), radius=radius, fill=fill)


def _shadow(draw: ImageDraw.ImageDraw, block: TextBlock, backing: tuple[int, int, int], alpha: int) -> None:
    """The block's glyphs, blurred and offset down, kept inside its box."""
    left, top, right, bottom = block.box
    if right <= left or bottom <= top:
        return
    offset, blur = shadow_geometry(block.size)
    mask = Image.new("L", (right - left, bottom - top), 0)
    white: RGBA = (255, 255, 255, 255)
    for line in block.lines:
        if not line.text:
            continue
        for run in line.runs:
            x, y = line.x + run.dx - left, line.baseline + offset - top
            if run.colour_glyphs or run.scale != 1.0:
                picture, (ox, oy) = _run_picture(run, white)
                if picture is not None:
                    with picture, picture.getchannel("A") as a:
                        mask.paste(255, (x + ox, y + oy), a)
            else:
                piece, (ox, oy) = _run_mask(run, 0)
                with piece:
                    mask.paste(255, (x + ox, y + oy), piece)
    blurred = mask.filter(ImageFilter.GaussianBlur(blur))
    mask.close()
    strength = 0.75 * alpha / 255
    with blurred, blurred.point(lambda v: round(v * strength)) as shade:
        draw.bitmap((left, top), shade, fill=(*backing, 255))
