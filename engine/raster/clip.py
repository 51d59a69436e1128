"""The pictures of video slides for one output: a clip's frame at a slide time, ready to upload.

    clips = ClipFrames(rasterizer)
    if clips.is_clip(index):
        serial, image = clips.picture(index, seconds)   # H×W×3 uint8, reused
    clips.close(index)

Each video slide reads its clip through one `engine.clips.ClipReader` (a frame at a
time, forward). A `contain` clip is pasted over the slide's background; the theme's
logo is stamped over every picture. `serial` changes only when the source frame
does, so a clip slower than the output is uploaded once per source frame.
"""

from __future__ import annotations

import numpy as np

from ..clips import ClipReader
from ..slides import VideoSlide
from .logo import stamp_rgb
from .rasterizer import SlideRasterizer

__all__ = ["ClipFrames"]


class ClipFrames:
    def __init__(self, rasterizer: SlideRasterizer) -> None:
        self.rasterizer = rasterizer
        self._readers: dict[int, ClipReader] = {}
        self._shown: dict[int, tuple[int, int]] = {}  # index → (the reader's frame serial, ours)
        self._images: dict[int, np.ndarray] = {}
        self._serial = 0

    def is_clip(self, index: int) -> bool:
        return isinstance(self.rasterizer.deck.slides[index], VideoSlide)

    def reader(self, index: int) -> ClipReader:
        reader = self._readers.get(index)
        if reader is None:
            slide = self.rasterizer.deck.slides[index]
            if not isinstance(slide, VideoSlide):
                raise ValueError(f"slide {index} is not a video slide")
            r = self.rasterizer
            reader = ClipReader(slide.file, slide.trimmed, r.width, r.height, slide.fit, slide.loop, f"slides[{index}]")
            self._readers[index] = reader
        return reader

    def picture(self, index: int, seconds: float) -> tuple[int, np.ndarray]:
        """(serial, H×W×3 image) of video slide `index` `seconds` into it. The image is
        overwritten by the next call for this slide whose serial differs."""
        number, source = self.reader(index).frame(seconds)
        shown = self._shown.get(index)
        if shown is not None and shown[0] == number:
            return shown[1], self._images[index]
        image = self._images.get(index)
        r = self.rasterizer
        if image is None:
            image = np.empty((r.height, r.width, 3), dtype=np.uint8)
            self._images[index] = image
        slide = r.deck.slides[index]
        if isinstance(slide, VideoSlide) and slide.fit == "contain":
            h, w = source.shape[:2]
            left, top = (r.width - w) // 2, (r.height - h) // 2
            image[:] = r.background(index)
            image[top : top + h, left : left + w] = source
        else:
            image[:] = source
        logo = r.logo()
        if logo is not None:
            stamp_rgb(image, logo)
        self._serial += 1
        self._shown[index] = (number, self._serial)
        return self._serial, image

    def close(self, index: int | None = None) -> None:
        """Close slide `index`'s clip (every clip when None); it reopens when asked again."""
        for i in list(self._readers) if index is None else [index]:
            reader = self._readers.pop(i, None)
            if reader is not None:
                reader.close()
            self._shown.pop(i, None)
            self._images.pop(i, None)
