"""Colour: parsing theme colours, and sRGB ↔ BT.709 limited-range YUV 4:2:0.

Video frames travel as NV12: the W×H luma plane followed by the W/2×H/2 chroma plane
with Cb and Cr interleaved. libx264 takes NV12 directly and NVENC wants it, so no
conversion happens between the compositor and the encoder.

The matrix is applied to sRGB code values (no linearisation), as every encoder and
player expects; the stream is then tagged BT.709 primaries/transfer/matrix, tv range.
Chroma is left-sited (H.264's default): sample i sits on luma column 2i, filtered
[1, 2, 1] / 4 across columns 2i-1..2i+1 and averaged over the two rows it covers.
The GL conversion shader (shaders/rgb_to_yuv.frag) does the same arithmetic.
"""

from __future__ import annotations

import numpy as np
from PIL import ImageColor

from .errors import SpecError, excerpt

__all__ = [
    "BT709_RGB_TO_YCBCR",
    "KB",
    "KR",
    "nv12_planes",
    "nv12_size",
    "nv12_to_rgb",
    "parse_colour",
    "quantise",
    "rgb_to_nv12",
    "rgb_to_yuv",
]

KR, KB = 0.2126, 0.0722
KG = 1.0 - KR - KB

#: Rows of the RGB (0..1) → (E'Y, E'Cb, E'Cr) matrix, BT.709: the one conversion every
#: path (numpy here and in the compositors, ``rgb_to_yuv.frag`` in GL) repeats.
BT709_RGB_TO_YCBCR = np.array(
    [
        [KR, KG, KB],
        [-KR / (2 * (1 - KB)), -KG / (2 * (1 - KB)), 0.5],
        [0.5, -KG / (2 * (1 - KR)), -KB / (2 * (1 - KR))],
    ],
    dtype=np.float64,
)
_M_INV = np.linalg.inv(BT709_RGB_TO_YCBCR)

#: Rows converted at once (even, so each band holds whole chroma rows).
_BAND = 64

#: Longer text is not a colour (Pillow refuses past 100 characters too).
_LONGEST_COLOUR = 100


