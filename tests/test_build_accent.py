"""A slide's accent rule enters with its build: nothing of the slide shows before its build starts."""

from __future__ import annotations

import numpy as np
import pytest

from engine import render_frame
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.timeline import build_timeline

ACCENT = (0xFF, 0xB5, 0x47)
PLATFORM = "640x360@10"
BUILD = {"style": "fade", "duration": 1.0, "delay": 1.0}


def _deck(second: dict) -> dict:
    return {
        "theme": {"background": "#182430", "accent": "#ffb547"},
        "slides": [
            {"kind": "text", "text": "Before", "duration": 2.0},
            {**second, "duration": 3.0, "motion": {"build": BUILD}},
        ],
    }


def _accent_pixels(frame: np.ndarray) -> int:
    distance = np.abs(frame.astype(np.int16) - np.array(ACCENT, dtype=np.int16)).max(axis=-1)
    return int(np.count_nonzero(distance <= 24))


def _second_slide_start(deck: dict) -> float:
    return build_timeline(load_deck(deck).timings(), 10).slide_starts[1]


SECOND_SLIDES = [
    {"kind": "bullets", "title": "Plan", "bullets": ["Oats", "Salad", "Fish"]},
    {"kind": "title", "title": "Weekly plan", "subtitle": "Eat well"},
]


@pytest.mark.parametrize("second", SECOND_SLIDES, ids=lambda s: s["kind"])
def test_the_accent_rule_shows_only_once_the_build_starts(second):
    deck = _deck(second)
    start = _second_slide_start(deck)
    # Once the fade into the slide is over (0.5 s), before the build's delay.
    for t in (0.6, 0.9):
        before = render_frame(deck, start + t, platform=PLATFORM, compositor="cpu")
        assert _accent_pixels(before) == 0, f"accent shows {t} s into the slide, before its build"
    after = render_frame(deck, start + 2.5, platform=PLATFORM, compositor="cpu")
    assert _accent_pixels(after) > 50


@pytest.mark.parametrize("second", SECOND_SLIDES, ids=lambda s: s["kind"])
def test_the_rule_joins_the_first_build_item_and_bands_stay_disjoint(second):
    layers = SlideRasterizer(load_deck(_deck(second)), resolve_output(PLATFORM)).layers(1)
    # The rule is an item's ink, not the back layer's; every inked row belongs to an item.
    back = np.abs(layers.back.astype(np.int16) - np.array(ACCENT, dtype=np.int16)).max(axis=-1)
    assert not np.any(back <= 24)
    ink = layers.items[..., 3].any(axis=1)
    assert not np.any(ink & (layers.rows == 0))
    for number in range(1, layers.count + 1):
        band = np.flatnonzero(layers.rows == number)
        assert band.size and np.all(np.diff(band) == 1)
