"""A large read-only image kept in an anonymous file instead of memory.

At 4K a slide's background is 25 MB of RGB. The rasterizer needs it each time it draws
a slide (every few seconds of video), and drawing a diagonal gradient again costs
~220 ms; held in memory it sat in every frame's peak. Written once to an unlinked
temporary file, it costs a read from the page cache (a few ms) when it is needed, and
a slide is painted from it band by band, so the background is never in memory as a
whole beside the canvas it becomes.
"""

from __future__ import annotations

import os
import tempfile
import weakref

import numpy as np
from PIL import Image

__all__ = ["SpilledImage"]

_BAND = 64  # rows read at once into a canvas


class SpilledImage:
    """An H×W×3 uint8 image written to an anonymous temporary file, closed (and gone)
    when the object is let go: a thread may still be reading it when its cache drops it."""

    def __init__(self, image: np.ndarray) -> None:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"a spilled image is H×W×3 uint8, not {image.shape} {image.dtype}")
        self.shape = image.shape
        self._file = tempfile.TemporaryFile(prefix="reel-raster-")  # noqa: SIM115 - open while the image is kept
        weakref.finalize(self, self._file.close)  # (no ResourceWarning when it is let go)
        self._file.write(np.ascontiguousarray(image).data)
        self._file.flush()

    def array(self) -> np.ndarray:
        """The image, read back as a new read-only array."""
        out = np.empty(self.shape, dtype=np.uint8)
        self._read_into(out, 0)
        out.flags.writeable = False
        return out

    def canvas(self) -> Image.Image:
        """The image as a new Pillow RGB image, read a band of rows at a time."""
        height, width = self.shape[:2]
        canvas = Image.new("RGB", (width, height))
        band = np.empty((_BAND, width, 3), dtype=np.uint8)
        row = width * 3
        for top in range(0, height, _BAND):
            rows = min(_BAND, height - top)
            self._read_into(band[:rows], top * row)
            with Image.fromarray(band[:rows], "RGB") as part:
                canvas.paste(part, (0, top))
        return canvas

    def _read_into(self, out: np.ndarray, offset: int) -> None:
        # pread: no shared file position, so two threads may read one image at once.
        view = memoryview(out.data).cast("B")
        done = 0
        while done < len(view):
            got = os.preadv(self._file.fileno(), [view[done:]], offset + done)
            if got <= 0:
                raise OSError(f"a spilled image's file ended {len(view) - done} bytes short")
            done += got
