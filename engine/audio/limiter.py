"""A look-ahead true-peak limiter for 48 kHz blocks: the last stage of the mix.

    limiter = Limiter(ceiling_db=-1.0)
    for block in blocks:                 # (channels, n) floats
        yield limiter.process(block)     # delayed by `limiter.delay` samples: shorter at first
    yield limiter.flush()                # the rest; as many samples out as went in

How the gain is found, per input sample n (all vectorised over a block):

1. peak: the largest of |x[n]| and the values interpolated between x[n] and x[n + 1]
   by two interpolators, over all channels: 8× oversampling (a Kaiser-windowed sinc
   over 32 samples: within 0.07 dB of the true peak of a tone up to 22 kHz), and
   BS.1770-4's 4×, which the meter reports with; then the largest within ±`SPREAD`
   samples, since each interpolated value is made from the 32 samples around it and
   every one of them must be turned down;
2. needed: the reduction (dB) that brings that peak to the ceiling, 0 below it;
3. hold: the largest needed reduction over the next `lookahead` (5 ms);
4. release: held, or the previous reduction decaying exponentially (60 ms time
   constant), whichever is more: an instant attack and a smooth release;
5. gain: the linear gain averaged over the last `lookahead` samples and this one.

Every gain in the average that ends at a peak is at most that peak's gain (step 3
holds it over the whole window), so the average is too: the gain reaches what the
peak needs, ramping down over the look-ahead, by the time the peak arrives. Sample
peaks therefore stay at or under the ceiling exactly, and true peaks to within the
interpolator's error and that of a gain changing across its 32 taps. A signal that
never crosses the ceiling is multiplied by exactly 1.0 (bit-exact).

Why two interpolators: BS.1770-4's four points per sample can sit ~0.2 dB under a
peak near 12 kHz (points 1/16 of its period apart) and its 48 taps lose more towards 20 kHz, while its ripple reads a
10 kHz tone ~0.3 dB over. On the transients of tests/test_loudness.py, limited by
its reading alone the output read -1.00 dBTP by it but -0.75 in FFmpeg's ebur128;
by the 8× one alone, -1.00 in ebur128 but -0.83 by the meter; by both, -1.00 in each.
"""

from __future__ import annotations

import math

import numpy as np

from .loudness import (
    INTERPOLATOR_4X,
    INTERPOLATOR_LAG,
    INTERPOLATOR_TAPS,
    RATE,
    largest,
    matmul_one_thread,
    sliding_max,
    windows_at,
)

__all__ = ["LOOKAHEAD_SECONDS", "RELEASE_SECONDS", "Limiter"]

LOOKAHEAD_SECONDS = 0.005
RELEASE_SECONDS = 0.06
# The detector's interpolator: values at n + k/8 (k = 1 … 7) from x[n - 15] … x[n + 16],
# a Kaiser-windowed sinc (beta 9, as FFmpeg's resampler).
_UP, _BEHIND, _AHEAD = 8, 15, 16
_KAISER_BETA = 9.0
# An interpolated value depends on the samples within this many of it.
SPREAD = _AHEAD


def _interpolators() -> np.ndarray:
    """(32, 11): a window x[n - 15 … n + 16] @ it = the values at n + 1/8 … n + 7/8, then BS.1770-4's four."""
    taps = np.arange(-_BEHIND, _AHEAD + 1)
    columns = []
    for k in range(1, _UP):
        t = taps - k / _UP
        window = np.i0(_KAISER_BETA * np.sqrt(np.clip(1 - (t / _AHEAD) ** 2, 0, None))) / np.i0(_KAISER_BETA)
        h = np.sinc(t) * window
        columns.append(h / h.sum())  # unit gain at DC
    # BS.1770-4's row j reads x[j … j + 11] and lands between x[j + LAG - 1] and x[j + LAG].
    first = _BEHIND - (INTERPOLATOR_LAG - 1)
    standard = np.zeros((taps.size, INTERPOLATOR_4X.shape[1]))
    standard[first : first + INTERPOLATOR_TAPS] = INTERPOLATOR_4X
    return np.concatenate([np.array(columns).T, standard], axis=1)


_INTERPOLATORS = _interpolators()
# No interpolated value exceeds this times the largest |sample| of its window.
_OVERSHOOT_BOUND = float(np.abs(_INTERPOLATORS).sum(axis=0).max())
# No interpolated value exceeds its window's largest |sample| per tap @ this (the largest |tap| of any column).
_TAP_BOUND = np.abs(_INTERPOLATORS).max(axis=1)
# Room for rounding in the bounds: a window is skipped only when its bound is this far under the ceiling.
_ROUNDING = 1 + 1e-9
# Reductions this small (dB) are let go (a gain of 0.99989): the release ends instead of fading forever.
_NEGLIGIBLE_DB = 1e-3
# Samples limited per step at most (the release is computed with exp(±k / 2880) over a step).
_CHUNK = 1 << 16


