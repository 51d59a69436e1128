"""engine.audio.loudness (BS.1770-4 meter), engine.audio.limiter, and the mix normalised to its target.

The meter is held against FFmpeg's own ``ebur128`` filter, run through PyAV's filter
graph on the same signals; the limiter's output is measured by both. Every signal is
generated here from a seeded generator; the end-to-end test renders a small deck with
a quiet music bed and measures the AAC track of the MP4 with ebur128.
"""

from __future__ import annotations

import itertools
import json
import math
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np
import pytest
from pydantic import ValidationError

import engine.audio.limiter as limiter_module
from engine import render
from engine.audio import AudioPlan, AudioSpec, Limiter, LoudnessMeter, LoudnessSpec, MixStats, measure, mix, mux_audio
from engine.audio.loudness import INTERPOLATOR_TAPS, TruePeakMeter, interpolate_4x, matmul_one_thread

RATE = 48_000


# ---------------------------------------------------------------------------------
# Signals, and FFmpeg's measurement of them


def ebur128(signal: np.ndarray) -> tuple[float, float]:
    """FFmpeg's integrated loudness (LUFS) and true peak (dBTP) of a (2, n) 48 kHz signal."""
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="fltp", sample_rate=RATE, layout="stereo", time_base=Fraction(1, RATE))
    meter = graph.add("ebur128", "metadata=1:peak=true")
    sink = graph.add("abuffersink")
    source.link_to(meter)
    meter.link_to(sink)
    graph.configure()
    found: dict[str, str] = {}

    def drain() -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            if "lavfi.r128.I" in frame.metadata:  # the running values, on each frame that completes a 100 ms step
                found.update(frame.metadata)

    signal = np.asarray(signal, np.float32)
    for start in range(0, signal.shape[1], 4800):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(signal[:, start : start + 4800]), format="fltp", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
        graph.push(frame)
        drain()
    graph.push(None)
    drain()
    return float(found["lavfi.r128.I"]), 20 * math.log10(float(found["lavfi.r128.true_peak"]))


def seconds(n: float) -> np.ndarray:
    return np.arange(round(n * RATE)) / RATE


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f spectrum (-3 dB an octave), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    frequency = np.fft.rfftfreq(n, 1 / RATE)
    frequency[0] = frequency[1]
    noise = np.fft.irfft(spectrum / np.sqrt(frequency), n)
    return noise / np.sqrt(np.mean(noise**2))


def speech_like(total: float, rng: np.random.Generator) -> np.ndarray:
    """Syllable-shaped bursts of pink noise: loud phrases, asides 22 dB quieter, silences.

    The silences fall under the absolute gate and the asides under the relative one.
    """
    n = round(total * RATE)
    envelope = np.zeros(n)
    pos = 0
    while pos < n - RATE:
        kind = rng.choice(["phrase", "aside", "silence"], p=[0.5, 0.2, 0.3])
        length = int(rng.uniform(0.4, 1.5) * RATE)
        if kind != "silence":
            syllables = np.abs(np.sin(np.pi * np.arange(length) * rng.uniform(3, 6) / RATE))
            envelope[pos : pos + length] = syllables * (1.0 if kind == "phrase" else 0.08)
        pos += length
    voice = 0.15 * pink(n, rng) * envelope
    return np.vstack([voice, voice])


def _sine(rng) -> np.ndarray:
    wave = 10 ** (-20 / 20) * np.sin(2 * np.pi * 1000 * seconds(10))
    return np.vstack([wave, wave])


def _pink(rng) -> np.ndarray:
    noise = 0.05 * pink(12 * RATE, rng)
    return np.vstack([noise, 0.7 * np.roll(noise, 4801)])


def _hum_and_hiss(rng) -> np.ndarray:
    # The filters' two ends: the high pass (50 Hz) and the shelf (8 kHz).
    t = seconds(8)
    return np.vstack([0.3 * np.sin(2 * np.pi * 50 * t), 0.05 * np.sin(2 * np.pi * 8000 * t)])


