"""Full-frame pictures: image slides with ``fit: "fill"`` and background ``veil``.

The commonest input is a slide or chart that is already a finished picture. With
``fill`` it covers the frame edge to edge, untouched (no margin, rounded corners,
veil or shadow); a background's ``veil`` says how far it is darkened under the text
(0: not at all; the default, 0.3, is the darkening every image background had before).
"""

from __future__ import annotations

import math

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

import engine
from engine.errors import SpecError
from engine.layout import ImagePlacement, Shape, layout_slide
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.raster.background import render_background
from engine.resources import font_path
from engine.spec import Background, load_deck
from engine.text.typeface import resolve_fonts

YOUTUBE = resolve_output("youtube")  # 1920×1080, standard quality


# --- pictures ------------------------------------------------------------------------


def finished_slide(path, seed: int, size=(1920, 1080)):
    """A picture like an exported slide or chart: gradients, shapes, a plot and text.

    Each seed gives a different picture, with sharp edges and small type, so the
    encoder has real detail to keep.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1, c2 = (rng.uniform(20, 235, 3) for _ in range(3))
    t = (x / w * math.cos(seed) + y / h * math.sin(seed) + 1.5) / 3  # a linear ramp at an angle per seed
    r = np.hypot(x - w * rng.uniform(0.2, 0.8), y - h * rng.uniform(0.2, 0.8)) / w  # a soft radial glow
    pixels = c0 * (1 - t[..., None]) + c1 * t[..., None]
    pixels += (c2 - pixels) * np.clip(0.6 - r, 0, 0.6)[..., None]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(6):  # translucent shapes
        x0, y0 = rng.uniform(0, w * 0.8), rng.uniform(0, h * 0.8)
        box = (x0, y0, x0 + rng.uniform(80, 420), y0 + rng.uniform(60, 300))
        fill = (*(int(v) for v in rng.integers(0, 256, 3)), int(rng.integers(120, 255)))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    # A chart: axes, gridlines, bars and a line with markers.
    left, top, right, bottom = int(w * 0.55), int(h * 0.45), int(w * 0.95), int(h * 0.9)
    draw.rectangle((left, top, right, bottom), fill=(250, 250, 247, 235))
    for gy in np.linspace(top + 20, bottom - 20, 6):
        draw.line((left + 40, gy, right - 20, gy), fill=(190, 190, 190, 255), width=1)
    values = rng.uniform(0.15, 0.95, 8)
    step = (right - left - 80) / len(values)
    for i, v in enumerate(values):
        bx = left + 50 + i * step
        draw.rectangle(
            (bx, bottom - 20 - v * (bottom - top - 60), bx + step * 0.6, bottom - 20), fill=(40, 110, 200, 255)
        )
    points = [
        (left + 50 + (i + 0.3) * step, bottom - 20 - (1 - v) * (bottom - top - 60) * 0.8) for i, v in enumerate(values)
    ]
    draw.line(points, fill=(220, 60, 40, 255), width=4)
    for px, py in points:
        draw.ellipse((px - 6, py - 6, px + 6, py + 6), fill=(220, 60, 40, 255))
    # Text: a heading and small body type, dark on a light panel and light on the picture.
    bold = ImageFont.truetype(str(font_path("Inter-Bold.otf")), 72)
    body = ImageFont.truetype(str(font_path("Inter-Regular.otf")), 28)
    draw.text((80, 70), f"Slide {seed}: quarterly results", font=bold, fill=(255, 255, 255, 255))
    draw.rectangle((70, int(h * 0.45), int(w * 0.5), int(h * 0.9)), fill=(255, 255, 255, 220))
    for line in range(9):
        words = " ".join(f"item{int(v)}" for v in rng.integers(0, 10_000, 6))
        draw.text((100, int(h * 0.47) + 44 * line), f"{line + 1}. {words}", font=body, fill=(25, 30, 40, 255))
    image.save(path)
    return path


def smooth_picture(path, size=(1920, 1080), colours=((30, 60, 110), (200, 170, 90))):
    """A slowly varying picture (4:2:0 loses nothing visible of it)."""
    w, h = size
    t = (np.arange(w, dtype=np.float32) / (w - 1))[None, :, None] * 0.7 + (np.arange(h) / (h - 1))[:, None, None] * 0.3
    a, b = (np.asarray(c, dtype=np.float32) for c in colours)
    Image.fromarray(np.round(a + (b - a) * t).astype(np.uint8), "RGB").save(path)
    return path


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def png_rgb(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


# --- the acceptance test: six finished slides through a real encode -----------------

#: Seconds each finished slide is on screen (cuts between them): 15 hold frames at 30 fps.
_SECONDS = 0.5


def _luma(rgb: np.ndarray) -> np.ndarray:
    """BT.709 limited-range luma of sRGB code values, unrounded (independent of the engine)."""
    return 16 + 219 * (rgb.astype(np.float64) @ np.array([0.2126, 0.7152, 0.0722])) / 255


def _through_420(rgb: np.ndarray) -> np.ndarray:
    """`rgb` to 4:2:0 and back by swscale, with no encoder: the most a 4:2:0 video can show."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p", dst_colorspace="ITU709")
    return frame.reformat(format="rgb24", src_colorspace="ITU709").to_ndarray()


