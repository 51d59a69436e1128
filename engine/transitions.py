"""The catalogue of built-in transitions: names, parameters and their defaults.

Each built-in has a GLSL file ``shaders/transitions/<name>.glsl`` written to the open
gl-transitions convention (``vec4 transition(vec2 uv)`` over ``getFromColor``,
``getToColor``, ``progress``, ``ratio``; parameters as uniforms with ``// = default``
comments) and a numpy twin in ``engine/composite/twins.py``. The spec validates names
and parameters against this table, and both compositors fill in defaults from it.
Parameters are floats, colours, or images: an image parameter names a bundled
greyscale matte (``shaders/mattes/<name>.png``, see `MATTES`) or an image file.

``yuv_safe`` means the effect is affine in colour (mixes, masks, moves), so it can run
directly on YUV planes. Colour-valued parameters are listed in ``colour_params``: the
host converts them to YUV and hands each plane its own components.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .colour import parse_colour
from .errors import SpecError, excerpt

__all__ = ["BUILTIN", "MATTES", "TransitionDef", "image_path", "resolve_params", "transition_names"]

#: Bundled greyscale mattes an image parameter may name instead of a file.
MATTES = ("clouds", "radial")


@dataclass(frozen=True)
class TransitionDef:
    name: str
    description: str
    # name → default; floats for scalars, "#rrggbb" strings for colours.
    params: Mapping[str, object] = field(default_factory=dict)
    colour_params: frozenset[str] = frozenset()
    image_params: frozenset[str] = frozenset()
    yuv_safe: bool = True


BUILTIN: dict[str, TransitionDef] = {
    t.name: t
    for t in [
        TransitionDef("cut", "no blend: the next slide replaces this one at once"),
        TransitionDef("fade", "crossfade"),
        TransitionDef(
            "fadeblack",
            "fade out to a colour, then in from it (black by default)",
            {"color": "#000000"},
            frozenset({"color"}),
        ),
        TransitionDef("wipeleft", "the next slide is uncovered right to left", {"softness": 0.0}),
        TransitionDef("wiperight", "the next slide is uncovered left to right", {"softness": 0.0}),
        TransitionDef("slideleft", "both slides move left, the next one pushing in from the right"),
        TransitionDef("slideright", "both slides move right, the next one pushing in from the left"),
        TransitionDef("wipeup", "the next slide is uncovered bottom to top", {"softness": 0.0}),
        TransitionDef("wipedown", "the next slide is uncovered top to bottom", {"softness": 0.0}),
        TransitionDef(
            "wipediagonal",
            "the next slide is uncovered from the top-left corner to the bottom-right",
            {"softness": 0.0},
        ),
        TransitionDef("slideup", "both slides move up, the next one pushing in from the bottom"),
        TransitionDef("slidedown", "both slides move down, the next one pushing in from the top"),
        TransitionDef("coverleft", "the next slide moves in from the right over this one, which stays still"),
        TransitionDef("coverright", "the next slide moves in from the left over this one, which stays still"),
        TransitionDef("revealleft", "this slide moves away to the left, uncovering the next one, which stays still"),
        TransitionDef("revealright", "this slide moves away to the right, uncovering the next one, which stays still"),
        TransitionDef(
            "zoomin",
            "this slide zooms in about the centre (to 1 + strength) while the next fades in",
            {"strength": 0.5},
        ),
        TransitionDef(
            "zoomout", "the next slide fades in enlarged (1 + strength) and shrinks to fit", {"strength": 0.5}
        ),
        TransitionDef("circleopen", "the next slide appears in a circle growing from the centre", {"softness": 0.0}),
        TransitionDef(
            "circleclose", "the next slide appears around a circle shrinking onto the centre", {"softness": 0.0}
        ),
        TransitionDef(
            "clockwipe", "a hand sweeps clockwise from 12 o'clock, uncovering the next slide", {"softness": 0.0}
        ),
        TransitionDef(
            "dissolve",
            "the next slide replaces this one cell by cell in seeded random order (cells: rows of cells down the frame)",
            {"cells": 540.0, "seed": 0.0},
        ),
        TransitionDef(
            "pixelize", "crossfade through blocks that grow to `squares` rows halfway, then shrink", {"squares": 20.0}
        ),
        TransitionDef(
            "blurfade",
            "crossfade through a blur, strongest halfway (radius: fraction of the frame height)",
            {"radius": 0.01},
        ),
        TransitionDef(
            "ripple",
            "crossfade through rings rippling out from the centre, strongest halfway",
            {"amplitude": 0.01, "frequency": 40.0, "speed": 30.0},
        ),
        TransitionDef(
            "lumawipe",
            "the next slide shows through a greyscale matte, darkest first: a bundled one "
            f"({', '.join(MATTES)}) or any image file; `invert` (1) turns it round",
            {"matte": "clouds", "softness": 0.1, "invert": 0.0},
            image_params=frozenset({"matte"}),
        ),
        TransitionDef(
            "cube",
            "the slides are two sides of a cube turning to the left; faces darken towards the fold, the space around is `shadow`",
            {"shadow": "#000000"},
            frozenset({"shadow"}),
        ),
    ]
}


def transition_names() -> list[str]:
    return list(BUILTIN)


def resolve_params(name: str, params: Mapping[str, object] | None, path: str = "") -> dict[str, object]:
    """Defaults merged with `params`, each checked: floats, and colours as RGB triples."""
    if name not in BUILTIN:
        raise SpecError(
            f"unknown transition {excerpt(name)}; built-ins are {', '.join(BUILTIN)}", path + ".name" if path else ""
        )
    definition = BUILTIN[name]
    given = dict(params or {})
    unknown = sorted(set(given) - set(definition.params))
    if unknown:
        allowed = ", ".join(definition.params) or "none"
        raise SpecError(
            f"{name} has no parameter {excerpt(unknown[0])} (parameters: {allowed})",
            f"{path}.params" if path else "params",
        )
    resolved: dict[str, object] = {}
    for key, default in definition.params.items():
        value = given.get(key, default)
        where = f"{path}.params.{key}" if path else f"params.{key}"
        if key in definition.colour_params:
            resolved[key] = parse_colour(value, where)
        elif key in definition.image_params:
            if not isinstance(value, str) or not value.strip():
                raise SpecError(
                    f"must be a bundled matte ({', '.join(MATTES)}) or an image file, got {excerpt(value)}", where
                )
            resolved[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise SpecError(f"must be a number, got {excerpt(value)}", where)
            resolved[key] = float(value)
    return resolved


def image_path(value: str) -> Path:
    """The file an image parameter means: a bundled matte by name, else the path itself."""
    if value in MATTES:
        from .resources import data_dir

        return data_dir("shaders") / "mattes" / f"{value}.png"
    return Path(value)
