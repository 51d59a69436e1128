"""Golden stills: the example deck's look, pinned at small sizes.

References live in tests/golden/ and come from the CPU path (bundled fonts, numpy
compositor), so they do not depend on a GPU driver. After a deliberate change to the
look, regenerate them with ``pytest tests/test_golden.py --regenerate-golden`` and
review the new PNGs before committing. A failure writes the frame it got and a diff
image next to the reference (``*.actual.png``, ``*.diff.png``, both git-ignored).
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.pipeline import render_still
from engine.platforms import resolve_output
from engine.spec import load_deck

from .helpers import compare_with_golden

GOLDEN = Path(__file__).parent / "golden"
DECK = Path(__file__).parent.parent / "examples" / "meal-plan.json"

# (platform whose safe area applies, size, moment in seconds → which slide)
CASES = [
    ("youtube", (320, 180), 2.0),  # title slide
    ("youtube", (320, 180), 8.0),  # Monday's bullets
    ("tiktok", (180, 320), 8.0),  # the same slide re-laid out for 9:16
    ("instagram_feed", (240, 240), 38.0),  # the image slide
    ("instagram_portrait", (216, 270), 43.0),  # the big number
]


@pytest.mark.parametrize("platform,size,seconds", CASES, ids=[f"{c[0]}-{c[2]:g}s" for c in CASES])
def test_example_deck_still_matches_its_golden(platform, size, seconds, request):
    output = replace(resolve_output(platform), width=size[0], height=size[1])
    frame = render_still(load_deck(DECK), output, seconds, compositor="cpu")
    compare_with_golden(frame, GOLDEN / f"meal-plan-{platform}-{seconds:g}s.png", request)


# --- every built-in transition, frozen mid-way -------------------------------------

TRANSITION_SIZE = (192, 108)


def _two_sample_slides():
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer

    deck = load_deck(
        {
            "theme": {"background": {"gradient": {"from": "#203a70", "to": "#0c1630"}}, "accent": "#ffb547"},
            "slides": [
                {"kind": "title", "title": "From"},
                {"kind": "bullets", "title": "To", "bullets": ["one", "two"], "background": "#d8e4d0"},
            ],
        }
    )
    output = replace(resolve_output("youtube"), width=TRANSITION_SIZE[0], height=TRANSITION_SIZE[1])
    rasterizer = SlideRasterizer(deck, output)
    return rasterizer.raster(0), rasterizer.raster(1)


@pytest.fixture(scope="module")
def sample_compositor():
    from engine.composite.cpu import CPUCompositor

    compositor = CPUCompositor(*TRANSITION_SIZE)
    (key_a, a), (key_b, b) = _two_sample_slides()
    handles = compositor.upload(key_a, a), compositor.upload(key_b, b)
    yield compositor, handles
    compositor.close()


def _builtin_names():
    from engine.transitions import BUILTIN

    return list(BUILTIN)


@pytest.mark.parametrize("name", _builtin_names())
def test_transition_midpoint_matches_its_golden(name, sample_compositor, request):
    from engine.colour import nv12_size, nv12_to_rgb
    from engine.composite import FrameSpec
    from engine.transitions import resolve_params

    compositor, (source, target) = sample_compositor
    compositor.render(FrameSpec(source, target, name, 0.5, resolve_params(name, {})))
    buffer = np.empty(nv12_size(*TRANSITION_SIZE), np.uint8)
    compositor.read_nv12(buffer)
    frame = nv12_to_rgb(buffer, *TRANSITION_SIZE)
    compare_with_golden(frame, GOLDEN / "transitions" / f"{name}.png", request)
