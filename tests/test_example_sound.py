"""The example deck's generated sound: a music bed that loops cleanly, and its voiceover."""

import importlib.util
from pathlib import Path

import numpy as np

import engine

EXAMPLES = Path(__file__).parent.parent / "examples"


def _make_sound():
    spec = importlib.util.spec_from_file_location("make_sound", EXAMPLES / "make_sound.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_music_bed_is_eight_bars_that_loop_without_a_click():
    sound = _make_sound()
    audio = sound.music()
    assert audio.shape == (2, int(sound.RATE * 20))  # 8 bars of 4 beats at 96 bpm
    assert 0.5 < np.abs(audio).max() < 1.0  # loud enough, never clipping
    # Pads and bass fade in and out within each bar, so the loop's seam is near silence.
    assert np.abs(audio[:, :48]).max() < 0.02 and np.abs(audio[:, -48:]).max() < 0.05
    # Energy sits on the chords' notes: C major's fundamentals dominate the first bar.
    spectrum = np.abs(np.fft.rfft(audio[0, : sound.RATE * 2]))
    freqs = np.fft.rfftfreq(sound.RATE * 2, 1 / sound.RATE)
    peak = freqs[np.argmax(spectrum)]
    assert min(abs(peak - sound._hz(n + k)) for n in (60, 64, 67, 48) for k in (-12, 0, 12, 24)) < 3


def test_the_example_deck_names_its_generated_sound():
    deck = engine.load_deck(EXAMPLES / "meal-plan.json")  # fails if make_sound.py has not run
    assert deck.audio.music.name == "music.m4a"
    assert deck.slides[1].voiceover.file.name == "voiceover.wav"
