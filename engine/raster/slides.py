"""Paint a `SlideLayout` over its background: text, accent shapes, images.

Text is drawn with Pillow's FreeType antialiasing straight onto the RGB canvas, each
line at its baseline (``anchor="ls"``), run by run in the runs' own fonts (fallback
fonts, colour emoji scaled from their strike), with the theme's legibility treatment
(`engine.text.paint`). Shapes are antialiased by drawing their mask
at 4× and reducing it. Images are Lanczos-resampled, their alpha (and rounded
corners) used as the paste mask; a "fill" picture of the frame's own size lands pixel
for pixel.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from ..layout import ChartPlacement, ImagePlacement, Shape, SlideLayout
from ..text.block import TextBlock
from ..text.paint import paint_block
from .background import open_image
from .palette import Palette

__all__ = ["fitted_picture", "image_array", "paint_layout", "paint_onto", "paint_text", "rounded_mask", "under_colour"]

_SUPERSAMPLE = 4
#: Rows of a Pillow image copied out at once (`image_array`).
_BAND = 256


def image_array(image: Image.Image, into: np.ndarray | None = None) -> np.ndarray:
    """`image`'s pixels as a new H×W×C uint8 array (or written into `into`), a band of
    rows at a time.

    ``np.array(image)`` goes through ``tobytes``, which holds the pixels twice more
    (its chunks and their join) on top of the result: 50 MB at 4K for an RGB slide,
    while the encoder is at its largest. A band at a time, that is a few MB.
    """
    width, height = image.size
    if into is None:
        into = np.empty((height, width, len(image.getbands())), dtype=np.uint8)
    for top in range(0, height, _BAND):
        bottom = min(height, top + _BAND)
        with image.crop((0, top, width, bottom)) as band:
            into[top:bottom] = np.asarray(band, dtype=np.uint8).reshape(into[top:bottom].shape)
    return into


def rounded_mask(width: int, height: int, radius: int, ellipse: bool = False) -> Image.Image:
    """An antialiased L mask of a rounded rectangle (or ellipse) filling width × height."""
    s = _SUPERSAMPLE
    with Image.new("L", (width * s, height * s), 0) as big:
        draw = ImageDraw.Draw(big)
        box = (0, 0, width * s - 1, height * s - 1)
        if ellipse:
            draw.ellipse(box, fill=255)
        elif radius > 0:
            draw.rounded_rectangle(box, radius=radius * s, fill=255)
        else:
            draw.rectangle(box, fill=255)
        return big.resize((width, height), Image.Resampling.BOX)


def _paint_shape(canvas: Image.Image, shape: Shape, rgba: tuple[int, int, int, int]) -> None:
    left, top, right, bottom = shape.box
    w, h = right - left, bottom - top
    if w <= 0 or h <= 0:
        return
    with rounded_mask(w, h, shape.radius, shape.kind == "ellipse") as mask:
        if rgba[3] < 255:
            mask = mask.point(lambda v, a=rgba[3]: v * a // 255)
        with Image.new("RGB", (w, h), rgba[:3]) as fill:
            canvas.paste(fill, (left, top), mask)
        mask.close()


def fitted_picture(item: ImagePlacement, scale: float = 1.0) -> Image.Image:
    """The picture of `item` fitted to its rect (× `scale`), corners rounded: RGBA, caller closes.

    "cover" and "fill" scale it to cover the rect and crop it from the centre;
    "contain" resizes it to the rect, which the layout gave the picture's aspect. A
    picture already of the rect's size comes out pixel for pixel (Pillow resamples
    nothing then).
    """
    left, top, right, bottom = item.rect
    w, h = max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale))
    with open_image(item.file, (w, h)) as source:
        if item.fit in ("cover", "fill"):
            fitted = ImageOps.fit(source, (w, h), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        else:
            fitted = source.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if item.radius > 0:
        with fitted.getchannel("A") as alpha, rounded_mask(w, h, round(item.radius * scale)) as corners:
            rounded = np.asarray(alpha, dtype=np.uint16) * np.asarray(corners, dtype=np.uint16) // 255
        fitted.putalpha(Image.fromarray(rounded.astype(np.uint8), "L"))
    return fitted


def _paint_image(canvas: Image.Image, item: ImagePlacement) -> None:
    left, top, right, bottom = item.rect
    if right <= left or bottom <= top:
        return
    with fitted_picture(item) as fitted, fitted.getchannel("A") as alpha, fitted.convert("RGB") as rgb:
        canvas.paste(rgb, (left, top), alpha)


def paint_text(draw: ImageDraw.ImageDraw, block: TextBlock, rgba: tuple[int, int, int, int]) -> None:
    """Draw `block` in `rgba`: each line's runs in their own fonts, [[accent]] spans in the
    block's accent colour, and the theme's legibility treatment (engine.text.paint)."""
    paint_block(draw, block, rgba)


def paint_layout(
    background: np.ndarray, layout: SlideLayout, palette: Palette, notes: list[str] | None = None
) -> np.ndarray:
    """The finished slide: `layout` painted over a copy of `background` (H×W×3 uint8).

    What painting had to give up (a chart's words cut to fit) is added to `notes`.
    """
    with Image.fromarray(background, "RGB") as canvas:
        paint_onto(canvas, layout, palette, notes)
        return image_array(canvas)


def paint_onto(canvas: Image.Image, layout: SlideLayout, palette: Palette, notes: list[str] | None = None) -> None:
    """`layout` painted onto `canvas` (RGB), which holds the slide's background.

    A chart's palette is chosen for the background under its box, read before anything
    is painted over it.
    """
    unders = {}
    for i, item in enumerate(layout.items):
        if isinstance(item, ChartPlacement) and _has_area(item.box):
            with canvas.crop(item.box) as under:
                unders[i] = under_colour(np.asarray(under), (0, 0, *under.size))
    draw = ImageDraw.Draw(canvas, "RGBA")
    for i, item in enumerate(layout.items):
        if isinstance(item, TextBlock):
            paint_text(draw, item, palette[item.colour])
        elif isinstance(item, Shape):
            _paint_shape(canvas, item, palette[item.colour])
        elif isinstance(item, ImagePlacement):
            _paint_image(canvas, item)
        elif isinstance(item, ChartPlacement) and i in unders:
            _paint_chart(canvas, item, palette, unders[i], notes)


def _has_area(box: tuple[int, int, int, int]) -> bool:
    left, top, right, bottom = box
    return right > left and bottom > top


def under_colour(background: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int]:
    """The mean colour of `background` inside `box`: what a chart's palette must show on."""
    left, top, right, bottom = box
    r, g, b = background[top:bottom, left:right].reshape(-1, 3).mean(axis=0)
    return int(r), int(g), int(b)


def _paint_chart(
    canvas: Image.Image, item: ChartPlacement, palette: Palette, colour: tuple[int, int, int], notes: list[str] | None
) -> None:
    from .charts import chart_reveal

    left, top = item.box[:2]
    reveal = chart_reveal(item, palette, colour)
    if reveal.note and notes is not None:
        notes.append(reveal.note)
    revealed = reveal.image  # the finished chart
    with Image.fromarray(revealed, "RGBA") as chart, canvas.crop(item.box) as under, under.convert("RGBA") as rgba:
        rgba.alpha_composite(chart)
        with rgba.convert("RGB") as done:
            canvas.paste(done, (left, top))
