"""engine.raster: slides painted at each output's size, cached by content hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import AssetError
from engine.layout import Shape
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer, rasterize_slide
from engine.raster.background import bayer_matrix, gradient, render_background
from engine.slides import SLIDE_KINDS
from engine.spec import Background, Deck, Gradient, Slide, Theme
from engine.text.typeface import load_font

from .helpers import OUTPUT_IDS, OUTPUTS, slide

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def colour_bg(colour: str = "#1e2a4a") -> Background:
    return Background(color=colour)


def gradient_bg(start: str = "#1b2a41", end: str = "#0f6b5c", direction: str = "vertical") -> Background:
    return Background(gradient=Gradient.model_validate({"from": start, "to": end, "direction": direction}))


def theme(**overrides) -> Theme:
    base = {"background": gradient_bg(), "text_color": "#ffffff", "accent": "#ffb547"}
    return Theme.model_validate({**base, **overrides})


def deck(*slides: Slide, **theme_overrides) -> Deck:
    return Deck(theme=theme(**theme_overrides), slides=list(slides))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A small striped RGBA test image (with a transparent corner)."""
    path = tmp_path_factory.mktemp("img") / "photo.png"
    a = np.zeros((120, 160, 4), dtype=np.uint8)
    a[..., 0] = np.linspace(0, 255, 160, dtype=np.uint8)[None, :]
    a[..., 1] = 90
    a[::10, :, 2] = 255
    a[..., 3] = 255
    a[:20, :20, 3] = 0
    Image.fromarray(a, "RGBA").save(path)
    return path


def every_kind(photo: Path) -> list:
    return [
        slide("title", title="Seven days of good food", subtitle="A balanced plan for the week"),
        slide("bullets", title="Monday · 1,850 kcal", bullets=["Breakfast — Oats · 420 kcal", "Lunch — Salad · 560"]),
        slide("image", file=photo, fit="cover", caption="A caption over the photo"),
        slide("image", file=photo, fit="contain", caption="Contained"),
        slide("text", text="A paragraph of body text that wraps over a few lines. " * 3),
        slide("text", style="quote", text="Eat food. Not too much. Mostly plants.", attribution="Michael Pollan"),
        slide("text", style="big", text="12,950 kcal / week"),
    ]


@pytest.mark.parametrize("output", OUTPUTS, ids=OUTPUT_IDS)
def test_every_kind_rasterizes_at_the_output_size(output, photo):
    d = deck(*every_kind(photo))
    r = SlideRasterizer(d, output)
    for i in range(len(d.slides)):
        key, image = r.raster(i)
        assert key.startswith("slide-")
        assert image.shape == (output.height, output.width, 3)
        assert image.dtype == np.uint8
        assert not image.flags.writeable, "cached rasters are shared read-only"
        assert np.any(image != r.background(i)), f"slide {i} drew nothing"


def test_nothing_is_drawn_outside_the_safe_box(photo):
    output = resolve_output("tiktok")
    d = deck(*every_kind(photo), background=colour_bg("#123456"))
    r = SlideRasterizer(d, output)
    left, top, right, bottom = output.safe_area.box(output.width, output.height)
    outside = np.ones((output.height, output.width), dtype=bool)
    outside[top:bottom, left:right] = False
    for i in range(len(d.slides)):
        _, image = r.raster(i)
        background = r.background(i)
        assert np.array_equal(image[outside], background[outside]), f"slide {i} ({d.slides[i].kind}) left the safe box"
        assert np.any(image[~outside] != background[~outside])