@pytest.fixture(scope="module")
def finished_deck_video(tmp_path_factory):
    """Six 1920×1080 finished slides with ``fit: fill`` rendered for youtube, decoded.

    Returns {slide: (worst luma PSNR, worst RGB PSNR, RGB PSNR of the PNG through 4:2:0
    alone)} over every frame of each slide (all are hold frames: the slides cut).
    """
    folder = tmp_path_factory.mktemp("finished")
    files = [finished_slide(folder / f"slide{i}.png", seed=i + 1) for i in range(6)]
    deck = {
        "theme": {"background": {"image": str(files[0])}},  # veiled behind; must not show
        "defaults": {"slide_duration": _SECONDS, "transition": "cut"},
        "slides": [{"kind": "image", "file": str(f), "fit": "fill"} for f in files],
    }
    report = engine.render(deck, folder / "out.mp4", platform="youtube", quality="standard", compositor="cpu")
    per_slide = round(_SECONDS * YOUTUBE.fps)
    assert report.frames == 6 * per_slide and (report.width, report.height) == (1920, 1080)
    sources = [png_rgb(f) for f in files]
    worst: dict[int, tuple[float, float, float]] = {}
    with av.open(str(folder / "out.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            slide = index // per_slide
            source = sources[slide]
            luma = psnr(frame.to_ndarray(format="yuv420p")[: frame.height], _luma(source))
            rgb = psnr(frame.reformat(format="rgb24", src_colorspace="ITU709").to_ndarray(), source)
            before = worst.get(slide, (math.inf, math.inf, psnr(_through_420(source), source)))
            worst[slide] = (min(before[0], luma), min(before[1], rgb), before[2])
    print("\nPSNR per slide, worst frame (dB): luma / RGB / RGB of the PNG through 4:2:0 alone")
    for slide, (luma, rgb, ceiling) in worst.items():
        print(f"  slide {slide}: {luma:.2f} / {rgb:.2f} / {ceiling:.2f}")
    assert sorted(worst) == list(range(6))
    return worst


def test_a_deck_of_finished_slides_decodes_to_those_slides(finished_deck_video):
    # Luma is what the engine and the encoder control: every frame within 40 dB of the PNG.
    assert all(luma >= 40 for luma, _, _ in finished_deck_video.values()), finished_deck_video
    # In RGB the colour subsampling of every H.264 stream for the web takes its share too.
    assert all(rgb >= 34 for _, rgb, _ in finished_deck_video.values()), finished_deck_video


@pytest.mark.xfail(
    strict=True,
    reason="4:2:0 colour alone caps these pictures (a chart's thin red line and blue bars, white type on "
    "colour) at 38-39.3 dB in RGB with no encoder at all; 40 dB needs 4:4:4 output",
)
def test_a_deck_of_finished_slides_decodes_within_40_db_in_rgb(finished_deck_video):
    assert all(rgb >= 40 for _, rgb, _ in finished_deck_video.values()), finished_deck_video


# --- fill: layout and raster ---------------------------------------------------------


@pytest.fixture(scope="module")
def picture(tmp_path_factory):
    return finished_slide(tmp_path_factory.mktemp("fill") / "finished.png", seed=3)


def _deck(slides, **theme):
    return load_deck({"theme": theme, "slides": slides})


@pytest.mark.parametrize("platform", ["youtube", "tiktok", "instagram_feed"])
def test_fill_places_the_picture_on_the_whole_frame_with_square_corners(picture, platform):
    output = resolve_output(platform)
    deck = _deck([{"kind": "image", "file": str(picture), "fit": "fill"}])
    box = output.safe_area.box(output.width, output.height)
    layout = layout_slide(deck.slides[0], resolve_fonts(deck.theme), output.width, output.height, box)
    (placed,) = layout.items
    assert isinstance(placed, ImagePlacement)
    assert placed.rect == placed.box == (0, 0, output.width, output.height)
    assert placed.radius == 0


def test_a_filled_picture_of_the_frame_size_is_drawn_pixel_for_pixel(picture):
    # Over a veiled image background, which the picture hides entirely.
    deck = _deck([{"kind": "image", "file": str(picture), "fit": "fill"}], background={"image": str(picture)})
    _, image = SlideRasterizer(deck, YOUTUBE).raster(0)
    assert np.array_equal(image, png_rgb(picture))


def test_a_picture_of_another_shape_is_scaled_to_cover_and_cropped_from_the_centre(tmp_path):
    square = finished_slide(tmp_path / "square.png", seed=5, size=(900, 900))
    output = resolve_output("youtube", "draft")
    _, image = SlideRasterizer(_deck([{"kind": "image", "file": str(square), "fit": "fill"}]), output).raster(0)
    with (
        Image.open(square) as im,
        ImageOps.fit(
            im.convert("RGBA"), (output.width, output.height), Image.Resampling.LANCZOS, centering=(0.5, 0.5)
        ) as fitted,
    ):
        expected = np.asarray(fitted.convert("RGB"))
    assert np.array_equal(image, expected)


@pytest.mark.parametrize("legibility", ["scrim", "outline"])
def test_a_caption_over_a_filled_picture_takes_the_theme_legibility_and_leaves_the_picture_whole(picture, legibility):
    deck = _deck(
        [{"kind": "image", "file": str(picture), "fit": "fill", "caption": "Revenue by quarter"}], legibility=legibility
    )
    r = SlideRasterizer(deck, YOUTUBE)
    layout = r.layout(0)
    placed = layout.items[0]
    assert placed.rect == (0, 0, 1920, 1080) and placed.radius == 0
    caption = layout.block("caption")
    assert caption.legibility == legibility
    assert not any(isinstance(item, Shape) for item in layout.items), "no band: the treatment is the caption's own"
    sl, st, sr, sb = r.safe_box
    left, top, right, bottom = caption.box
    assert sl <= left and right <= sr and st <= top and bottom <= sb
    assert bottom > 1080 * 0.75, "the caption sits low over the picture"
    _, image = r.raster(0)
    source = png_rgb(picture)
    assert np.array_equal(image[:top], source[:top]), "above the caption the picture is untouched"


def test_a_caption_over_a_filled_picture_without_a_treatment_gets_the_caption_band(picture):
    deck = _deck([{"kind": "image", "file": str(picture), "fit": "fill", "caption": "Revenue"}])
    layout = SlideRasterizer(deck, YOUTUBE).layout(0)
    assert layout.items[0].rect == (0, 0, 1920, 1080)
    band = next(item for item in layout.items if isinstance(item, Shape))
    assert band.colour == "band" and layout.block("caption").colour == "on_band"


def test_ken_burns_moves_a_filled_picture_inside_the_whole_frame(picture):
    output = resolve_output("youtube", "draft")
    deck = _deck(
        [
            {
                "kind": "image",
                "file": str(picture),
                "fit": "fill",
                "duration": 2,
                "motion": {"ken_burns": {"zoom": [1.0, 1.25], "pan": "right"}},
            }
        ]
    )
    layers = SlideRasterizer(deck, output).layers(0)
    assert layers.region == (0, 0, output.width, output.height)
    assert layers.static is None, "nothing is drawn over the picture: no frame, no margin"
    assert layers.back.shape[:2] == (round(output.height * 1.25 / 2) * 2, round(output.width * 1.25 / 2) * 2)
    first = engine.render_frame(deck, 0.0, platform="youtube", quality="draft", compositor="cpu")
    later = engine.render_frame(deck, 1.6, platform="youtube", quality="draft", compositor="cpu")
    for t, frame in ((0.0, first), (1.6, later)):
        # The frame is the window's part of the picture, edge to edge: no margin, no background.
        window = deck.motion(0).state(round(t * output.fps) / output.fps, 0, output.width, output.height).window
        with Image.open(picture) as im:
            w, h = im.size
            box = (
                (window.cx - window.size / 2) * w,
                (window.cy - window.size / 2) * h,
                (window.cx + window.size / 2) * w,
                (window.cy + window.size / 2) * h,
            )
            expected = np.asarray(
                im.convert("RGB").resize((output.width, output.height), Image.Resampling.BILINEAR, box=box)
            )
        assert psnr(frame, expected) > 27, (t, psnr(frame, expected))
        assert psnr(frame[:8], expected[:8]) > 25 and psnr(frame[:, -8:], expected[:, -8:]) > 25
    assert psnr(first, later) < 25, "the camera has moved"


# --- veil ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["theme", "slide"])
def test_veil_zero_leaves_a_background_image_as_it_is(tmp_path, where):
    file = smooth_picture(tmp_path / "bg.png")
    transparent = tmp_path / "nothing.png"
    Image.new("RGBA", (16, 9), (0, 0, 0, 0)).save(transparent)  # a slide with nothing drawn on it
    slide = {"kind": "image", "file": str(transparent), "fit": "contain"}
    background = {"image": str(file), "veil": 0}
    deck = {"slides": [slide]}
    if where == "theme":
        deck["theme"] = {"background": background}
    else:
        slide["background"] = background
    frame = engine.render_frame(deck, 0.0, platform="youtube", compositor="cpu")
    assert np.abs(frame.astype(int) - png_rgb(file)).max() <= 2
    veiled = {**background, "veil": 0.3}
    deck_default = {"slides": [{**slide, "background": veiled}]}
    darker = engine.render_frame(deck_default, 0.0, platform="youtube", compositor="cpu")
    assert darker.mean() < frame.mean() * 0.8


def _todays_veil(pixels: np.ndarray, light_text: bool) -> np.ndarray:
    """The darkening every image background had before `veil`: an independent copy."""
    luma = float((pixels @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)).mean()) / 255
    closeness = luma if light_text else 1 - luma
    strength = min(0.8, max(0.3, 1 - 0.35 / max(closeness, 1e-6)))
    return pixels * (1 - strength) + (0.0 if light_text else 255.0) * strength


@pytest.mark.parametrize("text", ["#ffffff", "#101010"])
@pytest.mark.parametrize("base", [(235, 225, 210), (20, 30, 45), (120, 140, 100)])
def test_the_default_veil_darkens_as_image_backgrounds_always_did(tmp_path, base, text):
    file = tmp_path / "bg.png"
    with Image.new("RGB", (400, 300), base) as im:
        ImageDraw.Draw(im).ellipse((50, 50, 250, 250), fill=(255 - base[0], 90, 200))
        im.save(file)
        cover = np.asarray(ImageOps.fit(im.convert("RGBA"), (320, 180), Image.Resampling.LANCZOS), dtype=np.float32)
    from engine.raster.background import bayer_matrix

    expected = _todays_veil(cover[..., :3], sum(int(text[i : i + 2], 16) for i in (1, 3, 5)) > 3 * 128)
    expected += bayer_matrix(8)[np.arange(180)[:, None] % 8, np.arange(320)[None, :] % 8][..., None]
    expected = np.clip(np.floor(expected), 0, 255).astype(np.uint8)
    default = render_background(Background(image=file), 320, 180, text)
    assert Background(image=file).veil == 0.3
    assert np.array_equal(default, render_background(Background(image=file, veil=0.3), 320, 180, text))
    assert np.abs(default.astype(int) - expected).max() <= 1  # float order of operations aside


def test_veil_one_is_fully_dark_under_light_text_and_fully_light_under_dark_text(tmp_path):
    file = smooth_picture(tmp_path / "bg.png", size=(64, 36))
    assert render_background(Background(image=file, veil=1), 64, 36, "#ffffff").max() == 0
    assert render_background(Background(image=file, veil=1), 64, 36, "#000000").min() == 255
    half = render_background(Background(image=file, veil=0.6), 64, 36, "#ffffff")
    assert 0 < half.mean() < render_background(Background(image=file, veil=0.3), 64, 36, "#ffffff").mean()


# --- validation ----------------------------------------------------------------------


def _error(deck: dict) -> str:
    with pytest.raises(SpecError) as caught:
        load_deck(deck)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_unknown_fit_names_the_allowed_ones(picture):
    message = _error({"slides": [{"kind": "image", "file": str(picture), "fit": "fil"}]})
    assert message.startswith("slides[0].fit: ")
    for name in ("cover", "contain", "fill"):
        assert repr(name) in message
    assert "'fil'" in message


@pytest.mark.parametrize("value", [-0.1, 1.5, 2])
def test_a_veil_outside_zero_to_one_is_refused_with_its_path(picture, value):
    theme = _error(
        {"theme": {"background": {"image": str(picture), "veil": value}}, "slides": [{"kind": "title", "title": "t"}]}
    )
    assert theme.startswith("theme.background.veil: ") and "0" in theme and "1" in theme
    slide = _error({"slides": [{"kind": "title", "title": "t", "background": {"image": str(picture), "veil": value}}]})
    assert slide.startswith("slides[0].background.veil: ")


@pytest.mark.parametrize("value", [True, "0.5", None])
def test_a_veil_must_be_a_number(picture, value):
    message = _error(
        {"slides": [{"kind": "title", "title": "t", "background": {"image": str(picture), "veil": value}}]}
    )
    assert message.startswith("slides[0].background.veil: ") and "number" in message


def test_a_veil_applies_only_to_an_image_background():
    message = _error({"slides": [{"kind": "title", "title": "t", "background": {"color": "#123456", "veil": 0}}]})
    assert message == "slides[0].background.veil: veil applies only to an image background"


def test_a_background_cannot_fill(picture):
    # A background image always covers the frame; "fill" is for an image slide's picture.
    message = _error(
        {"theme": {"background": {"image": str(picture), "fit": "fill"}}, "slides": [{"kind": "title", "title": "t"}]}
    )
    assert message.startswith("theme.background.fit: ")
