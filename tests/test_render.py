"""End to end: a deck in, an MP4 out, decoded and checked."""

import json

import numpy as np
import pytest

import engine
from engine.colour import parse_colour
from engine.platforms import PLATFORMS

from .helpers import decode_frames, probe

RED, BLUE = "#c83232", "#2850c8"


def two_slide_deck(duration=2.0, fade=1.0, transition="fade"):
    return {
        "title": "Two slides",
        "defaults": {"transition": {"name": transition, "duration": fade}},
        "slides": [
            {"kind": "title", "title": "Alpha", "duration": duration, "background": RED},
            {"kind": "title", "title": "Beta", "duration": duration, "background": BLUE},
        ],
    }


@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_every_platform_preset_decodes_to_the_expected_stream(tmp_path, platform):
    report = engine.render(two_slide_deck(1.5, 0.5), tmp_path, platform=platform)
    output = engine.resolve_output(platform)
    info = probe(tmp_path / f"two-slides-{platform}.mp4")
    assert (info.width, info.height) == output.size
    assert info.frames == report.frames == 75  # (1.5 + 1.5 − 0.5) s × 30 fps
    assert info.fps == 30.0
    assert (info.codec, info.profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.color_primaries, info.color_trc, info.colorspace, info.color_range) == (1, 1, 1, 1)
    assert info.moov_before_mdat
    assert report.bytes == (tmp_path / f"two-slides-{platform}.mp4").stat().st_size


def test_hold_frame_matches_the_slide_and_its_background(tmp_path):
    deck = two_slide_deck()
    report = engine.render(deck, tmp_path / "clip.mp4", platform="320x180@10", compositor="cpu")
    assert report.frames == 30
    decoded = decode_frames(tmp_path / "clip.mp4", {5, 25})
    for frame, slide_time, colour in ((5, 0.5, RED), (25, 2.5, BLUE)):
        expected = engine.render_frame(deck, slide_time, platform="320x180@10", compositor="cpu")
        difference = np.abs(decoded[frame].astype(int) - expected.astype(int))
        assert difference.mean() < 2.0 and np.percentile(difference, 99) <= 16
        # A corner outside the safe area is pure background.
        corner = decoded[frame][2:8, 2:8].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - parse_colour(colour)).max() <= 4


@pytest.mark.parametrize("compositor", ["cpu", "gl"])
def test_fade_midpoint_is_the_even_mix_of_both_slides(tmp_path, compositor, gl_compositor):
    if compositor == "gl":
        gl_compositor(16, 16)  # skips, saying why, where no EGL context can be made
    # 3 s slides, a 1 s fade at 9 fps: 9 fade frames, the 5th (index 4) at progress 5/10.
    deck = two_slide_deck(duration=3.0, fade=1.0)
    report = engine.render(deck, tmp_path / "fade.mp4", platform="320x180@9", compositor=compositor)
    assert report.compositor.startswith("gl" if compositor == "gl" else "cpu")
    first_fade_frame = 2 * 9  # slide 0 holds for 2 s
    midpoint = first_fade_frame + 4
    decoded = decode_frames(tmp_path / "fade.mp4", {5, midpoint, 40})
    mix = (decoded[5].astype(float) + decoded[40].astype(float)) / 2
    difference = np.abs(decoded[midpoint].astype(float) - mix)
    assert difference.mean() < 2.0
    corner = decoded[midpoint][2:8, 2:8].reshape(-1, 3).mean(axis=0)
    expected = (np.array(parse_colour(RED)) + np.array(parse_colour(BLUE))) / 2
    assert np.abs(corner - expected).max() <= 4


def test_report_describes_the_render(tmp_path):
    seen = []
    report = engine.render(two_slide_deck(), tmp_path, platform="320x180@10", on_progress=seen.append)
    data = report.to_dict()
    assert data["frames"] == 30 and data["duration"] == 3.0
    assert data["compositor"] in {"gl-gpu", "gl-software", "cpu"} and data["renderer"]
    assert data["encoder"] == "libx264"
    assert data["peak_rss_mb"] > 10 and data["bytes"] > 0 and data["bitrate"] > 0
    assert data["psnr_lossless"] or data["psnr_db"] > 35  # decoded keyframes vs composited
    assert {"raster", "composite", "encode"} <= set(data["stage_seconds"])
    assert report.composited_frames == 2 + 10  # two holds composited once each, 10 fade frames
    assert seen[-1].frames_done == seen[-1].frames_total == 30
    assert [p.frames_done for p in seen] == sorted(p.frames_done for p in seen)


def test_identical_slides_are_rasterized_once(tmp_path):
    deck = two_slide_deck()
    deck["slides"].append(dict(deck["slides"][0]))
    report = engine.render(deck, tmp_path, platform="320x180@10", compositor="cpu")
    assert report.frames == 40  # 3 × 2 s − 2 × 1 s fades, at 10 fps
    assert report.slides_uploaded == 2  # slide 2 looks exactly like slide 0


