"""Check what was written: decode sampled frames of the output and compare.

The pipeline keeps the luma plane of a few composited frames that fall on keyframes
(a few MB at 1080p), then, once the file is finished, seeks to each in the output,
decodes it and measures PSNR against what it composited. The report carries the worst
of them: the figure says how much the encode cost in quality, and a broken stream
(wrong frame order, a colour or size mix-up) shows up as a collapse of it.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["sample_points", "luma_psnr"]


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


def luma_psnr(path: Path, expected: dict[int, np.ndarray], fps: int) -> float | None:
    """Lowest luma PSNR (dB) of the output's frames at the keys of `expected`."""
    if not expected:
        return None
    import av

    worst = math.inf
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
                    worst = min(worst, _psnr(decoded, luma))
                    break
    return worst
