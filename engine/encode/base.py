"""The contract between the pipeline and an encoder.

An encoder takes NV12 frames (one flat uint8 buffer: W×H luma, then W/2×H/2
interleaved Cb/Cr, BT.709 limited range) with integer presentation timestamps in
units of 1/fps, and writes a finished MP4 on `close`.

    enc = open_encoder("auto", settings)
    enc.open(path)
    enc.encode(frame, pts=0) ...
    stats = enc.close()        # or enc.abort() on failure: no file is finalised

The buffer may be reused by the caller as soon as `encode` returns, so a hold can hand
the same buffer over N times with N timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..platforms import Output

__all__ = ["EncodeSettings", "EncodeStats", "Encoder"]


@dataclass(frozen=True)
class EncodeSettings:
    """What the encoder must produce; derived from an `Output`."""

    width: int
    height: int
    fps: int
    codec: str = "h264"
    profile: str = "high"
    crf: int = 23
    preset: str = "veryfast"
    max_bitrate: int = 12_000_000  # bit/s, the cap of capped CRF
    buffer_size: int = 24_000_000  # bits: VBV buffer
    gop: int = 60  # frames between keyframes
    lookahead: int | None = None  # rate-control lookahead in frames; None = the preset's
    threads: int | None = None  # encoder threads; None = one per core this process may use

    @classmethod
    def from_output(cls, output: Output, threads: int | None = None) -> "EncodeSettings":
        return cls(
            threads=threads,
            width=output.width,
            height=output.height,
            fps=output.fps,
            crf=output.crf,
            preset=output.preset,
            max_bitrate=output.max_bitrate,
            buffer_size=output.buffer_size,
            gop=output.gop,
            lookahead=output.lookahead,
        )


@dataclass(frozen=True)
class EncodeStats:
    encoder: str  # e.g. "libx264"
    frames: int
    bytes: int


@runtime_checkable
class Encoder(Protocol):
    name: str

    def open(self, path: Path) -> None:
        """Start writing to `path` (the caller renames it into place afterwards)."""

    def encode(self, frame: np.ndarray, pts: int) -> None:
        """Encode one NV12 frame shown at `pts` / fps seconds."""

    def close(self) -> EncodeStats:
        """Flush, write the index (moov first) and close the file."""

    def abort(self) -> None:
        """Stop without finishing the file; the caller deletes it. Safe to call twice."""
