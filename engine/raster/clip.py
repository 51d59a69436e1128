"""The pictures of video slides for one output: a clip's frame at a slide time, ready to upload.

    clips = ClipFrames(rasterizer)
    if clips.is_clip(index):
        serial, picture, nv12 = clips.picture(index, seconds, nv12=True)
    clips.close(index)

Each video slide reads its clip through one `engine.clips.ClipReader` (a frame at a
time, forward). A `contain` clip is pasted over the slide's background; the theme's
logo is blended over every picture. `serial` changes only when the source frame
does, so a clip slower than the output is uploaded once per source frame.

With `nv12`, a clip whose YUV is the output's (BT.709, limited range) is scaled by
swscale straight to NV12 and handed over as a new flat NV12 buffer (the compositor
may keep it; `Compositor.upload_nv12`): no RGB on the way, which at 1080p saves the
~25 ms of numpy RGB → NV12 of an upload. The logo is then blended in YUV with terms
made once (luma per pixel, chroma per 2×2 block, alpha-weighted: the same as
blending in RGB, YUV being affine in RGB). Otherwise the picture is H×W×3 RGB,
overwritten by the next call with a new serial.
"""

from __future__ import annotations

import numpy as np

from ..clips import ClipReader
from ..colour import BT709_RGB_TO_YCBCR, nv12_planes, nv12_size, quantise, rgb_to_nv12
from ..slides import VideoSlide
from .logo import LogoStamp, stamp_rgb
from .rasterizer import SlideRasterizer

__all__ = ["ClipFrames"]


class ClipFrames:
    def __init__(self, rasterizer: SlideRasterizer) -> None:
        self.rasterizer = rasterizer
        self._readers: dict[int, ClipReader] = {}
        self._shown: dict[int, tuple[int, int]] = {}  # index → (the reader's frame serial, ours)
        self._images: dict[int, np.ndarray] = {}
        self._backgrounds: dict[int, np.ndarray] = {}  # NV12, for `contain` clips
        self._logo: _LogoTerms | None = None
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

    def picture(self, index: int, seconds: float, nv12: bool = False) -> tuple[int, np.ndarray, bool]:
        """(serial, picture, whether it is NV12) of video slide `index` `seconds` into it:
        a new flat NV12 buffer (only with `nv12`, for a clip in the output's YUV), else
        an H×W×3 RGB image overwritten by the next call for this slide."""
        reader = self.reader(index)
        planes = reader.frame_nv12(seconds) if nv12 else None
        if planes is not None:
            number, (luma, chroma) = planes
            shown = self._shown.get(index)
            if shown is not None and shown[0] == number:
                return shown[1], self._images[index], True
            return self._compose_nv12(index, number, luma, chroma), self._images[index], True
        number, source = reader.frame(seconds)
        shown = self._shown.get(index)
        if shown is not None and shown[0] == number and self._images[index].ndim == 3:
            return shown[1], self._images[index], False
        image = self._images.get(index)
        r = self.rasterizer
        if image is None or image.ndim != 3:
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
        return self._serial, image, False

    def _compose_nv12(self, index: int, number: int, luma: np.ndarray, chroma: np.ndarray) -> int:
        r = self.rasterizer
        frame = np.empty(nv12_size(r.width, r.height), dtype=np.uint8)  # a new one: the compositor keeps it
        y, uv = nv12_planes(frame, r.width, r.height)
        h, w = luma.shape
        if (w, h) != (r.width, r.height):  # contain: the clip over the slide's background
            background = self._backgrounds.get(index)
            if background is None:
                background = self._backgrounds[index] = rgb_to_nv12(r.background(index))
            frame[:] = background
            left, top = (r.width - w) // 2 // 2 * 2, (r.height - h) // 2 // 2 * 2
            y[top : top + h, left : left + w] = luma
            uv[top // 2 : (top + h) // 2, left // 2 : (left + w) // 2] = chroma
        else:
            y[:] = luma
            uv[:] = chroma
        logo = r.logo()
        if logo is not None:
            if self._logo is None:
                self._logo = _LogoTerms(logo)
            self._logo.blend(y, uv)
        self._serial += 1
        self._shown[index] = (number, self._serial)
        self._images[index] = frame
        return self._serial

    def close(self, index: int | None = None) -> None:
        """Close slide `index`'s clip (every clip when None); it reopens when asked again."""
        for i in list(self._readers) if index is None else [index]:
            reader = self._readers.pop(i, None)
            if reader is not None:
                reader.close()
            self._shown.pop(i, None)
            self._images.pop(i, None)


class _LogoTerms:
    """The logo's blend over an NV12 frame, made once: alpha and alpha × value per luma
    sample; per chroma sample, the mean alpha of its 2×2 block and the mean of alpha ×
    chroma (what averaging the RGB blend's chroma over the block gives)."""

    def __init__(self, stamp: LogoStamp) -> None:
        left, top, right, bottom = stamp.box
        self.left, self.top = left - left % 2, top - top % 2
        width, height = right + right % 2 - self.left, bottom + bottom % 2 - self.top
        rgba = np.zeros((height, width, 4), dtype=np.float32)
        rgba[top - self.top : bottom - self.top, left - self.left : right - self.left] = stamp.rgba
        alpha = rgba[..., 3] / 255
        rgb = rgba[..., :3] / 255
        m = BT709_RGB_TO_YCBCR.astype(np.float32)
        self.alpha = alpha
        self.luma = alpha * (16 + 219 * (rgb @ m[0]))
        blocks = (alpha[0::2, 0::2] + alpha[1::2, 0::2] + alpha[0::2, 1::2] + alpha[1::2, 1::2]) / 4
        chroma = np.stack([128 + 224 * (rgb @ m[1]), 128 + 224 * (rgb @ m[2])], axis=-1) * alpha[..., None]
        self.chroma_alpha = blocks[..., None]
        self.chroma = (chroma[0::2, 0::2] + chroma[1::2, 0::2] + chroma[0::2, 1::2] + chroma[1::2, 1::2]) / 4

    def blend(self, y: np.ndarray, uv: np.ndarray) -> None:
        height, width = self.alpha.shape
        box = y[self.top : self.top + height, self.left : self.left + width]
        box[:] = quantise(box * (1 - self.alpha) + self.luma)
        cbox = uv[self.top // 2 : (self.top + height) // 2, self.left // 2 : (self.left + width) // 2]
        cbox[:] = quantise(cbox * (1 - self.chroma_alpha) + self.chroma)