SIGNALS = {
    "1 kHz sine at -20 dBFS": _sine,
    "pink noise, channels differing": _pink,
    "speech-like bursts with silence": lambda rng: speech_like(20, rng),
    "50 Hz hum left, 8 kHz right": _hum_and_hiss,
}


def make(name: str) -> np.ndarray:
    return SIGNALS[name](np.random.default_rng(11)).astype(np.float32)


def transients(total: float, rng: np.random.Generator) -> np.ndarray:
    """A bed at about -12 dBFS with 40 loud decaying bursts (1.5–12 kHz), up to ~+10 dBFS."""
    n = round(total * RATE)
    signal = 0.25 * np.sin(2 * np.pi * 220 * seconds(total)) + 0.06 * pink(n, rng)
    for start in rng.integers(0, n - 3000, 40):
        length = int(rng.integers(50, 2500))
        k = np.arange(length)
        burst = np.exp(-k / 300) * np.sin(2 * np.pi * rng.uniform(1500, 12000) * k / RATE + rng.uniform(0, 6))
        signal[start : start + length] += rng.uniform(0.8, 3.0) * burst
    return np.vstack([signal, 0.9 * np.roll(signal, 333)]).astype(np.float32)


def limit(limiter: Limiter, signal: np.ndarray, block: int = 8192) -> np.ndarray:
    parts = [limiter.process(signal[:, start : start + block]) for start in range(0, signal.shape[1], block)]
    return np.concatenate(parts + [limiter.flush()], axis=1)


