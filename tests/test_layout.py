"""engine.layout: where text and images go, for every frame shape, without drawing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from engine.errors import AssetError
from engine.layout import ImagePlacement, Shape, layout_slide
from engine.platforms import resolve_output
from engine.resources import font_path
from engine.spec import Theme, load_deck
from engine.text.block import TextBlock
from engine.text.breaks import is_orphan, words
from engine.text.fit import ELLIPSIS, fit_text
from engine.text.typeface import load_font, resolve_fonts

from .helpers import OUTPUT_IDS, OUTPUTS, slide

EXAMPLE_DECK = Path(__file__).parent.parent / "examples" / "meal-plan.json"
HEBREW = Path(__file__).parent / "data" / "fonts" / "NotoSansHebrew-subset.ttf"
LONG_TITLE = " ".join(["Wholesome", "weekly", "meals", "for", "busy", "families"] * 7)[:-1]  # 42 words
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" + "Supercalifragilistic"  # 65 chars


def theme(**overrides) -> Theme:
    base = {"background": {"color": "#202030"}, "text_color": "#ffffff", "accent": "#ffaa00"}
    return Theme.model_validate({**base, **overrides})


@pytest.fixture(scope="module")
def fonts():
    return resolve_fonts(theme())


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("img") / "photo.png"
    Image.new("RGB", (400, 300), (200, 80, 40)).save(path)
    return path


def all_slides(photo: Path) -> list:
    return [
        slide("title", title="Seven days of good food", subtitle="A balanced plan for the week"),
        slide("bullets", title="Monday", bullets=["Breakfast — Oats · 420 kcal", "Lunch — Salad · 560 kcal"]),
        slide("bullets", title=None, bullets=["Only bullets, no title"]),
        slide("image", file=photo, fit="cover", caption="A caption under the photo"),
        slide("image", file=photo, fit="contain", caption="Contained, letterboxed"),
        slide("image", file=photo, fit="contain"),
        slide("text", text="A paragraph of body text that wraps over a few lines. " * 3),
        slide("text", style="quote", text="Eat food. Not too much. Mostly plants.", attribution="Michael Pollan"),
        slide("text", style="big", text="12,950 kcal / week"),
    ]


def lay(s, fonts, output):
    return layout_slide(s, fonts, output.width, output.height, output.safe_area.box(output.width, output.height))


def inside(inner, outer) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def ink_boxes(block: TextBlock):
    """Each line's ink rectangle in frame pixels, measured with the block's font."""
    font = load_font(block.font, block.size)
    for line in block.lines:
        if line.text:
            x0, y0, x1, y1 = font.getbbox(line.text, anchor="ls")
            yield (line.x + x0, line.baseline + y0, line.x + x1, line.baseline + y1)


@pytest.mark.parametrize("output", OUTPUTS, ids=OUTPUT_IDS)
def test_every_item_of_every_kind_lies_inside_the_padded_safe_box(output, fonts, photo):
    safe = output.safe_area.box(output.width, output.height)
    for s in all_slides(photo):
        layout = lay(s, fonts, output)
        assert inside(layout.content_box, safe)
        assert layout.content_box != safe, "the content box is inset from the safe box"
        assert layout.items, f"{s.kind} laid out nothing"
        for item in layout.items:
            assert inside(item.box, layout.content_box), (s.kind, item)
            if isinstance(item, ImagePlacement):
                assert inside(item.rect, item.box)
            if isinstance(item, TextBlock):
                assert not item.truncated
                for ink in ink_boxes(item):
                    assert inside(ink, item.box), (s.kind, item.role, ink, item.box)


def test_sizes_scale_with_the_frame(fonts):
    s = slide("title", title="Plan")
    full = lay(s, fonts, resolve_output("youtube")).block("title").size
    draft = lay(s, fonts, resolve_output("youtube", "draft")).block("title").size
    assert draft == pytest.approx(full / 2, abs=2)


@pytest.mark.parametrize("output", OUTPUTS, ids=OUTPUT_IDS)
@pytest.mark.parametrize(
    "title", [LONG_TITLE, LONG_WORD, f"{LONG_WORD} and {LONG_TITLE}"], ids=["words", "word", "both"]
)
def test_a_long_title_wraps_and_shrinks_inside_the_safe_box(output, title, fonts):
    safe = output.safe_area.box(output.width, output.height)
    short = lay(slide("title", title="Plan", subtitle="Week one"), fonts, output).block("title")
    block = lay(slide("title", title=title, subtitle="Week one"), fonts, output).block("title")
    assert block.size < short.size
    assert len(block.lines) > 1 or " " not in title
    assert not block.truncated
    assert inside(block.box, safe)
    for ink in ink_boxes(block):
        assert inside(ink, block.box)
    # Every character survives the wrapping: nothing was dropped or clipped.
    assert "".join(line.text for line in block.lines).replace(" ", "") == title.replace(" ", "")


def test_words_are_broken_only_when_shrinking_cannot_help(fonts):
    output = resolve_output("youtube")
    block = lay(slide("title", title="Wholesome weekly meals for busy families"), fonts, output).block("title")
    words = ["Wholesome", "weekly", "meals", "for", "busy", "families"]
    assert [w for line in block.lines for w in line.text.split()] == words, "whole words, in order"
    # 65 characters fit one 16:9 line at a smaller size; a 9:16 line needs the word broken.
    assert len(lay(slide("title", title=LONG_WORD), fonts, output).block("title").lines) == 1
    broken = lay(slide("title", title=LONG_WORD), fonts, resolve_output("tiktok")).block("title")
    assert len(broken.lines) >= 2


def test_a_long_hyphenated_word_breaks_after_a_hyphen(fonts):
    word = "-".join(["wholegrain"] * 12)
    output = resolve_output("tiktok")
    block = lay(slide("title", title=word), fonts, output).block("title")
    assert len(block.lines) > 1
    assert all(line.text.endswith("-") for line in block.lines[:-1])


def test_text_that_cannot_fit_even_at_the_floor_is_cut_with_an_ellipsis(fonts):
    output = resolve_output("youtube", "draft")
    huge = " ".join(["overflowing"] * 600)
    layout = lay(slide("title", title=huge, subtitle="sub"), fonts, output)
    block = layout.block("title")
    assert block.truncated
    assert block.lines[-1].text.endswith(ELLIPSIS)
    assert inside(block.box, layout.content_box)
    (warning,) = layout.warnings
    assert warning.startswith('title slide "overflowing') and "does not fit" in warning


def test_fit_text_never_exceeds_its_box_and_prefers_the_largest_size():
    path = font_path("Inter-Regular.otf")
    short = fit_text("Hi", path, 400, 200, 120, 10)
    assert short.size == 120
    long = fit_text("word " * 50, path, 400, 200, 120, 10)
    assert long.size < 120
    assert long.width <= 400 and long.height <= 200
    tiny = fit_text("too much text " * 100, path, 100, 30, 40, 10)
    assert tiny.truncated and tiny.height <= 30 and tiny.width <= 100


def test_a_separator_never_starts_a_line(fonts):
    output = resolve_output("tiktok")
    bullets = ["Lunch — Tuna & white bean wrap · 540 kcal"] * 3
    layout = lay(slide("bullets", title="Day", bullets=bullets), fonts, output)
    lines = [line.text for b in layout.blocks for line in b.lines]
    assert len(lines) > 4
    assert not any(text.startswith(("·", "—", "/")) for text in lines)


def test_bullets_share_one_size_and_hang_their_wrapped_lines(fonts):
    output = resolve_output("tiktok")
    bullets = ["Short", "A much longer bullet that certainly wraps over more than one line of this frame"]
    layout = lay(slide("bullets", title="Monday", bullets=bullets), fonts, output)
    blocks = [b for b in layout.blocks if b.role == "bullet"]
    dots = [i for i in layout.items if isinstance(i, Shape) and i.kind == "ellipse"]
    assert len(blocks) == 2 and len(dots) == 2
    assert len({b.size for b in blocks}) == 1
    wrapped = blocks[1]
    assert len(wrapped.lines) > 1
    for dot, block in zip(dots, blocks):
        assert dot.colour == "accent"
        assert dot.box[2] < block.box[0], "the marker sits left of the text"
        first = block.lines[0].baseline
        assert block.lines[0].baseline - block.size < (dot.box[1] + dot.box[3]) / 2 < first
    # Hanging indent: continuation lines start where the first line does, right of the marker.
    starts = [ink[0] for ink in ink_boxes(wrapped)]
    assert max(starts) - min(starts) <= max(2, wrapped.size // 10)
    heading = layout.block("title")
    assert heading.size > blocks[0].size and heading.box[3] < blocks[0].box[1]


def test_contain_keeps_the_aspect_ratio_and_cover_fills_the_box(fonts, photo):
    output = resolve_output("tiktok")
    contain = lay(slide("image", file=photo, fit="contain", caption="cap"), fonts, output)
    placed = next(i for i in contain.items if isinstance(i, ImagePlacement))
    w, h = placed.rect[2] - placed.rect[0], placed.rect[3] - placed.rect[1]
    assert w / h == pytest.approx(400 / 300, rel=0.01)
    band = next(i for i in contain.items if isinstance(i, Shape) and i.colour == "band")
    assert band.box[1] > placed.rect[3], "the caption sits below a contained image"
    cover = lay(slide("image", file=photo, fit="cover", caption="cap"), fonts, output)
    placed = next(i for i in cover.items if isinstance(i, ImagePlacement))
    assert placed.rect == placed.box == cover.content_box
    band = next(i for i in cover.items if isinstance(i, Shape) and i.colour == "band")
    assert inside(band.box, placed.rect), "the caption band lies over a cover image"
    assert cover.block("caption").colour == "on_band"


def test_text_styles(fonts):
    output = resolve_output("youtube")
    quote = lay(slide("text", style="quote", text="Eat food.", attribution="M. Pollan"), fonts, output)
    assert quote.block("quote_mark").colour == "accent"
    assert quote.block("attribution").colour == "accent"
    assert quote.block("attribution").lines[0].text.endswith("M. Pollan")
    big = lay(slide("text", style="big", text="12,950 kcal / week"), fonts, output).block("big")
    para = lay(slide("text", text="12,950 kcal / week"), fonts, output).block("body")
    assert big.size > 2 * para.size
    assert len(big.lines) <= 2


def test_missing_font_raises_asset_error_naming_the_file(tmp_path):
    missing = tmp_path / "NoSuchFont.otf"
    with pytest.raises(AssetError, match="NoSuchFont.otf") as info:
        resolve_fonts(theme(font=missing))
    assert info.value.file == str(missing)
    with pytest.raises(AssetError, match="NoSuchFont.otf"):
        load_font(missing, 20)


def test_unreadable_font_raises_asset_error(tmp_path):
    bad = tmp_path / "Broken.otf"
    bad.write_bytes(b"this is not a font")
    with pytest.raises(AssetError, match="theme.font: font file .*Broken.otf"):
        resolve_fonts(theme(font=bad))  # checked when the fonts are resolved, not mid-layout
    with pytest.raises(AssetError, match="Broken.otf") as info:
        load_font(bad, 20)
    assert isinstance(info.value.__cause__, OSError)
    own = tmp_path / "Own.otf"
    own.write_bytes(font_path("Inter-Regular.otf").read_bytes())
    fonts = resolve_fonts(theme(font=own))
    assert fonts.regular == fonts.bold == own, "a theme font is used for bold text too"


def test_fonts_default_to_bundled_inter_and_are_cached():
    fonts = resolve_fonts(theme())
    assert fonts.regular.name == "Inter-Regular.otf" and fonts.bold.name == "Inter-Bold.otf"
    assert load_font(fonts.bold, 33) is load_font(str(fonts.bold), 33)


def test_a_missing_image_raises_asset_error_naming_it(fonts, tmp_path):
    missing = tmp_path / "gone.png"
    with pytest.raises(AssetError, match="gone.png"):
        lay(slide("image", file=missing, fit="contain"), fonts, resolve_output("youtube"))


# ── line breaks in layouts ────────────────────────────────────────────────────────


def line_texts(block: TextBlock) -> list[str]:
    return [line.text for line in block.lines]


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram_feed", "instagram_portrait"])
def test_no_block_of_the_example_deck_ends_on_one_short_word(platform):
    deck = load_deck(EXAMPLE_DECK)
    fonts, output = resolve_fonts(deck.theme), resolve_output(platform)
    for index, s in enumerate(deck.slides):
        for block in lay(s, fonts, output).blocks:
            if len(block.lines) > 1:
                assert not is_orphan(block.lines[-1].text), (index, block.role, line_texts(block))


def test_a_bullet_breaks_after_its_separator_rather_than_leave_kcal_alone():
    deck = load_deck(EXAMPLE_DECK)  # Tuesday on 9:16: first fit left "kcal" on a line of its own
    layout = lay(deck.slides[2], resolve_fonts(deck.theme), resolve_output("tiktok"))
    breakfast = next(b for b in layout.blocks if b.role == "bullet")
    assert line_texts(breakfast) == ["Breakfast — Spinach & feta", "omelette, rye toast ·", "450 kcal"]


@pytest.mark.parametrize("platform", ["tiktok", "instagram_portrait", "instagram_feed", "youtube"])
def test_a_centred_title_is_set_in_phrases_of_several_words(platform, fonts):
    output = resolve_output(platform)
    block = lay(
        slide("title", title="Shop once, cook twice, eat well", subtitle="Batch on Sunday"), fonts, output
    ).block("title")
    lines = line_texts(block)
    assert len(lines) <= 3 and all(len(words(line)) >= 2 for line in lines), lines
    assert " ".join(lines) == "Shop once, cook twice, eat well"
    if len(lines) == 3:  # "Shop / once, cook / twice, eat / well" was the 4:5 title before
        assert lines == ["Shop once,", "cook twice,", "eat well"]
    else:  # two balanced lines
        widths = [x1 - x0 for x0, _, x1, _ in ink_boxes(block)]
        assert min(widths) > 0.7 * max(widths), lines


@pytest.mark.parametrize("kind", ["title", "bullets"])
def test_a_hebrew_title_on_9_16_is_not_set_one_word_a_line(kind):
    fonts = resolve_fonts(theme(fallback_fonts=[HEBREW], system_fonts=False))
    title = "תוכנית ארוחות מאוזנת לשבעה ימים"  # "a balanced meal plan for seven days"
    extra = {"subtitle": "בישול פשוט ועונתי"} if kind == "title" else {"bullets": ["ארוחת בוקר", "ארוחת ערב"]}
    layout = lay(slide(kind, title=title, **extra), fonts, resolve_output("tiktok"))
    block = layout.block("title")
    lines = line_texts(block)
    assert 2 <= len(lines) <= 3 and all(len(line.split()) >= 2 for line in lines), lines
    assert " ".join(lines).split() == title.split()
    assert not block.truncated and layout.warnings == ()
