"""A finished video plus its soundtrack: a new MP4, the video copied packet for packet.

Two steps. `encode_soundtrack` mixes the plan (engine.audio.mix: normalised to the
plan's loudness, limited) and encodes it to AAC-LC, 48 kHz stereo, in a file of its
own; it needs only the video's length, so a render runs it on a thread while the
video is made (`soundtrack_in_background`): on two cores the mix and the encoder fill
the time the render thread leaves idle, instead of adding seconds after it.
`mux_soundtrack` then copies both streams' packets into one file, in time order. The
video stream is not re-encoded: its packets (and its codec parameters, colour tags
included) are copied as they are, and neither stream is ever held whole.
`mux_audio` does both, one after the other, for a video that is already made.

AAC's quantisation noise lifts true peaks: by up to 0.4 dB over a -1 dBTP limit on
the drum-hit beds of tests/test_loudness.py at 192 kb/s. So the limiter is set
`AAC_HEADROOM_DB` under the plan's true peak, and the encoded packets are decoded
again as they are written and measured: the loudness and true peak reported are the
track's as it will play, not the mix's before the encoder. For WebM
(`container="webm"`) the soundtrack is Opus (libopus, 48 kHz stereo) in a WebM file
instead, limited and measured the same way. The file is
written through engine.output.atomic_output (temp file, fsync, rename; nothing left on
failure) with ``+faststart``. The output may replace the input (same path).
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..background import Background
from ..errors import AssetError, RenderError
from ..output import atomic_output, scratch_file
from .decode import SAMPLE_RATE
from .loudness import LoudnessMeter
from .mix import AudioPlan, MixStats, mix

if TYPE_CHECKING:
    from av.audio.codeccontext import AudioCodecContext

__all__ = [
    "AAC_HEADROOM_DB",
    "DEFAULT_AUDIO_BIT_RATE",
    "AudioStats",
    "BackgroundSoundtrack",
    "EncodedSoundtrack",
    "encode_soundtrack",
    "mux_audio",
    "mux_soundtrack",
    "soundtrack_in_background",
]

log = logging.getLogger(__name__)

DEFAULT_AUDIO_BIT_RATE = 192_000
# The limiter's ceiling sits this far under the plan's true peak, for AAC's overshoot.
AAC_HEADROOM_DB = 0.5
# The soundtrack's encoder in each container.
_AUDIO_CODECS = {"mp4": "aac", "webm": "libopus"}


@dataclass(frozen=True)
class AudioStats:
    """What `mux_audio` wrote: for the render report."""

    seconds: float  # audio length (samples / 48 kHz), equal to the video's to the sample
    video_seconds: float
    peak_dbfs: float  # after the limiter; -inf for silence
    limited_samples: int  # samples the limiter turned down (0 when the mix stayed under the ceiling)
    music_loops: int
    bytes: int  # size of the finished file
    # Loudness of the AAC track as decoded (ITU-R BS.1770-4), to 0.01; None where there is
    # nothing to measure (silence, or under 0.4 s).
    lufs: float | None = None  # integrated
    true_peak_db: float | None = None  # dBTP, 4× oversampled
    loudness_gain_db: float = 0.0  # the gain normalisation applied to the mix (0 when off)
    codec: str = "aac"  # aac (MP4) or opus (WebM)

    def summary(self) -> dict:
        """The render report's `audio` entry."""
        return {
            "codec": self.codec,
            "sample_rate": SAMPLE_RATE,
            "channels": 2,
            "seconds": round(self.seconds, 4),
            "peak_dbfs": round(self.peak_dbfs, 2) if self.peak_dbfs != float("-inf") else None,
            "limited_samples": self.limited_samples,
            "music_loops": self.music_loops,
            "lufs": self.lufs,
            "true_peak_db": self.true_peak_db,
            "loudness_gain_db": self.loudness_gain_db,
        }


def _import_av():
    import av

    return av


@dataclass(frozen=True)
class EncodedSoundtrack:
    """A soundtrack encoded by `encode_soundtrack`, waiting in `path` to be muxed."""

    path: Path
    container: str  # "mp4" (AAC) or "webm" (Opus)
    mix: MixStats
    lufs: float | None  # of the track as decoded (see AudioStats)
    true_peak_db: float | None
    seconds_taken: float = 0.0  # wall time of the mix and the encoder

    @property
    def seconds(self) -> float:
        return self.mix.seconds


