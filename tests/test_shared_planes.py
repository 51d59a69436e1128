"""Layer planes held once by the numpy compositor (engine.composite.planes.SharedPlanes)."""

from __future__ import annotations

import numpy as np

from engine.colour import nv12_size
from engine.composite import FrameSpec
from engine.composite.cpu import CPUCompositor
from engine.composite.planes import SharedPlanes, prepare_layers
from engine.platforms import resolve_output
from engine.raster import SlideRasterizer
from engine.spec import load_deck

WIDTH, HEIGHT = 320, 180
BULLETS = ["Breakfast · 420 kcal", "Lunch · 560 kcal", "Dinner · 690 kcal"]


def _rasterizer():
    deck = load_deck(
        {
            "theme": {"background": {"gradient": {"from": "#1b2a41", "to": "#0f6b5c", "direction": "diagonal"}}},
            "slides": [{"kind": "bullets", "title": "Monday", "bullets": BULLETS, "motion": {"build": True}}],
        }
    )
    return deck, SlideRasterizer(deck, resolve_output(f"{WIDTH}x{HEIGHT}"))


def test_a_plane_of_one_value_takes_no_bytes_and_keeps_its_values():
    shared = SharedPlanes()
    grey = np.full((6, 8), 16, dtype=np.uint8)
    chroma = np.empty((3, 4, 2), dtype=np.uint8)
    chroma[..., 0], chroma[..., 1] = 128, 90  # one value per channel
    for plane in (grey, chroma):
        held = shared.plane(plane)
        assert held.strides[:2] == (0, 0)  # (rows and columns: a texel's bytes, once)
        assert np.array_equal(held, plane)
        assert held.flags.writeable is False


def test_equal_planes_are_held_once_and_unequal_ones_apart():
    shared = SharedPlanes()
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    first = shared.plane(a)
    assert shared.plane(a.copy()) is first
    other = a.copy()
    other[5, 7] ^= 1
    assert shared.plane(other) is not first
    assert np.array_equal(shared.plane(other), other)


def test_planes_alike_where_sampled_but_not_elsewhere_are_held_apart():
    # Planes are looked up by a sample of their values and shared only when equal in full.
    shared = SharedPlanes()
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, (180, 320), dtype=np.uint8)
    b = a.copy()
    b[90, 161] ^= 0xFF  # (flat index 28961: not a multiple of the sample's stride)
    held_a, held_b = shared.plane(a), shared.plane(b)
    assert held_b is not held_a and np.array_equal(held_b, b) and np.array_equal(held_a, a)
    assert shared.plane(b.copy()) is held_b  # the later plane is the one found by that sample now


def test_silhouettes_share_their_slides_coverage_and_draw_the_same_bytes():
    deck, rasterizer = _rasterizer()
    layers = rasterizer.layers(0)
    plate = rasterizer.background(0)
    white = np.full_like(plate, 255)
    compositor = CPUCompositor(WIDTH, HEIGHT)
    try:
        handles = [
            compositor.upload_layers("slide", layers),
            compositor.upload_layers("over-bg", rasterizer.silhouette(0, plate)),
            compositor.upload_layers("over-white", rasterizer.silhouette(0, white)),
        ]
        held = [compositor._slides[h.index] for h in handles]
        items = [planes.items for planes in held]
        # One coverage for the three, and black ink (one Y, one CbCr value) that takes no bytes.
        assert items[1].alpha is items[0].alpha and items[2].alpha is items[0].alpha
        assert items[1].alpha_uv is items[0].alpha_uv
        assert items[1].y.strides == (0, 0) and items[2].uv.strides[:2] == (0, 0)
        motion = deck.motion(0)
        frame = np.empty(nv12_size(WIDTH, HEIGHT), dtype=np.uint8)
        for source, handle in zip(
            [layers, rasterizer.silhouette(0, plate), rasterizer.silhouette(0, white)], handles, strict=True
        ):
            alone = CPUCompositor(WIDTH, HEIGHT)
            alone._planes.plane = lambda array: array  # (no sharing: each plane its own bytes)
            try:
                own = alone.upload_layers("alone", source)
                assert prepare_layers(source, WIDTH, HEIGHT).items is not None
                for t in (0.2, 0.5, 0.9, 1.6):
                    state = motion.state(t, layers.count, WIDTH, HEIGHT)
                    compositor.render(FrameSpec(handle, source_state=state))
                    compositor.read_nv12(frame)
                    alone.render(FrameSpec(own, source_state=state))
                    expected = np.empty_like(frame)
                    alone.read_nv12(expected)
                    assert np.array_equal(frame, expected), t
            finally:
                alone.close()
    finally:
        compositor.close()
