"""theme.logo: a logo on every slide, inside the safe area, at its opacity, on every frame."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

import engine
from engine.errors import AssetError, SpecError
from engine.platforms import resolve_output
from engine.raster.logo import logo_stamp
from engine.spec import load_deck

BACKGROUND = (20, 22, 27)
QUADRANTS = ((230, 30, 40), (40, 200, 60), (30, 60, 220), (240, 220, 40))


@pytest.fixture(scope="module")
def logo_file(tmp_path_factory):
    """A 64×64 opaque logo of four coloured quadrants (a shifted logo would not match)."""
    pixels = np.zeros((64, 64, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    for i, colour in enumerate(QUADRANTS):
        top, left = 32 * (i // 2), 32 * (i % 2)
        pixels[top : top + 32, left : left + 32, :3] = colour
    path = tmp_path_factory.mktemp("logo") / "logo.png"
    Image.fromarray(pixels, "RGBA").save(path)
    return path


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory):
    rng = np.random.default_rng(7)
    small = rng.integers(0, 255, (12, 20, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("photo") / "photo.png"
    Image.fromarray(small, "RGB").resize((640, 360), Image.Resampling.BICUBIC).save(path)
    return path


def _deck(logo, photo, opacity=1.0, position="top-right"):
    return {
        "theme": {
            "background": "#14161b",
            "logo": {"file": str(logo), "position": position, "size": 0.2, "opacity": opacity},
        },
        "defaults": {"slide_duration": 2, "transition": {"name": "fade", "duration": 0.5}},
        "slides": [
            {"kind": "title", "title": "Hello"},
            {"kind": "image", "file": str(photo), "fit": "fill", "motion": {"ken_burns": {"zoom": [1.0, 1.3]}}},
            {"kind": "text", "text": "Bye", "transition": "dissolve"},
        ],
    }


def _frames(path, wanted):
    got = {}
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                got[index] = frame.to_ndarray(format="rgb24")
    return got


def test_logo_sits_at_its_place_on_every_frame(tmp_path, logo_file, photo_file):
    deck = load_deck(_deck(logo_file, photo_file))
    output = resolve_output("320x180@10")
    stamp = logo_stamp(deck.theme.logo, output.width, output.height, output.safe_area.box(320, 180))
    left, top, right, bottom = stamp.box
    assert (right - left, bottom - top) == (36, 36)  # 0.2 × the shorter side
    report = engine.render(deck, tmp_path / "logo.mp4", platform="320x180@10", compositor="cpu")
    assert report.frames == 50  # 3 × 2 s − 2 × 0.5 s at 10 fps
    # A hold, the fade into the Ken Burns slide, its camera moving, the dissolve out
    # of it, and the last hold.
    frames = _frames(tmp_path / "logo.mp4", {2, 17, 19, 25, 33, 36, 48})
    assert len(frames) == 7
    # The same pixels on every frame as on the first hold (4:2:0 blurs the quadrants'
    # edges alike on every frame; inside the box's own edge the slides differ).
    reference = frames[2][top:bottom, left:right].astype(int)
    inner = (slice(2, -2), slice(2, -2))
    for index, frame in frames.items():
        box = frame[top:bottom, left:right].astype(int)
        difference = np.abs(box - reference)[inner]
        assert difference.mean() < 4 and difference.max() <= 40, f"frame {index}"
        # Each quadrant keeps its colour: the logo did not move or scale.
        for i, colour in enumerate(QUADRANTS):
            qt, ql = 18 * (i // 2) + 5, 18 * (i % 2) + 5
            mean = box[qt : qt + 8, ql : ql + 8].reshape(-1, 3).mean(axis=0)
            assert np.abs(mean - colour).max() < 12, f"frame {index}, quadrant {i}"
    # Not a still frame: the Ken Burns picture moves around the logo.
    assert np.abs(frames[25].astype(int) - frames[33].astype(int))[100:, :200].mean() > 2


def test_logo_is_inside_the_safe_area_on_vertical_platforms(logo_file, photo_file):
    for platform in ("tiktok", "instagram_reels", "youtube_shorts", "instagram_stories"):
        output = resolve_output(platform)
        safe = output.safe_area.box(output.width, output.height)
        for position in ("top-left", "top-right", "bottom-left", "bottom-right"):
            deck = load_deck(_deck(logo_file, photo_file, position=position))
            left, top, right, bottom = logo_stamp(deck.theme.logo, output.width, output.height, safe).box
            assert safe[0] <= left < right <= safe[2] and safe[1] <= top < bottom <= safe[3], (platform, position)


def test_logo_pixels_on_a_vertical_render_are_inside_the_safe_area(logo_file, photo_file):
    deck = {**_deck(logo_file, photo_file), "slides": [{"kind": "title", "title": "x", "duration": 1}]}
    deck["theme"]["logo"]["size"] = 0.15
    deck["theme"]["background"] = "#000000"
    frame = engine.render_frame(load_deck(deck), 0.5, platform="tiktok", compositor="cpu")
    output = resolve_output("tiktok")
    left, top, right, bottom = output.safe_area.box(output.width, output.height)
    lit = frame.max(axis=2) > 40
    lit[int(output.height * 0.3) :] = False  # the title, lower down
    ys, xs = np.nonzero(lit)
    assert len(ys) > 1000
    assert left <= xs.min() and xs.max() < right and top <= ys.min() and ys.max() < bottom
    assert xs.max() > output.width * 0.7  # top-right


@pytest.mark.parametrize("opacity", [0.0, 0.5, 0.9])
def test_logo_opacity_blends_it_over_the_slide(logo_file, photo_file, opacity):
    deck = load_deck({**_deck(logo_file, photo_file, opacity=opacity), "slides": [{"kind": "title", "title": "x"}]})
    frame = engine.render_frame(deck, 0.5, platform="320x180@10", compositor="cpu")
    output = resolve_output("320x180@10")
    left, top, _, _ = logo_stamp(deck.theme.logo, 320, 180, output.safe_area.box(320, 180)).box
    red = frame[top + 4 : top + 14, left + 4 : left + 14].reshape(-1, 3).mean(axis=0)
    expected = np.array(QUADRANTS[0]) * opacity + np.array(BACKGROUND) * (1 - opacity)
    assert np.abs(red - expected).max() < 4


def test_a_missing_or_broken_logo_fails_at_load(tmp_path, photo_file):
    with pytest.raises(AssetError, match="logo"):
        load_deck(_deck(tmp_path / "nope.png", photo_file))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    with pytest.raises((AssetError, SpecError)):
        load_deck(_deck(broken, photo_file))
    assert any(what == "logo" for _, _, what in load_deck(_deck(photo_file, photo_file)).asset_files())
