"""A video slide's own sound: its clip's audio, trimmed like its picture, in the mix.

`ClipCue` says where it starts in the video and what of the file plays; `ClipSound`
reads it as (2, n) float32 blocks at 48 kHz: from ``trim_start`` for the trimmed
length, again from ``trim_start`` while `loop` is set, and never past the slide's
`seconds` on screen. The mix (engine/audio/mix.py) scales it by `volume` and by the
same ducking envelope as the music, so it goes down under voiceovers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decode import SAMPLE_RATE, AudioReader

__all__ = ["ClipCue", "ClipSound"]


@dataclass(frozen=True)
class ClipCue:
    start: float  # seconds into the video its slide starts (its first frame)
    file: Path
    trim_start: float  # seconds into the file
    length: float  # seconds of the trimmed clip
    seconds: float  # how long its slide shows: the sound stops there
    volume: float = 1.0
    loop: bool = False
    where: str = "video"

    def __post_init__(self) -> None:
        for name in ("start", "trim_start", "length", "seconds", "volume"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{self.where}: {name} must be a finite number >= 0, got {value!r}")

    @property
    def first_sample(self) -> int:
        return round(self.start * SAMPLE_RATE)

    @property
    def samples(self) -> int:
        """Samples it plays in all."""
        played = self.seconds if self.loop else min(self.seconds, self.length)
        return round(played * SAMPLE_RATE)


class ClipSound:
    """`cue`'s sound a block at a time; `read(n)` returns fewer than n only at its end."""

    def __init__(self, cue: ClipCue) -> None:
        self.cue = cue
        self._left = cue.samples
        self._pass = round(cue.length * SAMPLE_RATE)
        self._reader: AudioReader | None = None
        self._in_pass = 0

    def read(self, n: int) -> np.ndarray:
        parts: list[np.ndarray] = []
        want = min(n, self._left)
        while want > 0:
            if self._reader is None or self._in_pass >= self._pass:
                if self._reader is not None:
                    if not self.cue.loop:
                        break
                    self._reader.close()
                self._reader = AudioReader(self.cue.file, self.cue.where, start=self.cue.trim_start)
                self._in_pass = 0
            block = self._reader.read(min(want, self._pass - self._in_pass))
            if not block.shape[1]:  # the file's sound is shorter than its picture
                if not self.cue.loop or self._in_pass == 0:
                    break
                self._in_pass = self._pass
                continue
            parts.append(block)
            self._in_pass += block.shape[1]
            self._left -= block.shape[1]
            want -= block.shape[1]
        if not parts:
            return np.zeros((2, 0), np.float32)
        return (parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)) * np.float32(self.cue.volume)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
