"""The stress deck: no word is lost without a warning, on every frame shape.

Eight long bullets, a 12-bar chart with long labels, Arabic and Hebrew bullets mixing
Latin words, digits and brackets, and a 60-character title, each rasterized on
youtube, tiktok, instagram_feed and instagram_portrait as a render would. For every
text the deck gives, either every word of it is set (in the layout's lines, or among
the chart's labels as drawn), or the slide's warnings name that text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from engine.charts import draw_chart
from engine.layout import ChartPlacement
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck
from engine.text import raqm_status
from engine.text.block import TextBlock

FONTS = Path(__file__).parent / "data" / "fonts"
FALLBACKS = [str(FONTS / "NotoSansArabic-subset.ttf"), str(FONTS / "NotoSansHebrew-subset.ttf")]
PLATFORMS = ["youtube", "tiktok", "instagram_feed", "instagram_portrait"]

TITLE = "Seven days of balanced, seasonal meals for the whole family"  # 60 characters
BULLETS = [
    "Breakfast — overnight oats with berries, chia seeds and a spoon of honey · 420 kcal",
    "Lunch — chickpea and roasted vegetable salad with a lemon tahini dressing · 560 kcal",
    "Snack — Greek yoghurt with walnuts, cinnamon and a handful of blueberries · 180 kcal",
    "Dinner — salmon fillet with brown rice, steamed greens and a miso glaze · 690 kcal",
    "Prep — cook a big pot of grains on Sunday and keep it for the week ahead",
    "Shop — one trip with a list sorted by aisle, so nothing is forgotten",
    "Store — wash and chop vegetables as soon as you get home, in clear boxes",
    "Save — freeze single portions of leftovers, each labelled with the date",
]
LABELS = [
    "Overnight oats",
    "Chickpea salad",
    "Greek yoghurt",
    "Salmon and rice",
    "Lentil soup",
    "Apple and almonds",
    "Chicken stir-fry",
    "Tuna bean wrap",
    "Hummus and carrots",
    "Turkey chilli",
    "Baked cod",
    "Quinoa tabbouleh",
]
ARABIC = [
    "زبادي (Greek yoghurt) · 180",
    "شوفان مع التوت [oats] · 420 سعرة",
    "سلطة الحمص (chickpea salad) 560",
]
HEBREW = [
    "שלום (world) 123",
    "יוגורט (Greek yoghurt) · 180 קלוריות",
    "סלט חומוס [chickpeas] 560",
]

pytestmark = pytest.mark.skipif(not raqm_status().usable, reason="raqm is needed to set right-to-left text")


def stress_deck() -> dict:
    return {
        "theme": {"fallback_fonts": FALLBACKS, "system_fonts": False},
        "slides": [
            {"kind": "title", "title": TITLE, "subtitle": "About 1,850 kcal a day, planned in one evening"},
            {"kind": "bullets", "title": TITLE, "bullets": BULLETS},
            {
                "kind": "chart",
                "title": "Calories per dish",
                "chart": {
                    "type": "bar",
                    "labels": LABELS,
                    "unit": "kcal",
                    "values": [420, 560, 180, 690, 520, 190, 700, 540, 160, 720, 650, 580],
                },
            },
            {"kind": "bullets", "title": "خطة الأسبوع (week 1)", "bullets": ARABIC},
            {"kind": "bullets", "title": "תוכנית השבוע (week 1)", "bullets": HEBREW},
        ],
    }


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _set_texts(rasterizer: SlideRasterizer, index: int) -> list[str]:
    """Every text the slide sets, as set: its layout's lines, and a chart's labels as drawn."""
    layout = rasterizer.layout(index)
    texts = [" ".join(line.text for line in block.lines) for block in layout.items if isinstance(block, TextBlock)]
    for item in layout.items:
        if isinstance(item, ChartPlacement):
            left, top, right, bottom = item.box
            palette = rasterizer.palette
            drawn = draw_chart(
                item.slide.chart,
                right - left,
                bottom - top,
                fonts=item.fonts,
                text_rgb=palette.text[:3],
                accent_rgb=palette.accent[:3],
                warn=False,
            ).texts
            cut = {text for text, _ in drawn.cut}
            texts += [label for label in (*drawn.categories, *drawn.legend) if label not in cut]
    return texts


def _given(slide) -> list[str]:
    texts = [getattr(slide, key, None) for key in ("title", "subtitle", "text", "caption")]
    texts += list(getattr(slide, "bullets", None) or [])
    chart = getattr(slide, "chart", None)
    if chart is not None:
        texts += list(chart.labels)
    return [t for t in texts if t]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_word_of_the_stress_deck_is_lost_without_a_warning(platform):
    deck = load_deck(stress_deck())
    rasterizer = SlideRasterizer(deck, resolve_output(platform))
    lost = []
    for index, slide in enumerate(deck.slides):
        rasterizer.raster(index)  # as a render paints it: warnings from the layout and the chart
        shown = " ".join(_set_texts(rasterizer, index))
        shown_words = set(_words(shown))
        warnings = " ".join(w for w in rasterizer.warnings if w.startswith(f"slides[{index}]"))
        for text in _given(slide):
            missing = [w for w in _words(text) if w not in shown_words]
            if missing and _words(text)[0] not in warnings:
                lost.append(f"slides[{index}] {text!r}: {missing} lost, no warning names it")
    assert not lost, "\n".join(lost)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_stress_deck_sets_every_word_whole_where_the_frame_allows(platform):
    # Beyond "warned": on these frames nothing should need cutting at all. A cut here is
    # a regression of the layout even if it is warned of.
    deck = load_deck(stress_deck())
    rasterizer = SlideRasterizer(deck, resolve_output(platform))
    for index in range(len(deck.slides)):
        rasterizer.raster(index)
    assert rasterizer.warnings == []


def test_a_chart_label_cut_on_a_small_frame_is_a_warning_naming_the_slide():
    long_labels = [f"{label} with a long description of everything in it" for label in LABELS]
    deck = stress_deck()
    deck["slides"][2]["chart"]["labels"] = long_labels
    deck = load_deck(deck)
    output = replace(resolve_output("instagram_feed"), width=320, height=320)
    rasterizer = SlideRasterizer(deck, output)
    rasterizer.raster(2)
    chart_warnings = [w for w in rasterizer.warnings if w.startswith("slides[2]: chart:")]
    assert chart_warnings, rasterizer.warnings
    assert any(label in chart_warnings[0] for label in long_labels)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_line_of_mixed_direction_text_splits_a_bracket_pair(platform):
    # Each line is reordered on its own, so a pair split over two lines shows its halves
    # mirrored: "(chickpea" above "560 (salad".
    deck = load_deck(stress_deck())
    rasterizer = SlideRasterizer(deck, resolve_output(platform))
    for index in (3, 4):
        for block in rasterizer.layout(index).blocks:
            for line in block.lines:
                for opener, closer in ("()", "[]"):
                    assert line.text.count(opener) == line.text.count(closer), (
                        f"{platform} slides[{index}]: {line.text!r}"
                    )