def parse_colour(value: object, path: str = "") -> tuple[int, int, int]:
    """A colour as CSS writes it, or ``[r, g, b]`` (0–255) → an RGB triple.

    Text is read by `PIL.ImageColor`: every CSS colour name (``rebeccapurple``),
    ``#rgb``, ``#rrggbb``, ``rgb(…)``, ``hsl(…)``, ``hsv(…)``, and ``#rgba`` /
    ``#rrggbbaa``. Reel's colours are opaque: an alpha below 255 (``#ff000080``) is
    refused, saying so, rather than dropped.
    """
    if isinstance(value, str):
        text = value.strip()
        rgba: tuple[int, ...] | None = None
        if len(text) <= _LONGEST_COLOUR:
            try:
                rgba = ImageColor.getrgb(text)
            except ValueError:
                rgba = None
        if rgba is not None:
            if len(rgba) == 4 and rgba[3] < 255:
                raise SpecError(
                    f"{excerpt(value)} has alpha {rgba[3]}, but this colour cannot be transparent; "
                    "use an opaque colour (alpha 255, or no alpha)",
                    path,
                )
            return (rgba[0], rgba[1], rgba[2])
    elif (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (value[0], value[1], value[2])
    raise SpecError(
        f"{excerpt(value)} is not a colour; write '#rrggbb', a CSS name, 'rgb(r,g,b)', 'hsl(h,s%,l%)' "
        "or [r, g, b] (0-255)",
        path,
    )


def rgb_to_yuv(rgb: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """sRGB code values 0–255 → (Y, Cb, Cr) as unrounded limited-range 8-bit values."""
    e = np.asarray(rgb, dtype=np.float64) / 255.0
    y, cb, cr = np.moveaxis(e @ BT709_RGB_TO_YCBCR.T, -1, 0)
    return np.stack([16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr], axis=-1)


def quantise(values: np.ndarray) -> np.ndarray:
    """Float code values → uint8, rounded half up and clipped to 0…255."""
    # Round half up. A UNORM8 render target rounds v·255 too, but llvmpipe breaks exact
    # ties to even, so about one sample in 10⁵ differs by one code from the shader.
    return np.clip(np.floor(values + 0.5), 0, 255).astype(np.uint8)


def rgb_to_nv12(image: np.ndarray) -> np.ndarray:
    """An H×W×3 (or ×4, alpha ignored) uint8 sRGB image → one flat NV12 buffer."""
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"expected an H×W×3 or H×W×4 image, got shape {image.shape}")
    h, w = image.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"4:2:0 needs even sizes, got {w}×{h}")
    m = BT709_RGB_TO_YCBCR.astype(np.float32)
    out = np.empty(nv12_size(w, h), dtype=np.uint8)
    y_plane, uv_plane = nv12_planes(out, w, h)
    # A band of rows at a time: float temporaries stay ~1.5 MB at 1080p instead of
    # ~100 MB, which the allocator would otherwise keep for the rest of the render.
    for top in range(0, h, _BAND):
        rgb = image[top : top + _BAND, :, :3].astype(np.float32)
        rgb *= np.float32(1 / 255)
        _code(rgb @ m[0], 219, 16, y_plane[top : top + _BAND])

        # Left-sited chroma: average the row pair, then [1,2,1]/4 around even columns
        # (column 2i-1 clamped at 0), summed as (left + 2·centre) + right. Each step runs
        # on whole rows of every column (long contiguous loops, where a view of the even
        # pixels would loop over 3 floats at a time); then the even pixels are picked
        # as 12-byte items.
        rows = rgb[0::2] + rgb[1::2]
        rows *= np.float32(0.5)
        flat = rows.reshape(rows.shape[0], -1)
        sums = flat * 2
        sums[:, 3:] += flat[:, :-3]
        sums[:, :3] += flat[:, :3]
        sums[:, :-3] += flat[:, 3:]
        sited = sums.view("V12")[:, 0::2].copy().view(np.float32).reshape(rows.shape[0], -1, 3)
        sited *= np.float32(0.25)
        chroma = uv_plane[top // 2 : (top + _BAND) // 2]
        _code(sited @ m[1], 224, 128, chroma[..., 0])
        _code(sited @ m[2], 224, 128, chroma[..., 1])
    return out


def _code(values: np.ndarray, scale: int, offset: int, out: np.ndarray) -> None:
    """`quantise(offset + scale * values)` into `out`, reusing `values` (float32).

    The same float operations as `quantise`; its floor and clip are left out because
    the codes here lie in 15.9…240.1, where a cast (truncation) is the floor.
    """
    values *= scale
    values += offset
    values += 0.5
    np.copyto(out, values, casting="unsafe")


def nv12_size(width: int, height: int) -> int:
    return width * height * 3 // 2


def nv12_planes(buffer: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Views (no copies) of an NV12 buffer's luma (H×W) and chroma (H/2×W/2×2) planes."""
    y = buffer[: width * height].reshape(height, width)
    uv = buffer[width * height : nv12_size(width, height)].reshape(height // 2, width // 2, 2)
    return y, uv


def nv12_to_rgb(buffer: np.ndarray, width: int, height: int) -> np.ndarray:
    """NV12 → H×W×3 uint8 sRGB, chroma upsampled by nearest neighbour (stills, tests)."""
    y, uv = nv12_planes(buffer, width, height)
    uv_full = uv.repeat(2, axis=0).repeat(2, axis=1).astype(np.float64)
    yuv = np.stack(
        [(y.astype(np.float64) - 16) / 219, (uv_full[..., 0] - 128) / 224, (uv_full[..., 1] - 128) / 224],
        axis=-1,
    )
    return quantise(255 * (yuv @ _M_INV.T))