def write_wav(path: Path, planes: np.ndarray) -> Path:
    """(channels, n) floats as a 32-bit float wav at 48 kHz."""
    planes = np.ascontiguousarray(np.atleast_2d(planes), np.float32)
    layout = "mono" if planes.shape[0] == 1 else "stereo"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=RATE)
        stream.layout = layout
        for start in range(0, planes.shape[1], 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(planes[:, start : start + 4096]), format="fltp", layout=layout
            )
            frame.sample_rate, frame.pts = RATE, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def music_bed(total: float, lufs: float, rng: np.random.Generator, beats: bool = False) -> np.ndarray:
    """A chord over pink noise (and a drum hit every half second), scaled so FFmpeg's ebur128 reads `lufs`.

    The hits peak about 15 dB over the bed's loudness, so turned up to -14 LUFS they
    reach about +1 dBTP and the limiter has work.
    """
    t = seconds(total)
    chord = sum(np.sin(2 * np.pi * f * t + i) for i, f in enumerate((220.0, 277.2, 329.6, 440.0)))
    bed = 0.2 * chord / 4 + 0.1 * pink(t.size, rng)
    if beats:
        k = np.arange(RATE // 5)
        attack = np.minimum(1.0, k / (0.002 * RATE))  # 2 ms
        thump = np.sin(2 * np.pi * 70 * k / RATE) + 0.1 * rng.standard_normal(k.size)
        hit = attack * np.exp(-k / (0.04 * RATE)) * thump
        for start in range(RATE // 4, t.size - hit.size, RATE // 2):
            bed[start : start + hit.size] += 0.5 * hit
    bed = np.vstack([bed, 0.9 * np.roll(bed, 2400)])
    return (bed * 10 ** ((lufs - ebur128(bed)[0]) / 20)).astype(np.float32)


def collect(plan: AudioPlan, total: float, stats: MixStats | None = None) -> np.ndarray:
    return np.concatenate(list(mix(plan, total, stats)), axis=1)


def bed_spec(folder: Path, **data) -> AudioSpec:
    return AudioSpec.model_validate({"music": "bed.wav", "duck": False, **data}, context={"base_dir": folder})


# ---------------------------------------------------------------------------------
# The meter


@pytest.mark.parametrize("name", SIGNALS)
def test_meter_agrees_with_ffmpeg_ebur128(name):
    signal = make(name)
    ours, our_peak = measure(signal)
    theirs, their_peak = ebur128(signal)
    assert ours == pytest.approx(theirs, abs=0.1), f"integrated: ours {ours:.3f}, ebur128 {theirs:.3f} LUFS"
    # Different 4× interpolators (the standard's 48 taps; FFmpeg resamples to 192 kHz
    # with its own filter), which part on broadband signals by ~0.15 dB.
    assert our_peak == pytest.approx(their_peak, abs=0.2), f"true peak: ours {our_peak:.3f}, ebur128 {their_peak:.3f}"


def test_a_full_scale_997_hz_sine_in_one_channel_reads_minus_3_01_lkfs():
    # The calibration stated in BS.1770-4 §2.
    wave = np.sin(2 * np.pi * 997 * seconds(5))
    lufs, peak = measure(np.vstack([wave, np.zeros_like(wave)]))
    assert lufs == pytest.approx(-3.01, abs=0.01)
    assert peak == pytest.approx(0.0, abs=0.05)


def test_k_weighting_is_the_standards_biquads_run_sample_by_sample():
    """The block scan against the textbook recursion, with a DC offset (the high pass's worst case)."""
    rng = np.random.default_rng(2)
    signal = 0.2 * rng.standard_normal((2, RATE)) + 0.3

    def biquad(x, b, a):
        y, x1, x2, y1, y2 = np.empty_like(x), 0.0, 0.0, 0.0, 0.0
        for i, value in enumerate(x):
            y[i] = b[0] * value + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
            x2, x1, y2, y1 = x1, value, y1, y[i]
        return y

    shelf = ((1.53512485958697, -2.69169618940638, 1.19839281085285), (1.0, -1.69065929318241, 0.73248077421585))
    highpass = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))
    weighted = np.vstack([biquad(biquad(channel, *shelf), *highpass) for channel in signal])
    power = np.square(weighted).sum(axis=0).reshape(10, RATE // 10).sum(axis=1)
    blocks = np.lib.stride_tricks.sliding_window_view(power, 4).sum(axis=1) / (0.4 * RATE)
    meter = LoudnessMeter()
    for start in range(0, RATE, 5000):
        meter.add(signal[:, start : start + 5000])
    np.testing.assert_allclose(meter.block_loudness(), -0.691 + 10 * np.log10(blocks), atol=1e-9)


def test_gates_drop_silence_and_quiet_asides():
    rng = np.random.default_rng(4)
    phrase = 0.1 * pink(2 * RATE, rng)

    def lufs(gap: np.ndarray) -> float:
        signal = np.concatenate([phrase, gap, phrase, gap, phrase])
        return measure(np.vstack([signal, signal]))[0]

    # Silence is under the absolute gate: how much of it there is does not matter.
    with_silence = lufs(np.zeros(2 * RATE))
    assert lufs(np.zeros(10 * RATE)) == pytest.approx(with_silence, abs=1e-9)
    ungated = -0.691 + 10 * math.log10(2 * np.mean(np.square(np.concatenate([phrase, np.zeros(2 * RATE)] * 2))))
    assert with_silence - ungated > 1.5
    # Asides 26 and 40 dB under the phrases are under the relative gate: as if silent.
    assert lufs(0.05 * phrase) == pytest.approx(with_silence, abs=0.05)
    assert lufs(0.01 * phrase) == pytest.approx(with_silence, abs=0.01)
    # Nothing over the gates at all.
    assert measure(np.zeros((2, RATE)))[0] == -math.inf


def test_meter_reads_the_same_whatever_the_block_size():
    signal = make("speech-like bursts with silence")[:, : 8 * RATE]
    whole = LoudnessMeter()
    whole.add(signal)
    for block in (1000, 4801, 8192):
        assert measure(signal, block) == pytest.approx((whole.integrated_lufs, whole.true_peak_db), abs=1e-9)
    # One energy per 100 ms is all it keeps: a 400 ms block starts every 100 ms.
    assert whole.block_loudness().size == signal.shape[1] // 4800 - 3


def _cascaded_biquads_lufs(signal: np.ndarray, block: int) -> tuple[float, np.ndarray]:
    """Integrated LUFS and block loudness with K-weighting as the meter ran it before its state-space form.

    Each biquad is its 3-tap numerator and its two complex poles, each pole a one-pole
    recursion solved per block by a log-depth scan; state carried across blocks.
    """
    b_a = [
        ((1.53512485958697, -2.69169618940638, 1.19839281085285), (1.0, -1.69065929318241, 0.73248077421585)),
        ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621)),
    ]
    stages = [
        {"b": np.asarray(b), "poles": np.roots(a), "inputs": np.zeros((2, 2)), "lasts": [np.zeros(2, complex)] * 2}
        for b, a in b_a
    ]

    def run(stage, x):
        padded = np.concatenate([stage["inputs"], x], axis=1)
        n = x.shape[1]
        y = stage["b"][0] * padded[:, 2:] + stage["b"][1] * padded[:, 1 : n + 1] + stage["b"][2] * padded[:, :n]
        stage["inputs"] = padded[:, -2:]
        for i, pole in enumerate(stage["poles"]):
            y = y.astype(complex)
            y[:, 0] += pole * stage["lasts"][i]
            step, power = 1, pole
            while step < n:
                y[:, step:] += power * y[:, :-step]
                step, power = 2 * step, power * power
            stage["lasts"][i] = y[:, -1].copy()
        return y.real

    powers = []
    for start in range(0, signal.shape[1], block):
        y = np.asarray(signal[:, start : start + block], np.float64)
        for stage in stages:
            y = run(stage, y)
        powers.append(np.square(y).sum(axis=0))
    power = np.concatenate(powers)
    segments = power[: power.size // 4800 * 4800].reshape(-1, 4800).sum(axis=1)
    energy = np.lib.stride_tricks.sliding_window_view(segments, 4).sum(axis=1) / (0.4 * RATE)
    with np.errstate(divide="ignore"):
        lufs = -0.691 + 10 * np.log10(energy)
        loud = energy[lufs > -70]
        kept = loud[-0.691 + 10 * np.log10(loud) > -0.691 + 10 * np.log10(loud.mean()) - 10]
        return -0.691 + 10 * math.log10(kept.mean()), lufs


@pytest.mark.parametrize("name", ["noise", "tones", "transients", *SIGNALS])
def test_state_space_k_weighting_reads_as_the_cascaded_biquads(name):
    rng = np.random.default_rng(21)
    if name == "noise":
        signal = 0.1 * rng.standard_normal((2, 6 * RATE)) + 0.02  # with DC: the high pass's worst case
    elif name == "tones":
        t = seconds(6)
        signal = np.vstack([0.5 * np.sin(2 * np.pi * 997 * t), 0.2 * np.sin(2 * np.pi * 40 * t + 1)])
    elif name == "transients":
        signal = transients(6.0, rng)
    else:
        signal = make(name)[:, : 8 * RATE]
    expected, expected_blocks = _cascaded_biquads_lufs(signal, 8192)
    # Blocks of every kind of length: shorter than the 64-sample block, exact multiples, ragged.
    sizes = itertools.cycle([1, 63, 64, 65, 1024, 997, 20000])
    meter, start = LoudnessMeter(), 0
    while start < signal.shape[1]:
        size = next(sizes)
        meter.add(signal[:, start : start + size])
        start += size
    assert meter.integrated_lufs == pytest.approx(expected, rel=1e-9, abs=0)
    # Blocks the gates keep agree to 1e-9; those under the absolute gate (filter tails in
    # silence, down to -1 000 LUFS and less, where rounding is all there is) stay under it.
    blocks = meter.block_loudness()
    audible = expected_blocks > -70
    np.testing.assert_allclose(blocks[audible], expected_blocks[audible], rtol=1e-9, atol=0)
    assert np.all(blocks[~audible] <= -70)


def test_true_peak_equals_every_window_interpolated():
    """Skipping the windows that cannot pass the peak so far leaves the same peak, bit for bit."""
    rng = np.random.default_rng(22)
    signals = [
        transients(2.0, rng),
        make("pink noise, channels differing")[:, : 2 * RATE],
        make("1 kHz sine at -20 dBFS"),
    ]
    t = seconds(1)
    signals.append(np.vstack([0.7 * np.sin(2 * np.pi * 11_997 * t + 0.3)] * 2).astype(np.float32))  # inter-sample peaks
    for signal in signals:
        padded = np.concatenate([np.zeros((2, INTERPOLATOR_TAPS - 1)), signal.astype(np.float64)], axis=1)
        expected = max(float(np.abs(signal).max()), float(np.abs(interpolate_4x(padded)).max()))
        for block in (100, 1024, 8192, signal.shape[1]):
            meter = TruePeakMeter()
            for start in range(0, signal.shape[1], block):
                meter.add(np.asarray(signal[:, start : start + block], np.float64))
            assert meter.peak == expected


def test_matmul_one_thread_is_the_product_in_row_slices():
    rng = np.random.default_rng(23)
    a, b = rng.standard_normal((5000, 64)), rng.standard_normal((64, 68))
    np.testing.assert_allclose(matmul_one_thread(a, b), a @ b, rtol=1e-12, atol=1e-12)
    assert matmul_one_thread(a[:3], b).shape == (3, 68)


# ---------------------------------------------------------------------------------
# The limiter


def test_limiter_holds_loud_transients_under_the_ceiling():
    signal = transients(8.0, np.random.default_rng(3))
    limiter = Limiter(-1.0)
    out = limit(limiter, signal)
    assert out.shape == signal.shape and out.dtype == np.float32
    assert measure(signal)[1] > 9.0  # the transients: about +10 dBTP in
    sample_peak = 20 * math.log10(np.abs(out).max())
    true_peak = measure(out)[1]
    ffmpeg_peak = ebur128(out)[1]
    assert sample_peak <= -1.0 + 1e-5
    assert true_peak <= -1.0 + 0.1, f"true peak {true_peak:.3f} dBTP"
    assert ffmpeg_peak <= -1.0 + 0.1, f"ebur128 true peak {ffmpeg_peak:.3f} dBTP"
    assert 0 < limiter.reduced_samples < signal.shape[1]


def test_limiter_passes_a_signal_under_the_ceiling_bit_exact():
    signal = transients(3.0, np.random.default_rng(5))
    signal *= np.float32(10 ** (-3 / 20) / np.abs(signal).max())  # sample peak -3 dBFS
    assert measure(signal)[1] < -1.0
    limiter = Limiter(-1.0)
    np.testing.assert_array_equal(limit(limiter, signal, block=5000), signal)  # also: not shifted in time
    assert limiter.reduced_samples == 0


def test_limiter_output_does_not_depend_on_the_block_size():
    signal = transients(1.0, np.random.default_rng(6))
    reference = limit(Limiter(-1.0), signal, block=signal.shape[1])
    for block in (61, 997, 8192):
        np.testing.assert_allclose(limit(Limiter(-1.0), signal, block), reference, rtol=0, atol=1e-6)


def test_limiter_output_is_the_same_as_with_every_interpolated_value_computed(monkeypatch):
    """_peaks computes values only where they could pass the ceiling: the output is bit for bit the same."""
    width = 32

    def every_value(x, ceiling):
        windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=-1)
        values = np.abs(windows.reshape(-1, width) @ limiter_module._INTERPOLATORS).reshape(*windows.shape[:2], -1)
        return np.maximum(np.abs(x[:, 15 : x.shape[1] - 16]), values.max(axis=2)).max(axis=0)

    rng = np.random.default_rng(24)
    t = seconds(1)
    noise = rng.standard_normal((2, RATE))
    signals = [
        transients(2.0, rng),
        (noise * (10 ** (4 / 20) / np.abs(noise).max())).astype(np.float32),  # over the ceiling everywhere
        np.vstack([1.05 * np.sin(2 * np.pi * 11_003 * t)] * 2).astype(np.float32),  # inter-sample peaks
    ]
    for signal in signals:
        fast = limit(Limiter(-1.0), signal)
        with monkeypatch.context() as patched:
            patched.setattr(limiter_module, "_peaks", every_value)
            reference = limit(Limiter(-1.0), signal)
        np.testing.assert_array_equal(fast, reference)


