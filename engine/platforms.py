"""Where a video is going: platform preset × quality preset → one `Output`.

A platform fixes the frame (size, base fps, bitrate cap, safe area) and the codec it
gets by default; a quality preset scales it (draft renders at half size and at most
15 fps) and picks the encoder effort. Custom sizes are written ``WxH`` or ``WxH@fps``. The codec is
``h264`` unless asked otherwise: every platform ingests it, and ``hevc``/``av1`` are
opt-in (``resolve_output(..., codec="hevc")``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import TypedDict

from .errors import SpecError, excerpt

__all__ = [
    "CODECS",
    "PLATFORMS",
    "QUALITIES",
    "Output",
    "Platform",
    "Quality",
    "SafeArea",
    "normalize_codec",
    "resolve_output",
    "resolve_platform",
]

#: Codecs Reel writes, by FFmpeg's name for them.
CODECS = ("h264", "hevc", "av1")
#: Other names people use for them.
_CODEC_ALIASES = {"avc": "h264", "h.264": "h264", "x264": "h264", "h265": "hevc", "h.265": "hevc", "x265": "hevc"}


def normalize_codec(name: str) -> str:
    """``h264``, ``hevc`` or ``av1`` for `name` or one of its aliases (``h265`` → ``hevc``)."""
    key = str(name).strip().lower()
    key = _CODEC_ALIASES.get(key, key)
    if key not in CODECS:
        raise SpecError(f"unknown codec {name!r}; use h264, hevc (or h265) or av1", "codec")
    return key


@dataclass(frozen=True)
class SafeArea:
    """Margins, as fractions of the frame, that the platform's own UI may cover."""

    top: float
    right: float
    bottom: float
    left: float

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The safe rectangle in pixels: (left, top, right, bottom)."""
        return (
            round(self.left * width),
            round(self.top * height),
            width - round(self.right * width),
            height - round(self.bottom * height),
        )


# Title-safe for landscape players: nothing covers the frame, but 5 % keeps text off
# the edge on TVs and in thumbnails.
_TITLE_SAFE = SafeArea(0.05, 0.05, 0.05, 0.05)
# Vertical feeds cover the top (tabs, search) and the bottom and right (caption,
# like/comment/share column). Measured off 1080×1920 UI overlays, rounded up.
_TIKTOK_SAFE = SafeArea(top=0.08, right=0.12, bottom=0.20, left=0.06)
_REELS_SAFE = SafeArea(top=0.12, right=0.10, bottom=0.22, left=0.06)
_SHORTS_SAFE = SafeArea(top=0.08, right=0.12, bottom=0.18, left=0.06)
_STORIES_SAFE = SafeArea(top=0.12, right=0.06, bottom=0.16, left=0.06)
_FEED_SAFE = SafeArea(0.05, 0.05, 0.05, 0.05)


@dataclass(frozen=True)
class Platform:
    name: str
    width: int
    height: int
    fps: int
    max_bitrate: int  # bit/s; the cap for the capped-CRF encode at `standard` quality
    safe_area: SafeArea
    description: str = ""
    codec: str = "h264"  # what a render for this platform writes unless asked otherwise

    @property
    def aspect(self) -> str:
        from math import gcd

        g = gcd(self.width, self.height)
        return f"{self.width // g}:{self.height // g}"


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in [
        Platform("youtube", 1920, 1080, 30, 12_000_000, _TITLE_SAFE, "YouTube 16:9 1080p"),
        Platform("youtube_4k", 3840, 2160, 30, 45_000_000, _TITLE_SAFE, "YouTube 16:9 2160p"),
        Platform("youtube_shorts", 1080, 1920, 30, 10_000_000, _SHORTS_SAFE, "YouTube Shorts 9:16"),
        Platform("tiktok", 1080, 1920, 30, 10_000_000, _TIKTOK_SAFE, "TikTok 9:16"),
        Platform("instagram_reels", 1080, 1920, 30, 8_000_000, _REELS_SAFE, "Instagram Reels 9:16"),
        Platform("instagram_stories", 1080, 1920, 30, 8_000_000, _STORIES_SAFE, "Instagram Stories 9:16"),
        Platform("instagram_feed", 1080, 1080, 30, 8_000_000, _FEED_SAFE, "Instagram feed 1:1"),
        Platform("instagram_portrait", 1080, 1350, 30, 8_000_000, _FEED_SAFE, "Instagram feed 4:5"),
        Platform("facebook", 1920, 1080, 30, 10_000_000, _TITLE_SAFE, "Facebook 16:9"),
        Platform("linkedin", 1920, 1080, 30, 10_000_000, _TITLE_SAFE, "LinkedIn 16:9"),
    ]
}


@dataclass(frozen=True)
class Quality:
    name: str
    scale: float  # of the platform's frame size
    fps: int | None  # None keeps the platform's fps (up to `max_fps`)
    crf: int
    preset: str  # x264 preset name; other encoders map it to their own effort scale
    bitrate_factor: float  # × the platform's max_bitrate
    description: str = ""
    # Frames x264's rate control looks ahead; None keeps the preset's own. Slide video
    # is mostly still, so `standard` looks 5 ahead, not veryfast's 10: measured on the
    # 60 s 1080p bench deck, −1 dB PSNR at ~50 dB, 23 % fewer bytes, 34 MB less memory.
    lookahead: int | None = None
    # x264's adaptive quantisation (aq-mode: 0 off, 1 variance, 2 auto-variance, 3
    # auto-variance biased to dark blocks) and its strength, and psychovisual RD strength
    # (0 = off); None keeps the preset's own (aq-mode 1 at 1.0, psy-rd 1.0). Other
    # encoders keep their own: on x265 the same values measured no better than its
    # defaults at the same CRF.
    aq_mode: int | None = None
    aq_strength: float | None = None
    psy_rd: float | None = None
    max_fps: int | None = None  # the platform's fps is lowered to this, never raised


# Every platform re-encodes the upload, so the presets above draft aim at fidelity to
# the composited frame rather than at looking sharp: psy-rd off (it trades fidelity on
# edges, on slides mostly text, for "energy" the platform's re-encode throws away),
# weaker AQ (variance AQ takes bits from high-variance blocks: text again) biased to
# dark blocks (the dark theme gradients, whose ½-code dither aq-mode 1 at CRF 23
# flattened into contour steps), and CRF 15. Measured per region on the example deck
# (bench/quality.py, youtube and tiktok, luma against the composited frames): text
# 33 → 42.8 dB (its worst frames are builds), the Ken Burns picture 42 → 49 dB,
# gradients ≥ 54 dB with blocks a half code or more off 1.2–1.7 % → 0.05–0.11 %, for
# 0.44 → 1.04–1.08 Mbit/s. The cap does not hold motion back: peak 1 s rates stay under
# 4.2 Mbit/s against 10–12, and without it 5 of 1794 pictures differ, none worse.
class _Fidelity(TypedDict):
    aq_mode: int
    aq_strength: float
    psy_rd: float


_FIDELITY: _Fidelity = {"aq_mode": 3, "aq_strength": 0.6, "psy_rd": 0.0}

QUALITIES: dict[str, Quality] = {
    q.name: q
    for q in [
        Quality("draft", 0.5, None, 28, "ultrafast", 1.0, "half size, ≤ 15 fps, fastest encode: previews", max_fps=15),
        Quality("standard", 1.0, None, 15, "veryfast", 1.0, "platform size and fps", lookahead=5, **_FIDELITY),
        Quality("high", 1.0, None, 14, "faster", 1.25, "lower CRF, more encoder effort", **_FIDELITY),
        Quality("maximum", 1.0, 60, 13, "medium", 1.5, "60 fps, highest bitrate cap", **_FIDELITY),
    ]
}


@dataclass(frozen=True)
class Output:
    """Everything downstream stages need to know about one video to make."""

    platform: str
    quality: str
    width: int
    height: int
    fps: int
    crf: int
    preset: str
    max_bitrate: int  # bit/s
    buffer_size: int  # bits: the VBV buffer for capped CRF
    gop: int  # frames between keyframes: 2 s
    safe_area: SafeArea
    lookahead: int | None = None  # x264 rc-lookahead; None = the preset's
    codec: str = "h264"  # h264 | hevc | av1
    aq_mode: int | None = None  # x264/x265 adaptive quantisation; None = the preset's
    aq_strength: float | None = None
    psy_rd: float | None = None  # psychovisual RD strength, 0 = off; None = the preset's

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def label(self) -> str:
        """Name used in output file names: ``youtube``, ``youtube-draft``, ``720x1280@24``.

        A custom size names what is written: ``640x360@15`` at draft quality (half the
        size) is ``320x180@15-draft``. A preset keeps its name (``youtube-draft``).
        """
        if self.quality == "standard":
            return self.platform
        if _CUSTOM.match(self.platform):
            return f"{self.width}x{self.height}@{self.fps}-{self.quality}"
        return f"{self.platform}-{self.quality}"


_CUSTOM = re.compile(r"^(\d+)x(\d+)(?:@(\d+))?$")

#: Frame sizes beyond this are refused: 8K is the largest H.264 level 6.2 handles.
_MAX_SIDE = 8192


def _even(n: float) -> int:
    return max(2, round(n / 2) * 2)


def _platform(name: str) -> Platform:
    if name in PLATFORMS:
        return PLATFORMS[name]
    m = _CUSTOM.match(name)
    if not m:
        known = ", ".join(PLATFORMS)
        close = difflib.get_close_matches(name.lower(), PLATFORMS, n=1, cutoff=0.6) if len(name) <= 100 else []
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpecError(f"unknown platform {excerpt(name)}; {hint}use one of {known}, or WxH[@fps]", "platform")
    if any(part and len(part) > 6 for part in m.groups()):  # int() of 5,000 digits is refused, and slow
        raise SpecError(
            f"{excerpt(name)}: each side must be between 16 and {_MAX_SIDE}, fps between 1 and 120", "platform"
        )
    w, h, fps = int(m[1]), int(m[2]), int(m[3] or 30)
    if w % 2 or h % 2:
        raise SpecError(f"{w}x{h}: width and height must be even for 4:2:0 video", "platform")
    if not (16 <= w <= _MAX_SIDE and 16 <= h <= _MAX_SIDE):
        raise SpecError(f"{w}x{h}: each side must be between 16 and {_MAX_SIDE}", "platform")
    if not 1 <= fps <= 120:
        raise SpecError(f"{fps} fps: must be between 1 and 120", "platform")
    # Bitrate cap for custom frames: YouTube's 1080p30 figure scaled by pixel rate.
    bitrate = int(12_000_000 * (w * h * fps) / (1920 * 1080 * 30))
    return Platform(name, w, h, fps, max(bitrate, 500_000), _TITLE_SAFE, "custom")


def resolve_platform(platform: str | Platform, codec: str | None = None) -> Platform:
    """The `Platform` for a preset name or ``WxH[@fps]``, writing `codec` if one is given.

    `codec` is taken as written; `resolve_output` checks and normalises it (``h265`` →
    ``hevc``) when it makes the `Output`.
    """
    p = platform if isinstance(platform, Platform) else _platform(platform)
    return p if codec is None else replace(p, codec=codec)


def resolve_output(platform: str | Platform, quality: str = "standard", codec: str | None = None) -> Output:
    """Combine a platform and a quality preset into the `Output` a render targets.

    `codec` (h264, hevc/h265, av1) overrides the platform's own, which is h264. This is
    where a codec name is normalised, once: everything downstream of the `Output`
    (`EncodeSettings`, the encoder table) takes the canonical name.
    """
    p = resolve_platform(platform, codec or None)
    codec = normalize_codec(p.codec)
    if quality not in QUALITIES:
        raise SpecError(f"unknown quality {quality!r}; use one of {', '.join(QUALITIES)}", "quality")
    q = QUALITIES[quality]
    width, height = _even(p.width * q.scale), _even(p.height * q.scale)
    fps = q.fps or p.fps
    if q.max_fps is not None:
        fps = min(fps, q.max_fps)  # a draft of a 10 fps video stays at 10
    pixel_rate = (width * height * fps) / (p.width * p.height * p.fps)
    bitrate = p.max_bitrate * q.bitrate_factor
    if pixel_rate < 1:
        # Fewer pixels per second need fewer bits, though not proportionally fewer.
        bitrate *= pixel_rate**0.5
    max_bitrate = max(int(bitrate), 500_000)
    return Output(
        platform=p.name,
        quality=q.name,
        width=width,
        height=height,
        fps=fps,
        crf=q.crf,
        preset=q.preset,
        max_bitrate=max_bitrate,
        buffer_size=2 * max_bitrate,
        gop=2 * fps,
        safe_area=p.safe_area,
        lookahead=q.lookahead,
        codec=codec,
        aq_mode=q.aq_mode,
        aq_strength=q.aq_strength,
        psy_rd=q.psy_rd,
    )


def with_size(output: Output, width: int, height: int) -> Output:
    """A copy of `output` at another size (tests and stills)."""
    return replace(output, width=width, height=height)