def test_descenders_are_drawn_whole_inside_their_block():
    output = resolve_output("youtube")
    d = deck(slide("title", title="gjpqy"), background=colour_bg("#000000"))
    r = SlideRasterizer(d, output)
    layout = r.layout(0)
    block = layout.block("title")
    bar = next(i for i in layout.items if isinstance(i, Shape))
    _, image = r.raster(0)
    ink = image.max(axis=2) > 0
    ink[bar.box[1] :, :] = False  # the accent bar below the title is not text
    rows, cols = np.nonzero(ink)
    baseline = block.lines[0].baseline
    # The descenders are there (well below the baseline) and end inside the block's box.
    assert rows.max() > baseline + 0.15 * block.size
    assert rows.max() < block.box[3]
    assert rows.min() >= block.box[1]
    assert cols.min() >= block.box[0] - 1 and cols.max() <= block.box[2]
    font = load_font(block.font, block.size)
    assert rows.max() <= baseline + font.getmetrics()[1]


def test_identical_slides_share_a_key_and_are_rasterized_once():
    a = slide("title", title="Same", subtitle="slide")
    b = slide("title", title="Same", subtitle="slide", duration=9.0, transition={"name": "fade", "duration": 1.0})
    c = slide("title", title="Different", subtitle="slide")
    r = SlideRasterizer(deck(a, b, c), resolve_output("youtube", "draft"))
    key_a, image_a = r.raster(0)
    key_b, image_b = r.raster(1)
    key_c, _ = r.raster(2)
    assert key_a == key_b, "duration and transition do not change a pixel"
    assert image_a is image_b
    assert key_c != key_a
    assert r.rasterized == 2
    info = r.cache_info()
    assert (info.hits, info.misses, info.entries) == (1, 2, 2)


def test_keys_change_with_size_theme_and_image_file(photo, tmp_path):
    s = slide("title", title="Same")
    key = SlideRasterizer(deck(s), resolve_output("youtube")).key(0)
    assert SlideRasterizer(deck(s), resolve_output("youtube")).key(0) == key
    assert SlideRasterizer(deck(s), resolve_output("youtube", "draft")).key(0) != key
    assert SlideRasterizer(deck(s, accent="#00ff00"), resolve_output("youtube")).key(0) != key

    file = tmp_path / "pic.png"
    Image.new("RGB", (40, 30), (255, 0, 0)).save(file)
    pic = slide("image", file=file)
    first = SlideRasterizer(deck(pic), resolve_output("youtube")).key(0)
    Image.new("RGB", (41, 30), (0, 255, 0)).save(file)  # same name, new content
    assert SlideRasterizer(deck(pic), resolve_output("youtube")).key(0) != first


def test_rasterizing_is_deterministic(photo):
    output = resolve_output("instagram_feed")
    slides = every_kind(photo)
    for i in range(len(slides)):
        first = rasterize_slide(deck(*slides), i, output)
        second = SlideRasterizer(deck(*slides), output).raster(i)[1]
        assert np.array_equal(first, second)


def test_a_missing_image_raises_asset_error_with_its_name(tmp_path):
    missing = tmp_path / "missing-plate.png"
    r = SlideRasterizer(deck(slide("image", file=missing, fit="cover")), resolve_output("youtube", "draft"))
    with pytest.raises(AssetError, match="missing-plate.png") as info:
        r.raster(0)
    assert info.value.file == str(missing)


def test_a_corrupt_image_raises_asset_error_with_the_cause_chained(tmp_path):
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    for fit in ("cover", "contain"):
        r = SlideRasterizer(deck(slide("image", file=bad, fit=fit)), resolve_output("youtube", "draft"))
        with pytest.raises(AssetError, match="corrupt.png") as info:
            r.raster(0)
        assert info.value.__cause__ is not None
    background = Background(image=bad)
    with pytest.raises(AssetError, match="corrupt.png"):
        SlideRasterizer(deck(slide("title"), background=background), resolve_output("youtube", "draft")).raster(0)


def test_a_missing_font_raises_asset_error(tmp_path):
    with pytest.raises(AssetError, match="Gone-Bold.ttf"):
        SlideRasterizer(deck(slide("title"), font_bold=tmp_path / "Gone-Bold.ttf"), resolve_output("youtube"))


