"""engine.composite.planes: a front layer converts only its inked box, with the same planes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.composite.planes import _convert_front, front_planes


def _whole(rgba: np.ndarray):
    """The conversion over the whole frame, as before the box: the reference."""
    h, w = rgba.shape[:2]
    y = np.empty((h, w), np.uint8)
    uv = np.empty((h // 2, w // 2, 2), np.uint8)
    alpha_uv = np.empty((h // 2, w // 2), np.uint8)
    _convert_front(rgba, y, uv, alpha_uv)
    return y, uv, alpha_uv


def _as_whole(planes, rgba: np.ndarray) -> bool:
    """The planes are the whole frame's conversion wherever a texel shows (alpha above
    0: a blend weighs every other texel's colour by 0), and zero elsewhere outside it."""
    y, uv, alpha_uv = _whole(rgba)
    alpha = rgba[..., 3]
    seen, seen_uv = alpha > 0, alpha_uv > 0
    return (
        np.array_equal(planes.alpha, alpha)
        and np.array_equal(planes.alpha_uv, alpha_uv)
        and np.array_equal(planes.y[seen], y[seen])
        and np.array_equal(planes.uv[seen_uv], uv[seen_uv])
    )


@pytest.mark.parametrize(
    "box",
    [
        (0, 0, 64, 48),  # the whole frame
        (0, 1, 1, 2),  # one pixel at the left edge
        (5, 3, 6, 4),  # one pixel at an odd row and column
        (10, 17, 63, 40),  # up to the right edge, odd rows
        (2, 47, 33, 48),  # the bottom row, near the left
        (20, 30, 21, 31),
    ],
)
def test_the_inked_box_converts_as_the_whole_frame_does(box):
    rng = np.random.default_rng(sum(box))
    h, w = 48, 64
    rgba = np.zeros((h, w, 4), np.uint8)
    left, top, right, bottom = box
    patch = rng.integers(0, 256, (bottom - top, right - left, 4), dtype=np.uint8)
    patch[rng.random(patch.shape[:2]) < 0.3, 3] = 0  # transparent texels with colour, too
    rgba[top:bottom, left:right] = patch
    planes = front_planes(rgba)
    assert _as_whole(planes, rgba)
    outside = np.ones(rgba.shape[:2], bool)
    outside[max(0, top - 1) : bottom + 1, max(0, left - 3) : right + 3] = False
    assert not planes.y[outside].any() and not planes.alpha[outside].any()


def test_an_empty_layer_is_black_video_range_and_transparent_in_no_bytes():
    planes = front_planes(np.zeros((8, 10, 4), np.uint8))
    assert (planes.y == 16).all() and (planes.uv == 128).all()
    assert 0 in planes.y.strides and 0 in planes.uv.strides
    assert not planes.alpha.any() and not planes.alpha_uv.any()


def test_a_frame_sized_layer_with_a_line_of_ink_takes_the_memory_of_that_line():
    # (RSS counts written pages only: the planes are mappings of their own, `lazy_zeros`.)
    def resident_kb() -> int:
        return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])

    rgba = np.zeros((1080, 1920, 4), np.uint8)
    rgba[500:540, 200:1700] = (255, 255, 255, 255)
    before = resident_kb()
    kept = [front_planes(rgba) for _ in range(8)]  # 8 × 5.9 MB if every page were written
    grown = resident_kb() - before
    assert all(not p.y[:400].any() for p in kept)
    # (Writing every page would take ~47 MB; the box and numpy's passing temporaries, ~6.)
    assert grown < 16 * 1024, f"{grown} kB for 8 layers with 40 rows of ink"


@pytest.mark.parametrize("box", [(0, 0, 64, 48), (0, 1, 1, 2), (10, 17, 63, 40), (20, 30, 21, 31)])
def test_black_ink_sites_its_alpha_alone_with_the_same_planes(box):
    # A silhouette's ink is black: front_planes skips the colour arithmetic, and every
    # plane must still be what the full conversion over the whole frame gives.
    rng = np.random.default_rng(7 + sum(box))
    h, w = 48, 64
    rgba = np.zeros((h, w, 4), np.uint8)
    left, top, right, bottom = box
    rgba[top:bottom, left:right, 3] = rng.integers(0, 256, (bottom - top, right - left), dtype=np.uint8)
    rgba[top:bottom, left:right, 3][rng.random((bottom - top, right - left)) < 0.2] = 255
    planes = front_planes(rgba)
    y, uv, alpha_uv = _whole(rgba)
    assert _as_whole(planes, rgba) and (y == 16).all() and (uv == 128).all() and alpha_uv.any()
    assert (planes.y[rgba[..., 3] > 0] == 16).all() and (planes.uv[alpha_uv > 0] == 128).all()


def test_one_coloured_texel_takes_the_colour_path():
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[4:8, 4:8, 3] = 200
    rgba[5, 5, :3] = (255, 0, 0)  # one red texel among black ones
    planes = front_planes(rgba)
    assert _as_whole(planes, rgba) and planes.y[5, 5] > 16