def test_limiter_turns_down_ahead_of_a_peak_and_recovers_smoothly():
    # A steady tone, then a burst 6 dB over the ceiling for 50 ms, then the tone again.
    tone = 0.3 * np.sin(2 * np.pi * 440 * seconds(1.2))
    burst = slice(RATE // 2, RATE // 2 + RATE // 20)
    signal = tone.copy()
    signal[burst] *= 10 ** (5 / 20) / 0.3  # 0.3 → +5 dBFS
    signal = np.vstack([signal, signal]).astype(np.float32)
    out = limit(Limiter(-1.0), signal)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(np.abs(signal[0]) > 0.05, out[0] / signal[0], np.nan)
    start = burst.start
    lookahead = round(0.005 * RATE)
    assert np.nanmin(gain[: start - lookahead - 20]) == 1.0  # untouched until the look-ahead
    assert np.nanmax(gain[start - 20 : start]) < 0.9  # already down when the burst arrives
    assert np.abs(out).max() <= 10 ** (-1 / 20) * (1 + 1e-6)
    # 6 dB down once every look-ahead window holds a peak of the burst, and while it lasts.
    assert np.nanmax(gain[start + lookahead : burst.stop]) <= 10 ** (-6 / 20) * 1.001
    # Released over a 60 ms time constant: still down 50 ms on, recovered 0.45 s on, no step between.
    after = gain[burst.stop :]
    assert np.nanmax(after[round(0.045 * RATE) : round(0.055 * RATE)]) < 0.85
    assert np.nanmin(after[round(0.45 * RATE) :]) > 0.999
    assert np.nanmax(np.abs(np.diff(after[: round(0.45 * RATE)]))) < 2e-3


# ---------------------------------------------------------------------------------
# Loudness in the deck and in the mix


def test_loudness_key_in_the_deck(tmp_path):
    assert bed_spec(tmp_path).loudness == LoudnessSpec(target_lufs=-14, true_peak_db=-1)
    assert bed_spec(tmp_path, loudness=False).loudness is None
    assert bed_spec(tmp_path, loudness=True).loudness == LoudnessSpec()
    assert bed_spec(tmp_path, loudness={"target_lufs": -16}).loudness == LoudnessSpec(target_lufs=-16)
    with pytest.raises(ValidationError, match="did you mean 'target_lufs'"):
        bed_spec(tmp_path, loudness={"target": -16})
    with pytest.raises(ValidationError, match="less than or equal to 0"):
        bed_spec(tmp_path, loudness={"true_peak_db": 1})


def test_the_plan_takes_the_decks_loudness_unless_given(tmp_path):
    assert AudioPlan(music=bed_spec(tmp_path, loudness={"target_lufs": -16})).loudness.target_lufs == -16
    assert AudioPlan(music=bed_spec(tmp_path, loudness=False)).loudness is None
    assert AudioPlan().loudness == LoudnessSpec()  # voiceovers only: the defaults
    assert AudioPlan(music=bed_spec(tmp_path), loudness=None).loudness is None


@pytest.fixture(scope="module")
def quiet_bed(tmp_path_factory) -> Path:
    """A 6 s music bed at -30 LUFS (by ebur128)."""
    folder = tmp_path_factory.mktemp("loudness")
    write_wav(folder / "bed.wav", music_bed(6.0, -30.0, np.random.default_rng(8)))
    return folder


def test_a_quiet_mix_is_turned_up_to_minus_14_lufs(quiet_bed):
    stats = MixStats()
    out = collect(AudioPlan(music=bed_spec(quiet_bed)), 6.0, stats)
    assert stats.mix_lufs == pytest.approx(-30.0, abs=0.1)
    assert stats.gain_db == pytest.approx(16.0, abs=0.1)
    assert 20 * math.log10(stats.true_peak) <= -1.0 + 0.01
    lufs, true_peak = ebur128(out)
    assert lufs == pytest.approx(-14.0, abs=0.2) and stats.lufs == pytest.approx(lufs, abs=0.1)
    assert true_peak <= -1.0 + 0.1


def test_the_target_is_a_parameter_and_can_be_turned_off(quiet_bed):
    stats = MixStats()
    target = {"target_lufs": -20, "true_peak_db": -3}
    out = collect(AudioPlan(music=bed_spec(quiet_bed, loudness=target)), 6.0, stats)
    lufs, true_peak = ebur128(out)
    assert lufs == pytest.approx(-20.0, abs=0.2) and true_peak <= -3.0 + 0.1
    stats = MixStats()
    out = collect(AudioPlan(music=bed_spec(quiet_bed, loudness=False)), 6.0, stats)
    assert ebur128(out)[0] == pytest.approx(-30.0, abs=0.1) and stats.gain_db == 0.0


def test_normalising_memory_stays_flat_with_length(quiet_bed):
    """Peak traced memory of an 8 s and a 24 s normalised mix: holding the mix would differ by 6 MB."""

    def peak_memory(total: float) -> int:
        tracemalloc.start()
        try:
            for _ in mix(AudioPlan(music=bed_spec(quiet_bed)), total):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak_memory(8.0), peak_memory(24.0)
    assert long - short < 2**20, f"{short / 2**20:.1f} MB for 8 s, {long / 2**20:.1f} MB for 24 s"


def write_video(path: Path, total: float) -> Path:
    """A small grey H.264 clip at 30 fps."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for index in range(round(total * 30)):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 128, np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_mux_audio_reports_the_tracks_loudness(quiet_bed, tmp_path):
    video = write_video(tmp_path / "clip.mp4", 3.0)
    stats = mux_audio(video, tmp_path / "out.mp4", AudioPlan(music=bed_spec(quiet_bed)))
    # The AAC track as decoded, which ebur128 reads alike.
    with av.open(str(tmp_path / "out.mp4")) as container:
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    lufs, true_peak = ebur128(decoded)
    assert stats.lufs == pytest.approx(lufs, abs=0.1) and stats.lufs == pytest.approx(-14.0, abs=0.5)
    assert stats.true_peak_db == pytest.approx(true_peak, abs=0.2) and stats.true_peak_db <= -1.0
    assert stats.loudness_gain_db == pytest.approx(16.0, abs=0.1)


# ---------------------------------------------------------------------------------
# End to end: a rendered deck's AAC track


def test_a_rendered_deck_plays_at_minus_14_lufs_and_under_minus_1_dbtp(tmp_path):
    write_wav(tmp_path / "beats.wav", music_bed(6.0, -30.0, np.random.default_rng(10), beats=True))
    deck = {
        "audio": {"music": "beats.wav"},  # -30 LUFS
        "defaults": {"transition": {"name": "fade", "duration": 0.4}},
        "slides": [{"kind": "title", "title": f"Slide {i}", "duration": 2.0} for i in range(1, 4)],
    }
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    report = render(tmp_path / "deck.json", tmp_path / "out.mp4", platform="160x90@30", quality="draft")
    assert report.audio["limited_samples"] > 0  # turned up 16 dB, the drum hits reach the limiter
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    lufs, true_peak = ebur128(decoded)
    assert lufs == pytest.approx(-14.0, abs=1.0), f"{lufs:.2f} LUFS"
    assert true_peak <= -1.0 + 0.2, f"{true_peak:.2f} dBTP after AAC"