def test_a_theme_font_is_used(tmp_path):
    from engine.resources import font_path

    output = resolve_output("youtube", "draft")
    s = slide("title", title="Hamburgefonts")
    inter = rasterize_slide(deck(s), 0, output)
    regular = font_path("Inter-Regular.otf")
    custom = SlideRasterizer(deck(s, font=regular, font_bold=regular), output)
    assert custom.layout(0).block("title").font == regular
    assert not np.array_equal(custom.raster(0)[1], inter)


def test_vertical_gradient_runs_from_one_colour_to_the_other():
    start, end = (27, 42, 65), (15, 107, 92)
    g = gradient(64, 1080, start, end, "vertical")
    assert g.shape == (1080, 64, 3) and g.dtype == np.uint8
    assert np.abs(g[0].astype(int) - start).max() <= 1
    assert np.abs(g[-1].astype(int) - end).max() <= 1
    # No bands: averaged over each 8×8 dither tile, the pixels follow the exact blend
    # to a small fraction of a code value, though each pixel holds a whole one.
    exact = np.array(start) + np.linspace(0, 1, 1080)[:, None] * (np.array(end) - np.array(start))
    tiles = g.reshape(135, 8, 8, 8, 3).mean(axis=(1, 3))  # 135 × 8 tiles × RGB
    assert np.abs(tiles - exact.reshape(135, 8, 3).mean(axis=1)[:, None, :]).max() < 0.1


def test_diagonal_gradient_puts_the_colours_in_opposite_corners():
    g = gradient(192, 108, (0, 0, 0), (255, 255, 255), "diagonal")
    assert g[0, 0].max() <= 1 and g[-1, -1].min() >= 254
    assert abs(int(g[0, -1, 0]) - int(g[-1, 0, 0])) > 100, "iso-lines are perpendicular to the diagonal"


def test_solid_colours_are_not_dithered():
    g = gradient(32, 32, (10, 20, 30), (10, 20, 30))
    assert np.all(g == (10, 20, 30))
    b = bayer_matrix(8)
    assert b.shape == (8, 8) and len(np.unique(b)) == 64 and 0 < b.min() and b.max() < 1


def test_theme_gradient_reaches_the_raster_edges():
    output = resolve_output("youtube", "draft")
    r = SlideRasterizer(deck(slide("title", title="x"), background=gradient_bg("#000000", "#ffffff")), output)
    _, image = r.raster(0)
    assert image[0].max() <= 1 and image[-1].min() >= 254


def test_image_backgrounds_cover_the_frame_and_are_veiled(photo):
    bg = Background(image=photo, fit="cover")
    image = render_background(bg, 320, 180, "#ffffff")
    assert image.shape == (180, 320, 3)
    dark = render_background(bg, 320, 180, "#000000")
    assert image.mean() < dark.mean(), "light text darkens the picture, dark text lightens it"
    contained = render_background(Background(image=photo, fit="contain", veil=0), 320, 180)
    assert contained[90, 2].max() == 0, "letterbox bars are black (an image background has no colour of its own)"
    assert contained[90, 160].max() > 0


def test_slide_background_overrides_the_theme():
    s = slide("title", title="x", background=colour_bg("#ff0000"))
    r = SlideRasterizer(deck(s), resolve_output("youtube", "draft"))
    assert tuple(r.background(0)[0, 0]) == (255, 0, 0)


