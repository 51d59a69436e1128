"""What a conforming stream may be: profiles, levels, and each encoder's effort scale.

Levels come from the standards' tables, checked against the frame size, the sample
(or macroblock) rate, the bitrate cap and the VBV buffer, so a decoder that claims the
level plays the file: 1080p30 is H.264 4.0, 1080p60 4.2, 2160p60 5.2.

Quality presets name an x264 preset (``ultrafast`` … ``medium``); the other encoders
get the nearest point on their own scale from the tables below, the draft preset
always the fastest.
"""

from __future__ import annotations

from math import ceil, isqrt
from typing import NamedTuple

from ..errors import CodecNotSupportedError

__all__ = [
    "NVENC_PRESET",
    "PROFILES",
    "QSV_PRESET",
    "SVTAV1_PRESET",
    "bframes",
    "h264_level",
    "hevc_level",
    "nvenc_cq",
    "svtav1_crf",
    "x265_crf",
]

#: The profile each codec is written in: 8-bit 4:2:0 everywhere.
PROFILES = {"h264": "high", "hevc": "main", "av1": "main"}


class _H264Level(NamedTuple):
    name: str
    max_mbps: int  # macroblocks per second
    max_fs: int  # macroblocks per frame
    max_br: int  # kbit/s, in units of cpbBrVclFactor / 1000
    max_cpb: int  # kbit, same units


# ITU-T H.264 (08/2021) Table A-1; level 1b is left out (no encoder here targets it).
_H264_LEVELS = [
    _H264Level("1", 1_485, 99, 64, 175),
    _H264Level("1.1", 3_000, 396, 192, 500),
    _H264Level("1.2", 6_000, 396, 384, 1_000),
    _H264Level("1.3", 11_880, 396, 768, 2_000),
    _H264Level("2", 11_880, 396, 2_000, 2_000),
    _H264Level("2.1", 19_800, 792, 4_000, 4_000),
    _H264Level("2.2", 20_250, 1_620, 4_000, 4_000),
    _H264Level("3", 40_500, 1_620, 10_000, 10_000),
    _H264Level("3.1", 108_000, 3_600, 14_000, 14_000),
    _H264Level("3.2", 216_000, 5_120, 20_000, 20_000),
    _H264Level("4", 245_760, 8_192, 20_000, 25_000),
    _H264Level("4.1", 245_760, 8_192, 50_000, 62_500),
    _H264Level("4.2", 522_240, 8_704, 50_000, 62_500),
    _H264Level("5", 589_824, 22_080, 135_000, 135_000),
    _H264Level("5.1", 983_040, 36_864, 240_000, 240_000),
    _H264Level("5.2", 2_073_600, 36_864, 240_000, 240_000),
    _H264Level("6", 4_177_920, 139_264, 240_000, 240_000),
    _H264Level("6.1", 8_355_840, 139_264, 480_000, 480_000),
    _H264Level("6.2", 16_711_680, 139_264, 800_000, 800_000),
]
# Table A-2: bit/s per unit of MaxBR (and bits per unit of MaxCPB), VCL.
_H264_BR_FACTOR = {"baseline": 1000, "main": 1000, "high": 1250}


def h264_level(
    width: int, height: int, fps: float, max_bitrate: int = 0, buffer_size: int = 0, profile: str = "high"
) -> str:
    """The lowest H.264 level (``"4"``, ``"5.2"`` …) that holds this stream.

    `max_bitrate` (bit/s) and `buffer_size` (bits) are the VBV cap and buffer; 0 leaves
    them out of the choice.
    """
    mbs_wide, mbs_high = ceil(width / 16), ceil(height / 16)
    frame_mbs = mbs_wide * mbs_high
    factor = _H264_BR_FACTOR.get(profile, 1000)
    for level in _H264_LEVELS:
        # A.3.1: each side at most sqrt(8 × MaxFS) macroblocks, so very long thin
        # frames need a higher level than their area alone would.
        side = isqrt(8 * level.max_fs)
        if (
            frame_mbs <= level.max_fs
            and mbs_wide <= side
            and mbs_high <= side
            and frame_mbs * fps <= level.max_mbps
            and max_bitrate <= level.max_br * factor
            and buffer_size <= level.max_cpb * factor
        ):
            return level.name
    raise CodecNotSupportedError(
        f"{width}x{height} at {fps:g} fps and {max_bitrate / 1e6:g} Mbit/s is beyond H.264 level 6.2"
    )


class _HEVCLevel(NamedTuple):
    name: str
    max_luma_ps: int  # luma samples per picture
    max_luma_sr: int  # luma samples per second
    max_br_main: int  # kbit/s (× CpbVclFactor 1000 for Main), Main tier
    max_br_high: int  # High tier; 0 where the level has none
    max_cpb_main: int
    max_cpb_high: int


# ITU-T H.265 (08/2021) Tables A.8 (general limits) and A.9 (sample rate, bitrate).
_HEVC_LEVELS = [
    _HEVCLevel("1", 36_864, 552_960, 128, 0, 350, 0),
    _HEVCLevel("2", 122_880, 3_686_400, 1_500, 0, 1_500, 0),
    _HEVCLevel("2.1", 245_760, 7_372_800, 3_000, 0, 3_000, 0),
    _HEVCLevel("3", 552_960, 16_588_800, 6_000, 0, 6_000, 0),
    _HEVCLevel("3.1", 983_040, 33_177_600, 10_000, 0, 10_000, 0),
    _HEVCLevel("4", 2_228_224, 66_846_720, 12_000, 30_000, 12_000, 30_000),
    _HEVCLevel("4.1", 2_228_224, 133_693_440, 20_000, 50_000, 20_000, 50_000),
    _HEVCLevel("5", 8_912_896, 267_386_880, 25_000, 100_000, 25_000, 100_000),
    _HEVCLevel("5.1", 8_912_896, 534_773_760, 40_000, 160_000, 40_000, 160_000),
    _HEVCLevel("5.2", 8_912_896, 1_069_547_520, 60_000, 240_000, 60_000, 240_000),
    _HEVCLevel("6", 35_651_584, 1_069_547_520, 60_000, 240_000, 60_000, 240_000),
    _HEVCLevel("6.1", 35_651_584, 2_139_095_040, 120_000, 480_000, 120_000, 480_000),
    _HEVCLevel("6.2", 35_651_584, 4_278_190_080, 240_000, 800_000, 240_000, 800_000),
]


