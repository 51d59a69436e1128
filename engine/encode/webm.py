"""WebM: VP9 (libvpx-vp9) or AV1 (libsvtav1) through PyAV, for the web.

Same contract as the MP4 encoders (`base.Encoder`): NV12 frames in, BT.709 limited
range tags, a keyframe exactly every `gop` frames (so the file seeks like the MP4 and
the pipeline's keyframe check works), capped constant quality. Holds are encoded
frame by frame (skip frames are x264's alone; `EncodeStats.holds_reason` says so),
but the hold's frame is converted to planar I420 once. The soundtrack (Opus) is encoded
beside the video and muxed in after (`engine.audio.mux_soundtrack`, container "webm").

VP9's speed comes from the preset (`_VP9_SPEED`: draft and standard encode in
libvpx's realtime mode, the slower presets in its "good" mode), with row
multithreading and tile columns so every core works at 1080p. ``--codec av1`` picks
SVT-AV1 instead (smaller files at a similar speed, but fewer players decode it).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .._host import usable_cores
from ..errors import BackendUnavailableError, RenderError
from . import conformance
from .base import EncodeSettings, EncodeStats, backend_errors, encode_repeats
from .pyav import ffmpeg_errors, nv12_to_i420

__all__ = ["WebMEncoder", "probe_webm"]

log = logging.getLogger(__name__)

_BT709 = 1
_RANGE_TV = 1
# x264's preset → libvpx-vp9's (deadline, cpu-used). "good" stops getting faster past
# cpu-used 5; "realtime" at 8 measured 6.5× faster than good/6 on a 12 s 1080p slide
# deck (12 s against 79 s on two busy cores) for 35 % more bytes and 2 dB less on
# keyframes (52 dB), so the fast presets (draft, standard) take it.
_VP9_SPEED = {
    "ultrafast": ("realtime", 8),
    "superfast": ("realtime", 8),
    "veryfast": ("realtime", 8),
    "faster": ("good", 5),
    "fast": ("good", 4),
    "medium": ("good", 3),
    "slow": ("good", 2),
    "slower": ("good", 1),
    "veryslow": ("good", 0),
}


def _import_av():
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core dependency
        raise BackendUnavailableError(f"PyAV is not installed ({exc}); pip install 'av>=18,<19'") from exc
    return av


def _vp9_options(s: EncodeSettings) -> dict[str, str]:
    # Constrained quality: crf, never above the platform's bitrate. x264's CRF 23 is
    # about VP9's 33 in look; the offset keeps the presets' order.
    tiles = 2 if s.width >= 1280 else (1 if s.width >= 640 else 0)  # log2 of tile columns
    deadline, speed = _VP9_SPEED.get(s.preset, ("good", 5))
    return {
        "crf": str(min(63, max(0, s.crf + 10))),
        "b": str(s.max_bitrate),
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        "deadline": deadline,
        "cpu-used": str(speed),
        "row-mt": "1",
        "tile-columns": str(tiles),
        "keyint_min": str(s.gop),
        "auto-alt-ref": "1",
        "lag-in-frames": "16",
    }


def _svtav1_options(s: EncodeSettings) -> dict[str, str]:
    os.environ.setdefault("SVT_LOG", "1")
    return {
        "preset": str(conformance.SVTAV1_PRESET.get(s.preset, 9)),
        "crf": str(conformance.svtav1_crf(s.crf)),
        "maxrate": str(s.max_bitrate),
        "bufsize": str(s.buffer_size),
        "svtav1-params": "scd=0:irefresh-type=2",
    }


def _configure(cc: Any, s: EncodeSettings, encoder: str) -> None:
    cc.width, cc.height = s.width, s.height
    cc.pix_fmt = "yuv420p"
    cc.time_base = Fraction(1, s.fps)
    cc.framerate = Fraction(s.fps, 1)
    cc.gop_size = s.gop
    cc.colorspace = cc.color_primaries = cc.color_trc = _BT709
    cc.color_range = _RANGE_TV
    cc.thread_count = s.threads or usable_cores()
    cc.options = _vp9_options(s) if encoder == "libvpx-vp9" else _svtav1_options(s)


def probe_webm(encoder: str, settings: EncodeSettings) -> str | None:
    """None if `encoder` opens and encodes one frame for `settings` here, else why not."""
    try:
        av = _import_av()
        av.Codec(encoder, "w")
    except Exception:  # noqa: BLE001 - a missing encoder is a reason, not an error
        return f"this PyAV build has no {encoder} encoder"
    with ffmpeg_errors() as errors:
        try:
            ctx = av.CodecContext.create(encoder, "w")
            _configure(ctx, settings, encoder)
            ctx.open()
            planes = np.full((settings.height * 3 // 2, settings.width), 128, np.uint8)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = 0
            ctx.encode(frame)
            ctx.encode(None)
            return None
        except Exception as exc:  # noqa: BLE001 - a probe reports every refusal
            lines = [m.strip() for level, _, m in errors if level <= av.logging.ERROR]
            return "; ".join(lines) or str(exc) or type(exc).__name__


class WebMEncoder:
    """VP9 or AV1 in WebM through PyAV; every frame encoded."""

    @staticmethod
    def probe(target: str, settings: EncodeSettings) -> str | None:
        return probe_webm(target, settings)

    def __init__(self, settings: EncodeSettings, codec: str = "libvpx-vp9", name: str | None = None) -> None:
        self.settings = settings
        self.codec = codec
        self.name = name or codec
        self._container: Any = None
        self._stream: Any = None
        self._path: Path | None = None
        self._frames = 0
        self._i420 = np.empty(settings.width * settings.height * 3 // 2, np.uint8)

    def open(self, path: Path) -> None:
        av = _import_av()
        self._path = Path(path)
        with ffmpeg_errors() as errors:
            try:
                self._container = av.open(str(path), "w", format="webm")
                self._stream = self._container.add_stream(self.codec, rate=self.settings.fps)
                _configure(self._stream.codec_context, self.settings, self.codec)
                self._stream.codec_context.open()
            except Exception as exc:  # the backend boundary
                self.abort()
                lines = "; ".join(m.strip() for level, _, m in errors if level <= av.logging.ERROR)
                raise BackendUnavailableError(f"cannot open encoder {self.name}: {lines or exc}") from exc

    def encode(self, frame: np.ndarray, pts: int) -> None:
        self.encode_repeated(frame, pts, 1)

    def encode_repeated(self, frame: np.ndarray, first_pts: int, count: int) -> None:
        if self._container is None:
            raise RenderError(f"{self.name}: the encoder is not open")
        av = _import_av()
        s = self.settings
        planes = nv12_to_i420(frame.reshape(-1), s.width, s.height, self._i420)
        video_frame = av.VideoFrame.from_ndarray(planes.reshape(s.height * 3 // 2, s.width), format="yuv420p")
        container, stream = self._container, self._stream

        def encode_at(pts: int) -> None:
            video_frame.pts = pts
            container.mux(stream.encode(video_frame))

        encode_repeats(self.name, first_pts, count, encode_at)
        self._frames += count

    def close(self) -> EncodeStats:
        if self._container is None:
            raise RenderError(f"{self.name}: the encoder is not open")
        with backend_errors(f"{self.name} failed while finishing {self._path}", cleanup=self.abort):
            self._container.mux(self._stream.encode(None))
            self._container.close()
        self._container = None
        size = self._path.stat().st_size if self._path and self._path.exists() else 0
        reason = None
        if self.settings.skip_holds:
            reason = f"{self.name}: holds are skipped for libx264 only; WebM encodes every frame"
        return EncodeStats(self.name, self._frames, size, coded_frames=self._frames, holds_reason=reason)

    def abort(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # the file is being thrown away
                log.debug("ignoring error while closing an aborted WebM", exc_info=True)
