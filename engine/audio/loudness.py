"""ITU-R BS.1770-4 loudness and true peak of a 48 kHz stream, in numpy, fed block by block.

    meter = LoudnessMeter()
    for block in blocks:              # (channels, n) floats at 48 kHz
        meter.add(block)
    meter.integrated_lufs             # -inf when no 400 ms block gets past the gates
    meter.true_peak_db                # dBTP; -inf for silence

**K-weighting** is the standard's two biquads for 48 kHz (Table 1: a high shelf, then
the RLB high pass), run exactly, not approximated by an FIR. The two in cascade are
one real linear system with four states (each biquad in transposed direct form II),
run 64 samples at a time: for a block x starting in state s, y = T·x + O·s and
s' = A^64·s + G·x, with T the 64×64 lower-triangular Toeplitz matrix of the impulse
response, O the rows C·A^k and G the columns A^(63-j)·B. All blocks' T·x and G·x are
one matrix product; the states at the blocks' starts come from a log-depth scan over
blocks (pass d adds A^(64·d)·s[b - d]); a last, shorter block uses T's and G's corners.
State carries across blocks. Small blocks are gathered to 8192 samples before they are
measured, so feeding 1024-sample AAC frames costs no more than feeding big blocks.

**One thread.** OpenBLAS splits a product over its threads past m·k·n = 2^18, and on
these skinny shapes they spin and run slower than one core: every product here goes
through `matmul_one_thread`, in row slices under that size.

**Gating** (§2 of Annex 1): the K-weighted energy, summed over channels (weights 1:
left and right; a mono stream counts once), is kept as one number per 100 ms; a
400 ms gating block is four consecutive ones, so blocks overlap by 75 % and ten
numbers a second are all that is kept (6 000 for ten minutes). Blocks at or under
-70 LUFS are dropped, then those 10 LU or more under the loudness of the rest; the
integrated loudness is that of the blocks left. Only whole 400 ms blocks count.

**True peak** (Annex 2): 4× oversampling with the standard's 48-tap interpolator (four
phases of 12 taps); the true peak is the largest magnitude among the interpolated
values and the samples themselves. A value is at most `_BOUND_4X` (2.02) × the largest
|sample| of its 12, so only the windows where that bound passes the peak so far (the
block's own sample peak included) are interpolated: the same peak for a fraction of
the work.

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
# No 4× value exceeds this times the largest |sample| of its window (with room for rounding).
_BOUND_4X = float(np.abs(_PHASES).sum(axis=1).max()) * (1 + 1e-9)
# K-weighting block length: one product of (blocks, L) by (L, L + 4) does most of the work.
_K_BLOCK = 64
_ONE_THREAD_MNK = 1 << 18
# `add` gathers blocks until it holds this many samples (a block costs some 20 numpy calls
# whatever its size), and measures at most _PIECE at a time (the scan's products stay small).
_GATHER = 8192
_PIECE = 1 << 14


def interpolate_4x(x: np.ndarray) -> np.ndarray:
    """The 4× oversampled values of (channels, m) `x`, m >= 12: (channels, m - 11, 4).

    Row j holds the four values interpolated from x[j] … x[j + 11], which lie between
    x[j + 5] and x[j + 6] (`INTERPOLATOR_LAG` samples before the window's last).
    """
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float64), INTERPOLATOR_TAPS, axis=-1)
    return windows @ INTERPOLATOR_4X


def matmul_one_thread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a @ b` for 2-D `a`, in row slices small enough that BLAS runs each on one thread.

    OpenBLAS splits a product over its threads once m·k·n passes 2^18, and on these
    skinny shapes the threads spin and run it several times slower than one core does.
    """
    rows = max(1, _ONE_THREAD_MNK // max(1, a.shape[1] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a, b))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start : start + rows], b, out=out[start : start + rows])
    return out


def windows_at(x: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """x[c, starts[i] : starts[i] + width] for every channel c of (channels, n) `x`: a C-ordered (channels, k, width) copy."""
    every = np.lib.stride_tricks.sliding_window_view(x, width, axis=-1)
    return np.stack([channel[starts] for channel in every])  # per channel: 2-D indexing is the fast kind


def sliding_max(values: np.ndarray, width: int) -> np.ndarray:
    """out[i] = max(values[i : i + width]): maxima over doubling spans, then two overlapping ones."""
    spans, span = values, 1
    while 2 * span <= width:
        spans, span = np.maximum(spans[:-span], spans[span:]), 2 * span
    count = values.size - width + 1
    return np.maximum(spans[:count], spans[width - span : width - span + count])


def largest(values: np.ndarray) -> np.ndarray:
    """The largest over every axis but the second: (channels, n[, phases]) -> (n,).

    Element-wise maxima of rows: numpy's reductions over short, strided axes are several times slower.
    """
    if values.ndim == 3:
        values = np.moveaxis(values, -1, 0).reshape(-1, values.shape[1])  # (phases × channels, n)
    out = values[0].copy()
    for channel in values[1:]:
        np.maximum(out, channel, out=out)
    return out


def _transposed_direct_form(b: tuple[float, ...], a: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """(A, B, C, D) of one biquad: state s = (z1, z2), y = C·s + D·x, s' = A·s + B·x."""
    b0, b1, b2 = (np.longdouble(v) / np.longdouble(a[0]) for v in b)
    a1, a2 = np.longdouble(a[1]) / np.longdouble(a[0]), np.longdouble(a[2]) / np.longdouble(a[0])
    wide = np.longdouble
    return (
        np.array([[-a1, 1.0], [-a2, 0.0]], wide),
        np.array([b1 - a1 * b0, b2 - a2 * b0], wide),
        np.array([1.0, 0.0], wide),
        np.array(b0, wide),
    )


class _KWeighting:
    """The two biquads as one 4-state linear system, run `_K_BLOCK` samples at a time.

    For a block x of L samples starting in state s: y = T·x + O·s, s' = A^L·s + G·x,
    with T the L×L lower-triangular Toeplitz matrix of the impulse response, O the rows
    C·A^k and G the columns A^(L-1-j)·B. Every block's T·x and G·x is one product; the
    states at the blocks' starts, s[b+1] = A^L·s[b] + G·x[b], are a log-depth scan over
    blocks (pass d adds A^(L·d)·s[b - d]). A last, shorter block of r samples is run
    with T's and G's corners and A^r. State carries across calls.
    """

    def __init__(self, channels: int) -> None:
        # The matrices are built in long double and rounded once: powers of A near its
        # poles (the high pass's sit at 0.995) would otherwise gather rounding.
        a1, b1, c1, d1 = _transposed_direct_form(_SHELF_B, _SHELF_A)
        a2, b2, c2, d2 = _transposed_direct_form(_HIGHPASS_B, _HIGHPASS_A)
        a = np.zeros((4, 4), np.longdouble)
        a[:2, :2], a[2:, :2], a[2:, 2:] = a1, np.outer(b2, c1), a2
        b, c, d = np.concatenate([b1, b2 * d1]), np.concatenate([d2 * c1, c2]), d2 * d1
        length = _K_BLOCK
        powers = [np.eye(4, dtype=np.longdouble)]
        for _ in range(length):
            powers.append(a @ powers[-1])
        response = np.array([d] + [c @ powers[k] @ b for k in range(length - 1)])
        lag = np.subtract.outer(np.arange(length), np.arange(length))
        toeplitz = np.where(lag >= 0, response[np.clip(lag, 0, None)], 0.0)  # T[i, j] = h[i - j]
        g = np.stack([powers[length - 1 - j] @ b for j in range(length)], axis=1)  # (4, L)
        self._forced = np.concatenate([toeplitz.T, g.T], axis=1).astype(np.float64)  # x @ it = [T·x, G·x]
        self._observe = np.stack([c @ powers[k] for k in range(length)]).T.astype(np.float64)  # s @ it = O·s
        self._g = g.astype(np.float64)
        self._powers = np.array(powers).astype(np.float64)  # A^0 … A^L
        # A^(L·2^i), transposed, for the scan over blocks.
        step, self._jumps = powers[length], []
        for _ in range(40):
            self._jumps.append(step.T.astype(np.float64))
            step = step @ step
        self.state = np.zeros((channels, 4))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        channels, n = x.shape
        length = _K_BLOCK
        blocks = -(-n // length)
        padded = np.zeros((channels, blocks * length))
        padded[:, :n] = x
        forced = matmul_one_thread(padded.reshape(channels * blocks, length), self._forced)
        forced = forced.reshape(channels, blocks, length + 4)
        # Scan: starts[:, 0] = the state in, starts[:, b] = G·x[b - 1], summed into the state at each start.
        starts = np.empty((channels, blocks, 4))
        starts[:, 0] = self.state
        starts[:, 1:] = forced[:, :-1, length:]
        distance = 1
        for jump in self._jumps:
            if distance >= blocks:
                break
            starts[:, distance:] += starts[:, :-distance] @ jump
            distance *= 2
        y = forced[:, :, :length] + (starts.reshape(-1, 4) @ self._observe).reshape(channels, blocks, length)
        rest = n - (blocks - 1) * length  # samples in the last block, 1 … L
        last = starts[:, -1]
        self.state = last @ self._powers[rest].T + x[:, n - rest :] @ self._g[:, length - rest :].T
        return y.reshape(channels, -1)[:, :n]


class TruePeakMeter:
    """The largest |sample| or |4× interpolated value| of a stream so far (linear).

    Only windows that could read over the peak so far are interpolated: a value is at
    most `_BOUND_4X` × its window's largest |sample|.
    """

    def __init__(self, channels: int = 2) -> None:
        self.peak = 0.0
        self._history = np.zeros((channels, INTERPOLATOR_TAPS - 1))

    def add(self, block: np.ndarray) -> None:
        if not block.shape[1]:
            return
        x = np.concatenate([self._history, block], axis=1)
        self._history = x[:, -(INTERPOLATOR_TAPS - 1) :]
        magnitude = largest(np.abs(x))
        peak = max(self.peak, float(magnitude[INTERPOLATOR_TAPS - 1 :].max()))
        near = np.flatnonzero(sliding_max(magnitude, INTERPOLATOR_TAPS) * _BOUND_4X > peak)
        if near.size:
            windows = windows_at(x, near, INTERPOLATOR_TAPS)
            values = matmul_one_thread(windows.reshape(-1, INTERPOLATOR_TAPS), INTERPOLATOR_4X)
            peak = max(peak, float(np.abs(values).max()))
        self.peak = peak

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
        self._filter = _KWeighting(channels)
        self._segments: list[float] = []  # K-weighted energy (sum of squares, all channels) per 100 ms
        self._partial, self._partial_samples = 0.0, 0
        self._peak = TruePeakMeter(channels)
        self._pending: list[np.ndarray] = []  # blocks not measured yet: small ones are gathered first
        self._pending_samples = 0
        self.samples = 0

    def add(self, block: np.ndarray) -> None:
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[0] != self.channels:
            raise ValueError(f"expected ({self.channels}, n) samples, got shape {block.shape}")
        if not block.shape[1]:
            return
        self.samples += block.shape[1]
        self._pending.append(np.array(block, np.float64))  # a copy: the caller may reuse its array
        self._pending_samples += block.shape[1]
        if self._pending_samples >= _GATHER:
            self._measure_pending()

    def _measure_pending(self) -> None:
        """Measure the blocks gathered so far, in pieces of at most `_PIECE` samples."""
        if not self._pending:
            return
        x = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending, axis=1)
        self._pending, self._pending_samples = [], 0
        for start in range(0, x.shape[1], _PIECE):
            self._measure(x[:, start : start + _PIECE])

    def _measure(self, block: np.ndarray) -> None:
        self._peak.add(block)
        power = np.square(self._filter(block)).sum(axis=0)
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
        self._measure_pending()
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
        self._measure_pending()
        return self._peak.peak

    @property
    def true_peak_db(self) -> float:
        self._measure_pending()
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
