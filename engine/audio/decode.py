"""Audio files decoded on demand into 48 kHz float32 stereo, one block at a time.

Nothing here holds a whole file: an `AudioReader` keeps the container open and
decodes (and resamples, with PyAV's AudioResampler) only as far as the caller has
read, so a ten-minute music bed costs a few frames of memory, not 230 MB.

Mono files are resampled as mono and copied to both channels at full level (FFmpeg's
own mono → stereo mix would lower each side by 3 dB). Anything with more channels is
downmixed to stereo by FFmpeg.

PyAV is imported only inside these functions, so `engine.audio` stays cheap to import.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AssetError
from ..files import regular_file

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from typing_extensions import Self  # typing.Self from Python 3.11

__all__ = ["SAMPLE_RATE", "AudioReader", "check_audio_length", "probe_audio", "voiceover_duration"]

#: The setting that bounds an audio file's length (engine/limits.py).
_LENGTH_SETTING = "REEL_MAX_AUDIO_SECONDS"

SAMPLE_RATE = 48_000


def _import_av():
    import av  # a core dependency; imported here so the models load without it

    return av


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


class _Source:
    """An open container and its first audio stream; `where` names it in messages."""

    def __init__(self, path: Path, where: str) -> None:
        av = _import_av()
        self.path, self.where = Path(path), where
        # Refused before FFmpeg opens it: a FIFO would block the open, a device never end.
        resolved = regular_file(self.path, "audio file", where=where)
        if os.path.getsize(resolved) == 0:
            raise self.error("is empty (0 bytes)")
        try:
            self.container = av.open(str(resolved))
        except av.FFmpegError as exc:
            raise self.error(f"cannot be decoded ({_reason(exc)})") from exc
        if not self.container.streams.audio:
            found = sorted({s.type for s in self.container.streams}) or ["nothing"]
            self.container.close()
            raise self.error(
                f"has no audio stream (it holds {', '.join(found)}); give an mp3, wav, m4a, ogg or flac file"
            )
        self.stream = self.container.streams.audio[0]

    def error(self, what: str) -> AssetError:
        return AssetError(f"{self.where}: audio file {self.path} {what}", self.path)

    def header_seconds(self) -> float | None:
        """The length the container's header states (not decoded; may be wrong), or None."""
        stream = self.stream
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if self.container.duration is not None:  # in AV_TIME_BASE units: microseconds
            return self.container.duration / 1_000_000
        return None

    def too_long(self, seconds: float, max_seconds: float) -> AssetError:
        return self.error(f"is {_duration(seconds)} long, more than the {max_seconds:g} s {_LENGTH_SETTING} allows")

    def frames(self) -> Generator[AudioFrame, None, None]:
        """Decoded frames, with FFmpeg's errors named after the file."""
        av = _import_av()
        try:
            yield from self.container.decode(self.stream)
        except av.FFmpegError as exc:
            raise self.error(f"is corrupt or unreadable ({_reason(exc)})") from exc

    def seconds_from_start(self, frame: AudioFrame) -> float | None:
        """Where `frame` starts, in seconds after the stream's first sample; None if unknown."""
        if frame.pts is None or frame.time_base is None:
            return None
        first = self.stream.start_time or 0
        return float((frame.pts - first) * frame.time_base)

    def close(self) -> None:
        self.container.close()