def encode_soundtrack(
    plan: AudioPlan,
    seconds: float,
    path: str | Path,
    *,
    bit_rate: int = DEFAULT_AUDIO_BIT_RATE,
    container: str = "mp4",
    cancelled: threading.Event | None = None,
) -> EncodedSoundtrack:
    """Mix `plan` for `seconds` and write it, encoded, alone in `path` (AAC in MP4, or Opus in WebM).

    The encoder's packets are decoded again as they are written, into a loudness meter:
    what is reported is the track as it will play. Raises AssetError or SpecError as
    `mix` does, RenderError if FFmpeg fails; stops early (RenderError) once `cancelled`
    is set.
    """
    av = _import_av()
    started = time.perf_counter()
    stats = MixStats()
    track = _TrackMeter(av)
    fmt = "webm" if container == "webm" else "mp4"
    dst = None
    try:
        dst = av.open(str(path), "w", format=fmt)
        audio_out = dst.add_stream(_AUDIO_CODECS[container], rate=SAMPLE_RATE)
        audio_out.layout = "stereo"
        audio_out.bit_rate = bit_rate
        # A generator: closed below, so the mix's files close even when encoding fails.
        blocks = cast("Generator[Any, None, None]", mix(plan, seconds, stats, headroom_db=AAC_HEADROOM_DB))
        try:
            written = 0  # samples handed to the encoder
            for block in blocks:
                if cancelled is not None and cancelled.is_set():
                    raise RenderError("the soundtrack was cancelled")
                frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = written
                frame.time_base = Fraction(1, SAMPLE_RATE)
                written += block.shape[1]
                packets = audio_out.encode(frame)
                track.add(audio_out, packets)
                dst.mux(packets)
            packets = audio_out.encode(None)
            track.add(audio_out, packets)
            dst.mux(packets)
            track.add(audio_out, None)
        finally:
            blocks.close()
        dst.close()
        dst = None
    except av.FFmpegError as exc:
        raise RenderError(f"encoding the soundtrack failed: {exc}") from exc
    finally:
        if dst is not None:
            _abort(dst)
    return EncodedSoundtrack(
        path=Path(path),
        container=container,
        mix=stats,
        lufs=_measured(track.meter.integrated_lufs),
        true_peak_db=_measured(track.meter.true_peak_db),
        seconds_taken=time.perf_counter() - started,
    )


def mux_soundtrack(video_path: str | Path, soundtrack: EncodedSoundtrack, out_path: str | Path) -> AudioStats:
    """Write `out_path`: `video_path`'s video stream and `soundtrack`'s packets, interleaved.

    `out_path` may be `video_path`. Raises AssetError for a video file that does not
    read or has no video stream, RenderError if the soundtrack's length differs from
    the video's by more than one frame or FFmpeg fails while writing.
    """
    av = _import_av()
    video_path, out_path = Path(video_path), Path(out_path)
    with atomic_output(out_path) as tmp:
        src = _open_video(av, video_path)
        sound = dst = None
        try:
            video = src.streams.video[0]
            seconds, frame_seconds = _video_seconds(src, video)
            if abs(soundtrack.seconds - seconds) > frame_seconds + 1e-6:
                raise RenderError(
                    f"the soundtrack lasts {soundtrack.seconds:.3f} s but {video_path} lasts {seconds:.3f} s"
                )
            sound = av.open(str(soundtrack.path))
            if soundtrack.container == "webm":
                dst = av.open(str(tmp), "w", format="webm")
            else:
                dst = av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"})
            video_out = dst.add_stream_from_template(video, opaque=True)  # AV1 too (see engine/cover.py)
            audio = sound.streams.audio[0]
            audio_out = dst.add_stream_from_template(audio, opaque=True)
            _interleave(src.demux(video), video_out, sound.demux(audio), audio_out, dst)
            dst.close()
            dst = None
        except av.FFmpegError as exc:
            raise RenderError(f"adding audio to {video_path} failed: {exc}") from exc
        finally:
            src.close()
            if sound is not None:
                sound.close()
            if dst is not None:
                _abort(dst)
    stats = soundtrack.mix
    peak = 20 * math.log10(stats.peak) if stats.peak > 0 else -math.inf
    return AudioStats(
        seconds=stats.seconds,
        video_seconds=seconds,
        peak_dbfs=peak,
        limited_samples=stats.limited_samples,
        music_loops=stats.music_loops,
        bytes=out_path.stat().st_size,
        lufs=soundtrack.lufs,
        true_peak_db=soundtrack.true_peak_db,
        loudness_gain_db=round(stats.gain_db, 2),
        codec="opus" if soundtrack.container == "webm" else "aac",
    )


def mux_audio(
    video_path: str | Path,
    out_path: str | Path,
    plan: AudioPlan,
    *,
    bit_rate: int = DEFAULT_AUDIO_BIT_RATE,
    container: str = "mp4",
) -> AudioStats:
    """Write `out_path`: `video_path`'s video stream copied, plus the plan's soundtrack in AAC.

    The audio lasts exactly as long as the video (its stream duration, or frames ÷
    frame rate). Every audio file is checked before anything is written. Raises
    AssetError for an audio file that is missing or does not decode (or a video file
    without a video stream), SpecError for a music `start` past the music's end,
    RenderError if `plan.duration` disagrees with the video by more than one frame or
    FFmpeg fails while writing.
    """
    av = _import_av()
    video_path = Path(video_path)
    plan.check()
    src = _open_video(av, video_path)
    try:
        seconds, frame_seconds = _video_seconds(src, src.streams.video[0])
    finally:
        src.close()
    if plan.duration is not None and abs(plan.duration - seconds) > frame_seconds + 1e-6:
        raise RenderError(f"the audio plan lasts {plan.duration:.3f} s but {video_path} lasts {seconds:.3f} s")
    with scratch_file(Path(out_path), "sound") as path:
        soundtrack = encode_soundtrack(plan, seconds, path, bit_rate=bit_rate, container=container)
        return mux_soundtrack(video_path, soundtrack, out_path)


