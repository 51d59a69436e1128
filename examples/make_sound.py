"""Make the example deck's sound: a music bed synthesised here, and a voiceover from espeak-ng.

- examples/assets/music.m4a: an 8-bar loop (C–G–Am–F at 96 bpm, 20 s): soft pads of
  detuned sines with slow attacks, a plucked arpeggio with decaying harmonics, and a
  low bass note per bar. Deterministic, nothing downloaded; AAC through PyAV.
- examples/assets/voiceover.wav: one sentence spoken by espeak-ng (Debian's package,
  installed by scripts/install-system-deps.sh). Where espeak-ng is missing, a short
  two-note chime stands in, and a line says so.

Both are generated (not committed); `make setup` runs this. Run from anywhere:

    python examples/make_sound.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

RATE = 48_000
BPM = 96
ASSETS = Path(__file__).resolve().parent / "assets"
MUSIC = ASSETS / "music.m4a"
VOICEOVER = ASSETS / "voiceover.wav"
LINE = "Monday starts light: oats, a big salad, and salmon for dinner."

# C major, G major, A minor, F major: root position triads as MIDI notes, twice over.
CHORDS = [(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)] * 2


def _hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _envelope(n: int, attack: float, release: float) -> np.ndarray:
    t = np.arange(n) / RATE
    rise = np.clip(t / attack, 0, 1)
    fall = np.clip((n / RATE - t) / release, 0, 1)
    return rise * fall


def music() -> np.ndarray:
    """The loop as float stereo, −1..1."""
    bar = int(RATE * 60 / BPM * 4)
    out = np.zeros((2, bar * len(CHORDS)))
    t = np.arange(bar) / RATE
    for index, chord in enumerate(CHORDS):
        start = index * bar
        # Pad: each note as two slightly detuned sines, one per side, for width.
        pad = np.zeros((2, bar))
        for note in chord:
            for side, detune in ((0, -0.06), (1, 0.06)):
                pad[side] += np.sin(2 * np.pi * _hz(note + detune) * t)
        pad *= 0.06 * _envelope(bar, 0.6, 0.8)
        # Arpeggio: eighth notes up and down the chord an octave higher, plucked.
        eighth = bar // 8
        arp = np.zeros(bar)
        pattern = [chord[0], chord[1], chord[2], chord[1] + 12, chord[2], chord[1], chord[0] + 12, chord[2]]
        tt = np.arange(eighth) / RATE
        for step, note in enumerate(pattern):
            f = _hz(note + 12)
            tone = np.sin(2 * np.pi * f * tt) + 0.3 * np.sin(4 * np.pi * f * tt) + 0.1 * np.sin(6 * np.pi * f * tt)
            pluck = np.minimum(tt / 0.005, 1) * np.exp(-tt * 9)  # 5 ms attack: no click
            arp[step * eighth : (step + 1) * eighth] += tone * pluck * 0.09
        # Bass: the root two octaves down, a soft sine per bar.
        bass = np.sin(2 * np.pi * _hz(chord[0] - 24) * t) * 0.16 * _envelope(bar, 0.02, 1.2)
        out[:, start : start + bar] += pad + arp * np.array([[0.8], [1.0]]) + bass
    return out * (0.8 / np.abs(out).max())  # the deck's loudness normalisation sets the level


def write_music(path: Path) -> None:
    import av

    audio = music().astype(np.float32)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=RATE)
        stream.layout, stream.bit_rate = "stereo", 128_000
        block = 1024
        for offset in range(0, audio.shape[1], block):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio[:, offset : offset + block]), format="fltp", layout="stereo"
            )
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_voiceover(path: Path) -> str:
    """The spoken line, or a chime where espeak-ng is missing; which it was."""
    espeak = shutil.which("espeak-ng")
    if espeak:
        subprocess.run([espeak, "-v", "en-gb", "-s", "150", "-w", str(path), LINE], check=True, capture_output=True)
        return "espeak-ng"
    import wave

    t = np.arange(int(RATE * 2.0)) / RATE
    chime = sum(np.sin(2 * np.pi * f * t) * np.exp(-(t - d).clip(0) * 3) * (t >= d) for f, d in ((880, 0), (1320, 0.4)))
    samples = (chime / np.abs(chime).max() * 0.5 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return "a chime (espeak-ng is not installed)"


def main() -> int:
    ASSETS.mkdir(exist_ok=True)
    write_music(MUSIC)
    source = write_voiceover(VOICEOVER)
    print(
        f"{MUSIC.relative_to(ASSETS.parent.parent)}: {len(CHORDS)} bars at {BPM} bpm; "
        f"{VOICEOVER.relative_to(ASSETS.parent.parent)}: {source}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