def test_draft_quality_is_half_size_15_fps(tmp_path):
    report = engine.render(two_slide_deck(), tmp_path, platform="tiktok", quality="draft")
    info = probe(tmp_path / "two-slides-tiktok-draft.mp4")
    assert (info.width, info.height, info.fps, info.frames) == (540, 960, 15.0, 45)
    assert report.frames == 45


def test_render_frame_returns_the_frame_as_rgb():
    frame = engine.render_frame(two_slide_deck(), 0.5, platform="320x180@10", compositor="cpu")
    assert frame.shape == (180, 320, 3) and frame.dtype == np.uint8


@pytest.mark.parametrize("seconds", [-1.0, 3.0, float("nan")])
def test_render_frame_outside_the_video_is_a_spec_error(seconds):
    with pytest.raises(engine.SpecError, match="outside the video"):
        engine.render_frame(two_slide_deck(), seconds, platform="320x180@10", compositor="cpu")


def test_failed_render_leaves_nothing_behind(tmp_path, monkeypatch):
    calls = []

    def explode(self, frame, first_pts, count):
        calls.append(first_pts)
        if len(calls) == 3:
            raise KeyboardInterrupt  # what Ctrl-C looks like mid-render

    monkeypatch.setattr("engine.encode.pyav.PyAVEncoder.encode_repeated", explode)
    with pytest.raises(KeyboardInterrupt):
        engine.render(two_slide_deck(), tmp_path, platform="320x180@10")
    assert list(tmp_path.iterdir()) == []


def test_render_many_in_worker_processes_matches_platform_order(tmp_path):
    seen = []
    reports = engine.render_many(
        two_slide_deck(), tmp_path, ["320x180@10", "180x320@10"], jobs=2, on_progress=seen.append
    )
    assert [(r.width, r.height) for r in reports] == [(320, 180), (180, 320)]
    # Frame by frame from both workers, each reaching its end.
    for label in ("320x180@10", "180x320@10"):
        done = [p.frames_done for p in seen if p.output == label]
        assert len(done) > 2 and done == sorted(done) and done[-1] == 30
    for report in reports:
        assert probe(report.path).frames == report.frames == 30


def test_psnr_check_notices_a_frame_that_is_not_what_was_composited(tmp_path):
    from engine.verify import luma_psnr, sample_points

    report = engine.render(two_slide_deck(), tmp_path / "v.mp4", platform="320x180@10", compositor="cpu")
    assert sample_points(report.frames, 20) == [0, 20]
    right = engine.render_frame(two_slide_deck(), 0.0, platform="320x180@10", compositor="cpu")
    from engine.colour import rgb_to_nv12

    luma = rgb_to_nv12(right)[: 320 * 180].reshape(180, 320)
    assert luma_psnr(tmp_path / "v.mp4", {0: luma}, fps=10) > 35
    assert luma_psnr(tmp_path / "v.mp4", {20: luma}, fps=10) < 30  # frame 20 shows the blue slide


def test_a_deck_shorter_than_one_frame_is_a_spec_error(tmp_path):
    deck = {"slides": [{"kind": "title", "title": "Blink", "duration": 0.01}]}
    with pytest.raises(engine.SpecError, match="less than one frame"):
        engine.render(deck, tmp_path, platform="320x180@10")
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_named_after_the_deck_file_even_when_loaded_first(tmp_path):
    import json

    deck_file = tmp_path / "weekly.json"
    deck_file.write_text(json.dumps(two_slide_deck()))
    report = engine.render(engine.load_deck(deck_file), tmp_path / "out", platform="320x180@10", compositor="cpu")
    assert report.path.endswith("weekly-320x180@10.mp4")
    assert engine.load_deck(two_slide_deck()).source is None  # a dict deck is named by its title


def test_finished_video_gets_ordinary_file_permissions(tmp_path):
    import os
    import stat

    report = engine.render(two_slide_deck(), tmp_path / "p.mp4", platform="320x180@10", compositor="cpu")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(report.path).st_mode) == 0o666 & ~umask


def test_text_that_cannot_fit_is_a_warning_in_the_report_naming_the_slide(tmp_path):
    words = " ".join(["Overflowing"] * 400)
    deck = {"slides": [{"kind": "title", "title": "Fine"}, {"kind": "text", "text": words, "duration": 1}]}
    report = engine.render(deck, tmp_path / "w.mp4", platform="160x90@10", quality="draft")
    assert any(w.startswith("slides[1]:") and "fit" in w for w in report.warnings), report.warnings
    assert json.loads(json.dumps(report.to_dict()))["warnings"] == report.warnings
