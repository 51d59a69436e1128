"""Colour through the whole path: YUV-space compositing against RGB-space, and a decoded round trip."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine import render
from engine.colour import BT709_RGB_TO_YCBCR, nv12_planes, nv12_size, rgb_to_nv12, rgb_to_yuv
from engine.composite import FrameSpec
from engine.composite.base import matte_planes
from engine.composite.cpu import CPUCompositor
from engine.composite.twins import TWINS
from engine.composite.workspace import Workspace
from engine.transitions import BUILTIN, resolve_params
from engine.verify import ssim

W, H = 96, 54
# Dissolve cells as in a render: 1080p's default of 540 rows makes 2×2-pixel cells,
# one per chroma texel; at this size that is 27 rows.
PARAMS = {"dissolve": {"cells": H / 2}}


def _slides():
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:H, 0:W]
    a = np.stack([x * 255 // W, y * 255 // H, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    b = np.stack([np.full_like(x, 220), 255 - x * 255 // W, (x + y) % 256], axis=-1).astype(np.uint8)
    a[10:20, 10:60] = rng.integers(0, 256, 3)  # hard-edged "text" blocks
    b[30:44, 40:90] = rng.integers(0, 256, 3)
    return a, b


def _rgb_space(name: str, a: np.ndarray, b: np.ndarray, progress: float) -> np.ndarray:
    """The transition run on each RGB channel at full resolution, as a reference."""
    params = resolve_params(name, PARAMS.get(name, {}))
    work = Workspace(W, H)
    out = np.empty_like(a)
    definition = BUILTIN[name]
    for channel in range(3):
        plane_params = {}
        for key, value in params.items():
            if key in definition.colour_params:
                plane_params[key] = (value[channel] / 255.0, 0.0, 0.0)
            elif key in definition.image_params:
                plane_params[key] = matte_planes(value, W, H)[0]
            else:
                plane_params[key] = value
        result = np.empty((H, W), dtype=np.uint8)
        TWINS[name](
            result,
            np.ascontiguousarray(a[..., channel]),
            np.ascontiguousarray(b[..., channel]),
            np.float32(progress),
            plane_params,
            work,
        )
        out[..., channel] = result
    return out


@pytest.mark.parametrize("name", [n for n in BUILTIN if BUILTIN[n].yuv_safe])
def test_yuv_space_compositing_matches_rgb_space(name):
    """Stated tolerance, against compositing in RGB and converting after: luma within 2
    code values on average with SSIM ≥ 0.97, chroma within 4 on average. Blends are
    affine, so they agree to the rounding; moves and masks differ where 4:2:0 chroma
    straddles an edge (the left-sited [1 2 1] chroma filter reaches one pixel into
    the neighbouring cell of a dissolve, say)."""
    a, b = _slides()
    compositor = CPUCompositor(W, H)
    handles = compositor.upload("a", a), compositor.upload("b", b)
    for progress in (0.25, 0.5, 0.75):
        compositor.render(FrameSpec(*handles, name, progress, PARAMS.get(name, {})))
        yuv = np.empty(nv12_size(W, H), dtype=np.uint8)
        compositor.read_nv12(yuv)
        reference = rgb_to_nv12(_rgb_space(name, a, b, progress))
        got_y, got_uv = nv12_planes(yuv, W, H)
        want_y, want_uv = nv12_planes(reference, W, H)
        luma_error = np.abs(got_y.astype(int) - want_y).mean()
        assert luma_error <= 2.0, f"{name} at {progress}: mean luma error {luma_error:.2f}"
        assert ssim(got_y, want_y) >= 0.97
        # A dissolve's cells are one chroma texel each, so every texel sits on a cell edge.
        assert np.abs(got_uv.astype(int) - want_uv).mean() <= (6.0 if name == "dissolve" else 4.0)


@pytest.mark.parametrize("rgb", [(255, 0, 0), (0, 255, 0), (0, 0, 255), (128, 128, 128), (255, 255, 255), (20, 20, 20)])
def test_a_flat_colour_decodes_back_to_itself(tmp_path, rgb):
    """Within 3 code values per channel after BT.709 limited range, 4:2:0 and H.264."""
    Image.new("RGB", (64, 64), rgb).save(tmp_path / "flat.png")
    deck = {
        "slides": [{"kind": "image", "file": str(tmp_path / "flat.png"), "fit": "cover"}],
        "theme": {"background": "#" + "".join(f"{c:02x}" for c in rgb)},
    }
    report = render(deck, tmp_path / "flat.mp4", platform="128x72@10", quality="high")
    import av

    with av.open(str(tmp_path / "flat.mp4")) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        assert (cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range) == (1, 1, 1, 1)
        frame = next(container.decode(stream))
        planes = frame.to_ndarray(format="yuv420p")
    y = planes[:72].astype(float)
    u = planes[72:90].reshape(36, 64).astype(float)  # I420 as PyAV lays it out: U then V
    v = planes[90:108].reshape(36, 64).astype(float)
    centre = (slice(20, 52), slice(40, 88))
    e_y = (y[centre].mean() - 16) / 219
    e_cb = (u[10:26, 20:44].mean() - 128) / 224
    e_cr = (v[10:26, 20:44].mean() - 128) / 224
    decoded = np.linalg.inv(BT709_RGB_TO_YCBCR) @ np.array([e_y, e_cb, e_cr]) * 255
    assert np.abs(decoded - np.array(rgb)).max() <= 3, (decoded.round(1), rgb)
    assert report.psnr_db > 40 and report.ssim > 0.95


def test_rgb_to_yuv_tables_match_bt709():
    # Reference values from the BT.709 matrix in 8-bit limited range.
    assert np.allclose(rgb_to_yuv((255, 255, 255)), (235, 128, 128))
    assert np.allclose(rgb_to_yuv((0, 0, 0)), (16, 128, 128))
    assert np.allclose(rgb_to_yuv((255, 0, 0)), (63.0, 102.0, 240.0), atol=0.6)
