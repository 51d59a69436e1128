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
- `diagnose`: what `reel doctor` says about text; `caches`: forgetting what was learnt.
- `paint`: drawing runs (colour emoji scaled from their strike, synthetic oblique)
  and the legibility treatments (shadow, outline, scrim).

`engine.layout` places slides with these; `engine.raster` paints with them. Nothing
here imports `engine.layout`.
"""

from __future__ import annotations

from .caches import clear_caches
from .diagnose import diagnose_text
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
