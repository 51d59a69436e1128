"""Slide backgrounds as H×W×3 uint8 sRGB arrays: solid, gradient, or an image.

Gradients are computed in floating point and quantised with an 8×8 ordered (Bayer)
dither of at most one code value, so a slow gradient over 1080 rows shows no bands
and the same input always gives the same pixels. Image backgrounds are cover-fitted
(or contained, on the background's colour or black) with Lanczos, and veiled towards
the opposite of the text colour, more for a picture close to it, so text stays legible.
The background's `veil` sets how much (`veil_strength`): 0 leaves the picture as it is.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..colour import parse_colour
from ..errors import AssetError
from ..files import regular_file
from ..theme import DEFAULT_VEIL, Background

__all__ = [
    "bayer_matrix",
    "gradient",
    "image_contain",
    "image_cover",
    "open_image",
    "render_background",
    "solid",
    "veil_strength",
]

#: The default veil (`Background.veil`): how far an image background is veiled towards
#: black (light text) or white (dark text) at least; and how close to the text's
#: luminance its average may then be, and the most a picture is veiled to get there.
IMAGE_VEIL = DEFAULT_VEIL
VEIL_TARGET = 0.35
MAX_LEGIBLE_VEIL = 0.8


def bayer_matrix(n: int = 8) -> np.ndarray:
    """The n×n ordered-dither thresholds, (i + 0.5) / n², in [0, 1)."""
    m = np.zeros((1, 1), dtype=np.int64)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return ((m + 0.5) / m.size).astype(np.float32)


#: Rows computed at once: float temporaries stay ~1.5 MB at 1080p instead of ~60 MB,
#: which would otherwise linger in the heap for the rest of the render.
_BAND = 64


def _dither(values: np.ndarray, first_row: int = 0) -> np.ndarray:
    """Float code values (H×W×3, 0–255) → uint8 with a ±½ LSB ordered dither (in place).

    `first_row` is where these rows sit in the frame, so bands dither seamlessly.
    """
    h, w = values.shape[:2]
    values += _thresholds(first_row, h, w)[..., None]
    # Clipping to 0…255 and then casting (truncation) is the floor, clipped.
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


def _thresholds(first_row: int, height: int, width: int) -> np.ndarray:
    """The Bayer thresholds of rows first_row… and columns 0… (a view where it can be)."""
    b = np.roll(bayer_matrix(8), -(first_row % 8), axis=0)
    reps = (-(-height // 8), -(-width // 8))
    return np.tile(b, reps)[:height, :width]


def solid(width: int, height: int, colour: tuple[int, int, int]) -> np.ndarray:
    out = np.empty((height, width, 3), dtype=np.uint8)
    out[...] = colour
    return out


def gradient(
    width: int,
    height: int,
    start: tuple[int, int, int],
    end: tuple[int, int, int],
    direction: str = "vertical",
) -> np.ndarray:
    """`start` at the top (top-left when diagonal) blending evenly to `end` at the far edge.

    Diagonal iso-colour lines are perpendicular to the frame's diagonal, so the two
    opposite corners get exactly the two colours whatever the aspect ratio.
    """
    y = np.arange(height, dtype=np.float32) / max(1, height - 1)
    x = np.arange(width, dtype=np.float32) / max(1, width - 1)
    w2, h2 = float(width) ** 2, float(height) ** 2
    a = np.asarray(start, dtype=np.float32)
    d = np.asarray(end, dtype=np.float32) - a
    out = np.empty((height, width, 3), dtype=np.uint8)
    for top in range(0, height, _BAND):
        band = y[top : top + _BAND, None]
        if direction == "diagonal":
            t = x[None, :] * w2
            t = t + band * h2
            t /= w2 + h2
            values = t[..., None] * d
            values += a
            out[top : top + _BAND] = _dither(values, top)
        else:
            # Each row is one colour: dither 8 columns of it and repeat them.
            values = np.repeat(band * d + a, 8, axis=0).reshape(band.shape[0], 8, 3)
            rows = _dither(values, top)
            out[top : top + _BAND] = np.tile(rows, (1, -(-width // 8), 1))[:, :width]
    return out


def open_image(file: Path, size_hint: tuple[int, int] | None = None) -> Image.Image:
    """The image at `file`, decoded, upright (EXIF), as RGBA; AssetError if it cannot be.

    `size_hint` (the size it will be drawn at) lets a JPEG decode at a reduced scale
    that still covers it, which saves most of the time and memory for large photos.
    The caller owns (and closes) the returned image. A FIFO, device or folder is refused
    before anything opens it; so is a decompression bomb (`engine.spec.load_deck` has
    already held a deck's images to REEL_MAX_IMAGE_PIXELS, from their headers).
    """
    file = Path(file)
    resolved = regular_file(file, "image")
    try:
        with warnings.catch_warnings():
            # Past Pillow's MAX_IMAGE_PIXELS it warns on stderr, and past twice that it
            # raises DecompressionBombError: the error below says it on one line instead.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(resolved)
        with im:
            if size_hint is not None and im.format == "JPEG":
                side = max(size_hint)  # either way up: EXIF may turn it a quarter
                im.draft("RGB", (side, side))
            im.load()
            upright = ImageOps.exif_transpose(im)
            try:
                return upright.convert("RGBA")
            finally:
                if upright is not im:
                    upright.close()
    except FileNotFoundError as exc:
        raise AssetError(f"image file not found: {file}", file) from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise AssetError(
            f"image {file} has more pixels than Pillow decodes safely (a decompression bomb)", file
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        raise AssetError(
            f"cannot read image {file}: {reason if len(reason) <= 200 else reason[:197] + '...'}", file
        ) from exc


def image_cover(file: Path, width: int, height: int) -> Image.Image:
    """`file` scaled to cover width × height and centre-cropped (RGBA, caller closes)."""
    with open_image(file, (width, height)) as im:
        return ImageOps.fit(im, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def image_contain(file: Path, width: int, height: int, fill: tuple[int, int, int]) -> Image.Image:
    """`file` scaled to fit inside width × height, centred on `fill` (RGB, caller closes)."""
    canvas = Image.new("RGB", (width, height), fill)
    with open_image(file, (width, height)) as im:
        scale = min(width / im.width, height / im.height)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        with im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) as fitted:
            canvas.paste(fitted, ((width - size[0]) // 2, (height - size[1]) // 2), fitted)
    return canvas


def _is_light(colour: tuple[int, int, int]) -> bool:
    r, g, b = colour
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 127.5


def veil_strength(pixels: np.ndarray, light_text: bool, veil: float = IMAGE_VEIL) -> float:
    """How far (0..1) to blend `pixels` (H×W×3 float) towards black (light text) or white.

    At the default `veil`, `IMAGE_VEIL`, or more for a picture whose average luminance
    is close to the text's, so its mean ends at most `VEIL_TARGET` of the way towards
    the text colour (capped at `MAX_LEGIBLE_VEIL`). Any other veil keeps that extra in
    proportion, tapering to none at 0 (the picture as it is) and at 1 (fully dark):
    for a picture that already contrasts with the text, the strength is `veil` itself.
    """
    if veil <= 0:
        return 0.0
    if veil >= 1:
        return 1.0
    luma = float((pixels @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)).mean()) / 255
    closeness = luma if light_text else 1 - luma  # 0: already far from the text colour
    legible = min(MAX_LEGIBLE_VEIL, max(IMAGE_VEIL, 1 - VEIL_TARGET / max(closeness, 1e-6)))
    if veil < IMAGE_VEIL:
        return legible * (veil / IMAGE_VEIL)
    return legible + (1 - legible) * ((veil - IMAGE_VEIL) / (1 - IMAGE_VEIL))


def _veil(pixels: np.ndarray, light_text: bool, veil: float) -> np.ndarray:
    """`pixels` blended `veil_strength` of the way towards black (light text) or white."""
    strength = veil_strength(pixels, light_text, veil)
    if strength == 0:
        return pixels
    target = 0.0 if light_text else 255.0
    return pixels * (1 - strength) + target * strength


def render_background(background: Background, width: int, height: int, text_colour: str = "#ffffff") -> np.ndarray:
    """`background` at width × height: its colour, gradient, or veiled image."""
    if background.image is not None:
        # An image background has no colour of its own (a Background has one source):
        # letterbox bars and transparent parts are black.
        if background.fit == "contain":
            im = image_contain(background.image, width, height, (0, 0, 0))
        else:
            im = image_cover(background.image, width, height)
        with im:
            rgba = np.asarray(im, dtype=np.float32)
        pixels = rgba[..., :3] * (rgba[..., 3:] / 255) if rgba.shape[2] == 4 else rgba
        return _dither(_veil(pixels, _is_light(parse_colour(text_colour)), background.veil))
    if background.gradient is not None:
        grad = background.gradient
        return gradient(width, height, grad.start_rgb, grad.end_rgb, grad.direction)
    return solid(width, height, background.color_rgb or (0, 0, 0))
