"""More outputs than MP4: `format="gif"` and `format="webm"`, decoded and checked.

GIF: the frames are the video's own at a capped rate and size, a palette per scene,
holds written once; the delays add up to the video's length within one GIF tick
(1/100 s), and each decoded frame matches the MP4 render's frame at that moment
within `GIF_TOLERANCE`. WebM: VP9 (or AV1), every frame, BT.709 tags, Opus sound as
long as the video.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import engine
from engine.api import output_path
from engine.encode.gif import gif_size, gif_step
from engine.errors import CodecNotSupportedError, SpecError
from engine.jobs.model import OutputRequest
from engine.platforms import resolve_output

# Mean absolute difference (0-255, per RGB channel) between a decoded GIF frame and the
# MP4 render's frame at the same moment, both decoded to RGB. Measured on this deck
# every 50 ms: 1.42 median, 1.70 worst (dithering onto 255 colours, and x264's own
# loss); a wrong frame (another slide, a shifted transition step) is further away,
# which the test checks too.
GIF_TOLERANCE = 3.0


def _deck(hold: float = 1.0, fade: float = 0.6) -> dict:
    """Three slides, two fades: holds, transitions and three scenes with distinct colours."""
    return {
        "title": "Formats",
        "slides": [
            {"kind": "title", "title": "One", "duration": hold + fade, "background": "#1b2a41"},
            {
                "kind": "bullets",
                "title": "Two",
                "bullets": ["red", "green"],
                "duration": hold + 2 * fade,
                "background": "#8a1c1c",
                "transition": {"name": "fade", "duration": fade},
            },
            {
                "kind": "title",
                "title": "Three",
                "duration": hold + fade,
                "background": "#2e7d32",
                "transition": {"name": "wipeleft", "duration": fade},
            },
        ],
    }


def _gif_blocks(path: Path) -> dict:
    """Walk a GIF's blocks: its size, loop count, and each image's delay (1/100 s) and
    whether it has a local colour table."""
    data = path.read_bytes()
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise AssertionError(f"{path} is not a GIF")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    images, delay, loop = [], 0, None

    def skip_sub_blocks(pos: int) -> int:
        while data[pos]:
            pos += data[pos] + 1
        return pos + 1

    while data[pos] != 0x3B:
        if data[pos] == 0x21:
            label = data[pos + 1]
            if label == 0xF9:
                delay = struct.unpack("<H", data[pos + 4 : pos + 6])[0]
            elif label == 0xFF and data[pos + 3 : pos + 14] == b"NETSCAPE2.0":
                loop = struct.unpack("<H", data[pos + 16 : pos + 18])[0]
            pos = skip_sub_blocks(pos + 2)
        elif data[pos] == 0x2C:
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            images.append({"delay": delay, "local_palette": bool(local & 0x80)})
            pos = skip_sub_blocks(pos + 1)  # past the LZW minimum code size
        else:
            raise AssertionError(f"unexpected GIF block 0x{data[pos]:02x} at {pos}")
    return {"size": (width, height), "loop": loop, "images": images, "global_palette": bool(flags & 0x80)}


def _rgb_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """(start time in seconds, RGB) of every decoded frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(float(f.pts * stream.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(stream)]


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """The deck as MP4 and GIF at 320x180@30 (the GIF at 15 fps)."""
    folder = tmp_path_factory.mktemp("formats")
    deck = _deck()
    mp4 = engine.render(deck, folder / "d.mp4", platform="320x180@30", compositor="cpu")
    gif = engine.render(deck, folder / "d.gif", platform="320x180@30", compositor="cpu", format="gif")
    return deck, mp4, gif


def test_gif_delays_add_up_to_the_video_within_one_tick(renders):
    _, mp4, gif = renders
    blocks = _gif_blocks(Path(gif.path))
    assert gif.frames == mp4.frames  # every video frame was taken
    assert blocks["loop"] == 0  # forever
    assert abs(sum(i["delay"] for i in blocks["images"]) / 100 - mp4.duration) <= 0.01
    decoded = _rgb_frames(Path(gif.path))
    assert len(decoded) == len(blocks["images"])


def test_gif_writes_a_hold_once_and_transitions_at_15_fps(renders):
    _, _, gif = renders
    delays = [i["delay"] for i in _gif_blocks(Path(gif.path))["images"]]
    # 30 fps → every 2nd frame: a 0.6 s fade is 18 video frames, 9 GIF frames of 2/30 s
    # (6 or 7 ticks); the three holds are one frame each, around a second long.
    assert gif_step(30) == 2
    assert sum(1 for d in delays if d in (6, 7)) == 2 * 9
    assert len([d for d in delays if d > 50]) == 3
    assert len(delays) == 3 + 2 * 9


def test_gif_has_a_palette_per_scene(renders):
    _, _, gif = renders
    blocks = _gif_blocks(Path(gif.path))
    # The first image's palette is the file's global one; later scenes bring their own.
    assert sum(i["local_palette"] for i in blocks["images"]) >= 2


@pytest.mark.parametrize("seconds", [0.2, 1.3, 1.95, 2.6, 4.1])
def test_gif_frame_matches_the_mp4_frame_at_that_moment(renders, seconds):
    _, mp4, gif = renders
    gif_frames = _rgb_frames(Path(gif.path))
    shown = [rgb for start, rgb in gif_frames if start <= seconds + 1e-6][-1]
    # The GIF shows video frame floor(t·30 / 2)·2 at t.
    frame = math.floor(seconds * 30 / 2) * 2
    mp4_frames = _rgb_frames(Path(mp4.path))
    expected = mp4_frames[frame][1]
    assert shown.shape == expected.shape
    error = np.abs(shown.astype(np.int16) - expected.astype(np.int16)).mean()
    assert error <= GIF_TOLERANCE, f"{seconds} s: mean error {error:.2f}"
    # And not the neighbouring picture: the previous GIF frame is further away.
    other = mp4_frames[max(0, frame - 12)][1]
    if not np.array_equal(other, expected):
        assert np.abs(shown.astype(np.int16) - other.astype(np.int16)).mean() > error


def test_gif_size_and_rate_are_capped(tmp_path):
    assert gif_size(1920, 1080) == (640, 360)
    assert gif_size(1080, 1920) == (360, 640)
    assert gif_size(320, 180) == (320, 180)
    assert gif_size(1350, 1080) == (640, 512)
    assert [gif_step(f) for f in (10, 15, 24, 25, 30, 60)] == [1, 1, 2, 2, 2, 4]
    deck = {"slides": [{"kind": "title", "title": "Big", "duration": 0.5}]}
    report = engine.render(deck, tmp_path, platform="800x450@20", compositor="cpu", format="gif")
    assert report.path.endswith("-800x450-20.gif") or report.path.endswith(".gif")
    blocks = _gif_blocks(Path(report.path))
    assert blocks["size"] == (640, 360)
    assert [i["delay"] for i in blocks["images"]] == [50]  # one still, held 0.5 s


@pytest.fixture(scope="module")
def webm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webm")
    return engine.render(_deck(), folder, platform="320x180@10", compositor="cpu", format="webm")


def test_webm_has_every_frame_in_vp9_with_bt709_tags(webm):
    assert webm.path.endswith(".webm")
    frames = 10 + 6 + 16 + 6 + 10 - 12 + 6  # Σ durations − Σ transitions at 10 fps: 4.2 s
    assert webm.frames == frames == 42
    assert webm.holds == "encoded" and "libx264 only" in (webm.holds_reason or "")
    assert webm.psnr_db is not None and webm.psnr_db > 30  # keyframes checked against the composited frames
    with av.open(webm.path) as container:
        assert container.format.name.startswith("matroska")
        stream = container.streams.video[0]
        assert stream.codec_context.name in ("vp9", "libvpx-vp9", "av1", "libdav1d", "libaom-av1")
        decoded = list(container.decode(stream))
        assert len(decoded) == frames
        assert [round(f.time * 10) for f in decoded] == list(range(frames))
        assert decoded[0].colorspace == 1 and decoded[0].color_range == 1  # BT.709, limited
        assert abs(container.duration / 1e6 - frames / 10) <= 0.1 + 1e-6


def test_webm_frames_match_the_composited_frames(webm):
    for seconds in (0.5, 3.9):
        expected = engine.render_frame(_deck(), seconds, platform="320x180@10", compositor="cpu")
        shown = [rgb for start, rgb in _rgb_frames(Path(webm.path)) if start <= seconds + 1e-6][-1]
        assert np.abs(shown.astype(np.int16) - expected.astype(np.int16)).mean() < 3


def _tone(path: Path, seconds: float, rate: int = 48_000) -> None:
    samples = np.arange(round(seconds * rate)) / rate
    wave = (0.3 * np.sin(2 * math.pi * 440 * samples)).astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_f32le", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(wave[None, :], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def test_a_deck_with_sound_gives_webm_an_opus_track_as_long_as_the_video(tmp_path):
    _tone(tmp_path / "music.wav", 1.0)
    deck = {**_deck(0.5, 0.4), "audio": {"music": "music.wav"}}
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    report = engine.render(
        tmp_path / "deck.json", tmp_path / "s.webm", platform="320x180@10", compositor="cpu", format="webm"
    )
    assert report.audio is not None and report.audio["codec"] == "opus"
    with av.open(report.path) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name in ("opus", "libopus")
        samples = 0
        level = 0.0
        for frame in container.decode(audio):
            block = frame.to_ndarray()
            samples += block.shape[-1]
            level = max(level, float(np.abs(block).max()))
        assert level > 0.05  # there is sound
        # Opus's pre-skip is trimmed on decode; the track lasts the video's length to one 20 ms frame.
        assert abs(samples / audio.rate - report.duration) <= 0.021


def test_a_deck_with_sound_as_gif_says_the_sound_is_left_out(tmp_path):
    _tone(tmp_path / "music.wav", 1.0)
    deck = {**_deck(0.5, 0.4), "audio": {"music": "music.wav"}}
    (tmp_path / "deck.json").write_text(json.dumps(deck))
    report = engine.render(tmp_path / "deck.json", tmp_path, platform="320x180@10", compositor="cpu", format="gif")
    assert report.audio is None
    assert any("no sound" in w for w in report.warnings)


def test_a_file_named_for_another_format_is_refused_naming_both(tmp_path):
    output = resolve_output("320x180@10", "standard")
    with pytest.raises(SpecError, match=r"x\.mp4.*\.mp4.*gif"):
        output_path(tmp_path / "x.mp4", "deck", output, "gif")
    with pytest.raises(SpecError, match="unknown format"):
        output_path(tmp_path, "deck", output, "avi")
    assert output_path(tmp_path, "deck", output, "webm").name == "deck-320x180@10.webm"
    assert output_path(tmp_path / "x.gif", "deck", output, "gif") == tmp_path / "x.gif"
    with pytest.raises(SpecError, match=r"\.webm"):
        engine.render(_deck(), tmp_path / "x.webm", platform="320x180@10", compositor="cpu", format="mp4")
    assert not list(tmp_path.iterdir())


def test_the_command_line_refuses_a_mismatched_name_with_exit_2(tmp_path):
    (tmp_path / "deck.json").write_text(json.dumps(_deck()))
    args = [sys.executable, "-m", "engine.cli", "render", str(tmp_path / "deck.json"), "-p", "320x180@10"]
    run = subprocess.run(
        [*args, "-o", str(tmp_path / "x.mp4"), "--format", "gif"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2
    assert "x.mp4" in run.stderr and "gif" in run.stderr
    run = subprocess.run(
        [*args, "-o", str(tmp_path), "--format", "gif", "--chunks", "2"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2 and "chunks" in run.stderr


def test_encoders_that_do_not_write_the_format_are_refused(tmp_path):
    with pytest.raises(CodecNotSupportedError, match="gif"):
        engine.render(_deck(), tmp_path, platform="320x180@10", compositor="cpu", format="gif", encoder="libx264")
    with pytest.raises(CodecNotSupportedError, match="WebM has no hevc"):
        engine.render(_deck(), tmp_path, platform="320x180@10", compositor="cpu", format="webm", codec="hevc")
    with pytest.raises(SpecError, match="chunks"):
        from engine.pipeline import render_output

        deck = engine.load_deck(_deck())
        render_output(deck, resolve_output("320x180@10", "standard"), tmp_path / "c.gif", frames=(0, 10), format="gif")
    assert not list(tmp_path.iterdir())


def test_jobs_ask_for_a_format_and_it_is_in_the_cache_key():
    from engine.jobs.run import output_key

    request = OutputRequest.from_dict({"platform": "320x180@10", "format": "webm"})
    assert request.format == "webm"
    deck = engine.load_deck(_deck())
    output = resolve_output("320x180@10", "standard")
    keys = {
        output_key(deck, output, OutputRequest(platform="320x180@10", format=f), "cpu") for f in ("mp4", "webm", "gif")
    }
    assert len(keys) == 3


def test_webm_in_av1_when_asked_and_auto_records_what_it_skipped(tmp_path, monkeypatch):
    report = engine.render(
        _deck(0.3, 0.2), tmp_path, platform="320x180@10", compositor="cpu", format="webm", codec="av1"
    )
    assert report.encoder == "libsvtav1"
    with av.open(report.path) as container:
        assert container.streams.video[0].codec_context.name in ("av1", "libdav1d", "libaom-av1")
        assert sum(1 for _ in container.decode(video=0)) == report.frames

    from engine.encode import backends

    real = backends._probe_other
    monkeypatch.setattr(backends, "_probe_other", lambda f, n: "no VP9 here" if n == "libvpx-vp9" else real(f, n))
    report = engine.render(_deck(0.3, 0.2), tmp_path / "b.webm", platform="320x180@10", compositor="cpu", format="webm")
    assert report.encoder == "libsvtav1"
    assert any("libvpx-vp9" in f and "no VP9 here" in f for f in report.fallbacks)


@pytest.mark.parametrize("format", ["gif", "webm"])
def test_a_thumbnail_is_the_composited_cover_frame_even_late_in_the_video(tmp_path, format):
    from PIL import Image

    deck = {**_deck(0.5, 0.4), "cover": 2.2}  # in the last hold, after the GIF's last frame starts
    report = engine.render(deck, tmp_path, platform="320x180@10", compositor="cpu", format=format, thumbnail=True)
    assert report.thumbnail is not None
    png = np.asarray(Image.open(report.thumbnail).convert("RGB"))
    expected = engine.render_frame(deck, 2.2, platform="320x180@10", compositor="cpu")
    assert np.abs(png.astype(np.int16) - expected.astype(np.int16)).mean() < 1