def test_a_chroma_texel_reveals_when_the_last_of_its_four_pixels_does():
    from engine.composite.planes import _reveal_planes
    from engine.raster.layers import RevealLayer

    rng = np.random.default_rng(3)
    h, w = 48, 64
    times = rng.integers(0, 1000, (h, w), dtype=np.uint16)
    image = np.zeros((h, w, 4), np.uint8)
    image[10:20, 8:40] = 255
    planes = _reveal_planes(RevealLayer(image=image, base=np.zeros_like(image), times=times, fades=False))
    expected = times.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))
    assert np.array_equal(planes.times_uv, expected) and planes.times_uv.flags.c_contiguous


@pytest.mark.parametrize("seed", range(4))
def test_a_layer_given_as_its_box_converts_as_the_whole_frame_does(seed):
    """`front_planes(part, at, size)`: the planes of the frame-sized layer that holds
    `part` at `at`, byte for byte, wherever the box lies (edges, odd offsets, ink at
    its rim, black ink, colour)."""
    rng = np.random.default_rng(seed)
    h, w = 90, 160
    for trial in range(60):
        bh, bw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        part = np.zeros((bh, bw, 4), np.uint8)
        if trial % 3 == 0:
            part[:] = rng.integers(0, 256, part.shape)
        elif trial % 3 == 1:  # a speck of ink, maybe on the box's rim
            r, c = int(rng.integers(0, bh)), int(rng.integers(0, bw))
            part[r : r + 3, c : c + 3] = rng.integers(0, 256, 4)
        else:  # black ink: its alpha alone
            part[..., 3] = rng.integers(0, 256, (bh, bw))
        whole = np.zeros((h, w, 4), np.uint8)
        whole[top : top + bh, left : left + bw] = part
        expected, got = front_planes(whole), front_planes(part, (top, left), (h, w))
        for field in ("y", "uv", "alpha", "alpha_uv"):
            assert np.array_equal(getattr(got, field), getattr(expected, field)), (trial, field)
        assert got.open_box == expected.open_box
        assert all(np.array_equal(a, b) for a, b in zip(got.ink_rows, expected.ink_rows, strict=True))


def test_a_reveal_keeps_its_pictures_at_the_charts_box():
    """A chart slide's reveal holds its pictures at the chart's box, not the frame;
    widened, they are the frame-sized layers its planes come from."""
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer
    from engine.spec import load_deck

    chart = {"type": "bar", "labels": ["Mon", "Tue", "Wed"], "values": [1850, 1860, 1810], "reveal": 1.0}
    deck = load_deck({"slides": [{"kind": "chart", "title": "Kcal", "chart": chart}]})
    rasterizer = SlideRasterizer(deck, resolve_output("320x180@15"))
    reveal = rasterizer.layers(0).reveal
    assert reveal is not None and reveal.times.shape == (180, 320)
    assert reveal.image.shape[0] * reveal.image.shape[1] < 0.8 * 180 * 320
    top, left = reveal.at
    for which, part in (("image", reveal.image), ("base", reveal.base)):
        whole = reveal.frame_rgba(which)
        assert whole.shape == (180, 320, 4)
        assert np.array_equal(whole[top : top + part.shape[0], left : left + part.shape[1]], part)
        assert whole[..., 3].sum() == part[..., 3].sum()  # (nothing outside the box)
        planes = front_planes(part, reveal.at, reveal.times.shape)
        assert np.array_equal(planes.y, front_planes(whole).y)


def test_layers_handed_over_go_as_they_are_converted_into_the_same_planes():
    """`prepare_layers([layers])` empties the list, lets each RGBA layer go, and makes
    the planes `prepare_layers(layers)` makes."""
    import weakref

    from engine.composite.planes import prepare_layers
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer
    from engine.spec import load_deck

    deck = load_deck(
        {
            "slides": [
                {
                    "kind": "chart",
                    "title": "Kcal",
                    "chart": {"type": "bar", "labels": ["Mon", "Tue"], "values": [1850, 1790], "reveal": 1.0},
                    "motion": {"build": {"style": "rise", "duration": 1.0}},
                }
            ]
        }
    )
    rasterizer = SlideRasterizer(deck, resolve_output("320x180@10"))
    kept = prepare_layers(rasterizer.layers(0), 320, 180)
    handed = [rasterizer.layers(0)]
    assert handed[0].items is not None and handed[0].reveal is not None
    gone = [weakref.ref(array) for array in (handed[0].back, handed[0].items)]
    planes = prepare_layers(handed, 320, 180)
    assert handed == [] and all(ref() is None for ref in gone)
    for name in ("back_y", "back_uv", "rows", "rows_uv"):
        assert np.array_equal(getattr(planes, name), getattr(kept, name)), name
    for front in ("items", "static"):
        a, b = getattr(planes, front), getattr(kept, front)
        assert (a is None) == (b is None)
        if a is not None:
            assert all(np.array_equal(getattr(a, p), getattr(b, p)) for p in ("y", "uv", "alpha", "alpha_uv"))
    assert np.array_equal(planes.reveal.times, kept.reveal.times)
    assert np.array_equal(planes.reveal.image.y, kept.reveal.image.y)
