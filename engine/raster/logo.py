"""The theme's logo, drawn once per output and stamped into each slide's picture.

    stamp = logo_stamp(theme.logo, width, height, safe_box)
    stamp_rgb(image, stamp)        # a still slide (H×W×3, in place)
    stamp_rgba(static, stamp)      # the static layer of a slide in motion (H×W×4 straight alpha)

The logo is fitted (Lanczos) so its longer side is `size` × the frame's shorter side,
its alpha scaled by `opacity`, and placed in the named corner of the safe area, inset
by 1 % of the shorter side. Being part of the slide's raster (or of the static layer
of a slide in motion), it costs nothing per frame and never moves with a camera.
`black` stamps its coverage in black: a slide's silhouette (engine.backdrop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..theme import Logo
from .background import open_image

__all__ = ["LogoStamp", "logo_stamp", "stamp_rgb", "stamp_rgba"]

Box = tuple[int, int, int, int]

#: The gap between the logo and the safe area's edges, × the frame's shorter side.
_INSET = 0.01


@dataclass(frozen=True)
class LogoStamp:
    rgba: np.ndarray  # h×w×4 uint8 straight alpha, opacity applied
    origin: tuple[int, int]  # (left, top) in the frame

    @property
    def box(self) -> Box:
        """(left, top, right, bottom) of the logo in the frame."""
        left, top = self.origin
        return left, top, left + self.rgba.shape[1], top + self.rgba.shape[0]


def logo_stamp(logo: Logo, width: int, height: int, safe_box: Box) -> LogoStamp:
    """`logo` fitted and placed for a width × height frame whose safe area is `safe_box`."""
    short = min(width, height)
    s_left, s_top, s_right, s_bottom = safe_box
    inset = round(_INSET * short)
    room_w = max(1, s_right - s_left - 2 * inset)
    room_h = max(1, s_bottom - s_top - 2 * inset)
    side = max(1, round(logo.size * short))
    with open_image(logo.file, (side, side)) as source:
        scale = min(side / max(source.size), room_w / source.size[0], room_h / source.size[1])
        size = (max(1, round(source.size[0] * scale)), max(1, round(source.size[1] * scale)))
        with source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) as fitted:
            rgba = np.asarray(fitted, dtype=np.uint8).copy()
    if logo.opacity < 1:
        rgba[..., 3] = np.round(rgba[..., 3] * logo.opacity).astype(np.uint8)
    w, h = size
    left = s_left + inset if logo.position.endswith("left") else s_right - inset - w
    top = s_top + inset if logo.position.startswith("top") else s_bottom - inset - h
    rgba.flags.writeable = False
    return LogoStamp(rgba, (left, top))


def stamp_rgb(image: np.ndarray, stamp: LogoStamp, black: bool = False) -> None:
    """Composite `stamp` over the H×W×3 uint8 `image`, in place (`black`: its coverage in black)."""
    left, top, right, bottom = stamp.box
    under = image[top:bottom, left:right].astype(np.uint16)
    alpha = stamp.rgba[..., 3:4].astype(np.uint16)
    ink = np.zeros_like(under) if black else stamp.rgba[..., :3].astype(np.uint16)
    image[top:bottom, left:right] = ((ink * alpha + under * (255 - alpha) + 127) // 255).astype(np.uint8)


def stamp_rgba(canvas: np.ndarray, stamp: LogoStamp, black: bool = False) -> None:
    """Composite `stamp` "over" the H×W×4 straight-alpha `canvas`, in place."""
    rgba = stamp.rgba
    if black:
        rgba = rgba.copy()
        rgba[..., :3] = 0
    left, top, right, bottom = stamp.box
    with Image.fromarray(np.ascontiguousarray(canvas[top:bottom, left:right]), "RGBA") as under:
        with Image.fromarray(rgba, "RGBA") as over:
            under.alpha_composite(over)
        canvas[top:bottom, left:right] = np.asarray(under, dtype=np.uint8)
