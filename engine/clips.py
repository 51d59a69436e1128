"""Video clips as slides: probing a clip at load, and reading it a frame at a time.

    info = probe_clip(path, "slides[2].file")          # AssetError unless it decodes
    reader = ClipReader(path, (2.0, 7.5), 1920, 1080, "cover", loop=False)
    picture = reader.frame(1.25)                       # the clip 1.25 s into its slide

A clip slide shows, at slide time t, the source frame whose timestamp is nearest to
``trim[0] + t`` (with `loop`, ``trim[0] + t mod length``; without, the last frame
once the trimmed clip has ended): resampled to the output's rate by nearest
timestamp, never blended. Frames are decoded forward as the render asks for them
(a seek only when time goes backwards or far ahead), and only the chosen one is
scaled (swscale, through PyAV) to the fit: `fill` stretches it over the frame,
`cover` scales it to cover the frame and crops the centre, `contain` scales it to
fit inside the frame (the slide's background shows around it). At most two decoded
frames are held, so memory is flat with the clip's length.

PyAV is imported only inside this module's functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .errors import AssetError
from .files import regular_file, short_path

__all__ = ["ClipFit", "ClipInfo", "ClipReader", "clip_box", "probe_clip"]

ClipFit = Literal["fill", "cover", "contain"]

#: A jump ahead longer than this seeks instead of decoding through (seconds).
_SEEK_AHEAD = 2.0


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    duration: float  # seconds of video
    fps: float  # the stream's average rate (0 if unknown)
    has_audio: bool


def _fail(path: Path, where: str, why: str, cause: BaseException | None = None) -> AssetError:
    error = AssetError(f"{where}: video clip {short_path(path)} {why}", path)
    if cause is not None:
        error.__cause__ = cause
    return error


def probe_clip(path: Path, where: str = "video") -> ClipInfo:
    """Open `path`, find its video stream and decode its first frame; AssetError if any fails."""
    import av

    path = regular_file(Path(path), "video clip", where=where)
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise _fail(path, where, "has no video stream")
            stream = container.streams.video[0]
            first = next(iter(container.decode(stream)), None)
            if first is None:
                raise _fail(path, where, "contains no video frames")
            duration = _stream_seconds(container, stream)
            fps = float(stream.average_rate) if stream.average_rate else 0.0
            return ClipInfo(first.width, first.height, duration, fps, bool(container.streams.audio))
    except AssetError:
        raise
    except (av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise _fail(path, where, f"cannot be decoded ({_first_line(exc)})", exc) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _stream_seconds(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    raise AssetError(f"video clip {short_path(Path(container.name))} does not say how long it is", Path(container.name))


def clip_box(
    fit: ClipFit, source: tuple[int, int], width: int, height: int, even: bool = False
) -> tuple[int, int, int, int, int, int]:
    """(scaled width, scaled height, crop x, crop y, paste x, paste y) of a `source`-sized
    clip fitted into a width × height frame; `even`: every number even (4:2:0 planes)."""
    sw, sh = source
    if fit == "fill":
        return width, height, 0, 0, 0, 0
    scale = max(width / sw, height / sh) if fit == "cover" else min(width / sw, height / sh)
    step = 2 if even else 1
    w, h = (max(step, step * round(side * scale / step)) for side in (sw, sh))
    if fit == "cover":
        w, h = max(w, width), max(h, height)
        return w, h, (w - width) // 2 // step * step, (h - height) // 2 // step * step, 0, 0
    w, h = min(w, width), min(h, height)
    return w, h, 0, 0, (width - w) // 2 // step * step, (height - h) // 2 // step * step


def _bt709_limited(frame: Any) -> bool:
    """Whether `frame`'s YUV is BT.709 in limited range, as the output's."""
    if frame.format.name not in ("yuv420p", "nv12", "yuv422p", "yuv444p") or frame.color_range == 2:  # 2: full
        return False
    return frame.colorspace == 1 or (frame.colorspace == 2 and frame.height >= 720)  # 1: BT.709, 2: unspecified


class ClipReader:
    """One clip slide's frames, decoded forward as asked for; `close()` when done."""

    def __init__(
        self,
        path: Path,
        trim: tuple[float, float],
        width: int,
        height: int,
        fit: ClipFit = "cover",
        loop: bool = False,
        where: str = "video",
    ) -> None:
        self.path, self.where = Path(path), where
        self.trim_start, self.trim_end = trim
        self.length = self.trim_end - self.trim_start
        self.width, self.height, self.fit, self.loop = width, height, fit, loop
        self._container: Any = None
        self._stream: Any = None
        self._frames: Any = None  # the decode generator
        self._origin = 0.0  # the stream's start time, seconds
        self._current: tuple[float, int, Any] | None = None  # (seconds, serial, av frame) on screen
        self._next: tuple[float, int, Any] | None = None  # the one after it, or None at the end
        self._picture: tuple[int, np.ndarray] | None = None  # (serial of its frame, pixels)
        self._planes: tuple[int, tuple[np.ndarray, np.ndarray]] | None = None  # the same in NV12
        self.decoded = 0  # frames decoded (for tests and the bench)
        self.seeks = 0

    # -- time -------------------------------------------------------------------------

    def clip_time(self, slide_seconds: float) -> float:
        """Seconds into the source file shown `slide_seconds` into the slide."""
        t = max(0.0, slide_seconds)
        if self.loop and self.length > 0:
            t = math.fmod(t, self.length)
        return self.trim_start + min(t, self.length)

    # -- frames -----------------------------------------------------------------------

    def frame(self, slide_seconds: float) -> tuple[int, np.ndarray]:
        """(serial, picture) `slide_seconds` into the slide: the picture is (h, w, 3) uint8,
        `clip_box`'s scaled size less the crop (the frame's size but for `contain`), and
        the serial number of its source frame (a new one after each seek too): the same
        serial, the same picture."""
        when = self.clip_time(slide_seconds)
        serial, chosen = self._seek_to(when)
        if self._picture is None or self._picture[0] != serial:
            self._picture = (serial, self._fitted(chosen))
        return self._picture

    def _seek_to(self, when: float) -> tuple[int, Any]:
        if self._container is None:
            self._open()
        current = self._current
        if current is None or when < current[0] - 1e-6 or when > current[0] + _SEEK_AHEAD:
            self._restart(when)
        # Step on while the next frame is at least as near to `when` as this one.
        # Halfway between two frames (within float noise), the later one.
        while self._next is not None and abs(self._next[0] - when) <= abs(self._current_time() - when) + 1e-6:
            self._current, self._next = self._next, self._pull()
        if self._current is None:
            raise _fail(self.path, self.where, f"has no frame near {when:.3f} s")
        return self._current[1], self._current[2]

    def frame_nv12(self, slide_seconds: float) -> tuple[int, tuple[np.ndarray, np.ndarray]] | None:
        """As `frame`, straight from the decoder's YUV (no RGB on the way): (serial, (luma
        h×w, chroma h/2×w/2×2)), views of the scaled frame cropped for `cover`. None when
        the clip's YUV is not what the output writes (BT.709, limited range; an untagged
        clip at 720 rows or more counts as BT.709, as players read it): use `frame` then."""
        serial, chosen = self._seek_to(self.clip_time(slide_seconds))
        if not _bt709_limited(chosen):
            return None
        if self._planes is None or self._planes[0] != serial:
            planes = self._fitted_nv12(chosen)
            if planes is None:
                return None
            self._planes = (serial, planes)
        return self._planes

    def _fitted_nv12(self, frame: Any) -> tuple[np.ndarray, np.ndarray] | None:
        w, h, cx, cy, _, _ = clip_box(self.fit, (frame.width, frame.height), self.width, self.height, even=True)
        packed = frame.reformat(width=w, height=h, format="nv12").to_ndarray()
        if packed.shape != (h * 3 // 2, w):  # not the layout this expects: take the RGB way
            return None
        luma, chroma = packed[:h], packed[h:].reshape(h // 2, w // 2, 2)
        if self.fit == "cover":
            luma = luma[cy : cy + self.height, cx : cx + self.width]
            chroma = chroma[cy // 2 : (cy + self.height) // 2, cx // 2 : (cx + self.width) // 2]
        return luma, chroma

    def _current_time(self) -> float:
        return math.inf if self._current is None else self._current[0]

    def _open(self) -> None:
        import av

        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"
        except (av.FFmpegError, OSError, IndexError) as exc:
            self.close()
            raise _fail(self.path, self.where, f"cannot be opened ({_first_line(exc)})", exc) from exc
        start = self._stream.start_time
        self._origin = float(start * self._stream.time_base) if start is not None else 0.0

    def _restart(self, when: float) -> None:
        """Seek to the keyframe at or before `when` and decode up to the first frame."""
        import av

        if self._frames is not None:
            self._frames.close()
        try:
            target = int((when + self._origin) / self._stream.time_base)
            self._container.seek(max(0, target), stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            raise _fail(self.path, self.where, f"cannot seek to {when:.3f} s ({_first_line(exc)})", exc) from exc
        self.seeks += 1
        self._frames = self._decode()
        self._current = self._pull()
        self._next = self._pull()

    def _decode(self):
        import av

        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is None:
                    continue
                seconds = float(frame.pts * self._stream.time_base) - self._origin
                if seconds >= self.trim_end - 1e-6 and seconds > self.trim_start:
                    return  # past the trim: the frame before it is the last one shown
                self.decoded += 1
                yield seconds, self.decoded, frame
        except av.FFmpegError as exc:
            raise _fail(self.path, self.where, f"failed to decode ({_first_line(exc)})", exc) from exc

    def _pull(self) -> tuple[float, int, Any] | None:
        return None if self._frames is None else next(self._frames, None)

    def _fitted(self, frame: Any) -> np.ndarray:
        w, h, cx, cy, _, _ = clip_box(self.fit, (frame.width, frame.height), self.width, self.height)
        rgb = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
        if self.fit == "cover":
            rgb = rgb[cy : cy + self.height, cx : cx + self.width]
        return rgb

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()
            self._frames = None
        if self._container is not None:
            self._container.close()
            self._container = None
        self._current = self._next = None
        self._picture = self._planes = None
