"""`draw_chart`: a chart rasterized once, finished, with the map that animates it.

    raster = draw_chart(chart, 1600, 900, fonts=resolve_fonts(theme),
                        text_rgb=theme.text_rgb, accent_rgb=theme.accent_rgb)
    frame = raster.at(0.4)   # H×W×4 RGBA of the reveal at 40 % of its clock

The renderer runs the reveal's clock t linearly from 0 to 1 over ``chart.reveal``
seconds (the chart's easing is already in the map) and shows, per pixel, ``image``
where ``reveal <= t`` and ``base`` elsewhere. ``base`` holds only the static parts
(axes, gridlines, labels), so a gridline crossing a bar's place shows until the bar
covers it; a renderer that treats ``base`` as transparent shows the same chart with
that gridline missing until then. Both images are straight-alpha RGBA on a
transparent background, to be laid over the slide.

``raster.texts`` says what the chart set in words (`Drawn`): the family drawn (a bar
chart whose category labels would be turned and cut is drawn as horizontal bars), the
value labels as printed, and every text cut to fit, which is also logged as a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..text.typeface import FontSet
from .canvas import Canvas, to_straight
from .columns import draw_columns
from .drawn import Drawn
from .hbars import draw_hbars
from .model import Chart
from .palette import as_rgb
from .radial import draw_kpi, draw_pie
from .reveal import Timing
from .style import Style

__all__ = ["ChartRaster", "cut_message", "draw_chart"]

log = logging.getLogger(__name__)

RGB = tuple[int, int, int]

_DRAW = {
    "bar": draw_columns,
    "stacked_bar": draw_columns,
    "line": draw_columns,
    "area": draw_columns,
    "hbar": draw_hbars,
    "pie": draw_pie,
    "donut": draw_pie,
    "kpi": draw_kpi,
}
#: Below this box side a chart cannot be drawn legibly (the smallest text alone is 9 px).
MIN_SIDE = 48


@dataclass(frozen=True)
class ChartRaster:
    """A finished chart and how it appears.

    image:  H×W×4 uint8, straight alpha: the chart when fully revealed.
    base:   H×W×4 uint8, straight alpha: its static parts, shown before the reveal.
    reveal: H×W float32 in [0, 1]: the clock time at which ``image`` replaces
            ``base`` at that pixel (0 where nothing animates).
    seconds: the reveal's length (``chart.reveal``).
    texts:  what it says in words (see `Drawn`).
    """

    image: np.ndarray
    base: np.ndarray
    reveal: np.ndarray
    seconds: float
    texts: Drawn = field(default_factory=lambda: Drawn(""))

    def at(self, t: float) -> np.ndarray:
        """The chart at clock time `t` (0..1): the reference the GPU shader must match."""
        shown = (self.reveal <= t)[..., None]
        return np.where(shown, self.image, self.base)

    def clock(self, seconds: float) -> float:
        """Clock time `seconds` after the chart starts to appear."""
        if self.seconds <= 0:
            return 1.0
        return min(1.0, max(0.0, seconds / self.seconds))


def draw_chart(
    chart: Chart,
    width: int,
    height: int,
    *,
    fonts: FontSet,
    text_rgb: RGB,
    accent_rgb: RGB | None = None,
    background_rgb: RGB | None = None,
    warn: bool = True,
) -> ChartRaster:
    """Rasterize `chart` into a width × height box.

    A text cut to fit is logged as a warning (`cut_message`) unless `warn` is False: the
    rasterizer says it itself, naming the slide.

    `accent_rgb` is the palette's first colour (else Okabe–Ito's orange);
    `background_rgb`, the slide's colour behind the chart where known, drops palette
    colours that would not show on it.
    """
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValueError(f"a chart needs a box of at least {MIN_SIDE}×{MIN_SIDE} px, got {width}×{height}")
    style = Style(
        chart=chart,
        fonts=fonts,
        text=as_rgb(text_rgb),
        accent=None if accent_rgb is None else as_rgb(accent_rgb),
        background=None if background_rgb is None else as_rgb(background_rgb),
        u=float(min(width, height)),
        timing=Timing(chart.easing_curve),
    )
    canvas = Canvas(width, height)
    texts = _DRAW[chart.type](canvas, style)
    message = cut_message(texts, width, height)
    if message and warn:
        log.warning("%s", message)
    # Convert one buffer at a time and let each go: at 4K the working buffers are
    # larger than the result.
    image = to_straight(canvas.image)
    del canvas.image
    base = to_straight(canvas.base)
    del canvas.base
    reveal = np.clip(canvas.reveal, 0.0, 1.0)
    return ChartRaster(image=image, base=base, reveal=reveal, seconds=chart.reveal, texts=texts)


def cut_message(texts: Drawn, width: int, height: int) -> str | None:
    """What a viewer loses of a drawn chart's words, in one line; None when nothing was cut."""
    if not texts.cut:
        return None
    shown = ", ".join(f"{text!r} as {cut!r}" for text, cut in texts.cut[:4])
    more = f" and {len(texts.cut) - 4} more" if len(texts.cut) > 4 else ""
    return (
        f"chart: {len(texts.cut)} text(s) cut to fit the {width}×{height} box: {shown}{more}; "
        "shorten them or give the chart more room"
    )
