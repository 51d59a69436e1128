"""Chart colours: a colour-blind-safe palette that starts with the theme's accent.

The default order is Okabe & Ito's (2008) set, which stays distinguishable under the
common colour-vision deficiencies, then neutral greys. The theme accent, when given,
comes first; palette colours too close to it, or too faint against the slide
background, are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..colour import parse_colour

__all__ = ["OKABE_ITO", "as_rgb", "contrast", "ink_for", "luminance", "series_colours"]

RGB = tuple[int, int, int]

OKABE_ITO: tuple[RGB, ...] = (
    (230, 159, 0),  # orange
    (86, 180, 233),  # sky blue
    (0, 158, 115),  # bluish green
    (240, 228, 66),  # yellow
    (0, 114, 178),  # blue
    (213, 94, 0),  # vermillion
    (204, 121, 167),  # reddish purple
)
#: After the palette (its eighth colour, black, vanishes on dark slides): neutral greys,
#: so eight series stay distinct even when the accent displaces a palette colour.
NEUTRALS: tuple[RGB, ...] = ((150, 150, 150), (210, 210, 210), (95, 95, 95))
#: Below this "redmean" distance a palette colour reads as the accent's series.
_TOO_CLOSE = 160.0
#: Below this contrast ratio a colour barely shows on the background.
_TOO_FAINT = 1.35


def as_rgb(colour: Sequence[int]) -> RGB:
    """`colour` as an (r, g, b) tuple: a list or a slice of an RGBA tuple reads the same."""
    r, g, b = colour
    return (r, g, b)


def _distance(a: RGB, b: RGB) -> float:
    """A cheap perceptual RGB distance (the "redmean" weighting)."""
    mean_red = (a[0] + b[0]) / 2
    dr, dg, db = (a[i] - b[i] for i in range(3))
    return ((2 + mean_red / 256) * dr * dr + 4 * dg * dg + (2 + (255 - mean_red) / 256) * db * db) ** 0.5


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio, 1 (none) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_for(fill: RGB) -> RGB:
    """Near-black or white, whichever reads better on `fill`."""
    dark, light = (17, 17, 17), (255, 255, 255)
    return dark if contrast(fill, dark) >= contrast(fill, light) else light


def series_colours(
    count: int,
    *,
    accent: RGB | None = None,
    background: RGB | None = None,
    overrides: Sequence[str | RGB | None] = (),
) -> list[RGB]:
    """`count` colours: `overrides` first where given, then accent and Okabe–Ito.

    An override of None keeps the palette's colour for that position. Past the
    palette's end the colours repeat.
    """
    palette = _default_palette(accent, background)
    colours = []
    for index in range(count):
        override = overrides[index] if index < len(overrides) else None
        colours.append(parse_colour(override) if override is not None else palette[index % len(palette)])
    return colours


def _default_palette(accent: RGB | None, background: RGB | None) -> list[RGB]:
    accent = None if accent is None else as_rgb(accent)
    background = None if background is None else as_rgb(background)
    chosen: list[RGB] = [accent] if accent is not None else []
    for colour in (*OKABE_ITO, *NEUTRALS):
        if accent is not None and _distance(colour, accent) < _TOO_CLOSE:
            continue
        if background is not None and contrast(colour, background) < _TOO_FAINT:
            continue
        chosen.append(colour)
    return chosen or list(OKABE_ITO)