def test_contain_image_letterboxes_over_the_background(photo):
    output = resolve_output("youtube", "draft")
    r = SlideRasterizer(deck(slide("image", file=photo, fit="contain"), background=colour_bg("#000000")), output)
    _, image = r.raster(0)
    layout = r.layout(0)
    placed = layout.items[0]
    left, top, right, bottom = placed.rect
    assert placed.rect != placed.box
    mid = (top + bottom) // 2
    assert image[mid, left - 2].max() == 0 and image[mid, right + 1].max() == 0
    assert image[mid, (left + right) // 2].max() > 0


def test_example_deck_rasterizes_through_the_real_spec():
    from engine.spec import load_deck

    d = load_deck(EXAMPLES / "meal-plan.json")
    assert 45 <= d.total_duration() <= 60
    kinds = [s.kind for s in d.slides]
    assert kinds[0] == kinds[-1] == "title" and kinds.count("bullets") == 7 and "image" in kinds and "text" in kinds
    output = resolve_output("tiktok", "draft")
    r = SlideRasterizer(d, output)
    for i in range(len(d.slides)):
        _, image = r.raster(i)
        assert image.shape == (output.height, output.width, 3)
    assert r.rasterized == len(d.slides)
    plate = EXAMPLES / "assets" / "plate.png"
    assert plate.stat().st_size < 200_000


def test_an_exif_rotated_jpeg_is_drawn_upright(tmp_path):
    file = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    Image.new("RGB", (800, 400), (200, 60, 60)).save(file, exif=exif.tobytes())
    output = resolve_output("youtube", "draft")
    r = SlideRasterizer(deck(slide("image", file=file, fit="contain"), background=colour_bg("#000000")), output)
    left, top, right, bottom = r.layout(0).items[0].rect
    assert (right - left) / (bottom - top) == pytest.approx(0.5, rel=0.02)
    _, image = r.raster(0)
    assert image[(top + bottom) // 2, (left + right) // 2, 0] > 150


def _backdrop_deck() -> tuple[Deck, SlideRasterizer]:
    from engine.spec import load_deck

    bullets = ["Breakfast · 420 kcal", "Lunch · 560 kcal", "Dinner · 690 kcal"]
    deck = load_deck(
        {
            "theme": {
                "background": {"gradient": {"from": "#1b2a41", "to": "#0f6b5c", "direction": "diagonal"}},
                "logo": None,
            },
            "slides": [
                {"kind": "bullets", "title": "Monday", "bullets": bullets, "motion": {"build": True}},
                {"kind": "bullets", "title": "Tuesday", "bullets": bullets},
                {
                    "kind": "chart",
                    "title": "Calories",
                    "chart": {"type": "bar", "labels": ["Mon", "Tue"], "values": [1850, 1860]},
                    "motion": {"build": True},
                },
            ],
        }
    )
    return deck, SlideRasterizer(deck, resolve_output("320x180"))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_silhouettes_over_two_plates_are_one_coverage_over_each(index):
    # Drawn together, the two plates' silhouettes are the content's one coverage over
    # each plate: over white it is 255 × (1 − α), and over the background the background
    # times that, wherever the content is (and the plate itself wherever it is not).
    deck, rasterizer = _backdrop_deck()
    plate = rasterizer.background(index)
    white = np.full_like(plate, 255)
    over_bg, over_white = rasterizer.silhouettes(index, [plate, white])
    alone = rasterizer.silhouette(index, plate)
    if deck.motion(index) is None:
        assert isinstance(over_bg, np.ndarray) and isinstance(over_white, np.ndarray)
        assert isinstance(alone, np.ndarray) and np.array_equal(over_bg, alone)
        backs = over_bg, over_white
    else:
        assert not isinstance(over_bg, np.ndarray) and not isinstance(over_white, np.ndarray)
        assert not isinstance(alone, np.ndarray)
        assert np.array_equal(over_bg.back, alone.back)
        # What does not depend on the plate is drawn once and shared.
        assert over_bg.items is over_white.items and over_bg.reveal is over_white.reveal
        for mine, its in ((over_bg.items, alone.items), (over_bg.static, alone.static)):
            assert (mine is None) == (its is None)
            if mine is not None and its is not None:
                assert np.array_equal(mine, its)
        if over_bg.items is not None:
            assert over_bg.items[..., 3].any() and not over_bg.items[..., :3].any()  # black, coverage kept
        backs = over_bg.back, over_white.back
    covered = backs[1] < 255
    assert not covered.all() and (covered.any() or deck.motion(index) is not None)
    assert np.array_equal(backs[0][~covered], plate[~covered])
    keep = backs[1].astype(np.uint16)
    assert np.array_equal(backs[0], ((plate.astype(np.uint16) * keep + 127) // 255).astype(np.uint8))


def _gradient_reference(width, height, start, end, direction):
    """The gradient as first written: every pixel computed and dithered in float."""
    y = np.arange(height, dtype=np.float32) / max(1, height - 1)
    x = np.arange(width, dtype=np.float32) / max(1, width - 1)
    w2, h2 = float(width) ** 2, float(height) ** 2
    t = (x[None, :] * w2 + y[:, None] * h2) / (w2 + h2) if direction == "diagonal" else np.repeat(y[:, None], width, 1)
    values = t[..., None] * (np.asarray(end, np.float32) - np.asarray(start, np.float32))
    values += np.asarray(start, np.float32)
    b = bayer_matrix(8)
    values += b[(np.arange(height) % 8)[:, None], (np.arange(width) % 8)[None, :]][..., None]
    return np.clip(np.floor(values), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("direction", ["vertical", "diagonal"])
@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1, 1), (7, 13), (1081, 1921), (640, 129)])
def test_gradient_is_byte_identical_to_the_per_pixel_reference(width, height, direction):
    rng = np.random.default_rng(width * height)
    for start, end in [((0, 255, 0), (255, 0, 255)), *(rng.integers(0, 256, (2, 3)).tolist() for _ in range(3))]:
        got = gradient(width, height, tuple(start), tuple(end), direction)
        assert np.array_equal(got, _gradient_reference(width, height, start, end, direction))


def test_a_push_draws_a_chart_once_for_its_slide_and_its_silhouettes(monkeypatch):
    # A push into a chart slide lays out its layers, then the silhouettes of both slides:
    # the chart (the costliest part) is drawn once for all of them, then let go as soon
    # as another slide is drawn.
    from engine.raster import rasterizer as module

    deck, rasterizer = _backdrop_deck()
    assert deck.motion(2) is not None and deck.motion(2).reveal is not None
    drawn: list[int] = []
    real = module.chart_reveal
    monkeypatch.setattr(module, "chart_reveal", lambda *args, **kw: (drawn.append(1), real(*args, **kw))[1])
    plates = [rasterizer.background(2), np.full_like(rasterizer.background(2), 255)]
    layers = rasterizer.layers(2)
    rasterizer.silhouettes(1, plates)  # the slide pushed off
    over_bg, _ = rasterizer.silhouettes(2, plates)
    assert len(drawn) == 1
    assert layers.reveal is not None and over_bg.reveal is not None
    assert np.array_equal(over_bg.reveal.times, layers.reveal.times)
    assert np.array_equal(over_bg.reveal.image[..., 3], layers.reveal.image[..., 3])
    rasterizer.layers(0)  # another slide on screen: the chart goes
    rasterizer.silhouettes(2, plates)
    assert len(drawn) == 2


def test_a_background_over_the_cache_budget_waits_in_a_file_and_paints_the_same(photo):
    # Over the budget (here 64 KB: every background at 320x180 is 173 KB), a background
    # is kept in an anonymous file, not in memory; slides drawn from it, charts included
    # (their palette follows the colour under their box), match those drawn from memory.
    output = resolve_output("320x180")
    chart = SLIDE_KINDS["chart"].model_validate(
        {
            "kind": "chart",
            "duration": 5.0,
            "title": "Kcal",
            "chart": {"type": "bar", "labels": ["a", "b"], "values": [1, 2]},
        }
    )
    d = deck(*every_kind(photo), chart)
    spilling, keeping = SlideRasterizer(d, output, cache_bytes=64 * 1024), SlideRasterizer(d, output)
    for i in range(len(d.slides)):
        assert np.array_equal(spilling.raster(i)[1], keeping.raster(i)[1]), f"slide {i}"
        background = spilling.background(i)
        assert np.array_equal(background, keeping.background(i))
        assert not background.flags.writeable
    assert not spilling._backgrounds and spilling._spilled  # nothing of them in memory
    assert keeping._backgrounds and not keeping._spilled
