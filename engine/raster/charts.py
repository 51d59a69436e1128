"""A chart slide's chart as pixels: drawn from data (engine.charts), or a picture of one.

    reveal = chart_reveal(placement, palette, background_rgb)
    reveal.image, reveal.base, reveal.times     # each the size of placement.box

`ChartReveal` is what the compositor animates: ``image`` (the finished chart) replaces
``base`` (what shows before, e.g. axes and gridlines) at each pixel once the reveal
clock passes that pixel's time. A data chart's times come from engine.charts, easing
and stagger included, so its clock runs linearly. A picture (an image file, a
matplotlib Figure, a PIL image or an array) is fitted whole into the box; its ``wipe``
uncovers it left to right, its ``fade`` is an opacity the motion eases, and nothing
draws under it.

matplotlib is imported by nobody here: a Figure draws itself (``savefig``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..charts import draw_chart
from ..charts.draw import MIN_SIDE, cut_message
from ..layout import ChartPlacement
from .background import open_image
from .palette import Palette

__all__ = ["ChartReveal", "chart_reveal", "chroma_safe", "figure_pixels"]


@dataclass(frozen=True)
class ChartReveal:
    image: np.ndarray  # h×w×4 uint8 straight alpha: the chart revealed
    base: np.ndarray  # h×w×4 uint8 straight alpha: shown where the reveal has not come yet
    times: np.ndarray  # h×w float32 in 0..1: when each pixel turns from base to image
    fades: bool = False  # a picture that fades in: `image`'s opacity follows the clock
    note: str | None = None  # what of the chart's words was cut to fit (engine.charts.cut_message)

    def at(self, t: float) -> np.ndarray:
        """The chart at clock time `t` (0..1), before any fade."""
        return np.where((self.times <= t)[..., None], self.image, self.base)


def chart_reveal(
    placement: ChartPlacement, palette: Palette, background_rgb: tuple[int, int, int] | None = None
) -> ChartReveal:
    """The chart of `placement`, at the size of its box."""
    left, top, right, bottom = placement.box
    width, height = right - left, bottom - top
    slide = placement.slide
    if slide.chart is not None:
        # A draft or thumbnail size can leave the chart a box smaller than it can be
        # drawn in: draw it at the smallest size it takes and shrink it into the box.
        grow = max(1.0, MIN_SIDE / width, MIN_SIDE / height)
        drawn_w, drawn_h = max(MIN_SIDE, round(width * grow)), max(MIN_SIDE, round(height * grow))
        raster = draw_chart(
            slide.chart,
            drawn_w,
            drawn_h,
            fonts=placement.fonts,
            text_rgb=palette.text[:3],
            accent_rgb=palette.accent[:3],
            background_rgb=background_rgb,
            warn=False,
        )
        note = cut_message(raster.texts, drawn_w, drawn_h)
        image, base, times = raster.image, raster.base, raster.reveal
        if (drawn_w, drawn_h) != (width, height):
            image, base, times = (
                _shrunk(image, width, height),
                _shrunk(base, width, height),
                _shrunk(times, width, height),
            )
            small = (
                f"chart: its {width}×{height} box is below the {MIN_SIDE}×{MIN_SIDE} px it is drawn at; shrunk to fit"
            )
            note = small if note is None else f"{small}; {note}"
        return ChartReveal(image, base, chroma_safe(times), note=note)
    picture = figure_pixels(slide.image if slide.image is not None else slide.figure, width, height)
    style = slide.reveal.style
    times = np.zeros((height, width), dtype=np.float32)
    if style == "wipe":
        columns = np.nonzero(picture[..., 3].any(axis=0))[0]
        first, last = (int(columns[0]), int(columns[-1])) if columns.size else (0, width - 1)
        across = (np.arange(width, dtype=np.float32) - first) / max(1, last - first)
        times[:] = np.clip(across, 0.0, 1.0)[None, :]
    return ChartReveal(picture, np.zeros_like(picture), chroma_safe(times), fades=style == "fade")


def _shrunk(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
    """An RGBA image (area-averaged, alpha premultiplied) or a float time map, at width × height."""
    if pixels.dtype == np.float32:
        return np.asarray(Image.fromarray(pixels, mode="F").resize((width, height), Image.Resampling.BOX))
    premultiplied = Image.fromarray(pixels, mode="RGBA").convert("RGBa")
    return np.asarray(premultiplied.resize((width, height), Image.Resampling.BOX).convert("RGBA"))


def chroma_safe(times: np.ndarray) -> np.ndarray:
    """`times` with each pixel no earlier than its left neighbour.

    The compositors turn a chroma texel (a 2×2 block of pixels) when the last of its
    four pixels turns, but the texel's colour is filtered, left-sited, from the pixel
    left of the block too (engine/composite/planes.py `front_planes`). Without this, the
    texel right of a bar's right edge takes a quarter of the bar's colour from the
    start: a 2-px coloured edge at full height before the bar has grown. Luma moves by
    at most a pixel where a reveal runs right to left; where nothing animates (the image
    equals the base) the time changes nothing.
    """
    safe = times.astype(np.float32, copy=True)
    np.maximum(safe[:, 1:], times[:, :-1], out=safe[:, 1:])
    return safe


def figure_pixels(source: Any, width: int, height: int) -> np.ndarray:
    """`source` fitted whole into width × height, centred, transparent around: H×W×4 uint8.

    `source` is an image file path, a matplotlib Figure (drawn at a resolution that
    fills the box, so text stays sharp), a PIL image, or an H×W×3/×4 uint8 array
    (`engine.spec.ChartSlide` holds one of these, checked).
    """
    image: Image.Image
    if hasattr(source, "savefig"):  # a matplotlib Figure: ask it for pixels at our size
        fig_w, fig_h = source.get_size_inches()
        dpi = max(10.0, min(width / fig_w, height / fig_h))
        buffer = io.BytesIO()
        source.savefig(buffer, format="png", dpi=dpi, transparent=False)
        buffer.seek(0)
        image = Image.open(buffer)
        image.load()
    elif isinstance(source, np.ndarray):
        image = Image.fromarray(source, "RGBA" if source.shape[2] == 4 else "RGB")
    elif hasattr(source, "convert"):  # a PIL image: ours to convert, not to close
        image = source.copy()
    else:
        image = open_image(Path(source), (width, height))
    with image:
        rgba = image.convert("RGBA")
    with rgba:
        scale = min(width / rgba.width, height / rgba.height)
        size = (max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale)))
        with rgba.resize(size, Image.Resampling.LANCZOS) as fitted:
            canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
            canvas.paste(fitted, ((width - size[0]) // 2, (height - size[1]) // 2))
    with canvas:
        return np.asarray(canvas, dtype=np.uint8).copy()