class BackgroundSoundtrack:
    """`encode_soundtrack` running on its own thread; `result()` waits for it."""

    def __init__(self, plan: AudioPlan, seconds: float, path: Path, *, bit_rate: int, container: str) -> None:
        self._cancelled = threading.Event()
        self._work = Background(
            "reel-soundtrack",
            lambda: encode_soundtrack(
                plan, seconds, path, bit_rate=bit_rate, container=container, cancelled=self._cancelled
            ),
        )

    def result(self) -> EncodedSoundtrack:
        """The encoded soundtrack, once the thread is done; raises what the thread raised."""
        return self._work.result()

    def cancel(self) -> None:
        """Stop at the next block and wait for the thread (its file is then the caller's to remove)."""
        self._cancelled.set()
        self._work.join()


@contextmanager
def soundtrack_in_background(
    plan: AudioPlan,
    seconds: float,
    beside: Path,
    *,
    bit_rate: int = DEFAULT_AUDIO_BIT_RATE,
    container: str = "mp4",
) -> Iterator[BackgroundSoundtrack]:
    """Encode the plan's soundtrack, `seconds` long, on a thread while the block runs.

    The encoded file is a temporary beside `beside` (named as `atomic_output` names
    them, so a sweep finds it if the process dies), removed when the block ends,
    whatever happens; a block that fails stops the thread first.
    """
    with scratch_file(beside, "sound") as path:
        soundtrack = BackgroundSoundtrack(plan, seconds, path, bit_rate=bit_rate, container=container)
        try:
            yield soundtrack
        finally:
            soundtrack.cancel()


def _measured(db: float) -> float | None:
    return round(db, 2) if math.isfinite(db) else None


def _open_video(av, path: Path):
    """`path` opened for reading; AssetError if it does not read or has no video stream."""
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise AssetError(f"cannot read video {path}: {reason}", path) from exc
    if not container.streams.video:
        container.close()
        raise AssetError(f"{path} has no video stream to add audio to", path)
    return container


def _video_seconds(container, stream) -> tuple[float, float]:
    """The video's duration and one frame's, in seconds."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    frame_seconds = float(1 / rate) if rate else 1 / 30
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif stream.frames and rate:
        seconds = float(stream.frames / rate)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000  # AV_TIME_BASE
    else:
        raise RenderError(f"cannot tell how long {container.name} lasts")
    if not seconds > 0:
        raise RenderError(f"{container.name} has a video stream of length {seconds} s")
    return seconds, frame_seconds


class _TrackMeter:
    """Decodes the encoder's packets before they are muxed, into a loudness meter."""

    def __init__(self, av) -> None:
        self.av = av
        self.decoder: AudioCodecContext | None = None
        self.meter = LoudnessMeter()

    def add(self, stream, packets) -> None:
        """Measure `packets` (None: the end) of `stream`, the encoder's own output."""
        decoder = self.decoder
        if decoder is None:
            if packets is None or not packets:
                return
            # The encoder has opened by its first packet: its extradata describes the stream.
            name = stream.codec_context.name
            # FFmpeg's own Opus decoder gives planar float, as the meter takes; libopus's is packed.
            decoder = self.decoder = self.av.CodecContext.create("opus" if name == "libopus" else name, "r")
            decoder.extradata = stream.codec_context.extradata
        for packet in [None] if packets is None else packets:
            for frame in decoder.decode(packet):
                self.meter.add(frame.to_ndarray())


def _interleave(video_packets, video_out, audio_packets, audio_out, dst) -> None:
    """Mux two streams' packets in decode-time order (each stream's own order kept)."""
    streams = (_packets(video_packets, video_out), _packets(audio_packets, audio_out))
    for _, packet in heapq.merge(*streams, key=lambda item: item[0]):
        dst.mux(packet)


def _packets(packets, stream) -> Iterator[tuple[float, Any]]:
    """(seconds, packet) for each real packet of a demuxed stream, re-aimed at `stream`."""
    for packet in packets:
        if packet.dts is None:  # the demuxer's end-of-stream marker
            continue
        seconds = float(packet.dts * packet.time_base)
        packet.stream = stream
        yield seconds, packet


def _abort(container) -> None:
    try:
        container.close()
    except Exception:  # the temp file is being deleted; its tail does not matter
        log.debug("ignoring error while closing an aborted output", exc_info=True)
