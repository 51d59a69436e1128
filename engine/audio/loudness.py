"""ITU-R BS.1770-4 loudness and true peak of a 48 kHz stream, in numpy, fed block by block.

    meter = LoudnessMeter()
    for block in blocks:              # (channels, n) floats at 48 kHz
        meter.add(block)
    meter.integrated_lufs             # -inf when no 400 ms block gets past the gates
    meter.true_peak_db                # dBTP; -inf for silence

**K-weighting** is the standard's two biquads for 48 kHz (Table 1: a high shelf, then
the RLB high pass), run as recursions, not approximated by an FIR. A biquad is its
numerator (a 3-tap FIR) and its two poles; each pole is the recursion
``y[n] = x[n] + p·y[n-1]``, solved for a whole block by a log-depth scan (pass d adds
``p^d · y[n - d]`` for d = 1, 2, 4 …), so no Python loop runs per sample. The poles are
complex conjugates, so the cascade comes out real. State carries across blocks.

**Gating** (§2 of Annex 1): the K-weighted energy, summed over channels (weights 1:
left and right; a mono stream counts once), is kept as one number per 100 ms; a
400 ms gating block is four consecutive ones, so blocks overlap by 75 % and ten
numbers a second are all that is kept (6 000 for ten minutes). Blocks at or under
-70 LUFS are dropped, then those 10 LU or more under the loudness of the rest; the
integrated loudness is that of the blocks left. Only whole 400 ms blocks count.

**True peak** (Annex 2): 4× oversampling with the standard's 48-tap interpolator (four
phases of 12 taps); the true peak is the largest magnitude among the interpolated
values and the samples themselves.

Only 48 kHz is measured (the mix's rate): the coefficients are the standard's for it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "INTERPOLATOR_4X",
    "INTERPOLATOR_LAG",
    "INTERPOLATOR_TAPS",
    "LoudnessMeter",
    "TruePeakMeter",
    "interpolate_4x",
    "measure",
]

RATE = 48_000

# BS.1770-4 Table 1 (48 kHz): stage 1, the high shelf; stage 2, the RLB high pass.
_SHELF_B = (1.53512485958697, -2.69169618940638, 1.19839281085285)
_SHELF_A = (1.0, -1.69065929318241, 0.73248077421585)
_HIGHPASS_B = (1.0, -2.0, 1.0)
_HIGHPASS_A = (1.0, -1.99004745483398, 0.99007225036621)

_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0
_SEGMENT = RATE // 10  # 100 ms: a quarter of a gating block
_SEGMENTS_PER_BLOCK = 4  # 400 ms blocks, 75 % overlap

# BS.1770-4 Annex 2: the 4× interpolator, one row per phase,
# y[4n + p] = Σ_k PHASES[p][k] · x[n - k].
_PHASES = np.array(
    [
        [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
         0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
        [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
         0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
        [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
         0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
        [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
         0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
    ]
)  # fmt: skip
INTERPOLATOR_TAPS = _PHASES.shape[1]
# The 48-tap filter is centred at 23.5 of its 192 kHz samples, so the four values made
# from x[j - 11] … x[j] lie between x[j - 6] and x[j - 5] (at j - 5.875 … j - 5.125).
INTERPOLATOR_LAG = 6
# As a (12, 4) matrix for windows in time order: x[j : j + 12] @ INTERPOLATOR_4X = the four values.
INTERPOLATOR_4X = np.ascontiguousarray(_PHASES[:, ::-1].T)
INTERPOLATOR_4X.flags.writeable = False


def interpolate_4x(x: np.ndarray) -> np.ndarray:
    """The 4× oversampled values of (channels, m) `x`, m >= 12: (channels, m - 11, 4).

    Row j holds the four values interpolated from x[j] … x[j + 11], which lie between
    x[j + 5] and x[j + 6] (`INTERPOLATOR_LAG` samples before the window's last).
    """
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float64), INTERPOLATOR_TAPS, axis=-1)
    return windows @ INTERPOLATOR_4X


def _one_pole(x: np.ndarray, pole: complex, last: np.ndarray) -> np.ndarray:
    """y[n] = x[n] + pole · y[n - 1] along the last axis, y[-1] = `last`; a log-depth scan."""
    y = x.astype(np.complex128)
    y[..., 0] += pole * last
    step, power = 1, pole
    while step < y.shape[-1]:
        y[..., step:] += power * y[..., :-step]  # the right side is computed first, from the old values
        step, power = 2 * step, power * power
    return y


class _Biquad:
    """One second-order section, streaming over (channels, n) blocks."""

    def __init__(self, b: tuple[float, float, float], a: tuple[float, float, float], channels: int) -> None:
        self.b = np.asarray(b, np.float64) / a[0]
        self.poles = [complex(p) for p in np.roots(np.asarray(a, np.float64) / a[0])]
        self.inputs = np.zeros((channels, 2))  # x[n - 2], x[n - 1]
        self.lasts = [np.zeros(channels, np.complex128) for _ in self.poles]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        padded = np.concatenate([self.inputs, x], axis=1)
        n = x.shape[1]
        y = self.b[0] * padded[:, 2:] + self.b[1] * padded[:, 1 : n + 1] + self.b[2] * padded[:, :n]
        self.inputs = padded[:, -2:]
        for i, pole in enumerate(self.poles):
            y = _one_pole(y, pole, self.lasts[i])
            self.lasts[i] = y[:, -1].copy()
        return y.real


class TruePeakMeter:
    """The largest |sample| or |4× interpolated value| of a stream so far (linear)."""

    def __init__(self, channels: int = 2) -> None:
        self.peak = 0.0
        self._history = np.zeros((channels, INTERPOLATOR_TAPS - 1))

    def add(self, block: np.ndarray) -> None:
        if not block.shape[1]:
            return
        x = np.concatenate([self._history, block], axis=1)
        self._history = x[:, -(INTERPOLATOR_TAPS - 1) :]
        found = max(float(np.abs(block).max()), float(np.abs(interpolate_4x(x)).max()))
        self.peak = max(self.peak, found)

    @property
    def peak_db(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else -math.inf


class LoudnessMeter:
    """BS.1770-4 integrated loudness and true peak of a 48 kHz stream, fed in blocks.

    `add` takes (channels, n) floats (any n, any float dtype); nothing of the signal
    is kept but the filters' state and one energy per 100 ms.
    """

    def __init__(self, channels: int = 2, rate: int = RATE) -> None:
        if rate != RATE:
            raise ValueError(f"the loudness meter measures 48 kHz audio, got {rate} Hz")
        self.channels = channels
        self._filters = [_Biquad(_SHELF_B, _SHELF_A, channels), _Biquad(_HIGHPASS_B, _HIGHPASS_A, channels)]
        self._segments: list[float] = []  # K-weighted energy (sum of squares, all channels) per 100 ms
        self._partial, self._partial_samples = 0.0, 0
        self._peak = TruePeakMeter(channels)
        self.samples = 0

    def add(self, block: np.ndarray) -> None:
        block = np.asarray(block, np.float64)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, n) samples, got shape {block.shape}")
        if not block.shape[1]:
            return
        self.samples += block.shape[1]
        self._peak.add(block)
        weighted = block
        for stage in self._filters:
            weighted = stage(weighted)
        power = np.square(weighted).sum(axis=0)
        # Finish the open 100 ms segment, then whole ones, then keep the rest open.
        take = min(_SEGMENT - self._partial_samples, power.size)
        self._partial += float(power[:take].sum())
        self._partial_samples += take
        if self._partial_samples == _SEGMENT:
            self._segments.append(self._partial)
            self._partial, self._partial_samples = 0.0, 0
            whole = (power.size - take) // _SEGMENT
            end = take + whole * _SEGMENT
            self._segments.extend(power[take:end].reshape(whole, _SEGMENT).sum(axis=1).tolist())
            self._partial = float(power[end:].sum())
            self._partial_samples = power.size - end

    def block_loudness(self) -> np.ndarray:
        """Loudness (LUFS) of every whole 400 ms block so far, one every 100 ms."""
        return _lufs(self._block_energy())

    def _block_energy(self) -> np.ndarray:
        segments = np.asarray(self._segments, np.float64)
        if segments.size < _SEGMENTS_PER_BLOCK:
            return np.zeros(0)
        sums = np.lib.stride_tricks.sliding_window_view(segments, _SEGMENTS_PER_BLOCK).sum(axis=1)
        return sums / (_SEGMENTS_PER_BLOCK * _SEGMENT)  # mean square, summed over channels

    @property
    def integrated_lufs(self) -> float:
        """Gated integrated loudness (LUFS); -inf when no block passes the gates."""
        energy = self._block_energy()
        loud = energy[_lufs(energy) > _ABSOLUTE_GATE_LUFS]
        if not loud.size:
            return -math.inf
        relative_gate = float(_lufs(loud.mean())) + _RELATIVE_GATE_LU
        kept = loud[_lufs(loud) > relative_gate]
        return float(_lufs(kept.mean()))

    @property
    def true_peak(self) -> float:
        """Largest |sample| or |4× interpolated value| so far (linear, 1.0 = full scale)."""
        return self._peak.peak

    @property
    def true_peak_db(self) -> float:
        return self._peak.peak_db


def _lufs(mean_square):
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(mean_square)


def measure(signal: np.ndarray, block: int = 8192) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a whole (channels, n) 48 kHz signal."""
    signal = np.atleast_2d(signal)
    meter = LoudnessMeter(signal.shape[0])
    for start in range(0, signal.shape[1], block):
        meter.add(signal[:, start : start + block])
    return meter.integrated_lufs, meter.true_peak_db
