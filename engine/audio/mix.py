"""The soundtrack of one video, mixed block by block: music bed, voiceovers, ducking, loudness, limiter.

    plan = AudioPlan(music=deck.audio, voiceovers=[(slide_start_seconds, slide.voiceover), ...])
    for block in mix(plan, duration):      # (2, n) float32 at 48 kHz, n <= BLOCK
        ...

Exactly ``round(duration × 48000)`` samples come out. The music plays from its
``start`` offset, looping (or falling silent) when it ends and cut at the video's end,
at its gain, faded in at the video's start and out at its end. Each voiceover starts
at its sample, ``round((start + delay) × 48000)``, and is cut at the video's end.

Ducking is worked out before the mix, at a control rate of 200 Hz (one value per
5 ms): a first pass decodes each voiceover once, keeping only its energy per 5 ms, so
the envelope for a ten-minute video is ~120 000 floats. Voice counts as speaking
where its RMS over 20 ms is above about -45 dBFS; gaps shorter than 0.2 s stay
ducked; the music reaches `amount_db` as a voice starts (going down over the
`attack` before it) and recovers over `release` after it stops.

Loudness (`AudioPlan.loudness`; -14 LUFS integrated, -1 dBTP unless the deck says
otherwise) needs two passes over the mix, see `mix`. The sum then goes through a
look-ahead true-peak limiter (engine.audio.limiter) at the ceiling, -1 dBTP when
loudness is off, so loud music plus voice is turned down for a moment instead of
clipping; the finished track is measured again for the report.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssetError, SpecError
from .clip import ClipCue, ClipSound
from .decode import SAMPLE_RATE, AudioReader, probe_audio
from .limiter import Limiter
from .loudness import LoudnessMeter
from .models import AudioSpec, DuckSpec, LoudnessSpec, Voiceover

__all__ = ["BLOCK", "DEFAULT_CEILING_DB", "FROM_DECK", "MAX_GAIN_DB", "AudioPlan", "MixStats", "VoiceoverCue", "mix"]

log = logging.getLogger(__name__)

# Samples per mixed block: 8 AAC frames, ~0.17 s.
BLOCK = 8 * 1024
# Ducking control rate, detector window and hold.
_HOP = 240  # 5 ms
_DETECT_HOPS = 4  # RMS over 20 ms
_HOLD_SECONDS = 0.2
# Voice RMS (dBFS) from which the music starts to duck, and by which it is fully ducked.
_GATE_LOW_DB, _GATE_HIGH_DB = -50.0, -40.0
# The limiter's ceiling (dBTP) when loudness normalisation is off.
DEFAULT_CEILING_DB = LoudnessSpec().true_peak_db
# Normalisation turns a quiet mix up by at most this much (dB), as much as a gain in a deck may.
MAX_GAIN_DB = 24.0
# `AudioPlan.loudness` by default: the music spec's `loudness`, else the defaults.
FROM_DECK = "deck"
# A music pass (from `start` to the end) shorter than this loops from memory: a jingle
# of a few seconds is not decoded again dozens of times. A longer one is decoded again
# each pass (~16 ms of CPU for 20 s of AAC), which holds ~7 MB less than keeping 20 s.
_LOOP_IN_MEMORY = 5 * SAMPLE_RATE


@dataclass(frozen=True)
class VoiceoverCue:
    """A voiceover and where its slide starts in the video (seconds; frame-exact ideally).

    `where` names it in error messages, e.g. ``slides[2].voiceover``. A voiceover that
    says text is mixed from its speech's WAV (`engine.spec.Deck.audio_plan` hands that
    file in; engine/speech.py makes it).
    """

    start: float
    voiceover: Voiceover
    where: str = "voiceover"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and self.start >= 0):
            raise ValueError(f"{self.where}: start must be a finite number >= 0, got {self.start!r}")
        if self.voiceover.file is None:
            raise ValueError(f"{self.where}: text to say must be spoken into a file before mixing (Deck.audio_plan)")

    @property
    def file(self) -> Path:
        """The audio file this voiceover plays."""
        if self.voiceover.file is None:  # refused above; for the type checker
            raise ValueError(f"{self.where}: no file")
        return self.voiceover.file

    @property
    def first_sample(self) -> int:
        return round((self.start + self.voiceover.delay) * SAMPLE_RATE)


@dataclass(frozen=True)
class AudioPlan:
    """Everything that makes a video's soundtrack.

    `voiceovers` takes `VoiceoverCue`s or ``(start_seconds, Voiceover)`` pairs.
    `duration` (seconds), when given, is checked against the video by `mux_audio`;
    the audio is always made exactly as long as the video it joins. `loudness` is
    the level the mix is normalised to, None for none; by default (`FROM_DECK`) the
    deck's ``audio.loudness``, or -14 LUFS / -1 dBTP for a deck without music.
    """

    music: AudioSpec | None = None
    voiceovers: Sequence[VoiceoverCue | tuple[float, Voiceover]] = ()
    duration: float | None = None
    music_where: str = field(default="audio.music", compare=False)
    loudness: LoudnessSpec | None | str = FROM_DECK
    clips: Sequence[ClipCue] = ()  # video slides' own sound, ducked under voiceovers like music
    # What the two above come to, typed: set by __post_init__, which also stores them
    # back into `voiceovers` and `loudness`.
    cues: tuple[VoiceoverCue, ...] = field(init=False, repr=False, compare=False)
    loudness_target: LoudnessSpec | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.loudness, str):
            if self.loudness != FROM_DECK:
                raise ValueError(f"loudness must be a LoudnessSpec, None or {FROM_DECK!r}, got {self.loudness!r}")
            target = self.music.loudness if self.music is not None else LoudnessSpec()
        else:
            target = self.loudness
        object.__setattr__(self, "loudness", target)
        object.__setattr__(self, "loudness_target", target)
        cues = tuple(
            cue if isinstance(cue, VoiceoverCue) else VoiceoverCue(float(cue[0]), cue[1], f"voiceovers[{i}]")
            for i, cue in enumerate(self.voiceovers)
        )
        object.__setattr__(self, "voiceovers", cues)
        object.__setattr__(self, "cues", cues)
        if self.duration is not None and not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"duration must be a finite number of seconds > 0, got {self.duration!r}")

    @property
    def is_silent(self) -> bool:
        """True when there is nothing to mix (no music, no voiceovers)."""
        return self.music is None and not self.voiceovers and not self.clips

    def files(self) -> list[tuple[str, Path]]:
        """(where, file) for every audio file the plan reads."""
        found = [(self.music_where, self.music.music)] if self.music is not None else []
        return found + [(cue.where, cue.file) for cue in self.cues]

    def check(self) -> None:
        """Open each file and decode its first frame: AssetError for the first that fails.

        Cheap (no file is decoded through), so it belongs before a long render.
        """
        for where, path in self.files():
            probe_audio(path, where)
        for clip in self.clips:
            probe_audio(clip.file, clip.where)


@dataclass
class MixStats:
    """Filled in while `mix` runs: what came out, how loud, and what the limiter did."""

    samples: int = 0
    peak: float = 0.0  # largest |sample| out, after the limiter
    limited_samples: int = 0  # samples the limiter turned down (by more than 0.001 dB)
    music_loops: int = 0  # times the music restarted
    mix_lufs: float = -math.inf  # integrated loudness of the mix before normalisation (-inf: not measured)
    gain_db: float = 0.0  # the normalising gain applied
    lufs: float = -math.inf  # integrated loudness of what came out (-inf: nothing above the gates)
    true_peak: float = 0.0  # largest 4× oversampled |value| out (linear)

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


def mix(
    plan: AudioPlan, duration: float | None = None, stats: MixStats | None = None, *, headroom_db: float = 0.0
) -> Iterator[np.ndarray]:
    """The soundtrack as (2, n) float32 blocks at 48 kHz, n <= BLOCK, round(duration × 48 kHz) in all.

    `duration` defaults to the plan's. Files are opened as their blocks are reached
    and closed when done (also when the caller stops early). Raises AssetError for a
    file that is missing or does not decode, SpecError when `audio.start` is past the
    end of the music. `headroom_db` lowers the limiter's ceiling under the plan's true
    peak, for a lossy encoder's overshoot (mux_audio leaves 0.5 dB for AAC).

    Why two passes when `plan.loudness` is set: the gain that brings the mix to its
    target depends on the integrated loudness of the whole track (the relative gate
    sits 10 LU under the mean of every 400 ms block), but the first block must be
    scaled before it is handed on, and the mix is never held whole (memory stays flat
    with length). So the same deterministic mix is made twice: the first pass feeds
    only a meter, which keeps one number per 100 ms; then the gain; the second pass
    yields gain × mix through the limiter. The price is decoding the files twice.
    """
    duration = plan.duration if duration is None else duration
    if duration is None or not (math.isfinite(duration) and duration > 0):
        raise ValueError(f"mix needs a duration in seconds > 0, got {duration!r}")
    total = round(duration * SAMPLE_RATE)
    stats = MixStats() if stats is None else stats
    music = plan.music
    duck = music.duck if music is not None else None
    if plan.clips and duck is None:
        duck = DuckSpec()  # a clip's sound ducks under voiceovers even without music
    reduction_db = _duck_envelope(plan.cues, total, duck) if duck is not None and duck.amount_db < 0 else None
    for cue in plan.cues:
        if cue.first_sample >= total:
            seconds = cue.first_sample / SAMPLE_RATE
            log.warning("%s starts at %.3f s, after the video ends (%.3f s): not heard", cue.where, seconds, duration)

    target = plan.loudness_target
    gain = 1.0
    if target is not None:
        meter = LoudnessMeter()
        with closing(_summed(plan, total, reduction_db, MixStats())) as first_pass:
            for block in first_pass:
                meter.add(block)
        stats.mix_lufs = meter.integrated_lufs
        stats.gain_db = _normalising_gain(stats.mix_lufs, target.target_lufs)
        gain = 10 ** (stats.gain_db / 20)
    limiter = Limiter((DEFAULT_CEILING_DB if target is None else target.true_peak_db) - headroom_db)
    meter = LoudnessMeter()
    with closing(_limited(_summed(plan, total, reduction_db, stats), gain, limiter)) as blocks:
        for out in blocks:
            meter.add(out)
            stats.peak = max(stats.peak, float(np.abs(out).max(initial=0.0)))
            stats.samples += out.shape[1]
            stats.limited_samples = limiter.reduced_samples
            yield out
    stats.lufs, stats.true_peak = meter.integrated_lufs, meter.true_peak


def _normalising_gain(measured_lufs: float, target_lufs: float) -> float:
    """The gain (dB) from `measured_lufs` to `target_lufs`: 0 for silence, at most MAX_GAIN_DB."""
    if not math.isfinite(measured_lufs):
        log.info("the soundtrack has nothing above the loudness gates: left at its level")
        return 0.0
    gain = target_lufs - measured_lufs
    if gain > MAX_GAIN_DB:
        log.warning(
            "the soundtrack measures %.1f LUFS: turned up by %.0f dB, not the %.1f dB to %g LUFS",
            measured_lufs, MAX_GAIN_DB, gain, target_lufs,
        )  # fmt: skip
        return MAX_GAIN_DB
    return gain


def _limited(
    blocks: Generator[np.ndarray, None, None], gain: float, limiter: Limiter
) -> Generator[np.ndarray, None, None]:
    """`blocks` × `gain` through `limiter`, in BLOCK-sized pieces (the last shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    try:
        for block in itertools.chain(blocks, [None]):
            if block is None:
                out = limiter.flush()
            else:
                out = limiter.process(block if gain == 1.0 else block.astype(np.float64) * gain)
            pending.append(out)
            held += out.shape[1]
            while held >= BLOCK or (block is None and held):
                joined = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
                yield joined[:, :BLOCK]
                pending, held = [joined[:, BLOCK:]], joined.shape[1] - min(BLOCK, joined.shape[1])
    finally:
        blocks.close()


def _summed(
    plan: AudioPlan, total: int, reduction_db: np.ndarray | None, stats: MixStats
) -> Generator[np.ndarray, None, None]:
    """The music and voiceovers summed, before loudness and the limiter: (2, n) float32 blocks."""
    music = plan.music
    bed = _MusicBed(music, plan.music_where, stats) if music is not None else None
    cues = sorted((cue for cue in plan.cues if cue.first_sample < total), key=lambda c: c.first_sample)
    playing: list[tuple[VoiceoverCue, AudioReader]] = []
    clips = sorted((clip for clip in plan.clips if clip.first_sample < total), key=lambda c: c.first_sample)
    sounding: list[ClipSound] = []
    try:
        for pos in range(0, total, BLOCK):
            n = min(BLOCK, total - pos)
            out = np.zeros((2, n), np.float32)
            if bed is not None:
                block = bed.read(n)
                out[:, : block.shape[1]] = block
                out *= _music_gain(bed.spec, pos, n, total, reduction_db)
            while clips and clips[0].first_sample < pos + n:
                sounding.append(ClipSound(clips.pop(0)))
            for sound in list(sounding):
                offset = max(0, sound.cue.first_sample - pos)
                part = sound.read(n - offset)
                if reduction_db is not None and part.shape[1]:
                    part = part * _duck_gain(pos + offset, part.shape[1], reduction_db)
                out[:, offset : offset + part.shape[1]] += part
                if part.shape[1] < n - offset:
                    sound.close()
                    sounding.remove(sound)
            while cues and cues[0].first_sample < pos + n:
                cue = cues.pop(0)
                playing.append((cue, AudioReader(cue.file, cue.where)))
            for cue, reader in list(playing):
                offset = max(0, cue.first_sample - pos)
                voice = reader.read(n - offset)
                out[:, offset : offset + voice.shape[1]] += voice * np.float32(cue.voiceover.gain)
                if voice.shape[1] < n - offset:
                    if reader.samples_read == 0:
                        path = cue.file
                        raise AssetError(f"{cue.where}: audio file {path} contains no audio samples", path)
                    reader.close()
                    playing.remove((cue, reader))
            yield out
    finally:
        for sound in sounding:
            sound.close()
        for _, reader in playing:
            reader.close()
        if bed is not None:
            bed.close()


class _MusicBed:
    """The music from `start`, looped or ending in silence, before any gain.

    A pass shorter than `_LOOP_IN_MEMORY` is kept after it has been decoded once and
    replayed from memory (at most ~2 MB); a longer one is decoded again each time.
    """

    def __init__(self, spec: AudioSpec, where: str, stats: MixStats) -> None:
        self.spec, self.where, self.stats = spec, where, stats
        self.reader: AudioReader | None = AudioReader(spec.music, where, spec.start)
        self.first_pass: list[np.ndarray] | None = [] if spec.loop else None
        self.loop_audio: np.ndarray | None = None
        self.loop_pos = 0

    def read(self, n: int) -> np.ndarray:
        parts, got = [], 0
        while got < n:
            if self.loop_audio is not None:
                part = self.loop_audio[:, self.loop_pos : self.loop_pos + n - got]
                self.loop_pos += part.shape[1]
                if self.loop_pos == self.loop_audio.shape[1]:
                    self.loop_pos = 0
                    self.stats.music_loops += 1
            elif self.reader is not None:
                reader = self.reader
                part = reader.read(n - got)
                if self.first_pass is not None:
                    self.first_pass.append(part.copy())
                    if reader.samples_read > _LOOP_IN_MEMORY:
                        self.first_pass = None
                if part.shape[1] < n - got:
                    self._pass_ended(reader)
            else:  # not looping, and the music has ended: silence
                break
            parts.append(part)
            got += part.shape[1]
        return parts[0] if len(parts) == 1 else np.concatenate(parts or [np.zeros((2, 0), np.float32)], axis=1)

    def _pass_ended(self, reader: AudioReader) -> None:
        self.reader = None
        reader.close()
        if reader.samples_read == 0:
            path = self.spec.music
            if self.spec.start > 0:
                where = f"{self.where.rpartition('.')[0]}.start" if "." in self.where else "start"
                raise SpecError(f"{self.spec.start:g} s is at or past the end of the music ({path})", where)
            raise AssetError(f"{self.where}: audio file {path} contains no audio samples", path)
        if not self.spec.loop:
            return
        self.stats.music_loops += 1
        if self.first_pass is not None:
            self.loop_audio = np.concatenate(self.first_pass, axis=1)
            self.first_pass = None
        else:
            self.reader = AudioReader(self.spec.music, self.where, self.spec.start)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


def _music_gain(spec: AudioSpec, pos: int, n: int, total: int, reduction_db: np.ndarray | None) -> np.ndarray:
    """Per-sample music gain for samples [pos, pos + n): level × fades × ducking."""
    t = np.arange(pos, pos + n, dtype=np.float64)
    gain = np.full(n, spec.gain)
    if spec.fade_in > 0:
        gain *= np.clip(t / (spec.fade_in * SAMPLE_RATE), 0.0, 1.0)
    if spec.fade_out > 0:
        gain *= np.clip((total - t) / (spec.fade_out * SAMPLE_RATE), 0.0, 1.0)
    if reduction_db is not None:
        # Interpolated between hop centres; only the hops around this block are needed.
        first, last = max(0, pos // _HOP - 1), min(reduction_db.size, (pos + n) // _HOP + 2)
        centres = (np.arange(first, last) + 0.5) * _HOP
        gain *= 10 ** (-np.interp(t, centres, reduction_db[first:last]) / 20)
    return gain.astype(np.float32)


def _duck_gain(pos: int, n: int, reduction_db: np.ndarray) -> np.ndarray:
    """The ducking gain of samples [pos, pos + n), as `_music_gain` applies it."""
    t = pos + np.arange(n) + 0.5
    first, last = max(0, pos // _HOP - 1), min(reduction_db.size, (pos + n) // _HOP + 2)
    centres = (np.arange(first, last) + 0.5) * _HOP
    return (10 ** (-np.interp(t, centres, reduction_db[first:last]) / 20)).astype(np.float32)


def _duck_envelope(cues: Sequence[VoiceoverCue], total: int, duck: DuckSpec) -> np.ndarray | None:
    """Music reduction in dB (>= 0) per 5 ms hop, or None if no voice is heard."""
    hops = -(-total // _HOP)
    energy = np.zeros(hops)
    for cue in cues:
        start = cue.first_sample
        if start >= total:
            continue
        gain2 = cue.voiceover.gain**2
        with AudioReader(cue.file, cue.where) as reader:
            pos = start
            while pos < total:
                voice = reader.read(min(BLOCK, total - pos))
                if not voice.shape[1]:
                    break
                power = (voice.astype(np.float64) ** 2).mean(axis=0) * gain2
                bins = (pos + np.arange(voice.shape[1])) // _HOP
                energy[bins[0] : bins[-1] + 1] += np.bincount(bins - bins[0], weights=power)
                pos += voice.shape[1]
    if not energy.any():
        return None
    # Mean square per hop, then over the detector window; level in dBFS.
    mean_square = np.convolve(energy / _HOP, np.ones(_DETECT_HOPS) / _DETECT_HOPS, mode="same")
    level_db = 10 * np.log10(np.maximum(mean_square, 1e-12))
    speaking = np.clip((level_db - _GATE_LOW_DB) / (_GATE_HIGH_DB - _GATE_LOW_DB), 0.0, 1.0)
    # Hold: a pause shorter than the hold does not let the music back up.
    hold = max(1, round(_HOLD_SECONDS * SAMPLE_RATE / _HOP))
    padded = np.concatenate([np.zeros(hold - 1), speaking])
    speaking = np.lib.stride_tricks.sliding_window_view(padded, hold).max(axis=1)
    target = -duck.amount_db * speaking
    return _slew(target, -duck.amount_db, duck.attack, duck.release)


def _slew(target: np.ndarray, depth: float, attack: float, release: float) -> np.ndarray:
    """`target` with its falls spread over `release` and its rises begun `attack` earlier.

    Linear in dB: the music goes down by `depth` over `attack` seconds (ending as the
    voice starts) and back up over `release` seconds.
    """
    hop_seconds = _HOP / SAMPLE_RATE
    up = depth * hop_seconds / release if release > 0 else math.inf
    down = depth * hop_seconds / attack if attack > 0 else math.inf
    after = _slew_after(target, up)  # recovering after each voice
    before = _slew_after(target[::-1], down)[::-1]  # the same, backwards in time: ducking ahead of it
    return np.maximum(after, before)


def _slew_after(values: np.ndarray, step: float) -> np.ndarray:
    """out[i] = max over j <= i of values[j] - step × (i - j): every peak decays linearly."""
    if math.isinf(step):
        return values.copy()
    ramp = step * np.arange(values.size)
    return np.maximum.accumulate(values + ramp) - ramp
