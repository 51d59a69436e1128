"""Right-to-left text with Latin words, numbers and brackets, laid out and painted.

The issue's strings, "זבادي (Greek yoghurt) · 180" in an Arabic bullet and
"שלום (world) 123" in a Hebrew title, go through the real path (spec → layout →
raster) with the Noto subsets as the theme's fallback fonts. A line's runs come left
to right, each drawn by raqm in its own direction (right-to-left runs reversed, their
brackets mirrored); what the reader sees is checked twice: as the characters the runs
put on the page, and on the painted pixels, where the brackets are drawn in the accent
colour and must stand on either side of their word, each facing it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.text import raqm_status
from engine.text.bidi import bidi_levels, paragraph_rtl

FONTS = Path(__file__).parent / "data" / "fonts"
FALLBACKS = [str(FONTS / "NotoSansArabic-subset.ttf"), str(FONTS / "NotoSansHebrew-subset.ttf")]

ARABIC_BULLET = "زبادي (Greek yoghurt) · 180"
HEBREW_TITLE = "שלום (world) 123"

pytestmark = pytest.mark.skipif(not raqm_status().usable, reason="raqm is needed to draw right-to-left runs")


def rasterizer(slides, **theme) -> SlideRasterizer:
    theme = {"fallback_fonts": FALLBACKS, "system_fonts": False, "background": "#101418", **theme}
    deck = load_deck({"theme": theme, "slides": slides})
    return SlideRasterizer(deck, replace(resolve_output("youtube"), width=640, height=360))


_MIRRORED = {"(": ")", ")": "("}


def shown(line) -> str:
    """The characters of a line left to right as raqm draws its runs (rule L4 mirroring)."""
    out = []
    for run in line.runs:
        if run.direction == "rtl":
            out.append("".join(_MIRRORED.get(c, c) for c in reversed(run.text)))
        else:
            out.append(run.text)
    return "".join(out)


def test_the_issues_strings_are_shown_with_brackets_around_their_words():
    r = rasterizer([{"kind": "bullets", "title": HEBREW_TITLE, "bullets": [ARABIC_BULLET]}])
    layout = r.layout(0)
    (title,) = layout.block("title").lines
    (bullet,) = next(b for b in layout.blocks if b.role == "bullet").lines
    assert shown(title) == "123 (world) םולש"
    assert shown(bullet) == "180 · (Greek yoghurt) يدابز"
    # And the runs are what the levels say: the word inside at 2, its brackets at 1.
    levels = bidi_levels(ARABIC_BULLET, True)
    assert levels[ARABIC_BULLET.index("(")] == levels[ARABIC_BULLET.index(")")] == 1
    assert set(levels[ARABIC_BULLET.index("G") : ARABIC_BULLET.index(")")]) == {2}
    assert paragraph_rtl(ARABIC_BULLET) and paragraph_rtl(HEBREW_TITLE)


def _columns(mask: np.ndarray) -> list[tuple[int, int]]:
    """Spans [a, b) of columns where `mask` has ink, gaps of one column or more apart."""
    cols = np.nonzero(mask.any(axis=0))[0]
    spans = []
    for c in cols:
        if spans and c == spans[-1][1]:
            spans[-1][1] = c + 1
        else:
            spans.append([c, c + 1])
    return [tuple(s) for s in spans]


def _faces_right(glyph: np.ndarray) -> bool:
    """Whether a bracket's ink bows to the left (an opening "(") rather than to the right.

    The ink of "(" is furthest left at mid-height and curls right toward its ends.
    """
    rows = np.nonzero(glyph.any(axis=1))[0]
    top, bottom = rows.min(), rows.max() + 1
    third = (bottom - top) // 3
    xs = np.arange(glyph.shape[1])

    def centre(band):
        weights = glyph[band].sum(axis=0)
        return (xs * weights).sum() / weights.sum()

    middle = centre(slice(top + third, bottom - third))
    ends = (centre(slice(top, top + third)) + centre(slice(bottom - third, bottom))) / 2
    return middle < ends


@pytest.mark.parametrize(
    "kind,text,word,outside",
    [
        ("title", "שלום [[(]]world[[)]] 123", "world", ("123", "שלום")),
        ("bullet", "زبادي [[(]]Greek yoghurt[[)]] · 180", "Greek yoghurt", ("180", "زبادي")),
    ],
)
def test_painted_brackets_face_their_word_on_either_side(kind, text, word, outside):
    slide = {
        "kind": "bullets",
        "title": text if kind == "title" else "x",
        "bullets": [text if kind == "bullet" else "x"],
    }
    r = rasterizer([slide], accent="#00ff00", text_color="#ffffff")
    layout = r.layout(0)
    block = layout.block("title") if kind == "title" else next(b for b in layout.blocks if b.role == "bullet")
    (line,) = block.lines
    _, image = r.raster(0)
    left, top, right, bottom = block.box
    pixels = image[top:bottom, left:right].astype(int)
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    accent = (green - np.maximum(red, blue)) > 60  # the brackets
    plain = np.minimum(np.minimum(red, green), blue) > 90  # everything else (white)
    brackets = _columns(accent)
    assert len(brackets) == 2, brackets
    (a0, a1), (b0, b1) = brackets
    # The opening bracket is drawn on the left of the word, the closing one on its right,
    # each facing it: "123 (world) םולש", not "world) 123) םולש".
    assert _faces_right(accent[:, a0:a1]) and not _faces_right(accent[:, b0:b1])
    inside = _columns(plain[:, a1:b0])
    assert inside, "the word is drawn between its brackets"
    ink_inside = inside[-1][1] - inside[0][0]
    word_run = next(run for run in line.runs if run.text == word)
    assert abs(ink_inside - (word_run.ink[2] - word_run.ink[0])) <= 2  # that word, and all of it
    # Text on both sides: the number on the left, the right-to-left word on the right.
    assert plain[:, :a0].any() and plain[:, b1:].any()
    runs_left = {run.text.strip() for run in line.runs if line.x - left + run.dx + run.ink[2] <= a0}
    runs_right = {run.text.strip() for run in line.runs if line.x - left + run.dx + run.ink[0] >= b1}
    assert outside[0] in runs_left and outside[1] in runs_right, (runs_left, runs_right)
