"""Software (and FFmpeg-hosted hardware) encoding through PyAV.

Frames go straight from the NV12 buffer into the codec: `from_numpy_buffer` wraps the
memory without a copy and libx264 takes NV12 natively, so there is no swscale pass.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import numpy as np

from .._host import usable_cores
from ..errors import BackendUnavailableError, RenderError
from .base import EncodeSettings, EncodeStats

__all__ = ["PyAVEncoder", "probe"]

log = logging.getLogger(__name__)

# BT.709 primaries / transfer / matrix, limited ("tv") range: FFmpeg's enum values.
_BT709 = 1
_RANGE_TV = 1


def _import_av():
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise BackendUnavailableError(f"PyAV is not installed ({exc}); pip install 'av>=18,<19'") from exc
    return av


def _configure(codec_context, settings: EncodeSettings, codec: str) -> None:
    cc = codec_context
    cc.width, cc.height = settings.width, settings.height
    cc.pix_fmt = "nv12"
    cc.time_base = Fraction(1, settings.fps)
    cc.framerate = Fraction(settings.fps, 1)
    cc.gop_size = settings.gop
    cc.colorspace = _BT709
    cc.color_primaries = _BT709
    cc.color_trc = _BT709
    cc.color_range = _RANGE_TV
    # PyAV defaults to slice threads; frame threads are what x264 is fastest with.
    cc.thread_type = "AUTO"
    # One frame thread per core: x264's own default (1.5 per core) measured no faster
    # on two cores and held ~25 MB more at 1080p.
    cc.thread_count = settings.threads or usable_cores()
    if codec == "libx264":
        cc.options = {
            "preset": settings.preset,
            "crf": str(settings.crf),
            "maxrate": str(settings.max_bitrate),
            "bufsize": str(settings.buffer_size),
            "profile": settings.profile,
            # A keyframe exactly every `gop` frames: chunked rendering joins on them,
            # and platforms recommend a fixed 2 s GOP.
            "keyint_min": str(settings.gop),
            "sc_threshold": "0",
        }
        if settings.lookahead is not None:
            cc.options = {**cc.options, "rc-lookahead": str(settings.lookahead)}


class PyAVEncoder:
    """H.264 through one of FFmpeg's encoders (libx264 by default) into MP4."""

    def __init__(self, settings: EncodeSettings, codec: str = "libx264") -> None:
        self.settings = settings
        self.codec = codec
        self.name = codec
        self._container = None
        self._stream = None
        self._frames = 0
        self._path: Path | None = None

    def open(self, path: Path) -> None:
        av = _import_av()
        self._path = Path(path)
        try:
            # +faststart rewrites the file so `moov` precedes `mdat`: players and
            # upload pages can start before the whole file has arrived.
            self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
            self._stream = self._container.add_stream(self.codec, rate=self.settings.fps)
            _configure(self._stream.codec_context, self.settings, self.codec)
            self._stream.codec_context.open()
        except Exception as exc:
            self.abort()
            raise BackendUnavailableError(f"cannot open encoder {self.codec}: {exc}") from exc

    def encode(self, frame: np.ndarray, pts: int) -> None:
        av = _import_av()
        s = self.settings
        video_frame = av.VideoFrame.from_numpy_buffer(frame.reshape(s.height * 3 // 2, s.width), format="nv12")
        video_frame.pts = pts
        self._mux(self._stream.encode(video_frame))
        self._frames += 1

    def encode_repeated(self, frame: np.ndarray, first_pts: int, count: int) -> None:
        """Encode the same frame at `count` consecutive timestamps (a hold)."""
        av = _import_av()
        s = self.settings
        # One wrapper for the whole hold: the encoder copies the pixels on each call,
        # so only the timestamp changes.
        video_frame = av.VideoFrame.from_numpy_buffer(frame.reshape(s.height * 3 // 2, s.width), format="nv12")
        for k in range(count):
            video_frame.pts = first_pts + k
            self._mux(self._stream.encode(video_frame))
        self._frames += count

    def _mux(self, packets) -> None:
        for packet in packets:
            self._container.mux(packet)

    def close(self) -> EncodeStats:
        try:
            self._mux(self._stream.encode(None))
            self._container.close()
        except Exception as exc:
            self.abort()
            raise RenderError(f"{self.codec} failed while finishing {self._path}: {exc}") from exc
        self._container = None
        size = self._path.stat().st_size if self._path and self._path.exists() else 0
        return EncodeStats(encoder=self.codec, frames=self._frames, bytes=size)

    def abort(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # the file is being thrown away; its tail does not matter
                log.debug("ignoring error while closing an aborted container", exc_info=True)


def probe(codec: str) -> str | None:
    """Open `codec` and encode one tiny frame. None if it works, else why not.

    Listing codecs is not enough: FFmpeg lists h264_nvenc on machines with no NVIDIA
    GPU at all, and it only fails when opened.
    """
    try:
        av = _import_av()
        ctx = av.CodecContext.create(codec, "w")
        _configure(ctx, EncodeSettings(width=64, height=64, fps=30, gop=30, max_bitrate=1_000_000, buffer_size=2_000_000), codec)
        ctx.open()
        frame = av.VideoFrame.from_ndarray(np.full((96, 64), 128, np.uint8), format="nv12")
        frame.pts = 0
        ctx.encode(frame)
        ctx.encode(None)
        return None
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