class Limiter:
    """Keeps (channels, n) 48 kHz blocks at or under `ceiling_db` dBTP; see the module doc."""

    def __init__(
        self,
        ceiling_db: float = -1.0,
        *,
        channels: int = 2,
        lookahead: float = LOOKAHEAD_SECONDS,
        release: float = RELEASE_SECONDS,
        rate: int = RATE,
    ) -> None:
        if not (math.isfinite(ceiling_db) and lookahead > 0 and release > 0):
            raise ValueError(f"bad limiter settings: ceiling {ceiling_db} dB, lookahead {lookahead}, release {release}")
        self.ceiling = 10 ** (ceiling_db / 20)
        self.lookahead = max(1, round(lookahead * rate))
        self._release_per_sample = math.exp(-1 / (release * rate))
        # Samples of context kept before the next one out: the interpolator's history, plus SPREAD.
        self._past = _BEHIND + SPREAD
        # Input not yet out, after its context; silence before the start.
        self._x = np.zeros((channels, self._past))
        self._reduction_db = 0.0  # at the last sample out
        self._gains = np.ones(self.lookahead)  # the last `lookahead` gains out
        self.reduced_samples = 0  # samples out with a gain under 1

    @property
    def delay(self) -> int:
        """Samples held back: the interpolator's look-ahead, SPREAD and the look-ahead window."""
        return _AHEAD + SPREAD + self.lookahead

    def process(self, block: np.ndarray) -> np.ndarray:
        """Limit `block`; returns float32 samples up to `delay` behind the input so far."""
        block = np.asarray(block, np.float64)
        outs = []
        for start in range(0, block.shape[1], _CHUNK):  # bounded, so the release's exponents stay small
            self._x = np.concatenate([self._x, block[:, start : start + _CHUNK]], axis=1)
            outs.append(self._run())
        return outs[0] if len(outs) == 1 else np.concatenate(outs or [self._run()], axis=1)

    def flush(self) -> np.ndarray:
        """The samples still held back (the signal continues in silence)."""
        self._x = np.concatenate([self._x, np.zeros((self._x.shape[0], self.delay))], axis=1)
        out = self._run()
        self._x = self._x[:, :0]
        return out

    def _run(self) -> np.ndarray:
        x, past, look = self._x, self._past, self.lookahead
        count = x.shape[1] - past - self.delay
        if count <= 0:
            return np.zeros((x.shape[0], 0), np.float32)
        # 1. peak per sample, then the largest within ±SPREAD: `spread[k]` is sample past + k.
        spread = sliding_max(_peaks(x, self.ceiling), 2 * SPREAD + 1)
        # 2. and 3. needed reduction, held over the look-ahead: `held[k]` is sample past + k, k < count.
        with np.errstate(divide="ignore"):
            needed = np.maximum(0.0, 20 * np.log10(spread[: count + look] / self.ceiling))
        held = sliding_max(needed, look + 1)
        # 4. release: r[k] = max(held[k], r[k-1]·d) = max over j <= k of held[j]·d^(k-j), and the
        # reduction carried in, decaying. In logs: (log held[j] - j·log d) accumulated by max.
        k = np.arange(count)
        log_d = math.log(self._release_per_sample)
        carried = self._reduction_db * np.exp(log_d * (k + 1))
        if held.any():
            with np.errstate(divide="ignore"):
                decayed = np.exp(np.maximum.accumulate(np.log(held) - k * log_d) + k * log_d)
            reduction = np.maximum(carried, decayed)
        else:
            reduction = carried
        reduction[reduction < _NEGLIGIBLE_DB] = 0.0
        # 5. gain averaged over the look-ahead window: 1 - mean(1 - g) is exactly 1 where nothing is reduced.
        cut = np.concatenate([1.0 - self._gains, 1.0 - 10 ** (-reduction / 20)])
        sums = np.concatenate([[0.0], np.cumsum(cut)])
        gain = 1.0 - (sums[look + 1 :] - sums[:count]) / (look + 1)
        out = (x[:, past : past + count] * gain).astype(np.float32)
        self._reduction_db = float(reduction[-1])
        self._gains = 1.0 - cut[-look:]
        self.reduced_samples += int(np.count_nonzero(gain < 1.0))
        self._x = x[:, count:]
        return out


def _peaks(x: np.ndarray, ceiling: float) -> np.ndarray:
    """Per sample i from _BEHIND on: |x[i]| and the values between x[i] and x[i + 1], largest of all channels.

    Both interpolators count: the 8× one for accuracy, BS.1770-4's 4× one because it is
    what the meter reports (its ripple reads some high tones up to ~0.3 dB over). Only
    what is over `ceiling` matters to the gain, so the values are computed only where
    they could be: a value is at most Σ_t |h[t]|·|x[t]| over its window, under
    `_TAP_BOUND` · (the largest |x| of all channels, sample by sample) correlated over
    the window, itself under `_OVERSHOOT_BOUND` × the window's largest |sample|. The
    first test is a few element-wise maxima; the second, one 32-tap correlation; the
    values, one product of the windows both let through.
    Elsewhere the peak is |x[i]| (at or under what the values would give, and both
    under the ceiling), so the gains come out the same as with every value computed.
    """
    width = _BEHIND + 1 + _AHEAD
    samples = largest(np.abs(x))
    peak = samples[_BEHIND : samples.size - _AHEAD].copy()
    near = np.flatnonzero(sliding_max(samples, width) * (_OVERSHOOT_BOUND * _ROUNDING) > ceiling)
    if near.size:
        bound = np.convolve(samples, _TAP_BOUND[::-1], "valid")  # np.convolve: plain C, one thread
        near = near[bound[near] * _ROUNDING > ceiling]
    if near.size:
        windows = windows_at(x, near, width)
        values = np.abs(matmul_one_thread(windows.reshape(-1, width), _INTERPOLATORS)).reshape(*windows.shape[:2], -1)
        peak[near] = np.maximum(peak[near], largest(values))
    return peak
