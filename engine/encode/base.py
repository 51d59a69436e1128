"""The contract between the pipeline and an encoder.

An encoder takes NV12 frames (one flat uint8 buffer: W×H luma, then W/2×H/2
interleaved Cb/Cr, BT.709 limited range) with integer presentation timestamps in
units of 1/fps, and writes a finished MP4 on `close`.

    enc = open_encoder("auto", settings)
    enc.open(path)
    enc.encode(frame, pts=0) ...
    enc.encode_repeated(frame, first_pts=1, count=59)   # a hold: one buffer, 59 frames
    stats = enc.close()        # or enc.abort() on failure: no file is finalised

The buffer may be reused by the caller as soon as `encode` returns, so a hold can hand
the same buffer over N times with N timestamps.

Every encoder writes the same kind of file: the codec's 8-bit 4:2:0 profile at the
level the size, frame rate and bitrate need (`conformance.py`), a keyframe exactly
every `gop` frames and no others, BT.709 limited-range colour tags in the bitstream,
and the MP4 index before the media data (``+faststart``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import EngineError, RenderError, SpecError
from ..platforms import CODECS, Output
from .conformance import PROFILES

__all__ = ["EncodeSettings", "EncodeStats", "Encoder", "backend_errors", "encode_repeats"]


@dataclass(frozen=True)
class EncodeSettings:
    """What the encoder must produce; derived from an `Output`.

    `crf` and `preset` are on x264's scales; each encoder maps them to its own
    (`conformance.py`).
    """

    width: int
    height: int
    fps: int
    codec: str = "h264"  # h264 | hevc | av1, as `normalize_codec` names them
    profile: str | None = None  # None: the codec's usual profile (H.264 high, HEVC/AV1 main)
    crf: int = 23
    preset: str = "veryfast"
    max_bitrate: int = 12_000_000  # bit/s, the cap of capped CRF
    buffer_size: int = 24_000_000  # bits: VBV buffer
    gop: int = 60  # frames between keyframes
    lookahead: int | None = None  # rate-control lookahead in frames; None = the preset's
    threads: int | None = None  # encoder threads; None = one per core this process may use
    bframes: int = 2  # most consecutive B-frames (YouTube asks for 2); presets may use fewer
    # x264's adaptive quantisation mode and strength, psychovisual RD strength (0 =
    # off); None keeps the preset's own. Other encoders ignore them.
    aq_mode: int | None = None
    aq_strength: float | None = None
    psy_rd: float | None = None
    # Holds written without encoding (x264 only: `skip.py`); other encoders ignore it.
    skip_holds: bool = True
    # x264 up to 1080p: its lookahead in a thread of its own, fed through a buffer of
    # frames (~21 MB more at 1080p, ~4 % sooner renders). Off, the engine's default, it
    # runs on the thread that calls the encoder (`pyav._x264`).
    lookahead_thread: bool = False

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            size = f"{self.width}x{self.height}"
            raise SpecError(f"{size}: 4:2:0 video needs a positive, even width and height", "platform")
        if self.fps <= 0:
            raise SpecError(f"{self.fps} fps: the frame rate must be positive", "platform")
        if self.gop < 1:
            raise SpecError(f"gop {self.gop}: at least one frame between keyframes", "platform")
        if self.aq_mode is not None and self.aq_mode not in (0, 1, 2, 3):
            raise SpecError(f"aq_mode {self.aq_mode}: use 0 (off), 1, 2 or 3", "quality")
        for name in ("aq_strength", "psy_rd"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                raise SpecError(f"{name} {value}: must be between 0 and 10", "quality")
        if self.codec not in CODECS:  # the `Output` normalised the user's name already
            raise SpecError(
                f"unknown codec {self.codec!r}; EncodeSettings takes h264, hevc or av1 "
                "(platforms.normalize_codec turns h265 and the other aliases into these)",
                "codec",
            )
        if self.profile is None:
            object.__setattr__(self, "profile", PROFILES[self.codec])

    @property
    def profile_name(self) -> str:
        """The profile written: `profile`, which is the codec's usual one unless asked otherwise."""
        return self.profile or PROFILES[self.codec]

    @classmethod
    def from_output(cls, output: Output, threads: int | None = None, skip_holds: bool = True) -> EncodeSettings:
        return cls(
            threads=threads,
            skip_holds=skip_holds,
            width=output.width,
            height=output.height,
            fps=output.fps,
            crf=output.crf,
            preset=output.preset,
            max_bitrate=output.max_bitrate,
            buffer_size=output.buffer_size,
            gop=output.gop,
            lookahead=output.lookahead,
            codec=output.codec,
            aq_mode=output.aq_mode,
            aq_strength=output.aq_strength,
            psy_rd=output.psy_rd,
        )


@dataclass(frozen=True)
class EncodeStats:
    encoder: str  # e.g. "libx264"
    frames: int
    bytes: int
    # Frames the encoder itself coded; the rest were holds written as skip frames.
    coded_frames: int | None = None
    holds: str = "encoded"  # "encoded", or "skipped" where holds were written without encoding
    holds_reason: str | None = None  # why holds were encoded although skipping was asked for


@runtime_checkable
class Encoder(Protocol):
    name: str

    def open(self, path: Path) -> None:
        """Start writing to `path` (the caller renames it into place afterwards)."""

    def encode(self, frame: np.ndarray, pts: int) -> None:
        """Encode one NV12 frame shown at `pts` / fps seconds."""

    def encode_repeated(self, frame: np.ndarray, first_pts: int, count: int) -> None:
        """Encode the same NV12 frame at `count` consecutive timestamps (a hold)."""

    def close(self) -> EncodeStats:
        """Flush, write the index (moov first) and close the file."""

    def abort(self) -> None:
        """Stop without finishing the file; the caller deletes it. Safe to call twice."""


# -- the backends' error boundary ------------------------------------------------------


@contextmanager
def backend_errors(failed: str | Callable[[], str], cleanup: Callable[[], None] | None = None) -> Iterator[None]:
    """Where an encoder backend meets its library: what the library raises becomes a
    `RenderError` saying what `failed` ("libx264 failed at frame 12"; a function is
    called only then, when the frame is known), the cause chained. The engine's own
    errors pass as they are. `cleanup` (an abort) runs first, whichever it was.
    """
    try:
        yield
    except Exception as exc:  # the backend boundary: PyAV and PyNvVideoCodec raise anything
        if cleanup is not None:
            cleanup()
        if isinstance(exc, EngineError):
            raise
        what = failed if isinstance(failed, str) else failed()
        raise RenderError(f"{what}: {exc}") from exc


def encode_repeats(name: str, first_pts: int, count: int, encode_one: Callable[[int], None]) -> None:
    """`encode_one(pts)` for `count` consecutive timestamps from `first_pts` (a hold, or
    one frame): every backend's repeat loop, inside the error boundary, naming the frame
    that failed."""
    pts = first_pts
    with backend_errors(lambda: f"{name} failed at frame {pts}"):
        for pts in range(first_pts, first_pts + count):
            encode_one(pts)
