"""How much room the legibility treatments take around a block of text (theme ``legibility``).

Fitting reserves this room (`engine.text.fit`) and painting draws in it
(`engine.text.paint`), so a shadow, outline or scrim never falls outside a block's box.
"""

from __future__ import annotations

__all__ = ["LEGIBILITY", "legibility_margins", "outline_width", "shadow_geometry"]

#: Legibility treatments of text over busy backgrounds (theme ``legibility``).
LEGIBILITY = ("none", "shadow", "outline", "scrim")


def outline_width(size: int) -> int:
    return max(1, round(size * 0.045))


def shadow_geometry(size: int) -> tuple[int, int]:
    """(offset down, blur radius) of a shadow at `size` px."""
    return max(1, round(size * 0.035)), max(1, round(size * 0.045))


def legibility_margins(kind: str, size: int) -> tuple[int, int, int, int]:
    """Room (left, top, right, bottom) a treatment needs around a block's ink at `size` px."""
    if kind == "outline":
        w = outline_width(size)
        return (w, w, w, w)
    if kind == "shadow":
        offset, blur = shadow_geometry(size)
        spread = 2 * blur
        return (spread, max(0, spread - offset), spread, spread + offset)
    if kind == "scrim":
        pad_x, pad_y = max(2, round(size * 0.4)), max(2, round(size * 0.22))
        return (pad_x, pad_y, pad_x, pad_y)
    return (0, 0, 0, 0)