def hevc_level(width: int, height: int, fps: float, max_bitrate: int = 0, buffer_size: int = 0) -> tuple[str, str]:
    """The lowest HEVC Main-profile level that holds this stream, and its tier.

    As x265 chooses: the lowest level whose picture size and sample rate fit, in the
    Main tier if the bitrate and buffer fit it, else in the High tier (levels 4 and
    up have one); only a bitrate neither tier allows moves to a higher level.
    """
    # Coded sizes are whole minimum coding blocks (8×8 for x265 and NVENC).
    coded_w, coded_h = ceil(width / 8) * 8, ceil(height / 8) * 8
    samples = coded_w * coded_h
    for level in _HEVC_LEVELS:
        side = isqrt(8 * level.max_luma_ps)  # A.4.1: each side ≤ sqrt(8 × MaxLumaPs)
        if samples > level.max_luma_ps or coded_w > side or coded_h > side or samples * fps > level.max_luma_sr:
            continue
        for tier, max_br, max_cpb in (
            ("main", level.max_br_main, level.max_cpb_main),
            ("high", level.max_br_high, level.max_cpb_high),
        ):
            if max_bitrate <= max_br * 1000 and buffer_size <= max_cpb * 1000:
                return level.name, tier
    raise CodecNotSupportedError(
        f"{width}x{height} at {fps:g} fps and {max_bitrate / 1e6:g} Mbit/s is beyond HEVC level 6.2"
    )


#: Consecutive B-frames each x264 preset uses by itself (x264 `common/base.c`).
_X264_PRESET_BFRAMES = {"ultrafast": 0, "veryslow": 8, "placebo": 16}


def bframes(encoder: str, preset: str, cap: int) -> int:
    """Consecutive B-frames for `encoder` at x264-named `preset`, at most `cap`.

    Never more than the preset would use by itself, so draft's ultrafast stays free of
    them and keeps its speed.
    """
    if encoder == "libx264":
        return min(cap, _X264_PRESET_BFRAMES.get(preset, 3))
    return cap


# Quality → each encoder's own effort scale, indexed by the x264 preset name.
#: SVT-AV1 presets (higher is faster). v4 maps 12 and 13 onto 11, and logs that 10 and
#: above are for automated use, so only draft goes there. Presets 8 and 9 lose the slide
#: transitions (text moving ~100 px a frame): at CRF 27, text 37 dB at 8, 41 at 7, and 7
#: writes fewer bytes (bench/results/quality-codecs.md), so `standard` and `high` get 7.
SVTAV1_PRESET = {
    "ultrafast": 11,
    "superfast": 10,
    "veryfast": 7,
    "faster": 7,
    "fast": 7,
    "medium": 6,
    "slow": 5,
    "slower": 4,
    "veryslow": 3,
    "placebo": 2,
}
#: NVENC presets p1 (fastest) … p7 (best), FFmpeg's spelling; PyNvVideoCodec wants
#: them upper-case (its table has only "P1" … "P7").
NVENC_PRESET = {
    "ultrafast": "p1",
    "superfast": "p2",
    "veryfast": "p4",
    "faster": "p5",
    "fast": "p5",
    "medium": "p6",
    "slow": "p7",
    "slower": "p7",
    "veryslow": "p7",
    "placebo": "p7",
}
#: Intel Quick Sync presets (FFmpeg's qsv `preset` names).
QSV_PRESET = {
    "ultrafast": "veryfast",
    "superfast": "veryfast",
    "veryfast": "faster",
    "faster": "fast",
    "fast": "medium",
    "medium": "medium",
    "slow": "slow",
    "slower": "slower",
    "veryslow": "veryslow",
    "placebo": "veryslow",
}


def x265_crf(crf: int) -> int:
    """x265's CRF for x264's `crf`: two above it.

    Not FFmpeg's H.265 guide's +5 (x265 28 looks like x264 23, by eye, on camera video):
    slides are judged by fidelity, and at +5 `standard` left text at 38 dB luma PSNR on
    the example deck. +2, with umh motion search (`_x265`), keeps every region ≥ 42 dB
    (text 42.5) at 0.66 Mbit/s; +3 leaves text under 42 (bench/results/quality-codecs.md).
    """
    return max(0, min(51, crf + 2))


def svtav1_crf(crf: int) -> int:
    """SVT-AV1's CRF (1–63) for x264's `crf`: 20 for `standard`'s 15.

    Was +12 (SVT-AV1's default 35 for x264's 23): text at 35 dB at `standard`. +5 with
    preset 7 (`SVTAV1_PRESET`) keeps every region ≥ 42 dB (text 42.3) at 0.71 Mbit/s; +6
    leaves text under 42 (bench/results/quality-codecs.md).
    """
    return max(1, min(63, crf + 5))


def nvenc_cq(crf: int) -> int:
    """NVENC's constant-quality target (0–51, QP-like) for x264's `crf`."""
    return max(1, min(51, crf))
