"""Check what was written: decode sampled frames of the output and compare.

The pipeline keeps the luma plane of a few composited frames that fall on keyframes
(a few MB at 1080p), then, once the file is finished, seeks to each in the output,
decodes it and measures PSNR and SSIM against what it composited. The report carries
the worst of each: the figures say how much the encode cost in quality, and a broken
stream (wrong frame order, a colour or size mix-up) shows up as a collapse of them.

SSIM here is the mean over non-overlapping 8×8 windows of luma (the original paper's
constants, no Gaussian weighting): about 40 ms a 1080p frame in numpy, where the
sliding 11×11 Gaussian form would cost ten times that for a figure that moves the same
way.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["luma_psnr", "luma_quality", "sample_points", "ssim"]


def sample_points(frame_count: int, gop: int, samples: int = 4) -> list[int]:
    """Up to `samples` keyframe numbers spread over the video (keyframes seek exactly)."""
    keyframes = list(range(0, frame_count, gop))
    if len(keyframes) <= samples:
        return keyframes
    step = (len(keyframes) - 1) / (samples - 1)
    return sorted({keyframes[round(i * step)] for i in range(samples)})


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 8) -> float:
    """Structural similarity of two 8-bit planes: mean over `window`-sized tiles (1 = identical).

    Works a band of tiles at a time, so its float temporaries stay a few MB at 1080p
    rather than adding ~50 MB to the render's peak at the very end.
    """
    h, w = (a.shape[0] // window) * window, (a.shape[1] // window) * window
    if h == 0 or w == 0:
        return 1.0 if np.array_equal(a, b) else 0.0
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    total, band = 0.0, window * 8
    for top in range(0, h, band):
        rows = min(band, h - top)
        tiles = (rows // window, window, w // window, window)
        x = a[top : top + rows, :w].astype(np.float32).reshape(tiles)
        y = b[top : top + rows, :w].astype(np.float32).reshape(tiles)
        mx, my = x.mean(axis=(1, 3)), y.mean(axis=(1, 3))
        x -= mx[:, None, :, None]
        y -= my[:, None, :, None]
        vx, vy, cov = (x * x).mean(axis=(1, 3)), (y * y).mean(axis=(1, 3)), (x * y).mean(axis=(1, 3))
        index = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        total += float(index.sum())
    return total / ((h // window) * (w // window))


def luma_psnr(path: Path, expected: dict[int, np.ndarray], fps: int) -> float | None:
    """Lowest luma PSNR (dB) of the output's frames at the keys of `expected`."""
    return luma_quality(path, expected, fps)[0]


def luma_quality(
    path: Path, expected: dict[int, np.ndarray], fps: int, per_frame: dict[int, float] | None = None
) -> tuple[float | None, float | None]:
    """(lowest PSNR in dB, its frame's SSIM) of the output's luma at the frames keyed in `expected`;
    each frame's PSNR also goes into `per_frame` when it is given.

    SSIM is computed for the frame with the lowest PSNR only: it says what that loss
    looks like, for a quarter of the cost of all four.
    """
    if not expected:
        return None, None
    import av

    worst, worst_pair = math.inf, None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # One decoding thread: a few frames are decoded, and frame threads would each
        # hold a set of 1080p buffers on top of the render's peak.
        stream.codec_context.thread_count = 1
        for frame_number, luma in sorted(expected.items()):
            target = Fraction(frame_number, fps)
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is not None and frame.time + 1e-6 >= float(target):
                    decoded = frame.to_ndarray(format="yuv420p")[: luma.shape[0]]
                    psnr = _psnr(decoded, luma)
                    if per_frame is not None:
                        per_frame[frame_number] = psnr
                    if worst_pair is None or psnr < worst:
                        worst, worst_pair = psnr, (decoded, luma)
                    break
    return worst, None if worst_pair is None else ssim(*worst_pair)
