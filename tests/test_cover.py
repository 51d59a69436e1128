"""The cover frame: MP4 cover art, the PNG thumbnail beside the video, and `cover` in the deck."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

import engine
from engine import cli
from engine.cover import read_cover
from engine.errors import SpecError
from engine.jobs import OutputCache, OutputRequest, RenderJob, run_job
from tests.helpers import probe

RED, BLUE = "#c0392b", "#2980b9"


def deck(**extra):
    return {
        "slides": [
            {
                "kind": "bullets",
                "title": "Plan",
                "bullets": ["one", "two"],
                "duration": 2,
                "background": RED,
                "motion": {"build": {"duration": 1.0}},
            },
            {"kind": "title", "title": "B", "duration": 2, "background": BLUE, "transition": "fade"},
        ],
        **extra,
    }


def cover_pixels(path) -> np.ndarray:
    with Image.open(io.BytesIO(read_cover(path))) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def test_the_cover_art_is_the_first_slide_complete_by_default(tmp_path):
    report = engine.render(deck(), tmp_path / "v.mp4", platform="320x180@10", compositor="cpu")
    # The build takes the first second: the cover waits for it.
    assert report.cover_seconds == 1.0
    complete = engine.render_frame(deck(), 1.0, platform="320x180@10", compositor="cpu").astype(int)
    first = engine.render_frame(deck(), 0.0, platform="320x180@10", compositor="cpu").astype(int)
    cover = cover_pixels(tmp_path / "v.mp4")
    assert np.abs(cover - complete).max() <= 2
    assert np.abs(cover - first).max() > 50  # the bullets are there, not only the title


def test_the_cover_can_be_a_slide_or_a_moment(tmp_path):
    report = engine.render(deck(cover={"slide": 1}), tmp_path / "s.mp4", platform="320x180@10", compositor="cpu")
    assert report.cover_seconds == 2.0  # slide 1 starts at 1.5 s; the 0.5 s fade into it ends at 2.0
    assert np.abs(cover_pixels(tmp_path / "s.mp4")[5, 5] - (41, 128, 185)).max() <= 3
    report = engine.render(deck(cover=0.5), tmp_path / "t.mp4", platform="320x180@10", compositor="cpu")
    assert report.cover_seconds == 0.5
    assert np.abs(cover_pixels(tmp_path / "t.mp4")[5, 5] - (192, 57, 43)).max() <= 3


def test_cover_art_leaves_the_video_as_it_was(tmp_path):
    report = engine.render(deck(), tmp_path / "v.mp4", platform="320x180@10", compositor="cpu")
    info = probe(tmp_path / "v.mp4")
    assert (info.codec, info.frames, info.width) == ("h264", report.frames, 320) and info.moov_before_mdat
    with av.open(str(tmp_path / "v.mp4")) as container:
        kinds = [
            (s.type, s.codec_context.name, bool(s.disposition & av.stream.Disposition.attached_pic))
            for s in container.streams
        ]
    assert kinds == [("video", "h264", False), ("video", "png", True)]
    assert report.bytes == (tmp_path / "v.mp4").stat().st_size


def test_thumbnail_flag_writes_the_cover_as_a_png_beside_each_video(tmp_path, capsys):
    (tmp_path / "deck.json").write_text(__import__("json").dumps(deck()))
    assert (
        cli.main(
            [
                "render",
                str(tmp_path / "deck.json"),
                "-p",
                "320x180@10",
                "-p",
                "180x320@10",
                "-o",
                str(tmp_path / "out"),
                "--compositor",
                "cpu",
                "--thumbnail",
                "-q",
            ]
        )
        == 0
    )
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["deck-180x320@10.mp4", "deck-180x320@10.png", "deck-320x180@10.mp4", "deck-320x180@10.png"]
    for stem, size in (("deck-320x180@10", (320, 180)), ("deck-180x320@10", (180, 320))):
        png = (tmp_path / "out" / f"{stem}.png").read_bytes()
        assert png == read_cover(tmp_path / "out" / f"{stem}.mp4")
        with Image.open(io.BytesIO(png)) as image:
            assert image.size == size


def test_a_cache_hit_writes_the_same_thumbnail(tmp_path):
    cache = OutputCache(tmp_path / "cache", 10**9)

    def job(folder):
        return RenderJob.for_deck(
            deck(), [OutputRequest("320x180@10")], out_dir=tmp_path / folder, compositor="cpu", thumbnail=True
        )

    first, second = run_job(job("a"), cache=cache)[0], run_job(job("b"), cache=cache)[0]
    assert second.cache_hit and second.thumbnail.endswith("b/deck-320x180@10.png")
    assert (tmp_path / "a" / "deck-320x180@10.png").read_bytes() == (
        tmp_path / "b" / "deck-320x180@10.png"
    ).read_bytes()
    assert first.cover_seconds == second.cover_seconds == 1.0


@pytest.mark.parametrize(
    "cover, path, message",
    [
        ({"slide": 5}, "cover.slide", "there is no slide 5"),
        (9.0, "cover.at", "past the end of the video"),
        ({"at": 1, "slide": 1}, "cover", "exactly one of"),
        (-1, "cover.at", "must be >= 0, got -1"),
    ],
)
def test_a_bad_cover_is_a_spec_error_with_its_path(cover, path, message):
    with pytest.raises(SpecError, match=message) as caught:
        engine.load_deck(deck(cover=cover))
    assert caught.value.path == path


def test_frame_0_shows_the_first_slide_complete_when_builds_come_from_the_defaults(tmp_path):
    from tests.helpers import decode_frames

    slides = [
        {"kind": "bullets", "title": "Plan", "bullets": ["one", "two"], "duration": 2, "background": RED},
        {
            "kind": "bullets",
            "title": "More",
            "bullets": ["three"],
            "duration": 2,
            "background": BLUE,
            "transition": "fade",
        },
        {
            "kind": "chart",
            "title": "Bars",
            "chart": {"type": "bar", "labels": ["a", "b"], "values": [1, 2]},
            "duration": 2,
        },
    ]
    built = {"slides": slides, "defaults": {"motion": {"build": {"duration": 1.0}}}}
    report = engine.render(built, tmp_path / "v.mp4", platform="320x180@10", compositor="cpu")
    frames = decode_frames(tmp_path / "v.mp4", {0, 9, 25})
    # Frame 0 is frame 9 (a hold of the complete slide), not a bare background.
    assert np.abs(frames[0].astype(int) - frames[9].astype(int)).max() <= 6
    loaded = engine.load_deck(built)
    assert loaded.motion(0) is None and loaded.motion(1).build is not None  # later slides still build
    assert loaded.motion(2).reveal is not None
    # A first slide that asks for a build itself keeps it.
    slides[0]["motion"] = {"build": True}
    assert engine.load_deck(built).motion(0).build is not None
    assert report.cover_seconds == 0.0


def test_an_av1_video_with_music_keeps_both_and_gets_its_cover(tmp_path):
    import wave

    samples = (np.sin(np.arange(48_000 * 3) / 48_000 * 2 * np.pi * 440) * 8000).astype("<i2")
    with wave.open(str(tmp_path / "tone.wav"), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(48_000)
        out.writeframes(samples.tobytes())
    clip = {"slides": [{"kind": "title", "title": "A", "duration": 2}], "audio": {"music": str(tmp_path / "tone.wav")}}
    report = engine.render(clip, tmp_path / "a.mp4", platform="160x96@10", encoder="libsvtav1", compositor="cpu")
    with av.open(str(tmp_path / "a.mp4")) as container:
        kinds = [(s.type, s.codec_context.name) for s in container.streams]
        frames = sum(1 for _ in container.decode(video=0))
    assert kinds[0] == ("video", "libdav1d") and ("audio", "aac") in kinds and ("video", "png") in kinds
    assert frames == report.frames == 20
    assert read_cover(tmp_path / "a.mp4")[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_banded_conversion_matches_the_whole_frame_one():
    from engine.colour import nv12_to_rgb, rgb_to_nv12
    from engine.cover import nv12_to_rgb_banded

    rgb = (np.random.default_rng(1).random((180, 320, 3)) * 255).astype(np.uint8)
    nv12 = rgb_to_nv12(rgb)
    assert np.array_equal(nv12_to_rgb_banded(nv12, 320, 180), nv12_to_rgb(nv12, 320, 180))


def the_png_of_the_composited_frame(raw_deck, seconds, platform="320x180@10") -> bytes:
    """What the render made at its end before the cover moved to a thread: the PNG of the
    NV12 frame composited at `seconds`."""
    from engine.cover import nv12_to_rgb_banded, png_bytes
    from engine.pipeline import render_still_nv12

    output = engine.resolve_output(platform)
    nv12 = render_still_nv12(engine.load_deck(raw_deck), output, seconds, compositor="cpu")
    return png_bytes(nv12_to_rgb_banded(nv12, output.width, output.height))


def cover_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name == "reel-cover"]


@pytest.mark.parametrize("cover", [None, 0.0, 3.4])  # in a build, the first frame, the last hold
def test_the_cover_art_is_the_png_of_the_composited_frame_byte_for_byte(tmp_path, cover):
    raw = deck() if cover is None else deck(cover=cover)
    report = engine.render(raw, tmp_path / "v.mp4", platform="320x180@10", compositor="cpu")
    assert read_cover(tmp_path / "v.mp4") == the_png_of_the_composited_frame(raw, report.cover_seconds)
    assert report.stage_seconds["cover"] > 0
    assert cover_threads() == []


def test_a_thumbnail_without_cover_art_is_the_png_of_the_composited_frame_byte_for_byte(tmp_path):
    report = engine.render(deck(), tmp_path, platform="320x180@10", compositor="cpu", format="webm", thumbnail=True)
    with open(report.thumbnail, "rb") as file:
        assert file.read() == the_png_of_the_composited_frame(deck(), report.cover_seconds)


def test_a_cover_that_fails_on_its_thread_fails_the_render_and_leaves_nothing(tmp_path, monkeypatch):
    def fail(rgb):
        raise OSError("no PNG today")

    monkeypatch.setattr("engine.cover.png_bytes", fail)
    with pytest.raises(OSError, match="no PNG today"):
        engine.render(deck(), tmp_path, platform="320x180@10", compositor="cpu")
    assert list(tmp_path.iterdir()) == []
    assert cover_threads() == []


def test_a_render_that_fails_while_the_cover_is_made_waits_for_its_thread(tmp_path, monkeypatch):
    import time

    from engine import cover

    made = []
    real = cover.png_bytes

    def slow(rgb):
        time.sleep(0.5)  # still running when the render fails
        made.append(real(rgb))
        return made[-1]

    def explode(*args, **kwargs):
        raise KeyboardInterrupt  # what Ctrl-C looks like while the keyframes are checked

    monkeypatch.setattr(cover, "png_bytes", slow)
    monkeypatch.setattr("engine.pipeline.luma_quality", explode)
    with pytest.raises(KeyboardInterrupt):
        engine.render(deck(cover=0.0), tmp_path, platform="320x180@10", compositor="cpu")
    assert len(made) == 1 and cover_threads() == []  # the thread was started, and was over before the render gave up
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["chunk", "webm"])
def test_no_cover_png_is_made_where_nothing_uses_it(tmp_path, monkeypatch, how):
    from engine.pipeline import render_output

    def never(*args):
        raise AssertionError("a cover PNG nobody uses")

    monkeypatch.setattr("engine.pipeline.cover_in_background", never)
    if how == "chunk":  # the join adds the whole video's cover
        report = render_output(
            engine.load_deck(deck()),
            engine.resolve_output("320x180@10"),
            tmp_path / "c.mp4",
            compositor="cpu",
            frames=(0, 20),
        )
        assert read_cover(tmp_path / "c.mp4") is None
    else:  # WebM has no cover art, and no thumbnail was asked for
        report = engine.render(deck(), tmp_path, platform="320x180@10", compositor="cpu", format="webm")
    assert "cover" not in report.stage_seconds
