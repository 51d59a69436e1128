"""Shaping: is Pillow's raqm layout really usable, and which way does each run go.

Pillow shapes text with libraqm (FriBiDi + HarfBuzz) when it can load it: Arabic
letters join, Devanagari and Thai marks combine, right-to-left runs are reversed.
Without it Pillow's *basic* layout draws one glyph per code point, left to right.
`raqm_status()` finds out, once per process, by asking Pillow and then shaping a
right-to-left string for real; when raqm is missing it logs one warning naming what
will be wrong, and `reel doctor` repeats it.

Line-level bidi is ours, not raqm's: a line mixing fonts is drawn as several runs, so
the order of the runs must be known before raqm sees any of them. `engine.text.bidi`
resolves the levels (FriBiDi's, the same library raqm uses) and orders runs (rule L2);
its `paragraph_rtl`, `bidi_levels` and `visual_order` are re-exported here.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, features

from .bidi import bidi_backend, bidi_levels, paragraph_rtl, visual_order

__all__ = [
    "WITHOUT_RAQM",
    "RaqmStatus",
    "bidi_levels",
    "cjk_breaks",
    "detect_language",
    "layout_engine",
    "needs_shaping",
    "paragraph_rtl",
    "raqm_status",
    "visual_order",
]

log = logging.getLogger(__name__)

#: What goes wrong in basic layout, said in the warning and by `reel doctor`.
WITHOUT_RAQM = (
    "right-to-left scripts (Arabic, Hebrew) are drawn unjoined, letter by letter; combining "
    "scripts (Devanagari, Thai) lose their conjuncts and mark positions; Latin text loses nothing but kerning"
)


@dataclass(frozen=True)
class RaqmStatus:
    usable: bool
    version: str | None  # libraqm's, when Pillow reports it
    reason: str  # why not, or what it was checked with

    def describe(self) -> str:
        if self.usable:
            parts = [f"raqm {self.version or '?'}"]
            for name in ("fribidi", "harfbuzz"):
                version = _feature_version(name)
                if version:
                    parts.append(f"{name} {version}")
            return "ok: " + ", ".join(parts) + f"; bidi levels: {bidi_backend()}"
        return f"unavailable ({self.reason}): {WITHOUT_RAQM}; bidi levels: {bidi_backend()}"


def _feature_version(name: str) -> str | None:
    try:
        return features.version(name)
    except Exception:  # noqa: BLE001 - an old Pillow without that feature name
        return None


@lru_cache(maxsize=1)
def raqm_status() -> RaqmStatus:
    """Whether Pillow's raqm layout works here; checked once, warned about once."""
    status = _check_raqm()
    if not status.usable:
        log.warning("libraqm is not usable (%s): %s", status.reason, WITHOUT_RAQM)
    return status


def _check_raqm() -> RaqmStatus:
    try:
        if not features.check("raqm"):
            return RaqmStatus(False, None, "Pillow was built or installed without libraqm")
    except Exception as exc:  # noqa: BLE001 - features itself failing to load the library
        return RaqmStatus(False, None, f"Pillow cannot load libraqm: {exc}")
    version = _feature_version("raqm")
    # Shape for real: neutral punctuation set right-to-left must come out reversed.
    from ..resources import font_path

    try:
        font = ImageFont.truetype(str(font_path("Inter-Regular.otf")), 24, layout_engine=ImageFont.Layout.RAQM)
        drawn = []
        for text, direction in ((".,:", "rtl"), (":,.", "ltr")):
            with Image.new("L", (64, 32)) as image:
                ImageDraw.Draw(image).text((4, 24), text, font=font, fill=255, anchor="ls", direction=direction)
                drawn.append(image.tobytes())
    except Exception as exc:  # noqa: BLE001 - KeyError/OSError/ValueError from a half-working libraqm
        return RaqmStatus(False, version, f"raqm failed to lay out a test string: {exc}")
    if drawn[0] != drawn[1] or not any(drawn[0]):
        return RaqmStatus(False, version, "raqm did not reverse a right-to-left test string")
    return RaqmStatus(True, version, "shaped a right-to-left test string")


def layout_engine() -> ImageFont.Layout:
    return ImageFont.Layout.RAQM if raqm_status().usable else ImageFont.Layout.BASIC


# ── scripts ───────────────────────────────────────────────────────────────────────

# Scripts that basic layout gets wrong: right-to-left ones, and those whose marks and
# conjuncts need shaping (Indic, Southeast Asian, Arabic joining).
_COMPLEX_RANGES = (
    (0x0590, 0x08FF),  # Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic ext.
    (0x0900, 0x0DFF),  # Devanagari … Sinhala
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x109F),  # Tibetan, Myanmar
    (0x1780, 0x18AF),  # Khmer, Mongolian
    (0xFB1D, 0xFDFF),  # Hebrew and Arabic presentation forms
    (0xFE70, 0xFEFF),
)


def needs_shaping(text: str) -> bool:
    """Whether `text` holds characters that basic (unshaped) layout draws wrongly."""
    for ch in text:
        cp = ord(ch)
        if cp >= 0x0590 and any(lo <= cp <= hi for lo, hi in _COMPLEX_RANGES):
            return True
    return False


def detect_language(text: str, default: str | None = None) -> str | None:
    """A language tag for raqm where the characters decide it: kana → ja, hangul → ko.

    Han characters alone are shared by Chinese and Japanese, so they keep `default`
    (the theme's `language`); so does everything else.
    """
    for ch in text:
        cp = ord(ch)
        if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9F:
            return "ja"
        if 0xAC00 <= cp <= 0xD7AF or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F:
            return "ko"
    return default


# Line breaks inside words: Chinese and Japanese put no spaces between words, and a
# line may break between any two ideographs or kana (UAX #14's class ID), except
# before closing punctuation and small kana, or after opening brackets (kinsoku).
_NO_BREAK_BEFORE = frozenset(
    "、。，．・：；？！ー」』）〕］｝〉》】〙〗ゝゞヽヾ々〻…‥ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
_NO_BREAK_AFTER = frozenset("「『（〔［｛〈《【〘〖")


def _ideographic(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x303F  # CJK radicals, ideographic description, CJK symbols and punctuation
        or 0x3040 <= cp <= 0x31FF  # kana, bopomofo, kanbun, katakana extensions
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF  # fullwidth forms
        or 0x20000 <= cp <= 0x3FFFF
    )


def cjk_breaks(word: str) -> list[int]:
    """Offsets inside a space-free `word` where a line may break between CJK characters."""
    if word.isascii():
        return []
    out = []
    for i in range(1, len(word)):
        before, after = word[i - 1], word[i]
        if not (_ideographic(before) or _ideographic(after)):
            continue
        if after in _NO_BREAK_BEFORE or before in _NO_BREAK_AFTER:
            continue
        if unicodedata.category(after) in ("Mn", "Mc", "Me") or 0xFE00 <= ord(after) <= 0xFE0F or after == "\u200d":
            continue
        out.append(i)
    return out
