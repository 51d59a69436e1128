"""What `reel doctor` says about text: shaping, system fonts, and which font draws each script."""

from __future__ import annotations

from ..resources import font_path
from .fallback import Typeface, is_emoji_cluster
from .fonts import fontconfig_problem, system_fonts
from .shaping import raqm_status

__all__ = ["SAMPLES", "diagnose_text"]

#: A character of each script `reel doctor` looks for a font for.
SAMPLES = {
    "arabic": "\u0628",
    "hebrew": "\u05d0",
    "devanagari": "\u0915",
    "thai": "\u0e01",
    "cjk": "\u65e5",
    "hangul": "\ud55c",
    "emoji": "\U0001f600",
}


def diagnose_text() -> dict[str, str]:
    """What `reel doctor` says about text: shaping, fontconfig, and who draws each script."""
    facts: dict[str, str] = {"shaping": raqm_status().describe()}
    problem = fontconfig_problem()
    if problem:
        facts["system fonts"] = f"none: {problem}; only the theme's and bundled fonts are used"
    else:
        fonts = system_fonts(False)
        facts["system fonts"] = (
            f"{len(fonts)} found by fontconfig for sans-serif" if fonts else "none found by fontconfig"
        )
    typeface = Typeface(str(font_path("Inter-Regular.otf")), str(font_path("Inter-Bold.otf")))
    chain, _ = typeface.chain(0)
    for script, sample in SAMPLES.items():
        cps = (ord(sample),)
        face = chain.face_for(cps, is_emoji_cluster(cps))
        if face is None:
            facts[script] = "no font: drawn as boxes (install one, e.g. Noto, or set theme.fallback_fonts)"
            continue
        try:
            info = face.facts
            name = info.family or face.path
            colour = " (colour)" if info.colour else (" (monochrome)" if script == "emoji" else "")
        except Exception:  # noqa: BLE001 - an unreadable system font: say where it is at least
            name, colour = face.path, ""
        facts[script] = f"{name}{colour}: {face.path}"
    return facts
