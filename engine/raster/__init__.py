"""Slides → H×W×3 uint8 sRGB images at one output's size, cached by content hash.

    rasterizer = SlideRasterizer(deck, output)
    key, image = rasterizer.raster(0)      # image.shape == (output.height, output.width, 3)

The package, stage by stage: `rasterizer` (one deck's slides for one output, and the
cache), `background` (solid, gradient and image backgrounds), `slides` (a layout
painted over its background), `charts` (a chart slide's chart and its reveal) and
`layers` (a slide in motion as layers the compositor moves).
"""

from __future__ import annotations

from .background import render_background
from .layers import SlideLayers
from .rasterizer import CacheInfo, SlideRasterizer, rasterize_slide

__all__ = ["CacheInfo", "SlideLayers", "SlideRasterizer", "rasterize_slide", "render_background"]
