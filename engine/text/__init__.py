"""Text in every script: shaping, per-glyph font fallback, inline emphasis, legibility.

- `shaping`: is raqm usable (checked once), bidi levels and run order, languages.
- `sfnt`: what a font file covers (its cmap), colour tables and bitmap strikes.
- `fonts`: the machine's fonts, through fontconfig.
- `fallback`: the chain theme fonts → bundled Inter → system fonts, and paragraphs
  itemized into per-character fonts and levels.
- `runs`: lines cut into runs and measured as they will be drawn.
- `breaks`: words, first-fit wrapping, and the breaks that read best (no orphans,
  after punctuation, balanced titles).
- `markup`: ``**bold**``, ``*italic*``, ``[[accent]]``.
- `typeface`: a deck's fonts (`FontSet`, `resolve_fonts`), checked, and loaded at a size.
- `fit`: text wrapped and sized to fit a box (`fit_text`, `FitRequest`), and a list of
  bullets at one shared size.
- `block`: fitted text placed on the slide (`TextBlock`, `place`).
- `legibility`: the room the legibility treatments take around a block.
- `paint`: drawing runs (colour emoji scaled from their strike, synthetic oblique)
  and the legibility treatments (shadow, outline, scrim).

`engine.layout` places slides with these; `engine.raster` paints with them. Nothing
here imports `engine.layout`.
"""

from __future__ import annotations

from .fallback import Face, FontChain, Para, Typeface
from .markup import Rich
from .markup import parse as parse_markup
from .runs import Run, ShapedLine, shape_line
from .shaping import raqm_status

__all__ = [
    "Face",
    "FontChain",
    "Para",
    "Rich",
    "Run",
    "ShapedLine",
    "Typeface",
    "clear_caches",
    "diagnose_text",
    "parse_markup",
    "raqm_status",
    "shape_line",
]

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
    from ..resources import font_path
    from .fallback import is_emoji_cluster
    from .fonts import fontconfig_problem, system_fonts

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


def clear_caches() -> None:
    """Forget everything learnt about fonts and shaping: after installing fonts, in tests."""
    from . import fallback, fonts, runs, sfnt, shaping

    for cached in (
        shaping.raqm_status,
        sfnt.font_facts,
        fonts.system_fonts,
        fallback._face_for,
        fallback._chain,
        fallback._build,
        runs._shape,
        runs._truetype,
        runs._sized_metrics,
        runs._measure_run,
        runs.estimated_advances,
        runs._em_table,
        runs._basic_face,
    ):
        cached.cache_clear()
