"""Charts from data in the deck: validated, rasterized once, revealed per pixel.

    chart = parse_chart({"type": "bar", "labels": ["Mon", "Tue"], "values": [1850, 2100], "unit": "kcal"})
    raster = draw_chart(chart, 1600, 900, fonts=resolve_fonts(theme),
                        text_rgb=theme.text_rgb, accent_rgb=theme.accent_rgb)
    raster.image, raster.base, raster.reveal   # finished RGBA, static RGBA, reveal times
    raster.texts.values                        # ("1,850", "2,100"): one format in every box

Inside: `model` (the spec), `ticks` and `format` (pure numbers), `reveal` (when each
pixel appears, pure arithmetic), `canvas` and `text` (pixels and type), `palette` and
`style` (colours, type scale, legend), `axes` (what charts with a value axis share),
one module per family of charts (`columns`, `hbars`, `radial`), each handing back
what it set in words (`drawn`), and `draw`, which picks the family, warns of any text
cut to fit and hands back a `ChartRaster`.
"""

from .draw import ChartRaster, draw_chart
from .drawn import Drawn
from .format import format_number, format_value
from .model import CHART_TYPES, MAX_BARS, Chart, Series, parse_chart
from .palette import OKABE_ITO, series_colours
from .ticks import Ticks, nice_ticks

__all__ = [
    "CHART_TYPES",
    "MAX_BARS",
    "OKABE_ITO",
    "Chart",
    "ChartRaster",
    "Drawn",
    "Series",
    "Ticks",
    "draw_chart",
    "format_number",
    "format_value",
    "nice_ticks",
    "parse_chart",
    "series_colours",
]