class AudioReader:
    """One audio file from `start` seconds on, as (2, n) float32 blocks at 48 kHz.

    `read(n)` returns n samples per channel, or fewer only at the end of the file.
    Open files are closed by `close()` (or the ``with`` block), and at the end.
    """

    def __init__(self, path: Path, where: str = "audio", start: float = 0.0) -> None:
        self.path, self.where, self.start = Path(path), where, start
        self._chunks: Generator[np.ndarray, None, None] | None = None
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._ended = False
        self.samples_read = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, n: int) -> np.ndarray:
        while self._pending_samples < n and not self._ended:
            if self._chunks is None:  # decoding starts with the first read
                self._chunks = self._decode()
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._ended = True
                self._chunks = None
                break
            self._pending.append(chunk)
            self._pending_samples += chunk.shape[1]
        joined = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending or [_EMPTY], axis=1)
        out, rest = joined[:, :n], joined[:, n:]
        self._pending = [rest] if rest.shape[1] else []
        self._pending_samples = rest.shape[1]
        self.samples_read += out.shape[1]
        return out

    def close(self) -> None:
        if self._chunks is not None:
            self._chunks.close()  # runs the generator's `finally`: the container closes
            self._chunks = None
        self._pending, self._pending_samples, self._ended = [], 0, True

    def _decode(self) -> Generator[np.ndarray, None, None]:
        av = _import_av()
        source = _Source(self.path, self.where)
        try:
            source, frames, drop = self._positioned(source)
            mono = source.stream.codec_context.layout.nb_channels == 1
            resampler = av.AudioResampler(format="fltp", layout="mono" if mono else "stereo", rate=SAMPLE_RATE)
            for frame in itertools.chain(frames, [None]):  # None flushes the resampler
                try:
                    resampled = resampler.resample(frame)
                except (av.FFmpegError, ValueError) as exc:  # e.g. the layout changes mid-file
                    raise source.error(f"cannot be resampled ({_reason(exc)})") from exc
                for out in resampled:
                    planes = out.to_ndarray()
                    if drop:
                        planes, drop = planes[:, drop:], max(0, drop - planes.shape[1])
                    if planes.shape[1]:
                        yield np.ascontiguousarray(np.repeat(planes, 2, axis=0) if mono else planes, np.float32)
        finally:
            source.close()

    def _positioned(self, source: _Source) -> tuple[_Source, Iterator[AudioFrame], int]:
        """The source, its frames from `start` on, and how many resampled samples to drop first.

        A backward seek lands at or before `start`; the first frame's timestamp says how
        far before. A file that cannot seek, has no timestamps, or overshoots is decoded
        from the top instead, dropping `start` seconds.
        """
        if self.start <= 0:
            return source, source.frames(), 0
        av = _import_av()
        stream = source.stream
        try:
            source.container.seek(int(self.start / stream.time_base) + (stream.start_time or 0), stream=stream)
        except av.FFmpegError:
            pass
        else:
            frames = source.frames()
            first = next(frames, None)
            if first is None:  # nothing at or after `start`
                return source, iter(()), 0
            at = source.seconds_from_start(first)
            if at is not None and at <= self.start + 1e-3:
                return source, itertools.chain([first], frames), max(0, round((self.start - at) * SAMPLE_RATE))
            frames.close()
        source.close()
        source = _Source(self.path, self.where)
        return source, source.frames(), round(self.start * SAMPLE_RATE)


_EMPTY = np.zeros((2, 0), np.float32)


def probe_audio(path: Path, where: str = "audio") -> None:
    """Raise AssetError unless `path` opens, has an audio stream and decodes a sample."""
    source = _Source(Path(path), where)
    try:
        for frame in source.frames():
            if frame.samples:
                return
        raise source.error("contains no audio samples")
    finally:
        source.close()


def voiceover_duration(path: Path, where: str = "voiceover", max_seconds: float | None = None) -> float:
    """Seconds of audio `path` decodes to (every frame decoded, none kept).

    Container headers can be wrong (VBR mp3s without a Xing header, truncated files),
    so this counts decoded samples rather than trusting the stated duration. Past
    `max_seconds` (REEL_MAX_AUDIO_SECONDS) it is an AssetError: at once when the header
    says so (a 10-hour file is refused before decoding), else as soon as the decoded
    samples pass it, so a header that understates the length costs at most that much.
    """
    source = _Source(Path(path), where)
    try:
        if max_seconds is not None:
            stated = source.header_seconds()
            if stated is not None and stated > max_seconds:
                raise source.too_long(stated, max_seconds)
        samples, rate = 0, 0
        for frame in source.frames():
            samples += frame.samples
            rate = rate or frame.sample_rate
            if max_seconds is not None and samples > max_seconds * rate:
                raise source.too_long(samples / rate, max_seconds)
        if not samples:
            raise source.error("contains no audio samples")
        return samples / rate
    finally:
        source.close()


def check_audio_length(path: Path, where: str, max_seconds: float) -> None:
    """AssetError unless `path` is a regular file whose container opens, holds an audio
    stream, and states a length of at most `max_seconds` (headers only: nothing decoded)."""
    source = _Source(Path(path), where)
    try:
        stated = source.header_seconds()
        if stated is not None and stated > max_seconds:
            raise source.too_long(stated, max_seconds)
    finally:
        source.close()


def _duration(seconds: float) -> str:
    """``10 h 0 min``, ``4 min 30 s``, ``12.5 s``."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds:.3g} s"
