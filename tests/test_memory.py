"""Memory stays flat with video length: no render holds a video's frames."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.run import bench_deck

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb(seconds, out):
    """One render of the bench deck in a fresh process (bench.child): its report and peak RSS.

    The child reports VmHWM, its own peak: ru_maxrss would also count the pytest process
    it was forked from (Linux carries the old image's high-water mark across exec), and a
    full test session grows that past the limit on its own.
    """
    deck = json.dumps(bench_deck(seconds))
    result = subprocess.run(
        [sys.executable, "-m", "bench.child", "engine", deck, str(out), "youtube", "auto"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {"frames": report["frames"], "maxrss_mb": report["peak_mb"]}


@pytest.mark.slow
def test_peak_rss_of_5_min_render_is_within_15_percent_of_60_s_and_under_350_mb(tmp_path):
    short = peak_rss_mb(60, tmp_path / "short.mp4")
    long = peak_rss_mb(300, tmp_path / "long.mp4")
    assert (short["frames"], long["frames"]) == (1800, 9000)
    assert long["maxrss_mb"] < 350 and short["maxrss_mb"] < 350
    assert abs(long["maxrss_mb"] - short["maxrss_mb"]) / short["maxrss_mb"] < 0.15, (short, long)


def test_frame_pool_keeps_three_buffers_at_1080p_and_two_at_4k():
    from engine.colour import nv12_size
    from engine.pipeline import pool_size

    assert pool_size(nv12_size(1920, 1080)) == 3
    assert pool_size(nv12_size(1080, 1920)) == 3
    assert pool_size(nv12_size(3840, 2160)) == 2


def test_raster_cache_keeps_no_image_over_its_byte_budget_and_returns_the_same_pixels():
    from engine.platforms import resolve_output
    from engine.raster import SlideRasterizer
    from engine.spec import load_deck

    deck = load_deck(bench_deck(12))
    output = resolve_output("320x180")
    unlimited = SlideRasterizer(deck, output, max_cached=1)
    budgeted = SlideRasterizer(deck, output, max_cached=1, cache_bytes=320 * 180 * 3 - 1)
    for index in range(2):
        assert np.array_equal(budgeted.raster(index)[1], unlimited.raster(index)[1])
    assert unlimited.cache_info().entries == 1
    assert budgeted.cache_info().entries == 0
    assert budgeted.raster(0)[1].flags.writeable is False


def test_image_array_copies_a_pillow_image_band_by_band_exactly():
    from PIL import Image

    from engine.raster.slides import image_array

    pixels = np.random.default_rng(3).integers(0, 256, (601, 37, 4), dtype=np.uint8)
    with Image.fromarray(pixels, "RGBA") as rgba, rgba.convert("RGB") as rgb, rgba.convert("L") as grey:
        assert np.array_equal(image_array(rgba), pixels)
        assert np.array_equal(image_array(rgb), np.asarray(rgb))
        into = np.zeros((601, 37, 1), dtype=np.uint8)
        assert np.array_equal(image_array(grey, into=into)[..., 0], np.asarray(grey))
