"""Text in every script, checked on real pixels: shaping, order, fallback, colour, fit.

Slides are rasterized by the real path (spec → layout → raster) with the Noto subsets
in tests/data/fonts as the theme's fallback fonts and the machine's fonts left out,
then the pixels are inspected: Arabic is joined (narrower than unshaped), right-to-left
words run from the right, CJK and emoji come from their fallback fonts and are not
.notdef boxes, emoji are in colour at the line's size, and no text leaves its box.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.raster.slides import paint_text
from engine.spec import load_deck
from engine.text import clear_caches
from engine.text.block import TextBlock
from engine.text.fonts import system_fonts

FONTS = Path(__file__).parent / "data" / "fonts"
ARABIC = FONTS / "NotoSansArabic-subset.ttf"
HEBREW = FONTS / "NotoSansHebrew-subset.ttf"
DEVANAGARI = FONTS / "NotoSansDevanagari-subset.ttf"
THAI = FONTS / "NotoSansThai-subset.ttf"
JAPANESE = FONTS / "NotoSansJP-subset.otf"
EMOJI = FONTS / "NotoColorEmoji-subset.ttf"
FALLBACKS = [str(p) for p in (ARABIC, HEBREW, DEVANAGARI, THAI, JAPANESE, EMOJI)]

WHITE = (255, 255, 255, 255)
SIZES = {"16:9": ("youtube", 640, 360), "9:16": ("tiktok", 360, 640), "1:1": ("instagram_feed", 480, 480)}

LINES = {
    "arabic": "مرحبا بالعالم",
    "hebrew": "שלום עולם",
    "hindi": "नमस्ते दुनिया",
    "japanese": "こんにちは世界",
    "emoji": "Salad 🥗 サラダ 😀🎉",
}


def rasterizer(slides, shape: str = "16:9", **theme):
    theme = {"fallback_fonts": FALLBACKS, "system_fonts": False, "background": "#101418", **theme}
    deck = load_deck({"theme": theme, "slides": slides})
    platform, width, height = SIZES[shape]
    return SlideRasterizer(deck, replace(resolve_output(platform), width=width, height=height))


def paragraph(text: str, **extra) -> dict:
    return {"kind": "text", "text": text, **extra}


def block_alone(block: TextBlock, width: int, height: int, rgba=WHITE) -> np.ndarray:
    """The block painted alone on black: H×W×3."""
    with Image.new("RGB", (width, height), (0, 0, 0)) as canvas:
        paint_text(ImageDraw.Draw(canvas, "RGBA"), block, rgba)
        return np.asarray(canvas).copy()


def ink_box(pixels: np.ndarray, threshold: int = 40):
    """(left, top, right, bottom) of the pixels brighter than `threshold`, exclusive ends."""
    ys, xs = np.nonzero(pixels.max(axis=2) > threshold)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def only_block(r: SlideRasterizer, index: int, role: str = "body") -> tuple[TextBlock, np.ndarray]:
    layout = r.layout(index)
    block = layout.block(role)
    return block, block_alone(block, layout.width, layout.height)


# ── shaping ───────────────────────────────────────────────────────────────────────


def test_arabic_is_shaped_joined_letters_are_narrower_than_unshaped():
    r = rasterizer([paragraph(LINES["arabic"])])
    block, pixels = only_block(r, 0)
    (line,) = block.lines
    (run,) = line.runs
    assert Path(run.font) == ARABIC and run.direction == "rtl"
    basic = ImageFont.truetype(str(ARABIC), block.size, layout_engine=ImageFont.Layout.BASIC)
    unshaped = basic.getlength(LINES["arabic"])
    assert run.advance < 0.85 * unshaped, (run.advance, unshaped)  # joined forms are narrower
    x0, _, x1, _ = ink_box(pixels)
    assert abs((x1 - x0) - run.advance) <= 0.1 * run.advance  # and what is drawn is that width


def _tall_part_columns(pixels: np.ndarray, above: int) -> np.ndarray:
    """Columns with ink in the rows above `above` (where only a tall letter reaches)."""
    ink = pixels.max(axis=2) > 100
    return np.nonzero(ink[:above].any(axis=0))[0]


@pytest.mark.parametrize(
    "word,rest",
    [("לחם", "חם"), ("اببب", "ببب")],  # lamed rises above Hebrew letters; alef above ba
    ids=["hebrew", "arabic"],
)
def test_right_to_left_words_start_at_the_right(word, rest):
    r = rasterizer([paragraph(word), paragraph(rest)])
    block, pixels = only_block(r, 0)
    rest_block, rest_pixels = only_block(r, 1)
    assert block.size == rest_block.size and block.lines[0].baseline == rest_block.lines[0].baseline
    _, rest_top, _, _ = ink_box(rest_pixels, 100)
    x0, _, x1, _ = ink_box(pixels, 100)
    tall = _tall_part_columns(pixels, rest_top - 2)
    assert tall.size, "the tall first letter is drawn"
    # The first letter (logically) is the rightmost one: its ink is in the last third.
    assert tall.min() > x0 + (x1 - x0) * 2 / 3, (tall.min(), tall.max(), x0, x1)


def _rendered(font_file: Path, text: str, engine, size: int = 60) -> np.ndarray:
    font = ImageFont.truetype(str(font_file), size, layout_engine=engine)
    with Image.new("L", (8 * size, 3 * size)) as image:
        ImageDraw.Draw(image).text((size // 2, 2 * size), text, font=font, fill=255, anchor="ls")
        return np.asarray(image).copy()


def test_devanagari_and_thai_combine():
    hindi = rasterizer([paragraph(LINES["hindi"])])
    block, _ = only_block(hindi, 0)
    (run,) = block.lines[0].runs
    assert Path(run.font) == DEVANAGARI
    basic = ImageFont.truetype(str(DEVANAGARI), block.size, layout_engine=ImageFont.Layout.BASIC)
    assert run.advance < 0.95 * basic.getlength(LINES["hindi"])  # the conjunct स्त is one glyph
    # Marks are placed by shaping: the drawn pixels differ from one glyph per code point.
    for font, text in ((DEVANAGARI, "कि"), (THAI, "น้ำ")):
        shaped = _rendered(font, text, ImageFont.Layout.RAQM)
        assert (shaped != _rendered(font, text, ImageFont.Layout.BASIC)).sum() > 50, text


# ── fallback ──────────────────────────────────────────────────────────────────────


def _notdef_free(run, ch: str) -> bool:
    """Whether `ch` in the run's font draws something other than that font's .notdef box."""
    font = run.load()
    missing = font.getmask("\u0378")  # an unassigned code point: no font has it
    glyph = font.getmask(ch)
    return glyph.size != missing.size or bytes(glyph) != bytes(missing)


def test_cjk_and_emoji_come_from_their_fallback_fonts_not_boxes():
    r = rasterizer([{"kind": "title", "title": LINES["emoji"], "subtitle": LINES["japanese"]}])
    layout = r.layout(0)
    assert layout.warnings == ()
    used = {}
    for role in ("title", "subtitle"):
        for line in layout.block(role).lines:
            for run in line.runs:
                for ch in run.text.replace(" ", ""):
                    used[ch] = run
    for ch in "サラダこんにちは世界":
        assert Path(used[ch].font) == JAPANESE, ch
    for ch in "🥗😀🎉":
        assert Path(used[ch].font) == EMOJI, ch
    for ch, run in used.items():
        if not run.colour_glyphs:
            assert _notdef_free(run, ch), ch


def test_without_the_fallback_fonts_the_same_line_would_draw_boxes():
    """The control for the test above: the bundled font alone has no CJK."""
    r = rasterizer([paragraph(LINES["japanese"])], fallback_fonts=[])
    layout = r.layout(0)
    (run,) = layout.block("body").lines[0].runs
    assert not _notdef_free(run, "世")
    assert any("no font has" in w and "U+3053" in w for w in layout.warnings)


def _saturated(pixels: np.ndarray) -> int:
    rgb = pixels.astype(int)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 80).sum())


def test_colour_emoji_are_drawn_in_colour_at_the_lines_size():
    r = rasterizer([paragraph("Salad 🥗 bowl")])
    layout = r.layout(0)
    block = layout.block("body")
    line = block.lines[0]
    emoji = next(run for run in line.runs if "🥗" in run.text)
    assert emoji.colour_glyphs and emoji.size == 109 and emoji.scale < 1
    _, image = r.raster(0)
    x0, y0, x1, y1 = emoji.ink
    region = image[line.baseline + y0 : line.baseline + y1, line.x + emoji.dx + x0 : line.x + emoji.dx + x1]
    assert _saturated(region) > 0.12 * region.shape[0] * region.shape[1]  # a coloured picture (the bowl is white)
    l, t, rr, b = block.box
    assert _saturated(image[t:b, l:rr]) == _saturated(region)  # and no other text is coloured
    # As tall as the line's letters give or take, not the strike's 109 px.
    letters = next(run for run in line.runs if "Salad" in run.text)
    assert 0.9 <= (y1 - y0) / (letters.ink[3] - letters.ink[1]) <= 1.8


def test_a_colour_emoji_font_of_the_machine_is_used_when_there_is_one():
    if shutil.which("fc-match") is None:
        pytest.skip("fontconfig (fc-match) is not installed")
    colour = [f for f in system_fonts(False) if f.colour and f.covers(0x1F600)]
    if not colour:
        pytest.skip("no colour emoji font is installed here (e.g. Debian's fonts-noto-color-emoji)")
    r = rasterizer([paragraph("Hi 😀")], fallback_fonts=[], system_fonts=True)
    line = r.layout(0).block("body").lines[0]
    run = next(run for run in line.runs if "😀" in run.text)
    assert run.colour_glyphs
    _, image = r.raster(0)
    assert _saturated(image) > 50


# ── fitting ───────────────────────────────────────────────────────────────────────


def _all_kinds() -> list[dict]:
    mixed = " · ".join(LINES.values())
    return [
        {"kind": "title", "title": f"{LINES['emoji']} **{LINES['arabic']}**", "subtitle": LINES["hindi"]},
        {"kind": "bullets", "title": LINES["hebrew"], "bullets": list(LINES.values())},
        {"kind": "bullets", "title": "Mixed", "bullets": [mixed, mixed]},
        paragraph((mixed + " ") * 3),
        {"kind": "text", "style": "quote", "text": LINES["arabic"] * 3, "attribution": LINES["hebrew"]},
        {"kind": "text", "style": "big", "text": "🥗 1,850 kcal"},
    ]


@pytest.mark.parametrize("shape", list(SIZES))
@pytest.mark.parametrize("legibility", ["none", "outline", "shadow", "scrim"])
def test_no_text_is_drawn_outside_its_box(shape, legibility):
    r = rasterizer(_all_kinds(), shape, legibility=legibility)
    for index in range(len(r.deck.slides)):
        layout = r.layout(index)
        left, top, right, bottom = layout.content_box
        for item in layout.items:
            l, t, rr, b = item.box
            assert left <= l and top <= t and rr <= right and b <= bottom, (index, item)
            if not isinstance(item, TextBlock):
                continue
            assert not item.truncated, (index, item.role)
            pixels = block_alone(item, layout.width, layout.height)
            x0, y0, x1, y1 = ink_box(pixels, 0)
            assert l <= x0 and t <= y0 and x1 <= rr and y1 <= b, (index, item.role, (x0, y0, x1, y1), item.box)
        assert layout.warnings == (), layout.warnings


def test_text_that_cannot_fit_is_cut_and_the_warning_names_the_slide(caplog):
    words = " ".join(["مرحبا بالعالم", "サラダ", "🥗"] * 200)
    r = rasterizer([{"kind": "bullets", "title": "Too much", "bullets": [words]}])
    with caplog.at_level(logging.WARNING):
        layout = r.layout(0)
    (warning,) = layout.warnings
    assert warning.startswith('bullets slide "Too much": bullet ') and "cut to" in warning
    block = next(b for b in layout.blocks if b.role == "bullet")
    assert block.truncated and block.lines[-1].text.endswith("…")
    pixels = block_alone(block, layout.width, layout.height)
    x0, y0, x1, y1 = ink_box(pixels, 0)
    assert block.box[0] <= x0 and block.box[1] <= y0 and x1 <= block.box[2] and y1 <= block.box[3]


def test_taller_fallback_fonts_push_lines_apart_instead_of_overlapping():
    latin = rasterizer([paragraph("word " * 60)]).layout(0).block("body")
    arabic = rasterizer([paragraph("مرحبا " * 60)]).layout(0).block("body")
    assert latin.size == arabic.size
    gap = lambda block: block.lines[1].baseline - block.lines[0].baseline
    assert gap(arabic) > gap(latin)  # Noto Sans Arabic's ascent + descent is larger than Inter's


# ── emphasis, alignment, case ─────────────────────────────────────────────────────


def test_accent_spans_are_drawn_in_the_accent_colour():
    r = rasterizer([paragraph("Eat [[greens]] now")], accent="#00ff00", text_color="#ffffff")
    line = r.layout(0).block("body").lines[0]
    green = next(run for run in line.runs if run.accent)
    assert green.text == "greens"
    block = r.layout(0).block("body")
    _, image = r.raster(0)
    l, t, rr, b = block.box
    text = image[t:b, l:rr]  # the block alone (the paragraph's accent rule stands beside it)
    pure = (text[..., 1] > 200) & (text[..., 0] < 80) & (text[..., 2] < 80)
    xs = l + np.nonzero(pure.any(axis=0))[0]
    assert xs.size and xs.min() >= line.x + green.dx + green.ink[0] and xs.max() < line.x + green.dx + green.ink[2]


def test_bold_and_italic_spans_use_the_bold_font_and_a_slant():
    line = rasterizer([paragraph("a **b** *c*")]).layout(0).block("body").lines[0]
    by_text = {run.text.strip(): run for run in line.runs}
    assert Path(by_text["b"].font).name == "Inter-Bold.otf"
    assert by_text["c"].oblique


def test_right_to_left_paragraphs_are_set_from_the_right():
    text = "שלום עולם " * 12
    block = rasterizer([paragraph(text)]).layout(0).block("body")
    assert len(block.lines) > 1
    rights = {line.x + line.runs[-1].dx + line.runs[-1].ink[2] for line in block.lines}
    assert max(rights) - min(rights) <= 1
    lefts = {line.x for line in block.lines}
    assert len(lefts) > 1  # ragged on the left


def test_text_align_and_a_slides_own_align():
    text = "short words that wrap " * 6
    centered = rasterizer([paragraph(text)], text_align="center").layout(0).block("body")
    mids = [line.x + (line.runs[0].ink[0] + line.runs[-1].dx + line.runs[-1].ink[2]) / 2 for line in centered.lines]
    assert max(mids) - min(mids) <= 1.5
    right = rasterizer([paragraph(text, align="right")], text_align="center").layout(0).block("body")
    rights = {line.x + line.runs[-1].dx + line.runs[-1].ink[2] for line in right.lines}
    assert max(rights) - min(rights) <= 1


def test_line_height_scales_the_line_spacing():
    text = "words " * 80

    def gap(line_height: float) -> int:
        body = rasterizer([paragraph(text)], line_height=line_height).layout(0).block("body")
        return body.lines[1].baseline - body.lines[0].baseline

    assert gap(1.5) / gap(1.0) == pytest.approx(1.5, rel=0.12)


def test_text_case_upper_titles_capitalises_titles_only():
    r = rasterizer([{"kind": "title", "title": "Eat well", "subtitle": "every day"}], text_case="upper-titles")
    layout = r.layout(0)
    assert layout.block("title").lines[0].text == "EAT WELL"
    assert layout.block("subtitle").lines[0].text == "every day"


def test_latin_text_is_one_run_drawn_exactly_as_before():
    r = rasterizer([paragraph("Breakfast — Overnight oats with berries · 420 kcal")])
    block = r.layout(0).block("body")
    font = ImageFont.truetype(str(block.font), block.size)
    for line in block.lines:
        (run,) = line.runs
        assert run.text == line.text and Path(run.font) == block.font and run.dx == 0
        assert run.direction is None and run.language is None and not run.oblique
    with Image.new("RGB", (640, 360)) as expected:
        draw = ImageDraw.Draw(expected, "RGBA")
        for line in block.lines:
            draw.text((line.x, line.baseline), line.text, font=font, fill=WHITE, anchor="ls")
        assert np.array_equal(np.asarray(expected), block_alone(block, 640, 360))


# ── legibility ────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("legibility", ["outline", "shadow", "scrim"])
def test_legibility_treatments_darken_around_light_text_inside_its_box(legibility):
    r = rasterizer([paragraph("Over a bright picture 🥗")], legibility=legibility, background="#e8e8e8")
    layout = r.layout(0)
    _, image = r.raster(0)
    block = layout.block("body")
    l, t, rr, b = block.box
    changed = np.abs(image.astype(int) - 0xE8).max(axis=2) > 8
    inside = np.zeros_like(changed)
    for item in layout.items:
        il, it, ir, ib = item.box
        inside[it:ib, il:ir] = True
    assert not (changed & ~inside).any(), "nothing drawn outside the items' boxes"
    dark = image[t:b, l:rr].max(axis=2) < 200
    assert dark.mean() > (0.3 if legibility == "scrim" else 0.01)


def test_text_over_a_moving_slide_is_drawn_the_same_way_on_its_layer():
    r = rasterizer([{**paragraph("Build 🥗"), "motion": {"build": {"style": "rise"}}}], legibility="scrim")
    layers = r.layers(0)
    rgb, alpha = layers.items[..., :3], layers.items[..., 3]
    assert _saturated(np.where(alpha[..., None] > 200, rgb, 0)) > 30  # the emoji, in colour
    assert ((alpha > 0) & (alpha < 255)).sum() > 1000  # the translucent scrim


# ── without raqm ──────────────────────────────────────────────────────────────────


@pytest.fixture()
def without_raqm(monkeypatch):
    from PIL import features

    real = features.check
    monkeypatch.setattr(features, "check", lambda name: False if name == "raqm" else real(name))
    clear_caches()
    yield
    monkeypatch.undo()
    clear_caches()


def test_without_raqm_text_still_renders_with_a_warning_naming_what_is_wrong(without_raqm, caplog):
    from engine.text import raqm_status

    with caplog.at_level(logging.WARNING):
        status = raqm_status()
    assert not status.usable and "right-to-left" in status.describe()
    assert any("libraqm" in rec.message for rec in caplog.records)
    r = rasterizer([paragraph("לחם"), paragraph("חם")])
    layout = r.layout(0)
    assert any("libraqm" in w and "Devanagari" in w for w in layout.warnings)
    # Basic layout cannot shape, but the letters still come in right-to-left order.
    _block, pixels = only_block(r, 0)
    _, rest_pixels = only_block(r, 1)
    _, rest_top, _, _ = ink_box(rest_pixels, 100)
    x0, _, x1, _ = ink_box(pixels, 100)
    assert _tall_part_columns(pixels, rest_top - 2).min() > x0 + (x1 - x0) * 2 / 3


def test_japanese_without_spaces_wraps_between_characters_not_before_closing_marks():
    text = "一週間の食事、「サラダ」の日本語。" * 3
    block = rasterizer([paragraph(text)], "9:16").layout(0).block("body")
    assert len(block.lines) > 1
    assert "".join(line.text for line in block.lines) == text  # nothing added, nothing lost
    for line in block.lines[1:]:
        assert line.text[0] not in "、。」", line.text  # closing marks stay with what they close
    assert not block.truncated
